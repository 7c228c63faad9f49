// MicroPython's own tools against `bootrig sim`: pyboard.py and mpremote, run from the MicroPython sources
// the build fetched (Debian 13's micropython 1.25) with Debian's python3-serial, in both profiles.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "support/sim_process.hpp"

namespace bootrig {
namespace {

namespace fs = std::filesystem;

using testing::kPython;
using testing::kTools;
using testing::sh;
using testing::SimProcess;
using testing::ToolRun;

class Tools : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kTools + "/pyboard.py")) << "MicroPython's tools are missing from " << kTools;
    ToolRun serial = sh(kPython + " -c 'import serial'");
    ASSERT_EQ(serial.exit_code, 0)
        << "pyboard.py and mpremote need pyserial: apt-get install python3-serial (" << serial.out << ")";
  }
};

std::string write_local(const fs::path& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir / name) << text;
  return (dir / name).string();
}

TEST_P(Tools, PyboardFileCommandsExecAndRun) {
  SimProcess sim(GetParam());
  ASSERT_NE(sim.status().find("phase=repl"), std::string::npos) << sim.status();
  ToolRun ls = sim.pyboard("-f ls");
  ASSERT_EQ(ls.exit_code, 0) << ls.out;
  EXPECT_NE(ls.out.find("main.py"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("lib/"), std::string::npos) << ls.out;
  std::string local = write_local(sim.dir(), "hello.py", "print('hello from', __name__)\n");
  EXPECT_EQ(sim.pyboard("-f mkdir :app").exit_code, 0);
  ToolRun cp = sim.pyboard("-f cp '" + local + "' :app/hello.py");
  ASSERT_EQ(cp.exit_code, 0) << cp.out;
  ToolRun cat = sim.pyboard("-f cat :app/hello.py");
  EXPECT_NE(cat.out.find("print('hello from', __name__)"), std::string::npos) << cat.out;
  ToolRun lsdir = sim.pyboard("-f ls :app");
  EXPECT_NE(lsdir.out.find("30 hello.py"), std::string::npos) << lsdir.out;
  ToolRun run = sim.pyboard("'" + local + "'");
  EXPECT_NE(run.out.find("hello from __main__"), std::string::npos) << run.out;
  ToolRun exec = sim.pyboard("-c 'import app.hello'");
  EXPECT_NE(exec.out.find("hello from app.hello"), std::string::npos) << exec.out;
  EXPECT_EQ(sim.pyboard("-f rm :app/hello.py").exit_code, 0);
  EXPECT_EQ(sim.pyboard("-f rmdir :app").exit_code, 0);
  ToolRun after = sim.pyboard("-f ls");
  EXPECT_EQ(after.out.find("app/"), std::string::npos) << after.out;
}

TEST_P(Tools, MpremoteFilesystemExecRunSoftResetAndRepl) {
  SimProcess sim(GetParam());
  ASSERT_NE(sim.status().find("phase=repl"), std::string::npos) << sim.status();
  std::string local =
      write_local(sim.dir(), "blink.py", "import pycom\nprint('heartbeat', pycom.heartbeat())\n");
  ToolRun cp = sim.mpremote("fs mkdir :d + fs mkdir :d/e + fs cp '" + local + "' :d/e/blink.py + fs ls :d/e");
  ASSERT_EQ(cp.exit_code, 0) << cp.out;
  EXPECT_NE(cp.out.find("blink.py"), std::string::npos) << cp.out;
  ToolRun cat = sim.mpremote("fs cat :d/e/blink.py");
  EXPECT_NE(cat.out.find("print('heartbeat', pycom.heartbeat())"), std::string::npos) << cat.out;
  ToolRun sum = sim.mpremote("fs sha256sum :d/e/blink.py");
  EXPECT_NE(sum.out.find("sha256sum :d/e/blink.py"), std::string::npos) << sum.out;
  ToolRun run = sim.mpremote("run '" + local + "'");
  EXPECT_NE(run.out.find("heartbeat True"), std::string::npos) << run.out;
  ToolRun rm = sim.mpremote("fs rm -r :d + fs ls");
  ASSERT_EQ(rm.exit_code, 0) << rm.out;
  EXPECT_EQ(rm.out.find(" d/"), std::string::npos) << rm.out;
  ToolRun exec = sim.mpremote("exec 'x = 6 * 7' + exec 'print(x)'");
  EXPECT_NE(exec.out.find("42"), std::string::npos) << exec.out;
  ToolRun reset =
      sim.mpremote("soft-reset + exec 'import machine; print(machine.reset_cause(), \"x\" in dir())'");
  EXPECT_NE(reset.out.find("4 False"), std::string::npos) << "SOFT_RESET, names cleared: " << reset.out;
  // The REPL wants a terminal: script(1) gives it one; Ctrl-] leaves it.
  ToolRun repl =
      sh("sh -c \"(sleep 1; printf 'print(6*7)\\r'; sleep 1; printf '\\035') | script -qfec \\\"env "
         "PYTHONPATH='" +
         kTools + "/mpremote' " + kPython + " -m mpremote connect '" + sim.tty() + "' repl\\\" /dev/null\"");
  EXPECT_NE(repl.out.find("Connected to MicroPython"), std::string::npos) << repl.out;
  EXPECT_NE(repl.out.find("42\r\n>>> "), std::string::npos) << repl.out;
}

TEST_P(Tools, FStringsAreTheFirmwaresSyntax) {
  SimProcess sim(GetParam());
  ToolRun r = sim.mpremote("exec \"print(f'{6 * 7}')\"");
  if (GetParam() == "pycom") {
    // Firmware 1.20 (MicroPython 1.11) has no f-strings.
    EXPECT_NE(r.out.find("SyntaxError: invalid syntax"), std::string::npos) << r.out;
  } else {
    EXPECT_NE(r.out.find("42"), std::string::npos) << r.out;
  }
}

INSTANTIATE_TEST_SUITE_P(Profiles, Tools, ::testing::Values("pycom", "upstream"));

}  // namespace
}  // namespace bootrig
