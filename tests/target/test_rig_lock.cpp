// Tests for the rig lock: its place, two processes contending for it, the holder named, the kernel dropping
// it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/rig/rig_config.hpp"
#include "bootrig/target/rig_lock.hpp"
#include "support/run_bootrig.hpp"
#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

// A process that takes the lock and holds it until killed; it writes one byte to a pipe once it holds it, so
// that the test waits for the event, not for a time.
class LockHolder {
 public:
  explicit LockHolder(const std::filesystem::path& lock, const char* job = nullptr) {
    int p[2];
    if (::pipe(p) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(p[0]);
      if (job) ::setenv("CI_JOB_ID", job, 1);
      try {
        RigLock held(lock, "bench", Duration::zero());
        char c = 'L';
        (void)!::write(p[1], &c, 1);
        for (;;) ::pause();
      } catch (...) {
        ::_exit(9);
      }
    }
    ::close(p[1]);
    char c = 0;
    held_ = ::read(p[0], &c, 1) == 1 && c == 'L';
    ::close(p[0]);
  }
  ~LockHolder() { kill(); }
  bool held() const { return held_; }
  pid_t pid() const { return pid_; }
  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

 private:
  pid_t pid_ = -1;
  bool held_ = false;
};

class RigLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = testing::fresh_run_dir("lock");
    std::filesystem::create_directories(dir);
    lock = dir / "bench.lock";
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir, lock;
};

TEST_F(RigLockTest, ASecondProcessIsRefusedNamingTheHolderAndGetsItOnceTheHolderDies) {
  LockHolder holder(lock, "4711");
  ASSERT_TRUE(holder.held());
  try {
    RigLock second(lock, "bench", Duration::zero());
    FAIL() << "the lock was taken twice";
  } catch (const RigError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("rig bench is in use by pid " + std::to_string(holder.pid())), std::string::npos) << m;
    EXPECT_NE(m.find("CI job 4711 (GitLab CI_JOB_ID)"), std::string::npos) << m;
    EXPECT_NE(m.find(", since 20"), std::string::npos) << m;
    EXPECT_NE(m.find("--wait-lock"), std::string::npos) << m;
  }
  // SIGKILL gives the holder no chance to clean up: the kernel drops the flock with its last descriptor.
  holder.kill();
  RigLock after(lock, "bench", Duration::zero());
  EXPECT_NE(describe_lock_holder(lock).find("pid " + std::to_string(::getpid())), std::string::npos);
}

TEST_F(RigLockTest, AWaiterGetsTheLockWhenTheHolderGoes) {
  auto holder = std::make_unique<LockHolder>(lock);
  ASSERT_TRUE(holder->held());
  // The waiter in its own process, with a long wait: it gets the lock only when the holder is gone.
  pid_t waiter = ::fork();
  if (waiter == 0) {
    try {
      RigLock l(lock, "bench", std::chrono::minutes(5));
      ::_exit(0);
    } catch (...) {
      ::_exit(1);
    }
  }
  int status = 0;
  EXPECT_EQ(::waitpid(waiter, &status, WNOHANG), 0) << "the waiter did not wait";
  holder.reset();
  ASSERT_EQ(::waitpid(waiter, &status, 0), waiter);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST_F(RigLockTest, DefaultPlaceIsRunLockElseTheRuntimeDir) {
  auto run_lock = dir / "run-lock";
  std::filesystem::create_directories(run_lock);
  EXPECT_EQ(default_lock_path("pi 4/bench", {}, run_lock), run_lock / "bootrig-pi_4_bench.lock");
  auto runtime = dir / "xdg";
  std::filesystem::create_directories(runtime);
  EXPECT_EQ(default_lock_path("bench", {{"XDG_RUNTIME_DIR", runtime.string()}}, dir / "missing"),
            runtime / "bootrig-bench.lock");
  // Neither (a service without a login session, a runtime dir named but gone): the temporary folder.
  const auto tmp = std::filesystem::temp_directory_path() / "bootrig-bench.lock";
  EXPECT_EQ(default_lock_path("bench", {}, dir / "missing"), tmp);
  EXPECT_EQ(default_lock_path("bench", {{"XDG_RUNTIME_DIR", (dir / "gone").string()}}, dir / "missing"), tmp);
  EXPECT_EQ(default_lock_path("bench", {{"XDG_RUNTIME_DIR", ""}}, dir / "missing"), tmp);
}

TEST_F(RigLockTest, HardwareRigsLockSimulatedOnesOnlyWhenTheirFileSaysSo) {
  RigConfig sim;
  sim.kind = RigKind::sim;
  EXPECT_FALSE(lock_path_for(sim));
  sim.lock = lock;
  EXPECT_EQ(lock_path_for(sim), lock);
  RigConfig hw;
  hw.kind = RigKind::hardware;
  hw.name = "bench";
  ASSERT_TRUE(lock_path_for(hw));
  EXPECT_EQ(lock_path_for(hw)->filename(), "bootrig-bench.lock");
}

TEST(RigLockDuration, ParsesWhatAPersonWrites) {
  EXPECT_EQ(parse_wait_duration("30s", "--wait-lock"), seconds(30));
  EXPECT_EQ(parse_wait_duration("10m", "--wait-lock"), std::chrono::minutes(10));
  EXPECT_EQ(parse_wait_duration("250ms", "--wait-lock"), milliseconds(250));
  EXPECT_EQ(parse_wait_duration("2", "--wait-lock"), seconds(2));
  for (const char* bad : {"", "soon", "-1s", "10 parsecs", "nan", "1000h"})
    EXPECT_THROW(parse_wait_duration(bad, "--wait-lock"), RigError) << bad;
}

// Two bootrig processes on one rig, through the binary: the second exits 2 naming the first; with
// --wait-lock it waits and runs once the first is gone.
TEST_F(RigLockTest, SecondBootrigOnTheSameRigExitsTwoOrWaits) {
  auto rig = dir / "rig.toml";
  std::string toml = testing::half_speed_sim_rig_toml();
  toml.replace(toml.find("[rig]\n"), 6, "[rig]\nlock = \"bench.lock\"\n");
  std::ofstream(rig) << toml;
  {
    LockHolder holder(lock, "77");
    ASSERT_TRUE(holder.held());
    auto r =
        testing::run_bootrig("--rig " + rig.string() + " run normal-boot --out " + (dir / "r1").string());
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("is in use by pid " + std::to_string(holder.pid()) + ", user "), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("CI job 77"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "r1")) << "the run folder was made before the lock was taken";
    auto bad = testing::run_bootrig("--rig " + rig.string() + " --wait-lock soon run normal-boot");
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_NE(bad.err.find("--wait-lock soon: not a duration"), std::string::npos) << bad.err;
  }
  // The holder (killed) is gone: the same command runs.
  auto r = testing::run_bootrig("--rig " + rig.string() + " --wait-lock 5m run normal-boot --out " +
                                (dir / "r2").string());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

}  // namespace
}  // namespace bootrig
