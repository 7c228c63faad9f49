// Tests the simulated module's download mode with Espressif's real esptool (Debian's package) against
// `bootrig sim`: the ROM flow (--no-stub) and the default flow through the flasher stub's protocol,
// compressed writes, verify and read-back, a baud change to 921600, and an unsupported command.
#include "sim/rom_download.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "bootrig/firmware/firmware_file.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "support/esptool.hpp"

namespace bootrig {
namespace {

using testing::run_esptool;
using testing::SimProcess;

constexpr const char* kRig = R"(# A simulated FiPy with a known MAC, for esptool.
[rig]
name = "esptool target"
kind = "sim"

[serial]
baud = 115200

[sim]
board = "FiPy"
factory_version = "1.20.2.r4"
ota0_version = "1.20.2.r6"
active_slot = "ota_0"
mac = "24:0a:c4:12:34:56"
)";

class EsptoolOnSim : public ::testing::Test {
 protected:
  void SetUp() override {
    BOOTRIG_REQUIRE_ESPTOOL();
    dir_ = std::filesystem::temp_directory_path() / ("bootrig-esptool-" + std::to_string(::getpid()));
    sim_ = std::make_unique<SimProcess>(dir_ / "sim", kRig);
    ASSERT_TRUE(sim_->running()) << "bootrig sim did not start";
    ImageSpec spec;
    spec.version = "1.20.2.r9";
    spec.payload_size = 48 * 1024;
    image_ = build_esp32_image(spec);
    image_path_ = (dir_ / "fipy-1.20.2.r9.bin").string();
    write_binary_file(image_path_, image_);
    blank_path_ = (dir_ / "otadata-blank.bin").string();
    write_binary_file(blank_path_, std::vector<std::uint8_t>(0x1000, 0xFF));
  }
  void TearDown() override {
    sim_.reset();
    std::filesystem::remove_all(dir_);
  }
  // esptool's usual arguments for a rig that drives download mode itself (as bootrig does).
  std::vector<std::string> args(std::vector<std::string> more, bool no_stub = true) const {
    // More connection attempts than esptool's 7: the simulated ROM is a process on a loaded 2-core machine
    // and can answer a SYNC later than esptool's 100 ms, where a chip's ROM answers at once; a late answer
    // then spoils the next attempt too (esptool reads it as "Invalid head of packet").
    std::vector<std::string> a{"--chip",     "esp32",    "--port",  sim_->port(), "--before",
                               "no_reset",   "--after",  "no_reset", "--connect-attempts", "30"};
    if (no_stub) a.push_back("--no-stub");
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
  std::vector<std::uint8_t> read_file(const std::string& name) const {
    return read_binary_file((dir_ / name).string());
  }
  // After a reset with P2 released the module boots what the factory slot holds.
  std::string version_after_reset() const {
    sim_->command("reset");
    for (int i = 0; i < 200; ++i) {
      if (sim_->status("phase") == "repl") return sim_->status("version");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "(no boot: " + sim_->command("status") + ")";
  }

  std::filesystem::path dir_;
  std::unique_ptr<SimProcess> sim_;
  std::vector<std::uint8_t> image_;
  std::string image_path_, blank_path_;
};

TEST_F(EsptoolOnSim, NoStubConnectionReadsTheChipFlashIdAndMacLikeAnEsp32) {
  sim_->enter_download_mode();
  auto r = run_esptool(args({"flash_id"}));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Chip is ESP32-D0WDQ6 (revision v1.0)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Crystal is 40MHz"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("MAC: 24:0a:c4:12:34:56"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Manufacturer: ef"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Device: 4016"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Detected flash size: 4MB"), std::string::npos) << r.output;
}

TEST_F(EsptoolOnSim, NoStubCompressedWriteAt921600VerifiesReadsBackAndTheModuleRunsIt) {
  sim_->enter_download_mode();
  auto w = run_esptool(
      args({"--baud", "921600", "write_flash", "-z", "0x10000", image_path_, "0x1BE000", blank_path_}));
  ASSERT_EQ(w.exit_code, 0) << w.output;
  EXPECT_NE(w.output.find("Changing baud rate to 921600"), std::string::npos) << w.output;
  EXPECT_NE(w.output.find("Compressed " + std::to_string(image_.size()) + " bytes to"), std::string::npos)
      << w.output;
  EXPECT_NE(w.output.find("Hash of data verified."), std::string::npos) << w.output;
  // The ROM stayed in the loader (esptool sends it no FLASH_END): verify and read back in the same session.
  auto v = run_esptool(args({"verify_flash", "0x10000", image_path_}));
  ASSERT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("-- verify OK (digest matched)"), std::string::npos) << v.output;
  auto rd = run_esptool(args({"read_flash", "0x10000", "0x800", (dir_ / "back.bin").string()}));
  ASSERT_EQ(rd.exit_code, 0) << rd.output;
  auto back = read_file("back.bin");
  ASSERT_EQ(back.size(), 0x800u);
  EXPECT_TRUE(std::equal(back.begin(), back.end(), image_.begin()));
  // otadata erased: the bootloader resets boot_info to the factory slot, which now holds 1.20.2.r9.
  EXPECT_EQ(version_after_reset(), "1.20.2.r9");
  EXPECT_EQ(sim_->status("slot"), "factory");
}

TEST_F(EsptoolOnSim, DefaultFlowUploadsTheStubAndSpeaksItsProtocol) {
  sim_->enter_download_mode();
  auto w = run_esptool(
      args({"--baud", "921600", "write_flash", "-z", "0x10000", image_path_, "0x1BE000", blank_path_}, false),
      true);
  ASSERT_EQ(w.exit_code, 0) << w.output;
  EXPECT_NE(w.output.find("Uploading stub..."), std::string::npos) << w.output;
  EXPECT_NE(w.output.find("Stub running..."), std::string::npos) << w.output;
  EXPECT_NE(w.output.find("Hash of data verified."), std::string::npos) << w.output;
  // With --after no_reset esptool asks the stub to reboot into the ROM; P2 is released, so the module boots.
  for (int i = 0; i < 200 && sim_->status("phase") != "repl"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sim_->status("version"), "1.20.2.r9");

  // The stub's fast read (acknowledged 4 KiB frames, then an MD5), its erase, and a verify.
  sim_->enter_download_mode();
  auto rd = run_esptool(
      args({"read_flash", "0x10000", std::to_string(image_.size()), (dir_ / "all.bin").string()}, false),
      true);
  ASSERT_EQ(rd.exit_code, 0) << rd.output;
  EXPECT_EQ(read_file("all.bin"), image_);
  sim_->enter_download_mode();
  auto er = run_esptool(args({"erase_region", "0x300000", "0x2000"}, false), true);
  ASSERT_EQ(er.exit_code, 0) << er.output;
  EXPECT_NE(er.output.find("Erase completed successfully"), std::string::npos) << er.output;
  sim_->enter_download_mode();
  auto v = run_esptool(args({"verify_flash", "0x10000", image_path_}, false), true);
  ASSERT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("-- verify OK (digest matched)"), std::string::npos) << v.output;
}

TEST_F(EsptoolOnSim, TheRomAnswersACommandItDoesNotHaveAsTheRealOneDoes) {
  sim_->enter_download_mode();
  // GET_SECURITY_INFO (0x14) exists from the ESP32-S2 on; the ESP32 ROM answers it as unsupported.
  auto r = run_esptool(args({"get_security_info"}));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("Invalid (unsupported) command 0x14"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace bootrig
