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
