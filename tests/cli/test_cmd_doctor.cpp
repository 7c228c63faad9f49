// Tests for `bootrig doctor` through the built binary: every check passes on the simulated rig, each of the
// simulator's wiring faults (per wire: disconnected, inverted, stuck) fails exactly the matching check with
// its hint, a port held by another process is named, a serial-only rig and --port check what they have.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/run_bootrig.hpp"
#include "support/scenario_rig.hpp"
#include "support/sim_process.hpp"

namespace bootrig {
namespace {

namespace fs = std::filesystem;
using testing::run_bootrig;

// The doctor's lines that start with an outcome: "PASS  RESET ...".
std::vector<std::string> outcome_lines(const std::string& out, const std::string& outcome) {
  std::vector<std::string> v;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);)
    if (l.rfind(outcome + "  ", 0) == 0) v.push_back(l);
  return v;
}

std::string check_name(const std::string& line) {
  std::istringstream in(line.substr(6));
  std::string name;
  in >> name;
  return name;
}

class DoctorRig {
 public:
  explicit DoctorRig(const std::string& faults = "", const std::string& profile = "pycom") {
    dir = testing::fresh_run_dir("doctor");
    fs::create_directories(dir);
    rig = dir / "rig.toml";
    std::ofstream(rig) << testing::half_speed_sim_rig_toml() << "profile = \"" << profile << "\"\n"
                       << (faults.empty() ? "" : "[sim.faults]\n" + faults + "\n");
  }
  ~DoctorRig() { fs::remove_all(dir); }
  fs::path dir, rig;
};

TEST(CmdDoctor, EveryCheckPassesOnTheSimulatedRig) {
  for (const char* profile : {"pycom", "upstream"}) {
    DoctorRig r("", profile);
    auto res = run_bootrig("-q doctor " + r.rig.string());
    ASSERT_EQ(res.exit_code, 0) << res.out << res.err;
    for (const char* name :
         {"port", "lines", "REPL", "firmware", "RESET", "photodiode", "P12", "P2", "clock"}) {
      bool found = false;
      for (const auto& l : outcome_lines(res.out, "PASS")) found = found || check_name(l) == name;
      EXPECT_TRUE(found) << name << " did not pass: " << res.out;
    }
    EXPECT_TRUE(outcome_lines(res.out, "FAIL").empty()) << res.out;
    EXPECT_NE(res.out.find("slow blink on "), std::string::npos)
        << "P12 reports the measured on/off times: " << res.out;
    EXPECT_NE(res.out.find("\"waiting for download\""), std::string::npos) << res.out;
    EXPECT_NE(res.out.find("doctor: 9 checks passed, 0 failed, 0 skipped"), std::string::npos) << res.out;
  }
}

struct WireFault {
  const char* key;    // [sim.faults] key
  const char* mode;   // disconnected, inverted, stuck
  const char* check;  // the one check that must fail
  const char* hint;   // words of its hint
};

class CmdDoctorWiring : public ::testing::TestWithParam<WireFault> {};

TEST_P(CmdDoctorWiring, ExactlyTheMatchingCheckFailsWithItsHint) {
  const WireFault f = GetParam();
  DoctorRig r(std::string(f.key) + " = \"" + f.mode + "\"");
  auto res = run_bootrig("-q doctor " + r.rig.string());
  EXPECT_EQ(res.exit_code, 1) << res.out << res.err;
  auto fails = outcome_lines(res.out, "FAIL");
  ASSERT_EQ(fails.size(), 1u) << res.out;
  EXPECT_EQ(check_name(fails[0]), f.check) << res.out;
  EXPECT_NE(res.out.find(f.hint), std::string::npos) << "hint '" << f.hint << "' missing: " << res.out;
}

INSTANTIATE_TEST_SUITE_P(
    Faults, CmdDoctorWiring,
    ::testing::Values(WireFault{"wire_reset", "disconnected", "RESET", "RESET/EN is not connected"},
                      WireFault{"wire_reset", "inverted", "RESET", "RESET's polarity is inverted"},
                      WireFault{"wire_reset", "stuck", "RESET", "RESET stuck low"},
                      WireFault{"wire_safeboot", "disconnected", "P12", "P12 does not reach the module"},
                      WireFault{"wire_safeboot", "inverted", "P12", "P12's polarity is inverted"},
                      WireFault{"wire_safeboot", "stuck", "P12", "P12 is stuck high"},
                      WireFault{"wire_bootloader", "disconnected", "P2", "P2 does not reach the module"},
                      WireFault{"wire_bootloader", "inverted", "P2", "P2's polarity is inverted"},
                      WireFault{"wire_bootloader", "stuck", "P2", "P2 is stuck low"},
                      WireFault{"wire_photodiode", "disconnected", "photodiode", "not connected to the GPIO"},
                      WireFault{"wire_photodiode", "inverted", "photodiode", "the polarity is inverted"},
                      WireFault{"wire_photodiode", "stuck", "photodiode", "stuck at its active level"}),
    [](const ::testing::TestParamInfo<WireFault>& i) {
      std::string n = std::string(i.param.key + 5) + "_" + i.param.mode;
      return n;
    });

// A bare port (or a rig with only [serial]): the REPL and the firmware, the wires skipped with the reason.
TEST(CmdDoctor, ABarePortChecksWhatItHas) {
  testing::SimProcess sim("upstream");
  auto res = run_bootrig("doctor --port " + sim.tty());
  ASSERT_EQ(res.exit_code, 0) << res.out << res.err;
  EXPECT_NE(res.out.find("PASS  port"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("SKIP  lines"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("PASS  REPL"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("PASS  firmware    MicroPython"), std::string::npos) << res.out;
  EXPECT_NE(res.out.find("SKIP  RESET"), std::string::npos) << res.out;
}

// Another program with the port open is named, and nothing else is tried.
TEST(CmdDoctor, NamesTheProcessThatHoldsThePort) {
  testing::SimProcess sim("pycom");
  const std::string tty = sim.tty();
  // The pipe's write end closes at the exec: once it reads end-of-file, `sleep` runs with the port open (on a
  // loaded machine doctor must not look before that).
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    ::close(ready[0]);
    int fd = ::open(tty.c_str(), O_RDWR | O_NOCTTY);
    (void)fd;
    ::execlp("sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(ready[1]);
  char byte;
  while (::read(ready[0], &byte, 1) > 0) {
  }
  ::close(ready[0]);
  auto res = run_bootrig("doctor --port " + tty);
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  EXPECT_EQ(res.exit_code, 1) << res.out << res.err;
  EXPECT_NE(res.out.find("is open in sleep (pid " + std::to_string(holder) + ")"), std::string::npos)
      << res.out;
  EXPECT_NE(res.out.find("close that program"), std::string::npos) << res.out;
}

}  // namespace
}  // namespace bootrig
