// The simulated module's slots hold real ESP32 images: OTA over the REPL, the bootloader's check of a new
// image on its first boot (rollback), and a brown-out in the middle of an update.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bootrig/firmware/image_builder.hpp"
#include "bootrig/repl/repl_client.hpp"
#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

SimConfig profile_config(const std::string& profile) {
  SimConfig c;
  c.profile = profile;
  c.factory_version = "1.20.2.r4";
  return c;
}

std::string image_text(const std::string& version, ImageCorruption corruption = ImageCorruption::none,
                       PycomBoard board = PycomBoard::fipy) {
  ImageSpec spec;
  spec.version = version;
  spec.board = board;
  // Rodata only (no code segment, so no padding up to a 64 KiB page): a 16 KiB image keeps the bytes-literal
  // transfer of these tests short; the image is still a Pycom-shaped app with its banner.
  spec.segments = 1;
  auto raw = build_esp32_image(spec, corruption);
  return std::string(raw.begin(), raw.end());
}

// Sends an image through pycom.ota_* in 4096-byte blocks; returns what ota_verify() said, or nullopt when
// a step failed (the test has already been told why).
std::optional<bool> ota(SimRig& rig, const std::string& image) {
  auto r = rig.exec_raw("import pycom\npycom.ota_start()\n");
  EXPECT_TRUE(r.ok && r.error.empty()) << r.error << rig.transcript();
  if (!r.ok || !r.error.empty()) return std::nullopt;
  for (std::size_t at = 0; at < image.size(); at += 4096) {
    r = rig.exec_raw("pycom.ota_write(" + py_bytes_literal(std::string_view(image).substr(at, 4096)) + ")\n");
    EXPECT_TRUE(r.ok && r.error.empty()) << r.error;
    if (!r.ok || !r.error.empty()) return std::nullopt;
  }
  r = rig.exec_raw("print(pycom.ota_verify())\n");
  EXPECT_TRUE(r.ok) << r.error;
  return r.output.find("True") != std::string::npos;
}

std::string bootmgr(SimRig& rig) {
  return run(rig, "import pycom\nprint(pycom.bootmgr()[0], pycom.ota_slot())\n");
}

class SimOta : public ::testing::TestWithParam<std::string> {};

TEST_P(SimOta, UpdateSwitchesSlotsAfterTheNextResetAndKeepsThePreviousImage) {
  SimRig rig(profile_config(GetParam()));
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(rig.module().status().running_version, "1.20.2.r4");
  EXPECT_EQ(bootmgr(rig), "Factory 1835008\r\n") << "the next update goes to ota_0 at 0x1C0000";

  auto verified = ota(rig, image_text("1.20.3.r1"));
  ASSERT_TRUE(verified);
  EXPECT_TRUE(*verified);
  auto r = rig.exec_raw("pycom.ota_finish()\nprint(pycom.bootmgr())\n");
  ASSERT_TRUE(r.ok) << rig.transcript();
  EXPECT_NE(r.output.find("Full Update Image detected. Restart the device to load the new firmware."),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("Status: Check"), std::string::npos) << r.output;
  EXPECT_EQ(rig.module().status().running_version, "1.20.2.r4") << "ota_finish does not reset";

  rig.skip_unread();
  rig.press_reset();
  ASSERT_TRUE(rig.wait_banner()) << rig.transcript();
  EXPECT_EQ(rig.module().status().running_version, "1.20.3.r1");
  EXPECT_EQ(rig.module().status().running_slot, "ota_0");
  EXPECT_EQ(bootmgr(rig), "ota_0 65536\r\n") << "ping-pong: the next update goes to factory";
  EXPECT_NE(run(rig, "import pycom\nprint(pycom.bootmgr()[3])\n").find("Status: Ready"), std::string::npos);

  // A second update goes into the factory slot; the first update becomes the previous image.
  verified = ota(rig, image_text("1.20.4.r0"));
  ASSERT_TRUE(verified);
  EXPECT_TRUE(*verified);
  ASSERT_TRUE(rig.exec_raw("import pycom\npycom.ota_finish()\n").ok);
  rig.press_reset();
  ASSERT_TRUE(rig.wait_banner()) << rig.transcript();
  EXPECT_EQ(rig.module().status().running_version, "1.20.4.r0");
  EXPECT_EQ(rig.module().status().running_slot, "factory");
  auto st = run(rig, "import pycom\nprint(pycom.bootmgr())\n");
  EXPECT_NE(st.find("'Factory'"), std::string::npos) << st;
  EXPECT_NE(st.find("Status: Ready"), std::string::npos) << st;
}

TEST_P(SimOta, CorruptImageRollsBackWithTheFirmwaresMessage) {
  SimRig rig(profile_config(GetParam()));
  ASSERT_TRUE(rig.wait_banner());
  auto verified = ota(rig, image_text("1.20.3.r1", ImageCorruption::corrupt_payload));
  ASSERT_TRUE(verified);
  EXPECT_FALSE(*verified) << "ota_verify() checks checksum and digest";
  ASSERT_TRUE(rig.exec_raw("import pycom\npycom.ota_finish()\n").ok);
  rig.skip_unread();
  rig.press_reset();
  auto text = rig.read_until(
      "Cannot load Firmware img in the active partition! .. Defaulting back to previous "
      "partition\r\n");
  ASSERT_TRUE(text) << rig.transcript();
  ASSERT_TRUE(rig.wait_banner()) << rig.transcript();
  EXPECT_EQ(rig.module().status().running_version, "1.20.2.r4");
  EXPECT_EQ(rig.module().status().running_slot, "factory");
  auto st = run(rig, "import pycom\nprint(pycom.bootmgr())\n");
  EXPECT_NE(st.find("'Factory'"), std::string::npos) << st;
  EXPECT_NE(st.find("Status: Ready"), std::string::npos) << st;
}

TEST_P(SimOta, BrownOutMidWriteLeavesThePreviousImageRunning) {
  SimConfig c = profile_config(GetParam());
  c.faults.brownout_after_bytes = 10000;
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  std::string image = image_text("1.20.3.r1");
  ASSERT_TRUE(rig.exec_raw("import pycom\npycom.ota_start()\n").ok);
  bool browned_out = false;
  for (std::size_t at = 0; at < image.size() && !browned_out; at += 4096) {
    auto r = rig.exec_raw(
        "pycom.ota_write(" + py_bytes_literal(std::string_view(image).substr(at, 4096)) + ")\n", seconds(3));
    browned_out = !r.ok;
  }
  ASSERT_TRUE(browned_out) << "the third block crosses 10000 bytes";
  ASSERT_TRUE(rig.wait_banner()) << rig.transcript();
  EXPECT_NE(rig.transcript().find("rst:0xf (RTCWDT_BROWN_OUT_RESET)"), std::string::npos) << rig.transcript();
  EXPECT_EQ(rig.module().status().running_version, "1.20.2.r4");
  EXPECT_EQ(rig.module().status().running_slot, "factory");
  EXPECT_EQ(run(rig, "import machine\nprint(machine.reset_cause())\n"), "5\r\n");
  EXPECT_EQ(rig.module().faults().brownout_after_bytes, 0u) << "one brown-out, then the supply recovers";
  // The half-written slot is not bootable: a later reset still boots the previous image.
  rig.press_reset();
  ASSERT_TRUE(rig.wait_banner()) << rig.transcript();
  EXPECT_EQ(rig.module().status().running_version, "1.20.2.r4");
  // And the next update goes through.
  auto verified = ota(rig, image);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(*verified);
}

TEST_P(SimOta, FailuresRaiseOSError) {
  SimRig rig(profile_config(GetParam()));
  ASSERT_TRUE(rig.wait_banner());
  auto r = rig.exec_raw("import pycom\npycom.ota_write(b'abc')\n");
  ASSERT_TRUE(r.ok);
  EXPECT_NE(r.error.find("OSError: the requested operation failed"), std::string::npos) << r.error;
  r = rig.exec_raw("import pycom\npycom.ota_finish()\n");
  EXPECT_NE(r.error.find("OSError: the requested operation failed"), std::string::npos) << r.error;
}

INSTANTIATE_TEST_SUITE_P(Profiles, SimOta, ::testing::Values("pycom", "upstream"));

TEST(SimSlots, RunningVersionAndBoardAreReadFromTheImage) {
  SimConfig c;
  c.board = "LoPy4";
  c.factory_version = "1.18.2.r7";
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_NE(
      rig.transcript().find("Pycom MicroPython 1.18.2.r7 [v1.11-a5aa0b8] on 2021-01-12; LoPy4 with ESP32"),
      std::string::npos)
      << rig.transcript();
  EXPECT_EQ(rig.module().status().running_version, "1.18.2.r7");
}

}  // namespace
}  // namespace bootrig::test
