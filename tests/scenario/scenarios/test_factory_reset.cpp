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
  // Listed as unchecked in every report, not only as a note.
  bool listed = false;
  for (const auto& e : r.attempts.back().expectations)
    listed |= e.what == "SD card untouched" && e.status == ExpectationStatus::unchecked &&
              e.detail == "no SD card mounted at /sd";
  EXPECT_TRUE(listed);
}

TEST(FactoryReset, PassesWithAnSdCardLeftUntouched) {
  RigConfig rig = half_speed_sim_rig();
  rig.sim.sd_card = true;
  ScenarioResult r = run_one("factory-reset", rig);
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  for (const auto& n : r.attempts.back().notes) EXPECT_EQ(n.find("no SD card"), std::string::npos) << n;
  bool checked = false;
  for (const auto& e : r.attempts.back().expectations)
    checked |= e.what == "SD card untouched" && e.status == ExpectationStatus::passed;
  EXPECT_TRUE(checked);
}

TEST(FactoryReset, FailsWhenTheFormatLeavesFiles) {
  ScenarioResult r = run_one("factory-reset", half_speed_sim_rig(), [](SimFaults& f) { f.format_keeps_files = true; });
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("expected os.fsformat('/flash') to remove every file"), std::string::npos)
      << outcome_text(r);
}

}  // namespace
}  // namespace bootrig
