// Tests for factory-reset on the simulated module, with and without an SD card, and a format that keeps files.
#include <gtest/gtest.h>

#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

using testing::half_speed_sim_rig;
using testing::outcome_text;
using testing::run_one;

TEST(FactoryReset, PassesWithoutAnSdCardAndSaysItWasNotChecked) {
  ScenarioResult r = run_one("factory-reset");
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  bool noted = false;
  for (const auto& n : r.attempts.back().notes) noted |= n.find("no SD card") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(FactoryReset, PassesWithAnSdCardLeftUntouched) {
  RigConfig rig = half_speed_sim_rig();
  rig.sim.sd_card = true;
  ScenarioResult r = run_one("factory-reset", rig);
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  for (const auto& n : r.attempts.back().notes) EXPECT_EQ(n.find("no SD card"), std::string::npos) << n;
}

TEST(FactoryReset, FailsWhenTheFormatLeavesFiles) {
  ScenarioResult r = run_one("factory-reset", half_speed_sim_rig(), [](SimFaults& f) { f.format_keeps_files = true; });
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("expected os.fsformat('/flash') to remove every file"), std::string::npos)
      << outcome_text(r);
}

}  // namespace
}  // namespace bootrig
