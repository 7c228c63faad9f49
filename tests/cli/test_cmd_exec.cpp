// Tests for `bootrig exec` through the built binary: against `bootrig sim` in both profiles by --port (a bare
// pty serving a REPL, no rig file) and by a rig, streaming, exceptions, --timeout, Ctrl-C and rig problems.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/bootrig_binary.hpp"
#include "support/run_bootrig.hpp"
#include "support/sim_process.hpp"

namespace bootrig {
namespace {

using testing::run_bootrig;
using testing::SimProcess;

class CmdExec : public ::testing::TestWithParam<std::string> {};

TEST_P(CmdExec, RunsCodeOnABarePortAndPrintsItsOutput) {
  SimProcess sim(GetParam());
  auto r = run_bootrig("exec --port " + sim.tty() + " 'print(6 * 7)\nprint(\"ab\" * 2)'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "42\nabab\n") << "nothing of the REPL's own protocol in the output";
  // The board is left at its friendly prompt: a second run finds it there.
  r = run_bootrig("exec --port " + sim.tty() + " 'print(\"again\")'");
  EXPECT_EQ(r.out, "again\n") << r.err;
}

TEST_P(CmdExec, AnExceptionOnTheBoardIsExitOneWithItsTraceback) {
  SimProcess sim(GetParam());
  auto r = run_bootrig("exec --port " + sim.tty() + " 'print(\"before\")\nraise ValueError(\"no good\")'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out, "before\n");
  EXPECT_NE(r.err.find("Traceback (most recent call last):"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ValueError: no good"), std::string::npos) << r.err;
}

// A file of several kilobytes: raw-paste on upstream firmware, paced raw blocks on Pycom's.
TEST_P(CmdExec, RunsAFileLargerThanOneBlockAndBinaryOutput) {
  SimProcess sim(GetParam());
  auto file = sim.dir() / "prog.py";
  {
    std::ofstream out(file);
    for (int i = 0; i < 150; ++i) out << "v" << i << " = " << i << "  # padding to make the file long\n";
    out << "print(sum([v0, v1, v149]))\n";
  }
  auto r = run_bootrig("exec --port " + sim.tty() + " --file " + file.string());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "150\n");
}

TEST_P(CmdExec, ThroughARigAsWell) {
  SimProcess sim(GetParam());
  auto r = run_bootrig("-q --rig " + sim.remote_rig() + " exec 'import sys\nprint(sys.implementation.name)'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "micropython\n");
}

TEST_P(CmdExec, TimeoutInterruptsTheCodeOnTheBoardAndLeavesItUsable) {
  SimProcess sim(GetParam());
  auto r =
      run_bootrig("exec --port " + sim.tty() + " --timeout 1 'print(\"spinning\")\nwhile True:\n    pass'");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.out, "spinning\n");
  EXPECT_NE(r.err.find("KeyboardInterrupt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ran longer than --timeout 1 s; interrupted it on the board"), std::string::npos)
      << r.err;
  r = run_bootrig("exec --port " + sim.tty() + " 'print(1 + 1)'");
  EXPECT_EQ(r.out, "2\n") << r.err;
}

// Output arrives while the code still runs, and Ctrl-C (SIGINT, as a terminal sends it) stops it on the
// board: exit 3 with the KeyboardInterrupt.
TEST_P(CmdExec, StreamsOutputAsItComesAndCtrlCStopsTheCodeOnTheBoard) {
  SimProcess sim(GetParam());
  int out[2], err[2];
  ASSERT_EQ(::pipe(out), 0);
  ASSERT_EQ(::pipe(err), 0);
  const std::string tty = sim.tty();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::close(out[0]);
    ::close(err[0]);
    ::execl(BOOTRIG_BINARY, BOOTRIG_BINARY, "exec", "--port", tty.c_str(),
            "import time\nprint('started')\nwhile True:\n    time.sleep(0.05)", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  std::string first;
  char c;
  while (first.find('\n') == std::string::npos && ::read(out[0], &c, 1) == 1) first += c;
  EXPECT_EQ(first, "started\n");
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "still running: the line came while the code runs";
  ::kill(pid, SIGINT);
  std::string errors;
  while (::read(err[0], &c, 1) == 1) errors += c;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(out[0]);
  ::close(err[0]);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3) << errors;
  EXPECT_NE(errors.find("KeyboardInterrupt"), std::string::npos) << errors;
  EXPECT_NE(errors.find("the code was stopped on the board"), std::string::npos) << errors;
  auto r = run_bootrig("exec --port " + tty + " 'print(\"alive\")'");
  EXPECT_EQ(r.out, "alive\n") << r.err;
}

INSTANTIATE_TEST_SUITE_P(Profiles, CmdExec, ::testing::Values("pycom", "upstream"));

TEST(CmdExecErrors, AMissingPortIsOneLineAndExitTwo) {
  auto r = run_bootrig("exec --port /dev/bootrig-no-such-port 'print(1)'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/dev/bootrig-no-such-port"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(CmdExecErrors, UsageProblemsAreExitTwo) {
  auto r = run_bootrig("exec --port /dev/null");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nothing to run; give CODE or --file F"), std::string::npos) << r.err;
  r = run_bootrig("--rig x.toml exec --port /dev/ttyUSB9 'print(1)'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--port and --rig name two boards"), std::string::npos) << r.err;
  r = run_bootrig("exec --port /dev/null --file /nonexistent/prog.py");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/prog.py: cannot read it"), std::string::npos) << r.err;
}

// A pty whose other end never answers: not a REPL, so a rig problem that says so, never a hang.
TEST(CmdExecErrors, APortWithoutAReplIsExitTwoAndSaysWhatToCheck) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  std::string slave = ::ptsname(master);
  auto r = run_bootrig("-q exec --port " + slave + " 'print(1)'",
                       "BOOTRIG_RIG=" + std::string(BOOTRIG_SOURCE_DIR) + "/rigs/sim.toml");
  ::close(master);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("did not take the code"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("check the port and baud rate"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace bootrig
