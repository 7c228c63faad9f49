// Tests for recover-stuck-main on the simulated module, and a safe boot that still runs the stuck script.
#include <gtest/gtest.h>

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

TEST(RecoverStuckMain, FailsWhenSafeBootStillRunsTheScripts) {
  ScenarioResult r = run_one("recover-stuck-main", half_speed_sim_rig(), [](SimFaults& f) { f.scripts_in_safeboot = true; });
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("expected a safe boot to reach the REPL past"), std::string::npos)
      << outcome_text(r);
}

}  // namespace
}  // namespace bootrig
