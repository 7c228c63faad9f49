// Tests for recover-stuck-main on the simulated module, and a safe boot that still runs the stuck script.
#include <gtest/gtest.h>

#include <filesystem>

#include "bootrig/repl/repl_client.hpp"
#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

using testing::half_speed_sim_rig;
using testing::outcome_text;
using testing::run_one;


TEST(RecoverStuckMain, Passes) {
  ScenarioResult r = run_one("recover-stuck-main");
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  int recovered = 0;
  for (const auto& n : r.attempts.back().notes) recovered += n.rfind("recovered from ", 0) == 0;
  EXPECT_EQ(recovered, 2) << "both stuck scripts were recovered from";
}

// The rule break is a FAIL, and the board is not stranded: the stuck main.py removes itself on its third boot,
// so the restore's recovery reaches a prompt and the board is left with its own scripts.
TEST(RecoverStuckMain, FailsWhenSafeBootStillRunsTheScriptsAndLeavesTheBoardUsable) {
  auto target = Target::open(half_speed_sim_rig());
  testing::wait_until_booted(*target);
  testing::inject_faults(*target, [](SimFaults& f) { f.scripts_in_safeboot = true; });
  RunFolder folder(testing::fresh_run_dir("recover-stuck-main"));
  auto progress = make_silent_progress();
  RunOptions options;
  RunSummary run = run_scenarios(*target, {find_scenario("recover-stuck-main")}, options, folder, *progress);
  std::filesystem::remove_all(folder.path());
  const ScenarioResult& r = run.scenarios.at(0);
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("expected a safe boot to reach the REPL past"), std::string::npos)
      << outcome_text(r);
  // A normal boot now reaches the REPL and main.py is no stuck script.
  testing::inject_faults(*target, [](SimFaults& f) { f.scripts_in_safeboot = false; });
  target->sim()->press_reset(milliseconds(50));
  ReplClient repl(target->serial());
  ASSERT_TRUE(repl.get_prompt(Deadline::after(seconds(30))));
  auto main_py = repl.exec_raw("import os\ntry:\n    print(open('/flash/main.py').read())\nexcept OSError:\n    print('none')\n",
                               Deadline::after(seconds(10)));
  ASSERT_TRUE(main_py) << main_py.error().describe();
  EXPECT_EQ(main_py->output.find("while True"), std::string::npos) << main_py->output;
}

}  // namespace
}  // namespace bootrig
