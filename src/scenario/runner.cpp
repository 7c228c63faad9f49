// The scenario runner: attempts, verdicts from exceptions, restore after every attempt, results as it goes.
#include "bootrig/scenario/runner.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/report/writers.hpp"
#include "bootrig/scenario/recovery.hpp"
#include "bootrig/scenario/session.hpp"

namespace bootrig {

namespace {

// UTC wall-clock time, ISO 8601 ("2026-11-29T00:24:16Z") or compact for folder names ("20261129-002416").
std::string utc_now(bool compact) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  if (compact) std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  else std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

RunFolder::RunFolder(std::filesystem::path out) {
  std::error_code ec;
  if (out.empty()) {
    auto base = std::filesystem::path("bootrig-runs") / utc_now(true);
    out = base;
    // Two runs in the same second (a CI matrix on one host) get their own folders.
    for (int i = 2; std::filesystem::exists(out, ec); ++i) out = base.string() + "-" + std::to_string(i);
  }
  std::filesystem::create_directories(out, ec);
  if (ec) throw RigError("cannot create the run folder " + out.string() + ": " + ec.message());
  path_ = out;
}

std::string RunFolder::scenario_dir_name(std::size_t index, const std::string& scenario) const {
  char buf[24];  // room for any size_t: GCC checks the bound on every target
  std::snprintf(buf, sizeof buf, "%02zu-", index + 1);
  return buf + scenario;
}

std::filesystem::path RunFolder::attempt_dir(std::size_t index, const std::string& scenario, int attempt) const {
  return path_ / scenario_dir_name(index, scenario) / ("attempt-" + std::to_string(attempt));
}

void RunFolder::append_summary(const std::string& line) {
  std::ofstream out(path_ / "summary.txt", std::ios::app);
  out << line << "\n";
  out.flush();
  if (!out) throw RigError("cannot write " + (path_ / "summary.txt").string());
}

void RunFolder::write_results(const RunSummary& run) {
  write_file_atomically(path_ / "results.json", to_json(run).dump(2) + "\n");
  write_file_atomically(path_ / "junit.xml", to_junit_xml(run));
}

namespace {

// One attempt: run, judge from how it ended, restore whatever happened.
Attempt run_attempt(Target& target, Scenario& sc, const std::filesystem::path& dir, Progress& progress) {
  Attempt a;
  TimePoint start = now();
  std::exception_ptr interrupted;
  {
    Session s(target, dir, progress, a);
    try {
      sc.run(s);
      a.outcome = Outcome::pass;
    } catch (const CheckFailed& e) {
      a.outcome = Outcome::fail;
      a.message = e.what();
      a.evidence = s.evidence();
      a.stops_run = e.stops_run();
    } catch (const Skipped& e) {
      a.outcome = Outcome::skip;
      a.message = e.what();
    } catch (const BoardLost& e) {
      // One verdict for a board that cannot be brought back, by cause: a rig that reaches nothing is the
      // rig's (ERROR); a board whose own firmware never offers a REPL is the board's (FAIL). No restore (the
      // ladder already did all it could), no retry, and the run stops.
      a.outcome = e.report().cause == LostCause::board_boot ? Outcome::fail : Outcome::error;
      a.message = e.what();
      a.evidence = s.evidence();
      a.stops_run = true;
    } catch (const Interrupted& e) {
      // The signal watcher has already released the lines on the real wires; saying so on this timeline
      // (set() of an inactive level is allowed after the release) shows where the run stopped driving them.
      target.release_lines();
      s.safeboot().set(Level::inactive);
      s.reset().set(Level::inactive);
      s.timeline().note(std::string("interrupted (") + e.what() + "): P12 and RESET released");
      a.outcome = Outcome::error;
      a.message = e.what();
      interrupted = std::current_exception();
    } catch (const std::exception& e) {
      // Rig trouble (RigError) and anything unforeseen: the rig could not do its job.
      a.outcome = Outcome::error;
      a.message = e.what();
      a.evidence = s.evidence();
    }
    s.timeline().note(std::string("verdict ") + to_string(a.outcome) + (a.message.empty() ? "" : ": " + a.message));
    if (!interrupted && !a.stops_run) {
      try {
        auto step = s.step("restore the board");
        sc.restore(s);
        step.ok();
      } catch (const Interrupted&) {
        interrupted = std::current_exception();
      } catch (const BoardLost& e) {
        // The check's verdict stands; a board lost while putting it back ends the run after this scenario.
        s.note(std::string("restore failed, the board could not be recovered: ") + e.what());
        a.stops_run = true;
      } catch (const std::exception& e) {
        // A board left changed is worth knowing, but it does not change what this attempt proved.
        s.note(std::string("restore failed: ") + e.what());
      }
    }
  }
  a.seconds = to_ms(now() - start) / 1000.0;
  if (interrupted) {
    progress.attempt_finished(sc.info().name, a);
    throw Interrupted(interrupt::signal_number());
  }
  return a;
}

}  // namespace

RunSummary run_scenarios(Target& target, const std::vector<Scenario*>& scenarios, const RunOptions& options,
                         RunFolder& folder, Progress& progress) {
  RunSummary run;
  run.rig_name = target.rig().name;
  run.rig_source = target.rig().source.string();
  run.simulated = target.simulated();
  run.unit = options.unit;
  run.started_utc = utc_now(false);
  progress.run_started(target.describe(), target.simulated(), scenarios.size(), folder.path().string());
  folder.write_results(run);

  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    Scenario& sc = *scenarios[i];
    ScenarioResult r;
    r.name = sc.info().name;
    r.purpose = sc.info().purpose;
    r.folder = folder.scenario_dir_name(i, r.name);
    int attempts = 1 + std::max(0, options.retries);
    for (int k = 1; k <= attempts; ++k) {
      progress.scenario_started(r.name, k, attempts);
      try {
        r.attempts.push_back(run_attempt(target, sc, folder.attempt_dir(i, r.name, k), progress));
      } catch (const Interrupted& e) {
        // Pins first, then the paperwork.
        target.release_lines();
        Attempt a;
        a.outcome = Outcome::error;
        a.message = e.what();
        r.attempts.push_back(a);
        run.interrupted = true;
        break;
      }
      const Attempt& last = r.attempts.back();
      progress.attempt_finished(r.name, last);
      r.seconds += last.seconds;
      // Only a FAIL or an ERROR is worth another attempt; PASS and SKIP are final, and so is a lost board.
      if (last.outcome == Outcome::pass || last.outcome == Outcome::skip || last.stops_run) break;
    }
    r.outcome = combine_attempts(r.attempts);
    run.scenarios.push_back(r);
    folder.append_summary(summary_line(r));
    folder.write_results(run);
    progress.scenario_finished(r);
    if (run.interrupted) break;
    if (!r.attempts.empty() && r.attempts.back().stops_run) {
      run.stopped = "the board could not be recovered after " + r.name + "; the scenarios after it did not run";
      break;
    }
  }
  progress.run_finished(run, folder.path().string());
  return run;
}

}  // namespace bootrig
