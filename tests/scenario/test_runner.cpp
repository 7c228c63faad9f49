// Tests for the scenario runner: result files written as the run goes, every retry kept, interruption.
#include "bootrig/scenario/runner.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bootrig/core/interrupt.hpp"
#include "bootrig/observe/timeline.hpp"
#include "bootrig/scenario/board.hpp"
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
  EXPECT_EQ(summary.rfind("PASS   soft-reset-ctrl-d", 0), 0u) << summary;
  EXPECT_NE(summary.find("\nPASS   hard-reset-pin"), std::string::npos) << summary;
  auto j = nlohmann::json::parse(slurp(folder.path() / "results.json"));
  EXPECT_EQ(j["unit"], "UNIT-7");
  EXPECT_EQ(j["scenarios"].size(), 2u);
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
  EXPECT_EQ(run.scenarios.size(), 1u) << "the second scenario never started";
  EXPECT_EQ(exit_code_for(run, false), 3);
  EXPECT_EQ(target->sim()->line(LineRole::safeboot), Level::inactive) << "released before the run returned";
  auto j = nlohmann::json::parse(slurp(folder.path() / "results.json"));
  EXPECT_EQ(j["interrupted"], true);
  EXPECT_EQ(j["complete"], true) << "an interrupted run still ends by itself";
  interrupt::clear();
  std::filesystem::remove_all(folder.path());
}

TEST(Runner, WithoutAPhotodiodeWindowsAreTimedAndSaidToBeUnobserved) {
  RigConfig rig = half_speed_sim_rig();
  rig.sim.photodiode = false;
  ScenarioResult r = testing::run_one("safeboot-window2", rig);
  ASSERT_EQ(r.outcome, Outcome::pass) << testing::outcome_text(r);
  bool said = false;
  for (const auto& n : r.attempts.back().notes) said |= n.find("not observed: no photodiode") != std::string::npos;
  EXPECT_TRUE(said);
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
