// Tests for `bootrig sim`: start-up text, commands on stdin, clean stop on EOF and SIGTERM, rig checks.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/bootrig_binary.hpp"
#include "support/run_bootrig.hpp"

namespace bootrig {
namespace {

using testing::run_bootrig;

std::filesystem::path sim_cmd_dir(const std::string& tag) {
  auto d =
      std::filesystem::temp_directory_path() / ("bootrig-cmdsim-" + tag + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  return d;
}

std::string shipped_rig(const char* name) { return std::string(BOOTRIG_SOURCE_DIR) + "/rigs/" + name; }

TEST(CmdSim, PrintsItsPathsAndStopsAtEndOfInput) {
  auto d = sim_cmd_dir("eof");
  auto r = run_bootrig("sim " + shipped_rig("sim.toml") + " --dir " + d.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(
      r.out.find(
          "bootrig sim: simulated FiPy (profile pycom), factory 1.20.2.r4, ota_0 1.20.2.r6, active ota_0"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("UART:     /dev/pts/"), std::string::npos);
  EXPECT_NE(r.out.find("link:     " + (d / "tty").string()), std::string::npos);
  EXPECT_NE(r.out.find("control:  " + (d / "control.sock").string()), std::string::npos);
  EXPECT_NE(r.out.find("commands: p12 high|low"), std::string::npos);
  EXPECT_NE(r.out.find("bootrig sim: stopped"), std::string::npos);
  EXPECT_NE(r.err.find("is a SIMULATED module, not hardware"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(d / "control.sock")) << "cleaned up";
  EXPECT_FALSE(std::filesystem::exists(d / "tty"));
  std::filesystem::remove_all(d);
}

TEST(CmdSim, AnswersCommandsOnStdin) {
  auto d = sim_cmd_dir("stdin");
  std::string cmd = "printf 'status\\np12 high\\nled\\nbogus\\nquit\\nstatus\\n' | '" +
                    std::string(BOOTRIG_BINARY) + "' sim --dir " + d.string() + " 2>/dev/null";
  testing::CliResult r;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("ok powered=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("error cannot do 'bogus'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ok bye"), std::string::npos);
  EXPECT_EQ(r.out.find("ok bye\nok powered"), std::string::npos) << "nothing after quit";
  std::filesystem::remove_all(d);
}

TEST(CmdSim, HardwareRigIsRefused) {
  auto r = run_bootrig("sim " + shipped_rig("pi4-expansion31.toml"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("describes hardware; `bootrig sim` needs a rig with kind = \"sim\""),
            std::string::npos)
      << r.err;
}

TEST(CmdSim, SigtermStopsItCleanly) {
  auto d = sim_cmd_dir("term");
  int to_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(to_child[0], STDIN_FILENO);
    ::close(to_child[1]);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    ::dup2(devnull, STDERR_FILENO);
    ::execl(BOOTRIG_BINARY, BOOTRIG_BINARY, "sim", "--dir", d.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(to_child[0]);
  // Started once its socket exists (stdin stays open, so only the signal can stop it).
  for (int i = 0; i < 200 && !std::filesystem::exists(d / "control.sock"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ASSERT_TRUE(std::filesystem::exists(d / "control.sock"));
  ::kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(to_child[1]);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(std::filesystem::exists(d / "control.sock"));
  std::filesystem::remove_all(d);
}

}  // namespace
}  // namespace bootrig
