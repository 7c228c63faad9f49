// Outcome names, how attempts combine into a verdict, and how verdicts become an exit code.
#include "bootrig/report/result.hpp"

#include <cstdio>
#include <utility>

#include "bootrig/core/errors.hpp"

namespace bootrig {

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::pass: return "PASS";
    case Outcome::fail: return "FAIL";
    case Outcome::error: return "ERROR";
    case Outcome::skip: return "SKIP";
    case Outcome::flaky: return "FLAKY";
    case Outcome::not_run:
      return "NOT RUN";
  }
  return "?";
}

const char* to_string(ExpectationStatus s) {
  switch (s) {
    case ExpectationStatus::passed:
      return "checked-pass";
    case ExpectationStatus::failed:
      return "checked-fail";
    case ExpectationStatus::unchecked:
      return "unchecked";
  }
  return "?";
}

std::string Measurement::describe() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s = %g %s", name.c_str(), value, unit.c_str());
  std::string s = buf;
  if (low && high)
    std::snprintf(buf, sizeof buf, ", limits %g to %g %s", *low, *high, unit.c_str());
  else if (low)
    std::snprintf(buf, sizeof buf, ", limit at least %g %s", *low, unit.c_str());
  else if (high)
    std::snprintf(buf, sizeof buf, ", limit at most %g %s", *high, unit.c_str());
  else
    return s;
  return s + buf;
}

std::string Totals::describe() const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%d passed, %d failed, %d errors, %d skipped, %d flaky, %d not run",
                of(Outcome::pass), of(Outcome::fail), of(Outcome::error), of(Outcome::skip),
                of(Outcome::flaky), of(Outcome::not_run));
  return buf;
}

Totals RunSummary::totals() const {
  Totals t;
  for (const auto& s : scenarios) ++t.count[static_cast<int>(s.outcome)];
  return t;
}

std::string FirmwarePrep::describe_flashed() const {
  if (flashed.empty()) return "nothing flashed";
  std::string s = "flashed ";
  char buf[32];
  for (std::size_t i = 0; i < flashed.size(); ++i) {
    const auto& f = flashed[i];
    std::snprintf(buf, sizeof buf, " (%.1f s)", f.seconds);
    s += (i ? ", " : "") + f.image + " " + f.version + " by " + f.method + buf;
  }
  return s;
}

Outcome combine_attempts(const std::vector<Attempt>& attempts) {
  if (attempts.empty()) return Outcome::error;
  const Outcome last = attempts.back().outcome;
  if (last == Outcome::pass) {
    for (size_t i = 0; i + 1 < attempts.size(); ++i)
      if (attempts[i].outcome != Outcome::pass) return Outcome::flaky;
    return Outcome::pass;
  }
  return last;
}

int exit_code_for(const RunSummary& run, bool allow_skip) {
  if (run.interrupted) return static_cast<int>(ExitCode::interrupted);
  bool error = false, failed = false;
  for (const auto& s : run.scenarios) {
    switch (s.outcome) {
      case Outcome::pass: break;
      // A scenario that never ran proved nothing: never exit 0 for it.
      case Outcome::not_run:
      case Outcome::error: error = true; break;
      case Outcome::fail:
      case Outcome::flaky: failed = true; break;
      case Outcome::skip:
        if (!allow_skip && !s.consent_withheld) failed = true;
        break;
    }
  }
  // A board failure is the more useful news: a rig error elsewhere in the same run does not hide it.
  if (failed) return static_cast<int>(ExitCode::check_failed);
  if (error) return static_cast<int>(ExitCode::rig_error);
  return static_cast<int>(ExitCode::ok);
}

void BoardIdentity::merge(const BoardIdentity& o) {
  for (auto [mine, theirs] : {std::pair{&board, &o.board}, std::pair{&firmware_version, &o.firmware_version},
                              std::pair{&build, &o.build}, std::pair{&unique_id, &o.unique_id}})
    if (!theirs->empty()) *mine = *theirs;
}

BoardIdentity RunSummary::board() const {
  BoardIdentity b;
  for (const auto& s : scenarios)
    for (const auto& a : s.attempts) b.merge(a.board);
  return b;
}

}  // namespace bootrig
