// Tests for the safe-boot scenarios on the simulated module: each passes, and each rule break fails it.
#include <gtest/gtest.h>

#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

using testing::half_speed_sim_rig;
using testing::outcome_text;
using testing::run_one;

bool has_measurement(const ScenarioResult& r, const std::string& name) {
  for (const auto& m : r.attempts.back().measurements)
    if (m.name == name) return true;
  return false;
}

// The window's blink was seen and measured: its half periods always; its period only once two rising edges
// were seen, which the release (right after the pattern is confirmed) may come before. Never a 0 ms
// placeholder: a measurement outside its limits fails the check.
void expect_window_measured(const ScenarioResult& r, const std::string& window) {
  EXPECT_TRUE(has_measurement(r, window + ".half_periods_seen")) << outcome_text(r);
  for (const auto& m : r.attempts.back().measurements)
    if (m.name == window + ".period_ms") {
      EXPECT_GT(m.value, 0.0);
    }
}

TEST(SafeBootWindow1, PassesAndMeasuresTheSlowBlink) {
  ScenarioResult r = run_one("safeboot-window1");
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  expect_window_measured(r, "window1");
}

TEST(SafeBootWindow1, FailsWhenScriptsRunDuringSafeBoot) {
  ScenarioResult r = run_one("safeboot-window1", half_speed_sim_rig(), [](SimFaults& f) { f.scripts_in_safeboot = true; });
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("expected boot.py to be skipped in a safe boot released in window 1"),
            std::string::npos)
      << outcome_text(r);
}

TEST(SafeBootWindow2, PassesWithThePreviousImage) {
  ScenarioResult r = run_one("safeboot-window2");
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  expect_window_measured(r, "window2");
  bool noted = false;
  for (const auto& n : r.attempts.back().notes) noted |= n.find("booted the previous image 1.20.2.r4") != std::string::npos;
  EXPECT_TRUE(noted) << outcome_text(r);
}

TEST(SafeBootWindow2, FailsWhenWindow2KeepsTheImage) {
  ScenarioResult r = run_one("safeboot-window2", half_speed_sim_rig(), [](SimFaults& f) { f.window2_keeps_image = true; });
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("expected the previous OTA image"), std::string::npos) << outcome_text(r);
}

TEST(SafeBootWindow2, SkipsWithTheReasonWhenThereIsNoDifferentPreviousImage) {
  RigConfig rig = half_speed_sim_rig();
  rig.sim.active_slot = "factory";
  rig.sim.ota0_version.clear();
  ScenarioResult r = run_one("safeboot-window2", rig);
  ASSERT_EQ(r.outcome, Outcome::skip) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("window 2 had no different previous image to boot"), std::string::npos);
}

TEST(SafeBootFactory, PassesWithTheFactoryImage) {
  ScenarioResult r = run_one("safeboot-factory");
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
  expect_window_measured(r, "final");
}

TEST(SafeBootFactory, FailsWhenScriptsRunDuringSafeBoot) {
  ScenarioResult r = run_one("safeboot-factory", half_speed_sim_rig(), [](SimFaults& f) { f.scripts_in_safeboot = true; });
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("expected boot.py to be skipped in a safe boot held past window 2"),
            std::string::npos)
      << outcome_text(r);
}

TEST(SafeBootNotPersistent, Passes) {
  ScenarioResult r = run_one("safeboot-not-persistent");
  ASSERT_EQ(r.outcome, Outcome::pass) << outcome_text(r);
}

TEST(SafeBootNotPersistent, FailsWhenTheSafeBootPersists) {
  ScenarioResult r = run_one("safeboot-not-persistent", half_speed_sim_rig(), [](SimFaults& f) { f.safeboot_persists = true; });
  ASSERT_EQ(r.outcome, Outcome::fail) << outcome_text(r);
  EXPECT_NE(r.attempts.back().message.find("persisted"), std::string::npos) << outcome_text(r);
}

}  // namespace
}  // namespace bootrig
