// Tests for pycom (src/sim/micropython/modpycom.c): NVS kept across resets, the RGB LED the photodiode sees,
// and the filesystem type chosen through the boot manager.
#include <gtest/gtest.h>

#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

TEST(Pycom, NvsValuesSurviveSoftAndHardResets) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(run(rig, "import pycom\npycom.nvs_set('count', 41)\nprint(pycom.nvs_get('count'))\n"), "41\r\n");
  rig.send("\x04");  // soft reset at the friendly prompt
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  rig.press_reset();
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig,
                "import pycom\nprint(pycom.nvs_get('count') + 1)\npycom.nvs_erase('count')\n"
                "print(pycom.nvs_get('count', 'gone'))\n"),
            "42\r\ngone\r\n");
  auto missing = rig.exec_raw("pycom.nvs_erase('count')\n");
  EXPECT_NE(missing.error.find("KeyError: key not found"), std::string::npos) << missing.error;
}

TEST(Pycom, RgbledDrivesTheLedThePhotodiodeSees) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(run(rig, "import pycom\npycom.heartbeat(False)\npycom.rgbled(0x102030)\n"), "");
  EXPECT_EQ(rig.module().led(), 0x102030u);
  EXPECT_EQ(run(rig, "pycom.rgbled(0)\n"), "");
  EXPECT_EQ(rig.module().led(), 0u);
}

TEST(Pycom, LittleFsOnRequestFormatsFlashAtTheNextBoot) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  write_file(rig, "/flash/keep.txt", "fat");
  EXPECT_EQ(run(rig, "import os, pycom\nprint(type(os.statvfs('/flash')), pycom.bootmgr()[1])\n"),
            "<class 'tuple'> LittleFS\r\n")
      << "an erased config block says LittleFS although /flash is FAT (modpycom.c)";
  rig.skip_unread();
  rig.send_line("pycom.bootmgr(fs_type=pycom.LittleFS, reset=True)");
  ASSERT_TRUE(rig.read_until("rst:0x7 (TG0WDT_SYS_RESET)"));
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig, "import os, pycom\nprint(sorted(os.listdir('/flash')), pycom.bootmgr()[1])\n"),
            "['boot.py', 'cert', 'lib', 'main.py', 'sys'] LittleFS\r\n")
      << "the FAT volume is gone: LittleFS formatted it";
  write_file(rig, "/flash/lfs.txt", "kept");
  rig.press_reset();
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig, "print(open('/flash/lfs.txt').read())\n"), "kept\r\n");
  EXPECT_EQ(run(rig, "import pycom\npycom.bootmgr(fs_type=pycom.FAT)\nprint(pycom.bootmgr()[1])\n"),
            "FAT\r\n");
}

}  // namespace
}  // namespace bootrig::test
