// Tests for `bootrig station` driven through a pty as an operator drives it (a scanner types the serial and
// Enter), and for `bootrig records` reading what it recorded.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "bootrig/core/time.hpp"
#include "support/bootrig_binary.hpp"
#include "support/run_bootrig.hpp"
#include "support/scenario_rig.hpp"
#include "support/sqlite_query.hpp"

namespace bootrig {
namespace {

// bootrig station on the slave side of a pty, as on an operator's terminal.
class PtyStation {
 public:
  explicit PtyStation(const std::vector<std::string>& args) {
    pid_ = ::forkpty(&master_, nullptr, nullptr, nullptr);
    if (pid_ == 0) {
      std::vector<char*> argv{const_cast<char*>(BOOTRIG_BINARY)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(BOOTRIG_BINARY, argv.data());
      ::_exit(127);
    }
  }
  ~PtyStation() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (master_ >= 0) ::close(master_);
  }
  // Reads the screen until `text` appears after what was already matched; a guard against a hang, not a
  // timing assertion.
  bool wait_for(const std::string& text, seconds guard = seconds(240)) {
    Deadline d = Deadline::after(guard);
    for (;;) {
      if (auto p = screen_.find(text, consumed_); p != std::string::npos) {
        consumed_ = p + text.size();
        return true;
      }
      if (d.expired()) return false;
      pollfd f{master_, POLLIN, 0};
      if (::poll(&f, 1, 200) > 0) {
        char buf[4096];
        ssize_t n = ::read(master_, buf, sizeof buf);
        if (n <= 0) return screen_.find(text, consumed_) != std::string::npos;
        screen_.append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  void type(const std::string& keys) { (void)!::write(master_, keys.data(), keys.size()); }
  void signal(int sig) { ::kill(pid_, sig); }
  int wait() {
    // Drain the pty so that a child writing its last lines never blocks on a full buffer.
    wait_for("\x01never\x01", seconds(0));
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      pollfd f{master_, POLLIN, 0};
      if (::poll(&f, 1, 100) > 0) {
        char buf[4096];
        ssize_t n = ::read(master_, buf, sizeof buf);
        if (n > 0) screen_.append(buf, static_cast<std::size_t>(n));
      }
    }
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const std::string& screen() const { return screen_; }

 private:
  int master_ = -1;
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string screen_;
  std::size_t consumed_ = 0;
};

class CmdStation : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = testing::fresh_run_dir("station");
    std::filesystem::create_directories(dir);
    rig = dir / "rig.toml";
    db = dir / "eol.sqlite";
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  // The half-speed simulated rig with a station section ([sim] stays last).
  void write_rig(const std::string& suite, const std::string& timing_limits = "") {
    std::string toml = testing::half_speed_sim_rig_toml();
    toml.replace(toml.find("[sim]\n"), 6,
                 timing_limits +
                     "[station]\nname = \"bench-7\"\nrecords = \"eol.sqlite\"\nruns = \"units\"\n" +
                     "eol_suite = " + suite + "\n[sim]\n");
    std::ofstream(rig) << toml;
  }
  std::filesystem::path dir, rig, db;
};

TEST_F(CmdStation, AnOperatorTestsUnitsUntilCtrlC) {
  write_rig("[\"safeboot-window1\", \"hard-reset-pin\"]");
  PtyStation st({"--rig", rig.string(), "station", "--operator", "ana"});
  ASSERT_TRUE(st.wait_for("serial number")) << st.screen();
  st.type("SN-0001\r");  // the scanner's code and Enter
  ASSERT_TRUE(st.wait_for("cycle time")) << st.screen();
  // Recorded before the verdict was shown.
  EXPECT_EQ(testing::sqlite_first_value(
                db, "SELECT outcome || ' ' || operator || ' ' || station FROM runs WHERE unit = 'SN-0001'"),
            "PASS ana bench-7");
  EXPECT_NE(st.screen().find("#### "), std::string::npos) << "no large verdict:\n" << st.screen();
  EXPECT_NE(st.screen().find("unit SN-0001: every check passed"), std::string::npos) << st.screen();
  // A bad scan is refused, and the same unit again is a new run in its own folder.
  ASSERT_TRUE(st.wait_for("serial number")) << st.screen();
  st.type("bad code!\r");
  ASSERT_TRUE(st.wait_for("not a serial number")) << st.screen();
  ASSERT_TRUE(st.wait_for("serial number")) << st.screen();
  st.type("SN-0001\r");
  ASSERT_TRUE(st.wait_for("cycle time")) << st.screen();
  ASSERT_TRUE(st.wait_for("serial number")) << st.screen();
  st.type("\x03");  // Ctrl-C between units: the tty sends SIGINT
  EXPECT_EQ(st.wait(), 0) << st.screen();
  EXPECT_NE(st.screen().find("station closed (Ctrl-C): 2 unit(s) tested, 2 passed"), std::string::npos)
      << st.screen();
  EXPECT_TRUE(std::filesystem::exists(dir / "units/SN-0001/summary.txt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "units/SN-0001/run-2/summary.txt"));
  EXPECT_EQ(testing::sqlite_first_value(db, "PRAGMA integrity_check"), "ok");

  auto list = testing::run_bootrig("records --db " + db.string() + " --unit SN-0001");
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("2 run(s)"), std::string::npos) << list.out;
  auto stats =
      testing::run_bootrig("--rig " + rig.string() + " records stats");  // the rig names the database
  EXPECT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_NE(stats.out.find("first-pass yield: 100.0 % (1 of 1); retests: 1 run(s) of 1 unit(s)"),
            std::string::npos)
      << stats.out;
  EXPECT_NE(stats.out.find("window1.half_periods_seen (count)"), std::string::npos) << stats.out;
}

TEST_F(CmdStation, AMeasurementOutsideItsLimitsFailsTheUnitAndIsShown) {
  write_rig("[\"hard-reset-pin\"]", "[timing.limits]\nboot_to_prompt_ms = { max = 1 }\n");
  PtyStation st({"--rig", rig.string(), "station"});
  ASSERT_TRUE(st.wait_for("serial number")) << st.screen();
  st.type("SN-0002\r");
  ASSERT_TRUE(st.wait_for("cycle time")) << st.screen();
  EXPECT_NE(st.screen().find("#####"), std::string::npos) << st.screen();
  EXPECT_NE(st.screen().find("unit SN-0002: the board failed"), std::string::npos) << st.screen();
  EXPECT_NE(st.screen().find("hard-reset-pin FAIL: measured outside the limits: boot.reset_to_prompt_ms"),
            std::string::npos)
      << st.screen();
  ASSERT_TRUE(st.wait_for("serial number")) << st.screen();
  st.type("\x04");  // Ctrl-D: end of input
  EXPECT_EQ(st.wait(), 0) << st.screen();
  EXPECT_EQ(testing::sqlite_first_value(db,
                                        "SELECT within_limits || ' ' || high FROM measurements WHERE name = "
                                        "'boot.reset_to_prompt_ms'"),
            "0 1.0");
  auto csv = testing::run_bootrig("records --db " + db.string() + " --outcome fail --csv");
  EXPECT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_NE(csv.out.find("SN-0002"), std::string::npos) << csv.out;
}

// SIGINT (Ctrl-C) or SIGTERM while a unit is under test: the unit is recorded INTERRUPTED, the database stays
// valid, the board's lines are released, exit 3.
TEST_F(CmdStation, InterruptedDuringAUnitLeavesAValidRecord) {
  write_rig("[\"safeboot-window1\", \"hard-reset-pin\"]");
  struct Point {
    const char* unit;
    const char* after;  // what the screen shows when the signal comes
    int sig;
  };
  for (const Point& p : {Point{"SN-INT", "testing unit", SIGINT}, Point{"SN-TERM", "window 1", SIGTERM}}) {
    PtyStation st({"--rig", rig.string(), "station"});
    ASSERT_TRUE(st.wait_for("serial number")) << st.screen();
    st.type(std::string(p.unit) + "\r");
    ASSERT_TRUE(st.wait_for(p.after)) << st.screen();
    st.signal(p.sig);
    EXPECT_EQ(st.wait(), 3) << st.screen();
    EXPECT_NE(st.screen().find("interrupted during unit " + std::string(p.unit)), std::string::npos)
        << st.screen();
    EXPECT_EQ(testing::sqlite_first_value(
                  db, "SELECT outcome FROM runs WHERE unit = '" + std::string(p.unit) + "'"),
              "INTERRUPTED");
    EXPECT_EQ(testing::sqlite_first_value(db, "PRAGMA integrity_check"), "ok");
  }
}

TEST_F(CmdStation, RunSuiteEolRecordsOneUnitWithoutTheLoop) {
  write_rig("[\"hard-reset-pin\"]");
  auto r = testing::run_bootrig("--rig " + rig.string() + " run --suite eol --unit SN-0003 --operator cli");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("unit SN-0003: every check passed"), std::string::npos) << r.out;
  EXPECT_EQ(testing::sqlite_first_value(db, "SELECT outcome || ' ' || suite || ' ' || operator FROM runs"),
            "PASS eol cli");
  auto no_unit = testing::run_bootrig("--rig " + rig.string() + " run --suite eol");
  EXPECT_EQ(no_unit.exit_code, 2);
  EXPECT_NE(no_unit.err.find("--suite eol records a unit: give its serial number with --unit"),
            std::string::npos)
      << no_unit.err;
  auto bad = testing::run_bootrig("--rig " + rig.string() + " run --suite nightly --unit X");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("no suite named 'nightly'"), std::string::npos) << bad.err;
  auto missing = testing::run_bootrig("records --db " + (dir / "none.sqlite").string());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no such database"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "none.sqlite"));
}

}  // namespace
}  // namespace bootrig
