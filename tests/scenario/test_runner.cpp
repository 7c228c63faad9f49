// Tests for the scenario runner: result files written as the run goes, every retry kept, interruption.
#include "bootrig/scenario/runner.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/observe/timeline.hpp"
#include "bootrig/report/writers.hpp"
#include "bootrig/scenario/board.hpp"
#include "bootrig/scenario/recovery.hpp"
#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

using testing::fresh_run_dir;
using testing::half_speed_sim_rig;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string runner_last_line(const std::string& text) {
  std::string t = text.substr(0, text.find_last_not_of('\n') + 1);
  return t.substr(t.rfind('\n') + 1);
}

// A scenario whose body is the test's: it touches the board only as far as the body does.
class ScriptedScenario : public Scenario {
 public:
  ScriptedScenario(std::string name, std::function<void(Session&)> body, std::string destructive = "")
      : body_(std::move(body)) {
    info_.name = std::move(name);
    info_.purpose = "a test's own scenario";
    info_.destructive = std::move(destructive);
  }
  const ScenarioInfo& info() const override { return info_; }
  void run(Session& s) override { body_(s); }
  void restore(Session&) override { ++restored; }
  int restored = 0;

 private:
  ScenarioInfo info_;
  std::function<void(Session&)> body_;
};

// Runs the tests' own scenarios on one simulated target, each run in a folder of its own (removed
// afterwards).
class RunnerScripted : public ::testing::Test {
 protected:
  RunSummary execute(const std::vector<Scenario*>& scenarios, const RunOptions& options = {}) {
    folders_.push_back(std::make_unique<RunFolder>(fresh_run_dir("scripted")));
    return run_scenarios(*target, scenarios, options, *folders_.back(), *progress);
  }
  // The last run's folder.
  const std::filesystem::path& folder() const { return folders_.back()->path(); }
  void TearDown() override {
    for (const auto& f : folders_) std::filesystem::remove_all(f->path());
  }

  std::unique_ptr<Target> target = Target::open(half_speed_sim_rig());
  std::unique_ptr<Progress> progress = make_silent_progress();

 private:
  std::vector<std::unique_ptr<RunFolder>> folders_;
};

TEST(Runner, LeavesSummaryJsonJunitAndPerAttemptEvidence) {
  auto target = Target::open(half_speed_sim_rig());
  RunFolder folder(fresh_run_dir("runner"));
  auto progress = make_silent_progress();
  RunOptions o;
  o.unit = "UNIT-7";
  RunSummary run = run_scenarios(*target, {find_scenario("soft-reset-ctrl-d"), find_scenario("hard-reset-pin")}, o,
                                 folder, *progress);
  ASSERT_EQ(run.scenarios.size(), 2u);
  EXPECT_EQ(run.scenarios[0].outcome, Outcome::pass);
  EXPECT_EQ(run.scenarios[1].outcome, Outcome::pass);
  EXPECT_TRUE(run.simulated);

  std::string summary = slurp(folder.path() / "summary.txt");
  EXPECT_EQ(summary.rfind("bootrig " BOOTRIG_VERSION, 0), 0u) << summary;
  EXPECT_NE(summary.find("\n\nPASS   soft-reset-ctrl-d"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\nPASS   hard-reset-pin"), std::string::npos) << summary;
  EXPECT_NE(summary.find("simulator faults: none\n"), std::string::npos) << summary;
  EXPECT_EQ(runner_last_line(summary), "2 passed, 0 failed, 0 errors, 0 skipped, 0 flaky, 0 not run; exit code 0");
  auto j = nlohmann::json::parse(slurp(folder.path() / "results.json"));
  EXPECT_EQ(j["unit"], "UNIT-7");
  EXPECT_EQ(j["scenarios"].size(), 2u);
  EXPECT_EQ(j["bootrig_version"], BOOTRIG_VERSION);
  EXPECT_EQ(j["finished"], true);
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_EQ(j["totals"]["PASS"], 2);
  EXPECT_EQ(j["rig"]["sha256"], "") << "the built-in rig has no file";
  // The anchor maps the timeline's monotonic times into the run's wall-clock span.
  EXPECT_GT(j["started_monotonic_ns"].get<std::int64_t>(), 0);
  EXPECT_GE(j["ended_monotonic_ns"].get<std::int64_t>(), j["started_monotonic_ns"].get<std::int64_t>());
  EXPECT_LT(j["started_utc"].get<std::string>(), j["ended_utc"].get<std::string>());
  EXPECT_NE(slurp(folder.path() / "junit.xml").find("tests=\"2\" failures=\"0\" errors=\"0\""), std::string::npos);

  // One timeline per attempt, with the pin changes and the serial bytes on it.
  auto dir = folder.attempt_dir(1, "hard-reset-pin", 1);
  auto events = read_events(dir / "events.jsonl");
  bool reset_change = false, rx = false, steps = false;
  std::string received;
  for (const auto& e : events) {
    reset_change |= e["kind"] == "output" && e["line"] == "reset";
    bool is_rx = e["kind"] == "serial" && e["dir"] == "rx";
    rx |= is_rx;
    if (is_rx) received += e["data"].get<std::string>();
    steps |= e["kind"] == "step_start";
  }
  EXPECT_TRUE(reset_change && rx && steps);
  // serial.log has one line per chunk as it arrived, and a chunk may end anywhere (even inside
  // "POWERON_RESET"): look for the ROM's reset cause in the chunks joined up.
  EXPECT_NE(received.find("POWERON_RESET"), std::string::npos);
  EXPECT_NE(slurp(dir / "serial.log").find(" rx "), std::string::npos);
  std::filesystem::remove_all(folder.path());
}

TEST(Runner, KeepsEveryAttemptOfARetriedFailure) {
  auto target = Target::open(half_speed_sim_rig());
  testing::wait_until_booted(*target);
  testing::inject_faults(*target, [](SimFaults& f) { f.soft_reset_keeps_names = true; });
  RunFolder folder(fresh_run_dir("retries"));
  auto progress = make_silent_progress();
  RunOptions o;
  o.retries = 1;
  RunSummary run = run_scenarios(*target, {find_scenario("soft-reset-ctrl-d")}, o, folder, *progress);
  ASSERT_EQ(run.scenarios[0].attempts.size(), 2u);
  EXPECT_EQ(run.scenarios[0].attempts[0].outcome, Outcome::fail);
  EXPECT_EQ(run.scenarios[0].outcome, Outcome::fail);
  EXPECT_TRUE(std::filesystem::exists(folder.attempt_dir(0, "soft-reset-ctrl-d", 1) / "events.jsonl"));
  EXPECT_TRUE(std::filesystem::exists(folder.attempt_dir(0, "soft-reset-ctrl-d", 2) / "events.jsonl"));
  EXPECT_EQ(exit_code_for(run, false), 1);
  std::filesystem::remove_all(folder.path());
}

TEST(Runner, AFailedCheckStillRestoresTheBoardsScripts) {
  auto target = Target::open(half_speed_sim_rig());
  testing::wait_until_booted(*target);
  testing::inject_faults(*target, [](SimFaults& f) { f.scripts_in_safeboot = true; });
  RunFolder folder(fresh_run_dir("restore"));
  auto progress = make_silent_progress();
  RunSummary run = run_scenarios(*target, {find_scenario("safeboot-window1")}, RunOptions{}, folder, *progress);
  ASSERT_EQ(run.scenarios[0].outcome, Outcome::fail);
  // Read the board's files back the way a rig would: over the REPL.
  Attempt a;
  Session s(*target, folder.path() / "check", *progress, a);
  Board board(s);
  board.need_prompt("after the run");
  EXPECT_EQ(board.read_file("/flash/boot.py"), std::optional<std::string>(kDefaultBootPy));
  EXPECT_EQ(board.read_file("/flash/main.py"), std::optional<std::string>(kDefaultMainPy));
  BoardFacts facts = board.facts();
  EXPECT_FALSE(facts.has(kEvidenceLog));
  EXPECT_EQ(target->sim()->line(LineRole::safeboot), Level::inactive);
  std::filesystem::remove_all(folder.path());
}

TEST(Runner, InterruptionStopsTheRunReleasesP12AndKeepsTheEvidence) {
  interrupt::clear();
  auto target = Target::open(half_speed_sim_rig());
  RunFolder folder(fresh_run_dir("interrupt"));
  auto progress = make_silent_progress();
  // Interrupt while the first scenario holds P12 in the safe-boot windows.
  std::thread ctrl_c([&] {
    Deadline d = Deadline::after(seconds(30));
    while (target->sim()->line(LineRole::safeboot) != Level::active && !d.expired()) std::this_thread::sleep_for(milliseconds(5));
    interrupt::request(SIGINT);
  });
  RunSummary run = run_scenarios(*target, {find_scenario("safeboot-factory"), find_scenario("normal-boot")},
                                 RunOptions{}, folder, *progress);
  ctrl_c.join();
  EXPECT_TRUE(run.interrupted);
  ASSERT_EQ(run.scenarios.size(), 2u);
  EXPECT_EQ(exit_code_for(run, false), 3);
  EXPECT_EQ(run.exit_code, 3);
  EXPECT_EQ(target->sim()->line(LineRole::safeboot), Level::inactive) << "released before the run returned";

  // The interrupted scenario: its real duration and its notes, and where it was.
  const ScenarioResult& first = run.scenarios[0];
  ASSERT_EQ(first.attempts.size(), 1u);
  EXPECT_EQ(first.outcome, Outcome::error);
  EXPECT_GT(first.attempts[0].seconds, 0.1) << "P12 was held, so the attempt had been going for a while";
  EXPECT_DOUBLE_EQ(first.seconds, first.attempts[0].seconds);
  EXPECT_FALSE(first.attempts[0].notes.empty()) << "the notes made before the interruption are kept";
  // Where exactly depends on when the signal came (in the RESET pulse, or waiting for the LED): a step is
  // named.
  EXPECT_EQ(run.board_state.rfind("P12, RESET and P2 released (bootrig had P12 asserted", 0), 0u)
      << run.board_state;
  EXPECT_NE(run.board_state.find("; the board was in '"), std::string::npos) << run.board_state;
  EXPECT_NE(run.stop_reason.find("during safeboot-factory"), std::string::npos) << run.stop_reason;
  // The scenario that never started is listed, with why.
  EXPECT_EQ(run.scenarios[1].outcome, Outcome::not_run);
  EXPECT_EQ(run.scenarios[1].reason, "not run: the run was interrupted");

  auto j = nlohmann::json::parse(slurp(folder.path() / "results.json"));
  EXPECT_EQ(j["interrupted"], true);
  EXPECT_EQ(j["scenarios"][1]["outcome"], "NOT RUN");
  EXPECT_GT(j["scenarios"][0]["seconds"].get<double>(), 0.1);
  std::string summary = slurp(folder.path() / "summary.txt");
  EXPECT_NE(summary.find("\nNOT RUN normal-boot"), std::string::npos) << summary;
  EXPECT_EQ(runner_last_line(summary).rfind("INTERRUPTED: interrupted by Interrupt during safeboot-factory (", 0),
            0u)
      << summary;
  EXPECT_NE(
      slurp(folder.path() / "junit.xml").find("<skipped message=\"not run: the run was interrupted\"/>"),
      std::string::npos);
  // The timeline shows where the run let go of the lines.
  bool said = false;
  for (const auto& e : read_events(folder.attempt_dir(0, "safeboot-factory", 1) / "events.jsonl"))
    said |= e["kind"] == "note" && e.value("text", "").rfind("P12, RESET and P2 released", 0) == 0;
  EXPECT_TRUE(said);
  EXPECT_EQ(j["finished"], true) << "an interrupted run still ends by itself";
  interrupt::clear();
  std::filesystem::remove_all(folder.path());
}

// A board the ladder could not bring back, as the lead's recovery reports it.
BoardLost lost(LostCause cause) {
  RecoveryReport r;
  r.tried = {"Ctrl-C: no prompt", "RESET pulse: no prompt within 8.0 s", "safe boot: no prompt"};
  r.state = "silent";
  r.cause = cause;
  return BoardLost(r);
}

TEST_F(RunnerScripted, ALostBoardEndsTheRunWithTheRestNotRunAndNoRestore) {
  ScriptedScenario stuck("stuck", [](Session& s) {
    s.note("a note made before the board was lost");
    s.safeboot().set(Level::active);
    throw lost(LostCause::rig);
  });
  ScriptedScenario next("next", [](Session&) {});
  RunOptions o;
  o.retries = 2;
  RunSummary run = execute({&stuck, &next}, o);
  ASSERT_EQ(run.scenarios.size(), 2u);
  EXPECT_EQ(run.scenarios[0].outcome, Outcome::error) << "nothing arrived: the rig's trouble";
  EXPECT_EQ(run.scenarios[0].attempts.size(), 1u) << "no retry after a lost board";
  EXPECT_TRUE(run.scenarios[0].attempts[0].stops_run);
  EXPECT_EQ(stuck.restored, 0) << "restore would only climb the same ladder again";
  EXPECT_EQ(target->sim()->line(LineRole::safeboot), Level::inactive);
  EXPECT_EQ(run.scenarios[0].attempts[0].notes.size(), 1u);
  EXPECT_EQ(run.scenarios[1].outcome, Outcome::not_run);
  EXPECT_EQ(run.scenarios[1].reason.rfind(
                "not run: the run stopped after stuck: the rig cannot reach the board", 0),
            0u)
      << run.scenarios[1].reason;
  EXPECT_NE(run.scenarios[1].reason.find("tried: Ctrl-C: no prompt; RESET pulse"), std::string::npos);
  EXPECT_FALSE(run.interrupted);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.board_state.find("(bootrig had P12 asserted)"), std::string::npos) << run.board_state;
  std::string summary = slurp(folder() / "summary.txt");
  EXPECT_EQ(
      runner_last_line(summary).rfind("STOPPED: the run stopped after stuck: the rig cannot reach the board", 0), 0u)
      << summary;
  EXPECT_NE(summary.find("\nNOT RUN next"), std::string::npos) << summary;

  // A board whose own firmware never reaches the REPL is the board's failure.
  ScriptedScenario hangs("hangs", [](Session&) { throw lost(LostCause::board_boot); });
  RunSummary run2 = execute({&hangs, &next});
  EXPECT_EQ(run2.scenarios[0].outcome, Outcome::fail);
  EXPECT_EQ(run2.scenarios[1].outcome, Outcome::not_run);
  EXPECT_EQ(run2.exit_code, 1);

  // So does a broken rule that leaves nothing else checkable.
  ScriptedScenario broken("broken", [](Session&) { throw CheckFailed("the normal boot hangs", true); });
  RunSummary run3 = execute({&broken, &next});
  EXPECT_EQ(run3.scenarios[0].outcome, Outcome::fail);
  EXPECT_EQ(run3.scenarios[1].reason, "not run: the run stopped after broken: the normal boot hangs");
  EXPECT_EQ(broken.restored, 0);
}

// A wire every check needs that does not carry bootrig's level (a RESET that never resets the board): one
// ERROR, no retry, and the run stops, instead of one ERROR per check (11 of 30 s each in the fault matrix).
TEST_F(RunnerScripted, AWiringFaultEveryCheckNeedsIsOneErrorAndTheRunStops) {
  ScriptedScenario cut("cut", [](Session&) { throw RigWiringError("a RESET pulse did not reset the board"); });
  ScriptedScenario next("next", [](Session&) {});
  RunOptions o;
  o.retries = 2;
  RunSummary run = execute({&cut, &next}, o);
  ASSERT_EQ(run.scenarios.size(), 2u);
  EXPECT_EQ(run.scenarios[0].outcome, Outcome::error);
  EXPECT_EQ(run.scenarios[0].attempts.size(), 1u) << "no retry: the wire is the same next time";
  EXPECT_EQ(cut.restored, 1) << "the check may have changed the board's scripts before its reset did nothing";
  EXPECT_EQ(run.scenarios[1].outcome, Outcome::not_run);
  EXPECT_EQ(run.scenarios[1].reason, "not run: the run stopped after cut: a RESET pulse did not reset the board");
  EXPECT_EQ(run.exit_code, 2);

  // A plain rig error (a wire only some checks need) stays that check's ERROR; the run goes on.
  ScriptedScenario local("local", [](Session&) { throw RigError("P12 does not reach the module"); });
  RunSummary run2 = execute({&local, &next});
  EXPECT_EQ(run2.scenarios[0].outcome, Outcome::error);
  EXPECT_EQ(run2.scenarios[1].outcome, Outcome::pass);
}

TEST_F(RunnerScripted, AMeasurementOutsideItsLimitsTurnsAPassIntoAFailNamingIt) {
  ScriptedScenario sc("measures", [](Session& s) {
    s.measure({"heartbeat.on_ms", 41, "ms", 28.0, 52.0});
    s.measure({"heartbeat.period_ms", 2900, "ms", 1400.0, 2600.0});
  });
  ScriptedScenario fine("fine", [](Session& s) { s.measure({"heartbeat.on_ms", 41, "ms", 28.0, 52.0}); });
  RunSummary run = execute({&sc, &fine});
  EXPECT_EQ(run.scenarios[0].outcome, Outcome::fail);
  EXPECT_EQ(run.scenarios[0].attempts[0].message,
            "measured outside the limits: heartbeat.period_ms = 2900 ms, limits 1400 to 2600 ms");
  EXPECT_FALSE(run.scenarios[0].attempts[0].evidence.empty());
  EXPECT_EQ(run.scenarios[1].outcome, Outcome::pass);
  EXPECT_EQ(run.exit_code, 1);
}

TEST_F(RunnerScripted, ExpectationsAreRecordedCheckedUncheckedOrFailed) {
  ScriptedScenario ok("ok", [](Session& s) {
    s.checked("scripts skipped");
    s.unchecked("SD card untouched", "no SD card mounted at /sd");
  });
  ScriptedScenario broken("broken", [](Session& s) {
    s.failed("LED window 2 (fast blink)", "expected the fast blink while P12 was held; the LED stayed dark");
  });
  RunSummary run = execute({&ok, &broken});
  ASSERT_EQ(run.scenarios[0].outcome, Outcome::pass);
  const auto& e = run.scenarios[0].attempts[0].expectations;
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].status, ExpectationStatus::passed);
  EXPECT_EQ(e[1].status, ExpectationStatus::unchecked);
  EXPECT_EQ(e[1].detail, "no SD card mounted at /sd");
  EXPECT_EQ(run.scenarios[1].outcome, Outcome::fail);
  EXPECT_EQ(run.scenarios[1].attempts[0].message,
            "expected the fast blink while P12 was held; the LED stayed dark");
  EXPECT_EQ(run.scenarios[1].attempts[0].expectations.at(0).status, ExpectationStatus::failed);
  std::string summary = slurp(folder() / "summary.txt");
  EXPECT_NE(summary.find("[SD card untouched not checked: no SD card mounted at /sd]"), std::string::npos)
      << summary;
}

TEST_F(RunnerScripted, ADestructiveScenarioWithoutConsentIsSkippedWithTheReasonAndNeverTouched) {
  bool ran = false;
  ScriptedScenario wipe(
      "wipe", [&](Session&) { ran = true; }, "erases /flash");
  ScriptedScenario fine("fine", [](Session&) {});
  RunSummary run = execute({&wipe, &fine});
  EXPECT_FALSE(ran);
  EXPECT_EQ(run.scenarios[0].outcome, Outcome::skip);
  EXPECT_TRUE(run.scenarios[0].attempts.empty());
  EXPECT_EQ(run.scenarios[0].reason, "destructive: erases /flash; name it or pass --destructive");
  EXPECT_FALSE(std::filesystem::exists(folder() / "01-wipe"));
  EXPECT_EQ(run.scenarios[1].outcome, Outcome::pass);
  EXPECT_EQ(run.exit_code, 0) << "leaving it out was the user's choice";
  EXPECT_NE(slurp(folder() / "junit.xml")
                .find("<skipped message=\"destructive: erases /flash; name it or pass --destructive\"/>"),
            std::string::npos);
  // The real one is marked, and runs with consent.
  EXPECT_EQ(find_scenario("factory-reset")->info().destructive, "erases /flash");
  RunOptions yes;
  yes.allow_destructive = true;
  execute({&wipe}, yes);
  EXPECT_TRUE(ran);
}

TEST(Runner, WithoutAPhotodiodeWindowsAreTimedAndSaidToBeUnobserved) {
  RigConfig rig = half_speed_sim_rig();
  rig.sim.photodiode = false;
  ScenarioResult r = testing::run_one("safeboot-window2", rig);
  ASSERT_EQ(r.outcome, Outcome::pass) << testing::outcome_text(r);
  bool said = false;
  for (const auto& e : r.attempts.back().expectations)
    said |= e.what == "LED shows window 2 (fast blink)" && e.status == ExpectationStatus::unchecked &&
            e.detail == "no photodiode on this rig";
  EXPECT_TRUE(said);
  EXPECT_NE(summary_line(r).find("[LED shows window 2 (fast blink) not checked: no photodiode on this rig]"),
            std::string::npos)
      << summary_line(r);
}

TEST(RunFolder, AFolderThatHoldsARunIsRefusedUnlessAppendWhichNumbersTheNewRun) {
  auto dir = fresh_run_dir("append");
  { RunFolder first(dir); }
  EXPECT_TRUE(existing_run_in(dir).empty()) << "created but still empty: no run yet";
  std::ofstream(dir / "summary.txt") << "an earlier run\n";
  EXPECT_EQ(existing_run_in(dir), "summary.txt");
  try {
    RunFolder again(dir);
    ADD_FAILURE() << "accepted a folder that holds a run";
  } catch (const RigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--out " + dir.string() +
                  ": already holds a run (summary.txt); give a new folder, or add --append to "
                  "put this run in a numbered subfolder (" +
                  (dir / "run-N").string() + ")");
  }
  RunFolder second(dir, true);
  EXPECT_EQ(second.path(), dir / "run-2");
  EXPECT_EQ(second.placement(),
            dir.string() + " already holds a run; --append put this one in " + (dir / "run-2").string());
  RunFolder third(dir, true);
  EXPECT_EQ(third.path(), dir / "run-3");
  EXPECT_EQ(slurp(dir / "summary.txt"), "an earlier run\n") << "the earlier run is untouched";

  // Scenario folders alone mark a run too (a run killed before its first report).
  auto dir2 = fresh_run_dir("append-dirs");
  std::filesystem::create_directories(dir2 / "01-normal-boot/attempt-1");
  std::filesystem::create_directories(dir2 / "notes");
  EXPECT_EQ(existing_run_in(dir2), "01-normal-boot/");
  EXPECT_THROW(RunFolder x(dir2), RigError);
  // A folder of other things is fine.
  std::filesystem::remove_all(dir2 / "01-normal-boot");
  EXPECT_NO_THROW(RunFolder y(dir2));
  // A file is not a folder.
  std::ofstream(dir2 / "file") << "x";
  EXPECT_THROW(RunFolder z(dir2 / "file"), RigError);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(dir2);
}

TEST(RunFolder, DefaultFoldersAreUniqueUnderBootrigRuns) {
  auto cwd = std::filesystem::current_path();
  auto tmp = fresh_run_dir("cwd");
  std::filesystem::create_directories(tmp);
  std::filesystem::current_path(tmp);
  RunFolder a({}), b({});
  EXPECT_NE(a.path(), b.path());
  EXPECT_EQ(a.path().parent_path(), std::filesystem::path("bootrig-runs"));
  std::filesystem::current_path(cwd);
  std::filesystem::remove_all(tmp);
}

}  // namespace
}  // namespace bootrig
