// Tests for normal-boot on the simulated module: it passes, a boot that never reaches the REPL fails it, and
// a RESET that never reaches the module is the rig's error.
#include <gtest/gtest.h>

#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

using testing::outcome_text;
using testing::run_one;

TEST(NormalBoot, PassesOnTheSimulatedModule) {
  ScenarioResult r = run_one("normal-boot");
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  // The evidence is measured, not assumed: the heartbeat was timed.
  bool heartbeat = false;
  for (const auto& m : r.attempts.back().measurements) heartbeat |= m.name == "heartbeat.on_ms";
  EXPECT_TRUE(heartbeat);
}

TEST(NormalBoot, FailsWhenTheBootHangs) {
  ScenarioResult r = run_one("normal-boot", testing::hang_rig(), [](SimFaults& f) { f.hang_in_boot = true; });
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("the board's normal boot never reached the REPL after a RESET pulse"),
            std::string::npos)
      << outcome_text(r);
  // One FAIL for the board, and the run stops: the later checks would only repeat it.
  EXPECT_TRUE(r.attempts.back().stops_run);
  EXPECT_EQ(r.attempts.size(), 1u);
}

// A cut RESET wire: the pulse does nothing, the REPL is there all along, and no boot output comes. That is
// the rig's fault, not a board whose scripts did not run (the fault matrix's wire case made it a FAIL).
TEST(NormalBoot, ACutResetWireIsARigErrorNotAFail) {
  RigConfig rig = testing::half_speed_sim_rig();
  rig.sim.faults.wire_reset = "disconnected";
  ScenarioResult r = run_one("normal-boot", rig);
  ASSERT_EQ(r.outcome, Outcome::error) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("a RESET pulse did not reset the board"), std::string::npos)
      << outcome_text(r);
}

// The cut RESET wire stops the run, but after the check's restore: the evidence scripts it put on before its
// reset did nothing give way to the user's own again (the REPL still answers). Before, the board was left
// with bootrig's scripts, or recover-stuck-main's stuck main.py.
TEST(NormalBoot, ACutResetWireStillLeavesTheUsersScripts) {
  auto target = Target::open(testing::half_speed_sim_rig());
  testing::wait_until_booted(*target);
  testing::put_board_file(*target, "/flash/boot.py", "# the user's boot.py\n");
  testing::put_board_file(*target, "/flash/main.py", "# the user's main.py\n");
  testing::inject_faults(*target, [](SimFaults& f) { f.wire_reset = "disconnected"; });
  ScenarioResult r = testing::run_on(*target, "normal-boot");
  ASSERT_EQ(r.outcome, Outcome::error) << outcome_text(r);
  EXPECT_EQ(testing::board_file(*target, "/flash/boot.py"), "# the user's boot.py\n");
  EXPECT_EQ(testing::board_file(*target, "/flash/main.py"), "# the user's main.py\n");
}

}  // namespace
}  // namespace bootrig
