// Tests for `bootrig flash IMAGE [--ota]` (OTA and cable flashing) through the built binary against a
// simulated rig.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "bootrig/sim/sim_control.hpp"
#include "bootrig/sim/sim_module.hpp"
#include "support/esptool.hpp"
#include "support/run_bootrig.hpp"
#include "support/scenario_rig.hpp"
#include "support/sim_fixture.hpp"
#include "sim/sim_test_util.hpp"

namespace bootrig {
namespace {

using testing::run_bootrig;

class CmdFlash : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = testing::fresh_run_dir("cli-flash");
    std::filesystem::create_directories(dir);
    rig = dir / "rig.toml";
    std::ofstream(rig) << testing::half_speed_sim_rig_toml();
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path write_image(const std::string& name, PycomBoard board, ImageCorruption c,
                                    const std::string& version = "1.20.3.r1", std::size_t payload = 16 * 1024) {
    ImageSpec s;
    s.version = version;
    s.payload_size = payload;
    s.board = board;
    auto bytes = build_esp32_image(s, c);
    auto p = dir / name;
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p;
  }
  std::filesystem::path dir, rig;
};

TEST_F(CmdFlash, OtaPutsTheImageOnTheBoardAndSaysWhatItFoundAndDid) {
  auto img = write_image("new.bin", PycomBoard::fipy, ImageCorruption::none);
  // The half-speed rig runs ota_0 (1.20.2.r6): the update ping-pongs into the factory slot.
  auto r = run_bootrig("-q --rig " + rig.string() + " flash --ota " + img.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("found: ota_0 runs FiPy 1.20.2.r6; the previous image is unknown"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("flashed: " + img.string() + " (FiPy 1.20.3.r1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("by OTA in"), std::string::npos) << r.out;
  // bootrig's record now knows what window 2 boots: the image that ran before the update.
  EXPECT_NE(r.out.find("now runs: factory runs FiPy 1.20.3.r1; window 2 boots 1.20.2.r6 (ota_0 slot)"),
            std::string::npos)
      << r.out;
}

TEST_F(CmdFlash, CableFlashWritesTheFactorySlotAndSaysWhatItFoundAndDid) {
  auto img = write_image("new.bin", PycomBoard::fipy, ImageCorruption::none);
  // The sim rig wires P2 to the simulated module even without a [lines] table.
  auto r = run_bootrig("--rig " + rig.string() + " flash --baud 460800 " + img.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("found: ota_0 runs FiPy 1.20.2.r6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("flashed: " + img.string() + " (FiPy 1.20.3.r1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("by cable in"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(at 0x10000, 460800 baud, "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("compressed on the wire"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("now runs: factory runs FiPy 1.20.3.r1; window 2 boots the same image"), std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("writing by cable:"), std::string::npos) << "a progress line on stderr: " << r.err;
}

TEST_F(CmdFlash, VerboseShowsPinChangesAndTheLogFileKeepsTheBytesWithBothClocks) {
  auto img = write_image("new.bin", PycomBoard::fipy, ImageCorruption::none);
  auto log = dir / "flash.log";
  auto r = run_bootrig("-v --rig " + rig.string() + " flash --log-file " + log.string() + " " + img.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // -v: P2 held through a RESET pulse (download mode), then released and RESET pulsed into the new firmware.
  EXPECT_NE(r.err.find("] line bootloader -> active"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("] line reset -> active"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("] line bootloader -> inactive"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("trace:"), std::string::npos) << "the bytes are -vv's";
  // The log file has what the console showed (stdout's results too) and every byte, each line with its
  // wall-clock and monotonic times.
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("info: flashed: " + img.string()), std::string::npos) << text;
  EXPECT_NE(text.find("info: now runs: "), std::string::npos);
  EXPECT_NE(text.find("] line reset -> active"), std::string::npos);
  EXPECT_NE(text.find("trace: ["), std::string::npos);
  EXPECT_NE(text.find(" tx "), std::string::npos) << "bootrig's REPL exchanges";
  EXPECT_TRUE(
      std::regex_search(text, std::regex(R"(^\d{4}-\d\d-\d\dT[0-9:.]+[+-]\d\d:\d\d \d+\.\d{6} info: found: )",
                                         std::regex::multiline)));
  // -vv shows the bytes on the console too.
  r = run_bootrig("-vv --rig " + rig.string() + " flash --force " + img.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("trace: ["), std::string::npos);
  EXPECT_NE(r.err.find(" rx "), std::string::npos);
}

// The [flasher] example of docs/rig-files.md, as written there, with the real esptool in the place of
// `esptool` and the otadata file where the test keeps it.
std::string docs_flasher_example(const std::string& esptool, const std::string& blank) {
  std::ifstream in(std::string(BOOTRIG_SOURCE_DIR) + "/docs/rig-files.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const auto at = doc.find("```toml\n[flasher]\ncommand = [\"esptool\"");
  if (at == std::string::npos) return "";
  const auto from = at + 8;
  std::string block = doc.substr(from, doc.find("```", from) - from);
  block.replace(block.find("\"esptool\""), 9, "\"" + esptool + "\"");
  const auto ota = block.find("/etc/bootrig/otadata-blank.bin");
  if (ota != std::string::npos) block.replace(ota, 30, blank);
  return block;
}

TEST_F(CmdFlash, TheDocsFlasherExampleFlashesThroughTheRealEsptool) {
  BOOTRIG_REQUIRE_ESPTOOL();
  auto blank = dir / "otadata-blank.bin";
  std::ofstream(blank, std::ios::binary) << std::string(0x1000, '\xFF');
  const std::string example = docs_flasher_example(testing::esptool_path(), blank.string());
  ASSERT_NE(example.find("--no-stub"), std::string::npos) << "docs/rig-files.md has no esptool [flasher] example";
  std::ofstream(rig, std::ios::app) << "\n" << example;
  auto img = write_image("new.bin", PycomBoard::fipy, ImageCorruption::none);
  auto r = run_bootrig("--rig " + rig.string() + " flash " + img.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("flasher: Chip is ESP32-D0WDQ6"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("flasher: Hash of data verified."), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("flashed: " + img.string() + " (FiPy 1.20.3.r1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("external flasher " + std::string(testing::esptool_path())), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("now runs: factory runs FiPy 1.20.3.r1"), std::string::npos) << r.out;
}

TEST_F(CmdFlash, AnAppThatIsNotPycomsIsRefusedUnlessForced) {
  ImageSpec s;
  s.style = ImageStyle::idf;
  s.project = "hello_world";
  s.version = "1.0";
  auto bytes = build_esp32_image(s);
  auto p = dir / "hello.bin";
  std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  auto r = run_bootrig("-q --rig " + rig.string() + " flash " + p.string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(p.string() + ": is hello_world 1.0 (not a Pycom MicroPython build); a Pycom module would run "
                                    "it instead of MicroPython, so nothing was written (--force flashes it anyway)"),
            std::string::npos)
      << r.err;
  r = run_bootrig("-q --rig " + rig.string() + " flash --force " + p.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("flashed: " + p.string() + " (hello_world 1.0 (not a Pycom MicroPython build)"), std::string::npos)
      << r.out;
}

// The version string is not the build: with no record of what bootrig flashed, the same version is flashed
// (and said why); once bootrig flashed it, the next run on the same module finds its digest and writes
// nothing; --force writes anyway. Two runs on one module: a simulator served on a socket, as `bootrig sim`.
TEST_F(CmdFlash, TheImageTheBoardRunsIsNotFlashedAgainUnlessForced) {
  auto sock_dir = dir / "sim";
  ensure_private_dir(sock_dir);
  SimModule module(test::fast_sim(test::ota_active()), 921600);
  module.set_uart_link(sock_dir / "tty");
  module.start();
  SimControlServer server(module, sock_dir / "control.sock");
  auto remote_rig = dir / "remote.toml";
  std::ofstream(remote_rig) << "[rig]\nkind = \"sim\"\nname = \"served\"\n[serial]\nbaud = 921600\n"
                            << "[timing]\nreset_pulse_ms = 20\nboot_timeout_ms = 5000\n"
                            << "[sim]\nremote = \"" << (sock_dir / "control.sock").string() << "\"\n";
  // The module runs a 1.20.2.r6 of the simulator's making; this is another build of the same version. The rig
  // wires P2, so the ROM's MD5 of the running slot decides, not the version and not a record.
  auto img = write_image("same.bin", PycomBoard::fipy, ImageCorruption::none, "1.20.2.r6", 20 * 1024);
  auto r = run_bootrig("-q --rig " + remote_rig.string() + " flash --ota " + img.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("compared: the ROM's MD5 of the ota_0 slot over"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("the board runs another build of 1.20.2.r6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("flashed: " + img.string() + " (FiPy 1.20.2.r6"), std::string::npos) << r.out;
  r = run_bootrig("-q --rig " + remote_rig.string() + " flash --ota " + img.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("nothing flashed: the ROM's MD5 of the running factory slot matches image 1.20.2.r6"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("flashed: " + img.string()), std::string::npos) << r.out;
  r = run_bootrig("-q --rig " + remote_rig.string() + " flash --ota --force " + img.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("flashed: " + img.string() + " (FiPy 1.20.2.r6"), std::string::npos) << r.out;
}

TEST_F(CmdFlash, WrongBoardOrCorruptImageIsExitTwoBeforeAnyWrite) {
  auto lopy = write_image("lopy.bin", PycomBoard::lopy4, ImageCorruption::none);
  auto r = run_bootrig("-q --rig " + rig.string() + " flash --ota " + lopy.string());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("built for LoPy4 but the board is a FiPy; nothing was written"), std::string::npos) << r.err;
  r = run_bootrig("-q --rig " + rig.string() + " flash " + lopy.string());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("built for LoPy4 but the board is a FiPy; nothing was written"), std::string::npos)
      << "by cable too: " << r.err;
  auto bad = write_image("bad.bin", PycomBoard::fipy, ImageCorruption::bad_sha256);
  r = run_bootrig("-q --rig " + rig.string() + " flash --ota " + bad.string());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("nothing was written"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("flashed:"), std::string::npos) << r.out;
  r = run_bootrig("-q --rig " + rig.string() + " flash " + bad.string());
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("nothing was written"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bootrig
