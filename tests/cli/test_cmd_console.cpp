// Tests for `bootrig console` as a person uses it: the binary runs on a pty pair as its terminal, the test
// types keys into the pty's master and reads the screen from it.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/bootrig_binary.hpp"
#include "support/run_bootrig.hpp"
#include "support/scenario_rig.hpp"
#include "support/sim_process.hpp"

namespace bootrig {
namespace {

namespace fs = std::filesystem;

// bootrig console with a pseudo-terminal as its controlling terminal.
class Terminal {
 public:
  explicit Terminal(const std::vector<std::string>& args) {
    master_ = ::posix_openpt(O_RDWR | O_NOCTTY);
    if (master_ < 0 || ::grantpt(master_) != 0 || ::unlockpt(master_) != 0) return;
    std::string slave = ::ptsname(master_);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setsid();
      int s = ::open(slave.c_str(), O_RDWR);
      ::ioctl(s, TIOCSCTTY, 0);
      ::dup2(s, 0);
      ::dup2(s, 1);
      ::dup2(s, 2);
      std::vector<char*> argv{const_cast<char*>(BOOTRIG_BINARY)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(BOOTRIG_BINARY, argv.data());
      ::_exit(127);
    }
  }
  ~Terminal() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }
  void type(const std::string& keys) { (void)!::write(master_, keys.data(), keys.size()); }
  // Reads the screen until `text` shows after position `from` (default: anywhere); false at the time limit.
  bool wait_for(const std::string& text, int seconds = 20) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (screen_.find(text, mark_) == std::string::npos) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now())
              .count();
      if (left <= 0) return false;
      pollfd p{master_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) return false;
      screen_.append(buf, static_cast<std::size_t>(n));
    }
    mark_ = screen_.find(text, mark_) + text.size();
    return true;
  }
  int exit_code(int seconds = 20) {
    for (int i = 0; i < seconds * 20; ++i) {
      int st = 0;
      // Keep the pty drained so the program never blocks writing.
      wait_for("\x01never\x01", 0);
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      ::usleep(50000);
    }
    return -1;
  }
  const std::string& screen() const { return screen_; }

 private:
  int master_ = -1;
  pid_t pid_ = -1;
  bool exited_ = false;
  std::string screen_;
  std::size_t mark_ = 0;
};

const std::string kCtrlT = "\x14";

TEST(CmdConsole, TypesToTheBoardAndDrivesTheRigWithCtrlT) {
  auto dir = testing::fresh_run_dir("console");
  fs::create_directories(dir);
  auto rig = dir / "rig.toml";
  std::ofstream(rig) << testing::half_speed_sim_rig_toml();
  auto log = dir / "session.log";
  Terminal t({"-q", "--rig", rig.string(), "console", "--log", log.string()});
  ASSERT_TRUE(t.wait_for("[bootrig] connected to ")) << t.screen();
  ASSERT_TRUE(t.wait_for(">>> ")) << t.screen();
  t.type("print(6 * 7)\r");
  ASSERT_TRUE(t.wait_for("42\r\n>>> ")) << t.screen();
  // Ctrl-C is the board's, not bootrig's: it interrupts code on the board and the console stays.
  t.type("while True: pass\r\r");
  ::usleep(300000);
  t.type("\x03");
  ASSERT_TRUE(t.wait_for("KeyboardInterrupt")) << t.screen();
  t.type(kCtrlT + "h");
  ASSERT_TRUE(t.wait_for("r RESET pulse")) << t.screen();
  t.type(kCtrlT + "r");
  ASSERT_TRUE(t.wait_for("[bootrig] RESET pulse (50 ms)")) << t.screen();
  ASSERT_TRUE(t.wait_for("rst:0x1 (POWERON_RESET)")) << t.screen();
  ASSERT_TRUE(t.wait_for(">>> ")) << t.screen();
  t.type(kCtrlT + "l");
  ASSERT_TRUE(t.wait_for("[bootrig] LED: ")) << t.screen();
  t.type(kCtrlT + "1");
  ASSERT_TRUE(t.wait_for("[bootrig] P12 released in window 1 (slow blink) (on ")) << t.screen();
  ASSERT_TRUE(t.wait_for(">>> ")) << t.screen();
  t.type("import pycom; print(pycom.bootmgr())\r");
  ASSERT_TRUE(t.wait_for("SafeBoot: True")) << t.screen();
  t.type(kCtrlT + "d");
  ASSERT_TRUE(t.wait_for("download mode")) << t.screen();
  ASSERT_TRUE(t.wait_for("waiting for download")) << t.screen();
  t.type(kCtrlT + "d");
  ASSERT_TRUE(t.wait_for(">>> ")) << t.screen();
  t.type(kCtrlT + "q");
  ASSERT_TRUE(t.wait_for("[bootrig] bye")) << t.screen();
  EXPECT_EQ(t.exit_code(), 0) << t.screen();
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find(" # RESET pulse (50 ms)\n"), std::string::npos) << ss.str();
  EXPECT_NE(ss.str().find(" < 42\n"), std::string::npos) << "the board's lines, timestamped: " << ss.str();
  fs::remove_all(dir);
}

TEST(CmdConsole, ABarePortHasNoLinesAndSaysSo) {
  testing::SimProcess sim("upstream");
  Terminal t({"console", "--port", sim.tty(), "--prefix", "a"});
  ASSERT_TRUE(t.wait_for("Ctrl-A h for help")) << t.screen();
  t.type("\r");
  ASSERT_TRUE(t.wait_for(">>> ")) << t.screen();
  t.type("print('hi' * 2)\r");
  ASSERT_TRUE(t.wait_for("hihi")) << t.screen();
  t.type("\x01r");
  ASSERT_TRUE(t.wait_for("this rig has no reset line: a RESET pulse needs it")) << t.screen();
  t.type("\x01q");
  EXPECT_EQ(t.exit_code(), 0) << t.screen();
}

// The adapter goes away at a reset (a board that resets through USB) and comes back at the same path.
TEST(CmdConsole, SaysWhenThePortGoesAwayAndReattaches) {
  auto dir = testing::fresh_run_dir("console-vanish");
  fs::create_directories(dir);
  auto rig = dir / "rig.toml";
  std::ofstream(rig) << testing::half_speed_sim_rig_toml()
                     << "[sim.faults]\nport_vanishes = true\nport_gone_ms = 500\n";
  Terminal t({"-q", "--rig", rig.string(), "console"});
  ASSERT_TRUE(t.wait_for(">>> ")) << t.screen();
  t.type(kCtrlT + "r");
  ASSERT_TRUE(t.wait_for("went away")) << t.screen();
  ASSERT_TRUE(t.wait_for("is back")) << t.screen();
  t.type("\r");
  ASSERT_TRUE(t.wait_for(">>> ")) << t.screen();
  t.type("print(1 + 2)\r");
  ASSERT_TRUE(t.wait_for("3\r\n")) << t.screen();
  t.type(kCtrlT + "q");
  EXPECT_EQ(t.exit_code(), 0) << t.screen();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bootrig
