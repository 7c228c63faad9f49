// Tests for verdict combination and exit codes: retries stay visible, a retry pass is never a silent pass.
#include "bootrig/report/result.hpp"

#include <gtest/gtest.h>

namespace bootrig {
namespace {

std::vector<Attempt> attempts(std::initializer_list<Outcome> os) {
  std::vector<Attempt> v;
  for (Outcome o : os) v.push_back(Attempt{o, "", "", 0, {}, {}});
  return v;
}

TEST(CombineAttempts, PassAfterFailureIsFlaky) {
  EXPECT_EQ(combine_attempts(attempts({Outcome::pass})), Outcome::pass);
  EXPECT_EQ(combine_attempts(attempts({Outcome::fail, Outcome::pass})), Outcome::flaky);
  EXPECT_EQ(combine_attempts(attempts({Outcome::error, Outcome::pass})), Outcome::flaky);
  EXPECT_EQ(combine_attempts(attempts({Outcome::pass, Outcome::fail})), Outcome::fail);
  EXPECT_EQ(combine_attempts(attempts({Outcome::fail, Outcome::fail})), Outcome::fail);
  EXPECT_EQ(combine_attempts(attempts({Outcome::skip})), Outcome::skip);
  EXPECT_EQ(combine_attempts({}), Outcome::error);
}

RunSummary run_of(std::initializer_list<Outcome> os) {
  RunSummary r;
  for (Outcome o : os) {
    ScenarioResult s;
    s.outcome = o;
    r.scenarios.push_back(s);
  }
  return r;
}

TEST(ExitCode, ZeroOnlyWhenEverythingPassed) {
  EXPECT_EQ(exit_code_for(run_of({Outcome::pass, Outcome::pass}), false), 0);
  EXPECT_EQ(exit_code_for(run_of({Outcome::pass, Outcome::flaky}), false), 1);
  EXPECT_EQ(exit_code_for(run_of({Outcome::pass, Outcome::fail}), false), 1);
  EXPECT_EQ(exit_code_for(run_of({Outcome::pass, Outcome::error}), false), 2);
  EXPECT_EQ(exit_code_for(run_of({Outcome::error, Outcome::fail}), false), 1);
  EXPECT_EQ(exit_code_for(run_of({Outcome::pass, Outcome::skip}), false), 1);
  EXPECT_EQ(exit_code_for(run_of({Outcome::pass, Outcome::skip}), true), 0);
  RunSummary r = run_of({Outcome::pass});
  r.interrupted = true;
  EXPECT_EQ(exit_code_for(r, false), 3);
}

TEST(ExitCode, AScenarioThatNeverRanIsNeverAPass) {
  EXPECT_EQ(exit_code_for(run_of({Outcome::pass, Outcome::not_run}), false), 2);
  EXPECT_EQ(exit_code_for(run_of({Outcome::fail, Outcome::not_run}), false), 1);
  RunSummary r = run_of({Outcome::pass, Outcome::not_run});
  r.interrupted = true;
  EXPECT_EQ(exit_code_for(r, false), 3);
}

TEST(ExitCode, ADestructiveScenarioLeftOutForWantOfConsentDoesNotCount) {
  RunSummary r = run_of({Outcome::pass, Outcome::skip});
  r.scenarios[1].consent_withheld = true;
  EXPECT_EQ(exit_code_for(r, false), 0);
  // An ordinary skip beside it still does.
  r.scenarios.push_back(r.scenarios[1]);
  r.scenarios[2].consent_withheld = false;
  EXPECT_EQ(exit_code_for(r, false), 1);
}

TEST(Totals, CountEveryOutcome) {
  RunSummary r = run_of({Outcome::pass, Outcome::pass, Outcome::fail, Outcome::not_run, Outcome::flaky});
  Totals t = r.totals();
  EXPECT_EQ(t.of(Outcome::pass), 2);
  EXPECT_EQ(t.of(Outcome::not_run), 1);
  EXPECT_EQ(t.describe(), "2 passed, 1 failed, 0 errors, 0 skipped, 1 flaky, 1 not run");
  EXPECT_STREQ(to_string(Outcome::not_run), "NOT RUN");
}

TEST(Measurement, DescribesValueAndLimits) {
  EXPECT_EQ((Measurement{"heartbeat.on_ms", 130, "ms", 28.0, 52.0}.describe()),
            "heartbeat.on_ms = 130 ms, limits 28 to 52 ms");
  EXPECT_EQ((Measurement{"x", 3, "count", std::nullopt, std::nullopt}.describe()), "x = 3 count");
  EXPECT_EQ((Measurement{"p12_ms", -2, "ms", 0.0, std::nullopt}.describe()),
            "p12_ms = -2 ms, limit at least 0 ms");
  EXPECT_EQ((Measurement{"boot_ms", 9000, "ms", std::nullopt, 8000.0}.describe()),
            "boot_ms = 9000 ms, limit at most 8000 ms");
}

TEST(Measurement, Limits) {
  Measurement m{"window1.toggle_ms", 510, "ms", 400.0, 600.0};
  EXPECT_TRUE(m.within_limits());
  m.value = 620;
  EXPECT_FALSE(m.within_limits());
  Measurement open{"count", 3, "count", std::nullopt, std::nullopt};
  EXPECT_TRUE(open.within_limits());
}

}  // namespace
}  // namespace bootrig
