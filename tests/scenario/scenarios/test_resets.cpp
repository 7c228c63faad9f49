// Tests for the reset scenarios on the simulated module, and the rule breaks that fail them.
#include <gtest/gtest.h>

#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

using testing::half_speed_sim_rig;
using testing::outcome_text;
using testing::run_one;

TEST(SoftResetCtrlD, Passes) {
  ScenarioResult r = run_one("soft-reset-ctrl-d");
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
}

TEST(SoftResetCtrlD, FailsWhenASoftResetKeepsNames) {
  ScenarioResult r = run_one("soft-reset-ctrl-d", half_speed_sim_rig(), [](SimFaults& f) { f.soft_reset_keeps_names = true; });
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("expected Ctrl-D to clear the interpreter"), std::string::npos)
      << outcome_text(r);
}

TEST(SoftResetSysExit, PassesWhenTheModuleFollowsTheUserDocument) {
  ScenarioResult r = run_one("soft-reset-sys-exit");
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
}

TEST(SoftResetSysExit, FirmwareQuirkFailsNamingTheKnownBehaviour) {
  RigConfig rig = half_speed_sim_rig();
  rig.sim.sys_exit_quirk = true;
  ScenarioResult r = run_one("soft-reset-sys-exit", rig);
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  const std::string& m = r.attempts.back().message;
  EXPECT_NE(m.find("expected sys.exit() in main.py to soft-reset"), std::string::npos) << m;
  EXPECT_NE(m.find("firmware 1.20's known behaviour"), std::string::npos) << m;
}

TEST(HardResetPin, Passes) {
  ScenarioResult r = run_one("hard-reset-pin");
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
}

TEST(HardResetPin, FailsWhenTheBootNeverReachesTheRepl) {
  ScenarioResult r = run_one("hard-reset-pin", testing::hang_rig(), [](SimFaults& f) { f.hang_in_boot = true; });
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("the board's normal boot never reached the REPL after a RESET pulse"),
            std::string::npos)
      << outcome_text(r);
}

TEST(HardResetMachine, Passes) {
  ScenarioResult r = run_one("hard-reset-machine");
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
}

TEST(HardResetMachine, FailsWhenTheBootNeverReachesTheRepl) {
  ScenarioResult r = run_one("hard-reset-machine", testing::hang_rig(), [](SimFaults& f) { f.hang_in_boot = true; });
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("the REPL did not answer after machine.reset()"), std::string::npos)
      << outcome_text(r);
}

}  // namespace
}  // namespace bootrig
