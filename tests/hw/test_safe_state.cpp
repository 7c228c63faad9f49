// Tests that P12 and RESET are released first on every exit path: return, exception, SIGINT, SIGTERM, a stuck main.
#include "bootrig/hw/safe_state.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "support/fake_lines.hpp"
#include "support/journal_output.hpp"

namespace bootrig {
namespace {

using testing::JournalOutput;
using testing::Journal;

TEST(SafeState, ReleasesInPriorityOrderThenDestroys) {
  auto j = std::make_shared<Journal>();
  {
    SafeState s;
    auto& boot = s.adopt("bootloader", std::make_unique<JournalOutput>("p2", j), 1);
    auto& p12 = s.adopt("safeboot", std::make_unique<JournalOutput>("p12", j), 0);
    auto& rst = s.adopt("reset", std::make_unique<JournalOutput>("reset", j), 0);
    p12.set(Level::active);
    rst.set(Level::active);
    boot.set(Level::active);
  }
  std::vector<std::string> want = {"p12=active",     "reset=active",   "p2=active",       "p12=inactive",
                                   "reset=inactive", "p2=inactive",    "p2 destroyed",    "reset destroyed",
                                   "p12 destroyed"};
  // Destruction order of the owned lines is not a promise; the release before it is.
  auto got = j->snapshot();
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(std::vector<std::string>(got.begin(), got.begin() + 6), std::vector<std::string>(want.begin(), want.begin() + 6));
}

TEST(SafeState, ReleasesWhenAnExceptionUnwinds) {
  auto j = std::make_shared<Journal>();
  EXPECT_THROW(
      {
        SafeState s;
        s.adopt("safeboot", std::make_unique<JournalOutput>("p12", j), 0).set(Level::active);
        throw RigError("step failed");
      },
      RigError);
  auto got = j->snapshot();
  ASSERT_GE(got.size(), 2u);
  EXPECT_EQ(got[0], "p12=active");
  EXPECT_EQ(got[1], "p12=inactive");
}

TEST(SafeState, OneBrokenLineDoesNotStopTheOthers) {
  auto j = std::make_shared<Journal>();
  SafeState s;
  auto p12 = std::make_unique<JournalOutput>("p12", j);
  JournalOutput* raw = p12.get();
  s.adopt("safeboot", std::move(p12), 0);
  s.adopt("reset", std::make_unique<JournalOutput>("reset", j), 0);
  raw->fail_from_now_on();
  s.release_all();
  auto got = j->snapshot();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], "reset=inactive");
}

TEST(SafeState, RefusesToReassertAfterRelease) {
  interrupt::clear();
  auto j = std::make_shared<Journal>();
  SafeState s;
  auto& p12 = s.adopt("safeboot", std::make_unique<JournalOutput>("p12", j), 0);
  s.release_all();
  EXPECT_TRUE(s.released());
  EXPECT_THROW(p12.set(Level::active), Interrupted);
  EXPECT_NO_THROW(p12.set(Level::inactive));
  EXPECT_EQ(p12.get(), Level::inactive);
}

// The signal tests run in a child process: signal dispositions and the watcher thread are process-wide.
// The child writes its journal to a file the parent reads after the child has exited.
struct ChildResult {
  int exit_code = -1;
  std::vector<std::string> journal;
};

template <typename Body>
ChildResult run_child(Body body, int signal_to_send) {
  char path[] = "/tmp/bootrig-safestate-XXXXXX";
  int fd = ::mkstemp(path);
  ::close(fd);
  int ready[2];
  EXPECT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    int code = body(path, ready[1]);
    ::_exit(code);
  }
  ::close(ready[1]);
  char c;
  // The child says when its lines are asserted; only then is the signal meaningful.
  EXPECT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ::kill(pid, signal_to_send);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ChildResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) r.journal.push_back(line);
  ::unlink(path);
  return r;
}

void write_journal(const char* path, Journal& j) {
  std::ofstream out(path);
  for (const auto& e : j.snapshot()) out << e << "\n";
}

// The normal path: a wait is interrupted, the exception unwinds, the guard releases, main maps it to 3.
int interruptible_main(const char* path, int ready_fd) {
  auto j = std::make_shared<Journal>();
  int code = 0;
  {
    SignalHandling signals(seconds(30));
    try {
      SafeState s;
      s.adopt("safeboot", std::make_unique<JournalOutput>("p12", j), 0).set(Level::active);
      s.adopt("reset", std::make_unique<JournalOutput>("reset", j), 0).set(Level::active);
      [[maybe_unused]] auto n = ::write(ready_fd, "r", 1);
      wait_until(Deadline::never());
      code = 0;
    } catch (const Interrupted&) {
      code = static_cast<int>(ExitCode::interrupted);
    }
  }
  write_journal(path, *j);
  return code;
}

TEST(SafeStateSignals, SigintReleasesLinesAndExitsThree) {
  ChildResult r = run_child(interruptible_main, SIGINT);
  EXPECT_EQ(r.exit_code, 3);
  ASSERT_GE(r.journal.size(), 4u);
  EXPECT_EQ(r.journal[2], "p12=inactive");
  EXPECT_EQ(r.journal[3], "reset=inactive");
}

TEST(SafeStateSignals, SigtermReleasesLinesAndExitsThree) {
  ChildResult r = run_child(interruptible_main, SIGTERM);
  EXPECT_EQ(r.exit_code, 3);
  ASSERT_GE(r.journal.size(), 4u);
  EXPECT_EQ(r.journal[2], "p12=inactive");
  EXPECT_EQ(r.journal[3], "reset=inactive");
}

// A main thread stuck where no interruption reaches it: the watcher releases the lines itself and ends the
// process after the grace period. The fake line writes straight to the file since the main never returns.
class FileOutput : public DigitalOutput {
 public:
  FileOutput(std::string name, std::string path) : name_(std::move(name)), path_(std::move(path)) {}
  void set(Level level) override {
    level_ = level;
    std::ofstream(path_, std::ios::app) << name_ << "=" << to_string(level) << "\n";
  }
  Level get() const override { return level_; }
  std::string describe() const override { return name_; }

 private:
  std::string name_, path_;
  Level level_ = Level::inactive;
};

// Stuck for good once both lines are asserted; the watcher ends it `grace` after the first signal.
int stuck_main_with_grace(Duration grace, const char* path, int ready_fd) {
  SignalHandling signals(grace);
  SafeState s;
  s.adopt("safeboot", std::make_unique<FileOutput>("p12", path), 0).set(Level::active);
  s.adopt("reset", std::make_unique<FileOutput>("reset", path), 0).set(Level::active);
  [[maybe_unused]] auto n = ::write(ready_fd, "r", 1);
  for (;;) ::pause();  // pause() returns after each signal; the loop ignores them, like a stuck driver call
}

int stuck_main(const char* path, int ready_fd) {
  return stuck_main_with_grace(milliseconds(200), path, ready_fd);
}

TEST(SafeStateSignals, StuckMainIsEndedAfterTheLinesAreReleased) {
  ChildResult r = run_child(stuck_main, SIGTERM);
  EXPECT_EQ(r.exit_code, 3);
  ASSERT_GE(r.journal.size(), 4u);
  EXPECT_EQ(r.journal[0], "p12=active");
  EXPECT_EQ(r.journal[1], "reset=active");
  EXPECT_EQ(r.journal[2], "p12=inactive");
  EXPECT_EQ(r.journal[3], "reset=inactive");
}

// A line operation that does not return (a hung ioctl) while the main thread holds the guard's lock.
class BlockingOutput : public DigitalOutput {
 public:
  void set(Level level) override {
    std::unique_lock lock(mu_);
    entered_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return unblocked_; });
    level_ = level;
  }
  Level get() const override {
    std::lock_guard lock(mu_);
    return level_;
  }
  std::string describe() const override { return "blocking"; }
  void wait_entered() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_; });
  }
  void unblock() {
    std::lock_guard lock(mu_);
    unblocked_ = true;
    cv_.notify_all();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool entered_ = false, unblocked_ = false;
  Level level_ = Level::inactive;
};

TEST(SafeState, TheWatchersReleaseNeverWaitsOnAStuckLineAndHappensWhenItReturns) {
  SafeState s;
  auto p12_line = std::make_unique<testing::FakeOutput>();
  auto* p12_level = p12_line.get();
  auto stuck_line = std::make_unique<BlockingOutput>();
  auto* stuck = stuck_line.get();
  DigitalOutput& p12 = s.adopt("safeboot", std::move(p12_line), 0);
  DigitalOutput& power = s.adopt("power", std::move(stuck_line), 1);
  p12.set(Level::active);
  std::thread main_thread([&] { power.set(Level::active); });
  stuck->wait_entered();
  // The main thread now holds the lock inside the line operation: the watcher gives up waiting, no deadlock.
  EXPECT_FALSE(s.release_from_watcher(milliseconds(50)));
  EXPECT_EQ(p12_level->get(), Level::active);
  stuck->unblock();
  main_thread.join();
  // The moment the stuck operation returned, every line went inactive (what the fake pins hold now).
  EXPECT_EQ(p12_level->get(), Level::inactive);
  EXPECT_TRUE(s.released());
  EXPECT_THROW(p12.set(Level::active), Interrupted);
}

// The same in a real process with the signal watcher: the main thread is stuck inside a line operation for
// good, so nothing in bootrig can release the lines; the watchdog must still end the process (exit 3) and the
// kernel frees the line requests. Before the watcher stopped waiting on the lock, this hung forever.
int stuck_in_line_main(const char* path, int ready_fd) {
  SignalHandling signals(milliseconds(200));
  SafeState s;
  s.adopt("safeboot", std::make_unique<FileOutput>("p12", path), 0).set(Level::active);
  class Hung : public DigitalOutput {
   public:
    explicit Hung(int fd) : fd_(fd) {}
    void set(Level) override {
      [[maybe_unused]] auto n = ::write(fd_, "r", 1);
      for (;;) ::pause();
    }
    Level get() const override { return Level::inactive; }
    std::string describe() const override { return "hung"; }

   private:
    int fd_;
  };
  s.adopt("reset", std::make_unique<Hung>(ready_fd), 0).set(Level::active);
  return 0;
}

TEST(SafeStateSignals, MainStuckInsideALineOperationStillEndsTheProcess) {
  ChildResult r = run_child(stuck_in_line_main, SIGTERM);
  EXPECT_EQ(r.exit_code, 3);
  // p12=active and nothing after: bootrig could not release it; the kernel does at exit.
  ASSERT_EQ(r.journal.size(), 1u) << ::testing::PrintToString(r.journal);
  EXPECT_EQ(r.journal[0], "p12=active");
}

// A second signal ends the process at once, without waiting out the grace period (ten minutes here, longer
// than the test's own limit): the user insists. The lines were released by the first.
TEST(SafeStateSignals, ASecondSignalExitsAtOnce) {
  char path[] = "/tmp/bootrig-safestate-XXXXXX";
  ::close(::mkstemp(path));
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(ready[0]);
    ::_exit(stuck_main_with_grace(seconds(600), path, ready[1]));
  }
  ::close(ready[1]);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  auto journal = [&] {
    std::vector<std::string> lines;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  };
  ::kill(pid, SIGINT);
  // The first signal's release, on the pins (what the fake lines were last set to), before the second.
  Deadline released = Deadline::after(seconds(60));
  while (!released.expired() && journal().size() < 4) wait_for(milliseconds(10));
  ASSERT_EQ(journal().size(), 4u);
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "still waiting out its grace period";
  ::kill(pid, SIGINT);
  Deadline ended = Deadline::after(seconds(120));  // far below the 10-minute grace
  pid_t got = 0;
  while (!ended.expired() && (got = ::waitpid(pid, &status, WNOHANG)) == 0) wait_for(milliseconds(10));
  if (got == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    ADD_FAILURE() << "the second signal did not end the process";
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status;
  auto lines = journal();
  ASSERT_GE(lines.size(), 4u);
  EXPECT_EQ(lines[2], "p12=inactive");
  EXPECT_EQ(lines[3], "reset=inactive");
  ::unlink(path);
}

}  // namespace
}  // namespace bootrig
