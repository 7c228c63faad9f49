// Behaviour-table tests for uos and the filesystems under it (src/sim/micropython/modos.c), sys.stdin and the
// namespace the port sets up, through the REPL on the UART.
#include "sim/micropython_vm.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

// Starts code in the raw REPL and returns once it printed `ready` (it then waits for the test's bytes).
void start_raw(SimRig& rig, const std::string& code, const std::string& ready) {
  rig.skip_unread();
  rig.send("\r\x01");
  ASSERT_TRUE(rig.read_until("raw REPL; CTRL-B to exit\r\n>"));
  rig.send(code);
  rig.send("\x04");
  ASSERT_TRUE(rig.read_until("OK" + ready)) << rig.transcript();
}

TEST(FirmwareModules, SysStdinBufferReadBlocksUntilAllBytesCameAndTakesControlBytesWithKbdIntrOff) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  start_raw(rig,
            "import sys, micropython\nmicropython.kbd_intr(-1)\nprint('ready')\n"
            "b = sys.stdin.buffer.read(7)\nmicropython.kbd_intr(3)\nprint(len(b), list(b))\n",
            "ready\r\n");
  rig.send("a");
  EXPECT_EQ(rig.read_quiet(milliseconds(300)).find("["), std::string::npos) << "returned before 7 bytes came";
  rig.send(std::string("\x03\x04\r\x1b\x00\xff", 6));
  auto out = rig.read_until("\x04");
  ASSERT_TRUE(out) << rig.transcript();
  EXPECT_EQ(*out, "7 [97, 3, 4, 13, 27, 0, 255]\r\n\x04");
  ASSERT_TRUE(rig.read_until("\x04>"));
}

TEST(FirmwareModules, SysStdinReadIsInterruptedByCtrlCWhileKbdIntrIsOn) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  start_raw(rig,
            "import sys\nprint('ready')\ntry:\n    sys.stdin.buffer.read(4)\n"
            "except KeyboardInterrupt:\n    print('interrupted')\n",
            "ready\r\n");
  rig.send("ab\x03");
  auto out = rig.read_until("\x04");
  ASSERT_TRUE(out) << rig.transcript();
  EXPECT_EQ(*out, "interrupted\r\n\x04");
}

TEST(FirmwareModules, SysStdinTextReadAndReadinto) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  start_raw(rig,
            "import sys\nprint('ready')\ns = sys.stdin.read(3)\nb = bytearray(4)\n"
            "n = sys.stdin.buffer.readinto(b)\nprint(s, n, list(b))\n",
            "ready\r\n");
  rig.send("xyz1234");
  auto out = rig.read_until("\x04");
  ASSERT_TRUE(out) << rig.transcript();
  EXPECT_EQ(*out, "xyz 4 [49, 50, 51, 52]\r\n\x04");
}

TEST(FirmwareModules, F1_FsformatEmptiesFlashAndLeavesSd) {
  SimConfig c;
  c.sd_card = true;
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  write_file(rig, "/flash/user.txt", "mine");
  write_file(rig, "/sd/keep.txt", "card");
  EXPECT_EQ(run(rig,
                "import os\nos.fsformat('/flash')\nprint(os.listdir('/flash'), os.listdir('/sd'), "
                "os.listdir('/'))\n"),
            "[] ['keep.txt'] ['flash', 'sd']\r\n");
  rig.send("\x04");
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig, "import os\nprint(sorted(os.listdir('/flash')), open('/sd/keep.txt').read())\n"),
            "['boot.py', 'cert', 'lib', 'main.py', 'sys'] card\r\n");
}

TEST(FirmwareModules, F2_MkfsNoLongerExists) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  auto r = rig.exec_raw("import os\nos.mkfs('/flash')\n");
  EXPECT_NE(r.error.find("AttributeError: 'module' object has no attribute 'mkfs'"), std::string::npos);
}

TEST(FirmwareModules, F3_FilesPersistAcrossSoftAndHardResets) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  write_file(rig, "/flash/keep.txt", "kept");
  rig.send("\x04");
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig, "print(open('keep.txt').read())\n"), "kept\r\n");
  rig.press_reset();
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  rig.power().set(Level::inactive);
  rig.power().set(Level::active);
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig, "print(open('/flash/keep.txt').read())\n"), "kept\r\n");
}

TEST(FirmwareModules, F3_FlashBackedByAFolderSurvivesTheProcess) {
  auto dir = std::filesystem::temp_directory_path() / ("bootrig-sim-flash-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  SimConfig c;
  c.flash_dir = dir;
  {
    SimRig rig(c);
    ASSERT_TRUE(rig.wait_banner());
    write_file(rig, "/flash/lib/note.txt", "on disk");
  }
  // The folder holds the partition's image: 1 MiB, a FAT volume a host can mount or read with mtools.
  ASSERT_TRUE(std::filesystem::exists(dir / "flash.img"));
  EXPECT_EQ(std::filesystem::file_size(dir / "flash.img"), 1024u * 1024u);
  {
    SimRig rig(c);
    ASSERT_TRUE(rig.wait_banner());
    EXPECT_EQ(run(rig, "print(open('/flash/lib/note.txt').read())\nimport os\nos.fsformat('/flash')\n"),
              "on disk\r\n");
  }
  {
    SimRig rig(c);
    ASSERT_TRUE(rig.wait_banner());
    EXPECT_EQ(run(rig, "import os\nprint(sorted(os.listdir('/flash')), os.listdir('/flash/lib'))\n"),
              "['boot.py', 'cert', 'lib', 'main.py', 'sys'] []\r\n");
  }
  std::filesystem::remove_all(dir);
}

TEST(FirmwareModules, OsFileOperationsAndErrors) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(
      run(rig,
          "import os\nos.mkdir('/flash/d')\nos.chdir('d')\nf = open('a.txt', 'w')\nf.write('abc')\n"
          "f.close()\nprint(os.getcwd(), os.listdir(), os.stat('a.txt')[6])\nos.rename('a.txt', 'b.txt')\n"
          "os.remove('b.txt')\nos.chdir('..')\nos.rmdir('d')\nprint('d' in os.listdir())\n"),
      "/flash/d ['a.txt'] 3\r\nFalse\r\n");
  auto r = rig.exec_raw("open('/flash/missing.txt')\n");
  EXPECT_NE(r.error.find("OSError: [Errno 2] ENOENT"), std::string::npos);
  r = rig.exec_raw("import os\nos.remove('/flash/lib')\n");
  EXPECT_NE(r.error.find("OSError: [Errno 21] EISDIR"), std::string::npos);
}

TEST(FirmwareModules, WithOpenAppendAndReadLines) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(run(rig,
                "with open('/flash/log.txt', 'w') as f:\n    f.write('one\\n')\n"
                "with open('/flash/log.txt', 'a') as f:\n    f.write('two\\n')\n"
                "for line in open('/flash/log.txt'):\n    print(line.strip())\n"),
            "one\r\ntwo\r\n");
}

TEST(FirmwareModules, WritesAreCommittedOnCloseOnly) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  run(rig, "f = open('/flash/pending.txt', 'w')\nf.write('lost')\n");
  rig.press_reset();
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig, "print(repr(open('/flash/pending.txt').read()))\n"), "''\r\n");
}

TEST(FirmwareModules, UserModulesImportFromFlashLib) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  write_file(rig, "/flash/lib/helper.py", "def twice(x):\n    return 2 * x\n");
  EXPECT_EQ(run(rig, "import helper\nprint(helper.twice(21))\n"), "42\r\n");
  auto r = rig.exec_raw("import socket\n");
  EXPECT_NE(r.error.find("ImportError: no module named 'socket'"), std::string::npos);
}

TEST(FirmwareModules, HelpAndSysModules) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  auto help = rig.eval_line("help()");
  ASSERT_TRUE(help);
  EXPECT_NE(help->find("CTRL-D        -- on a blank line, do a soft reset of the board"), std::string::npos);
  EXPECT_EQ(run(rig, "import sys\nprint(sys.platform, '/flash/lib' in sys.path)\n"), "esp32 True\r\n");
}

TEST(FirmwareModules, NamesFromBootPyStayInTheReplNamespace) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(rig.eval_line("sorted(dir())"), "['UART', '__name__', 'os']\r\n") << "_boot.py runs in __main__";
}

}  // namespace
}  // namespace bootrig::test
