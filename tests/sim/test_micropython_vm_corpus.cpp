// Realistic user programs (tests/data/programs/*.py) run as main.py on the simulated module in the Pycom
// profile, each after a RESET pulse: what they print between the ROM lines and the banner must be what
// firmware 1.20 prints (tests/data/programs/*.out).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

namespace fs = std::filesystem;

const fs::path kPrograms = fs::path(BOOTRIG_SOURCE_DIR) / "tests" / "data" / "programs";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Called while tests register: a missing folder (the kernel tier's guest holds only the binaries) gives no
// programs, never an exception before main; CorpusFiles then fails where the sources should be.
std::vector<std::string> program_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kPrograms, ec))
    if (e.path().extension() == ".py") names.push_back(e.path().stem().string());
  std::sort(names.begin(), names.end());
  return names;
}

// What main.py printed: after the ROM's last line, before the banner; \r\n as the UART carries it.
std::string main_output(const std::string& transcript) {
  const std::string rom_end = "entry 0x4009f6c4\r\n";
  auto from = transcript.rfind(rom_end);
  auto to = transcript.rfind("Pycom MicroPython ");
  if (from == std::string::npos || to == std::string::npos || to < from) return "<no boot in the transcript>";
  return transcript.substr(from + rom_end.size(), to - from - rom_end.size());
}

std::string crlf(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

class Corpus : public ::testing::TestWithParam<std::string> {};

TEST_P(Corpus, PrintsWhatTheFirmwarePrints) {
  const fs::path py = kPrograms / (GetParam() + ".py");
  const fs::path out = kPrograms / (GetParam() + ".out");
  ASSERT_TRUE(fs::exists(out)) << out << " is missing";
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  write_file(rig, "/flash/main.py", slurp(py));
  rig.skip_unread();
  rig.press_reset();
  ASSERT_TRUE(rig.read_until(kBannerEnd, seconds(30))) << rig.transcript();
  EXPECT_EQ(main_output(rig.transcript()), crlf(slurp(out))) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Programs, Corpus, ::testing::ValuesIn(program_names()),
                         [](const auto& p) { return p.param; });

TEST(CorpusFiles, AtLeastTwentyProgramsEachWithItsOutput) {
  auto names = program_names();
  EXPECT_GE(names.size(), 20u);
  for (const auto& n : names) EXPECT_TRUE(fs::exists(kPrograms / (n + ".out"))) << n;
}

}  // namespace
}  // namespace bootrig::test
