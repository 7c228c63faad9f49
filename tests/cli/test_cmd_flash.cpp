// Tests for `bootrig flash IMAGE [--ota]` (OTA and cable flashing) through the built binary against a
// simulated rig.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "bootrig/sim/sim_control.hpp"
#include "bootrig/sim/sim_module.hpp"
#include "support/sim_fixture.hpp"
#include "sim/sim_test_util.hpp"
#include "support/run_bootrig.hpp"
#include "support/scenario_rig.hpp"

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
                                    const std::string& version = "1.20.3.r1") {
    ImageSpec s;
    s.version = version;
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
  EXPECT_NE(r.out.find("(at 0x10000, 460800 baud"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("now runs: factory runs FiPy 1.20.3.r1; window 2 boots the same image"), std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("writing by cable:"), std::string::npos) << "a progress line on stderr: " << r.err;
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
  auto img = write_image("same.bin", PycomBoard::fipy, ImageCorruption::none, "1.20.2.r6");
  auto r = run_bootrig("-q --rig " + remote_rig.string() + " flash --ota " + img.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("nothing proves it is this build of it"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("flashed: " + img.string() + " (FiPy 1.20.2.r6"), std::string::npos) << r.out;
  r = run_bootrig("-q --rig " + remote_rig.string() + " flash --ota " + img.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("nothing flashed: the board runs image 1.20.2.r6: bootrig's record holds its SHA-256"),
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
