// The scenario runner: attempts, verdicts from exceptions, restore after every attempt, results as it goes.
#include "bootrig/scenario/runner.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/firmware/hash.hpp"
#include "bootrig/report/html_report.hpp"
#include "bootrig/report/writers.hpp"
#include "bootrig/scenario/recovery.hpp"
#include "bootrig/scenario/session.hpp"
#include "bootrig/sim/sim_module.hpp"

namespace bootrig {

namespace {

// UTC wall-clock time, ISO 8601 with milliseconds ("2026-11-29T00:24:16.123Z") or compact for folder names
// ("20261129-002416").
std::string utc(std::chrono::system_clock::time_point when, bool compact) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  if (compact) {
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
    return buf;
  }
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  auto ms = std::chrono::duration_cast<milliseconds>(when.time_since_epoch()).count() % 1000;
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms));
  return std::string(buf) + frac;
}

// The wall clock and the monotonic clock read together: the anchor that maps events.jsonl times to dates.
void stamp(std::string& utc_text, std::int64_t& monotonic_ns) {
  monotonic_ns = to_ns(now());
  utc_text = utc(std::chrono::system_clock::now(), false);
}

}  // namespace

std::string existing_run_in(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const char* f : {"summary.txt", "results.json", "junit.xml"})
    if (std::filesystem::exists(dir / f, ec)) return f;
  static const std::regex run_dir(R"([0-9]{2}-.+|run-[0-9]+)");
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_directory(ec) && std::regex_match(name, run_dir)) return name + "/";
  }
  return {};
}

RunFolder::RunFolder(std::filesystem::path out, bool append) {
  std::error_code ec;
  if (out.empty()) {
    auto base = std::filesystem::path("bootrig-runs") / utc(std::chrono::system_clock::now(), true);
    std::filesystem::create_directories(base.parent_path(), ec);
    out = base;
    // Two runs in the same second (a CI matrix on one host) get their own folders: create_directory claims
    // a name or says it is taken.
    for (int i = 2; !std::filesystem::create_directory(out, ec) && !ec; ++i)
      out = base.string() + "-" + std::to_string(i);
  } else if (std::filesystem::exists(out, ec) && !std::filesystem::is_directory(out, ec)) {
    throw RigError("--out " + out.string() +
                   ": is a file, not a folder; give a folder for the run's evidence");
  } else if (std::string found = std::filesystem::exists(out, ec) ? existing_run_in(out) : "";
             !found.empty()) {
    if (!append)
      throw RigError("--out " + out.string() + ": already holds a run (" + found +
                     "); give a new folder, or add --append to put this run in a numbered subfolder (" +
                     (out / "run-N").string() + ")");
    std::filesystem::path base = out;
    for (int n = 2;; ++n) {
      out = base / ("run-" + std::to_string(n));
      if (std::filesystem::create_directory(out, ec)) break;
      if (ec) break;
    }
    placement_ = base.string() + " already holds a run; --append put this one in " + out.string();
  } else {
    std::filesystem::create_directories(out, ec);
  }
  if (ec) throw RigError("cannot create the run folder " + out.string() + ": " + ec.message());
  path_ = out;
  check_output_file(path_ / "results.json", "--out");
  const auto reserve = path_ / ".bootrig-space-reserve";
  int fd = ::open(reserve.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::unlink(reserve.c_str());
    if (::posix_fallocate(fd, 0, kSpaceReserveBytes) == 0)
      space_reserve_fd_ = fd;
    else
      ::close(fd);  // no room for it: the reports are written as they can be
  }
}

RunFolder::~RunFolder() { release_space_reserve(); }

void RunFolder::release_space_reserve() {
  if (space_reserve_fd_ >= 0) ::close(space_reserve_fd_);
  space_reserve_fd_ = -1;
}

std::string RunFolder::scenario_dir_name(std::size_t index, const std::string& scenario) const {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02zu-", index + 1);
  return buf + scenario;
}

std::filesystem::path RunFolder::attempt_dir(std::size_t index, const std::string& scenario,
                                             int attempt) const {
  return path_ / scenario_dir_name(index, scenario) / ("attempt-" + std::to_string(attempt));
}

void RunFolder::write_results(const RunSummary& run) {
  with_space_reserve([&] {
    write_file_atomically(path_ / "results.json", to_json(run).dump(2) + "\n");
    write_file_atomically(path_ / "junit.xml", to_junit_xml(run));
    write_file_atomically(path_ / "summary.txt", to_summary_text(run));
  });
  try {
    with_space_reserve(
        [&] { write_file_atomically(path_ / "report.html", to_html_report(run, path_, rig_view_, &html_cache_)); });
    html_trouble_.clear();
  } catch (const RigError& e) {
    // The page is a view of the files above and of the attempts' logs, larger than all of them: a run does
    // not end for it (a file size limit a results.json fits under), and it is said once.
    if (html_trouble_.empty())
      spdlog::warn("report.html not written: {}; results.json, junit.xml and summary.txt are", e.what());
    html_trouble_ = e.what();
  }
}

void RunFolder::with_space_reserve(const std::function<void()>& write) {
  try {
    write();
  } catch (const RigError&) {
    if (space_reserve_fd_ < 0) throw;
    release_space_reserve();
    write();
  }
}

namespace {

// The simulated module's faults that differ from a fault-free module, "name=value", with the seed that makes
// the random ones repeatable.
std::vector<std::string> active_faults(const SimFaults& f, unsigned seed) {
  const SimFaults none;
  std::vector<std::string> out;
  for (const auto& field : sim_fault_fields()) {
    std::string v = get_sim_fault(f, field.name);
    if (v != get_sim_fault(none, field.name)) out.push_back(std::string(field.name) + "=" + v);
  }
  if (!out.empty()) out.push_back("fault_seed=" + std::to_string(seed));
  return out;
}

std::vector<std::string> faults_now(Target& target) {
  const RigConfig& rig = target.rig();
  if (SimModule* sim = target.sim()) return active_faults(sim->faults(), rig.sim.fault_seed);
  if (rig.kind == RigKind::sim && !rig.sim.remote.empty())
    return {"not known here: the simulator runs in another process (" + rig.sim.remote.string() + ")"};
  return {};
}

std::string rig_file_sha256(const RigConfig& rig) {
  std::error_code ec;
  if (rig.source.empty() || !std::filesystem::is_regular_file(rig.source, ec)) return {};
  std::ifstream in(rig.source, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return {};
  auto d = sha256(bytes);
  return to_hex(d);
}

RunSummary begin_summary(const RigConfig& rig, std::vector<std::string> faults,
                         const std::vector<Scenario*>& scenarios, const RunOptions& options) {
  RunSummary run;
  run.bootrig_version = BOOTRIG_VERSION;
  run.command_line = options.command_line;
  run.rig_name = rig.name;
  run.rig_source = rig.source.string();
  run.rig_sha256 = rig_file_sha256(rig);
  run.rig_port = rig.serial.port.describe();
  run.rig_usb_serial = rig.serial.port.usb_serial;
  run.simulated = rig.kind == RigKind::sim;
  run.sim_faults = std::move(faults);
  run.unit = options.unit;
  stamp(run.started_utc, run.started_monotonic_ns);
  for (Scenario* sc : scenarios) {
    ScenarioResult r;
    r.name = sc->info().name;
    r.purpose = sc->info().purpose;
    r.outcome = Outcome::not_run;
    // What a report written mid-run (or left by a killed bootrig) says of the scenarios not reached yet.
    r.reason = "not run yet: the run had not reached it when this report was written";
    run.scenarios.push_back(std::move(r));
  }
  return run;
}

RigView rig_view_of(const RigConfig& rig, bool led, bool p2) {
  RigView v;
  v.baud = rig.serial.settings.baud;
  v.led = led;
  v.p2 = p2;
  v.timing = rig.timing;
  return v;
}

// Ends the record: the scenarios not reached get `not_run_reason`; end time and exit code.
void end_summary(RunSummary& run, const RunOptions& options, const std::string& not_run_reason) {
  for (auto& r : run.scenarios)
    if (r.outcome == Outcome::not_run) r.reason = not_run_reason;
  stamp(run.ended_utc, run.ended_monotonic_ns);
  run.finished = true;
  run.exit_code = exit_code_for(run, options.allow_skip);
}

// How an attempt ended the run early, if it did.
struct AttemptEnd {
  enum How { done, interrupted, stopped } how = done;
  std::string why;          // the Interrupted or BoardLost message, or the check that stopped the run
  std::string board_state;  // what bootrig knows of the board then
};

// Releases P12 and RESET (and P2) and says what bootrig knows of the board: which lines it had been holding,
// and the step the attempt was in.
std::string release_and_describe(Target& target, Session& s) {
  auto held = [](RecordingOutput* o) { return o && o->last_change() && is_active(o->last_change()->level); };
  std::string was;
  if (held(&s.safeboot())) was += "P12 asserted";
  if (held(&s.reset())) was += std::string(was.empty() ? "" : ", ") + "RESET held";
  if (held(s.bootloader())) was += std::string(was.empty() ? "" : ", ") + "P2 held (download mode)";
  // The signal watcher may have released the real wires already; saying so on this timeline (set() of an
  // inactive level is allowed after the release) shows where the run stopped driving them.
  target.release_lines();
  s.safeboot().set(Level::inactive);
  s.reset().set(Level::inactive);
  if (s.bootloader()) s.bootloader()->set(Level::inactive);
  std::string text = std::string(s.bootloader() ? "P12, RESET and P2" : "P12 and RESET") + " released" +
                     (was.empty() ? "" : " (bootrig had " + was + ")");
  std::string activity = s.activity();
  text += activity.empty() ? "; the board was between steps" : "; the board was in " + activity;
  if (!s.left_board().empty()) text += "; " + s.left_board();
  s.timeline().note(text);
  return text;
}

// A PASS rests on every measurement being within its limits.
void judge_measurements(Session& s, Attempt& a) {
  std::string bad;
  for (const auto& m : a.measurements)
    if (!m.within_limits()) bad += (bad.empty() ? "" : "; ") + m.describe();
  if (bad.empty()) return;
  a.outcome = Outcome::fail;
  a.message = "measured outside the limits: " + bad;
  a.evidence = s.evidence();
}

// One attempt: run, judge from how it ended, restore whatever happened (unless the run ends here).
AttemptEnd run_attempt(Target& target, Scenario& sc, const std::filesystem::path& dir, Progress& progress,
                       Attempt& a) {
  TimePoint start = now();
  AttemptEnd end;
  std::optional<std::string> wiring_fault;  // a RigWiringError: the run stops after the restore
  try {
    Session s(target, dir, progress, a);
    try {
      sc.run(s);
      s.rethrow_step_end_failure();
      a.outcome = Outcome::pass;
      judge_measurements(s, a);
    } catch (const CheckFailed& e) {
      a.outcome = Outcome::fail;
      a.message = e.what();
      a.evidence = s.evidence();
      a.stops_run = e.stops_run();
      // A broken rule that leaves nothing else checkable (the board's own boot hangs) ends the run.
      if (a.stops_run) end = {AttemptEnd::stopped, e.what(), release_and_describe(target, s)};
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
      end = {AttemptEnd::stopped, e.what(), release_and_describe(target, s)};
    } catch (const Interrupted& e) {
      a.outcome = Outcome::error;
      a.message = e.what();
      a.evidence = s.evidence();
      end = {AttemptEnd::interrupted, e.what(), release_and_describe(target, s)};
    } catch (const RigWiringError& e) {
      // The rig's, and every later check would repeat it (a cut RESET wire: 11 ERRORs of 30 s each in the
      // fault matrix): one ERROR, no retry, and the run stops once this check is restored (its evidence
      // scripts, or recover-stuck-main's stuck main.py, may be on the board: the REPL still answers).
      a.outcome = Outcome::error;
      a.message = e.what();
      a.evidence = s.evidence();
      a.stops_run = true;
      wiring_fault = e.what();
    } catch (const std::exception& e) {
      // Rig trouble (RigError) and anything unforeseen: the rig could not do its job.
      a.outcome = Outcome::error;
      a.message = e.what();
      a.evidence = s.evidence();
    }
    s.timeline().note(std::string("verdict ") + to_string(a.outcome) +
                      (a.message.empty() ? "" : ": " + a.message));
    if (end.how == AttemptEnd::done) {
      try {
        auto step = s.step("restore the board");
        sc.restore(s);
        step.ok();
      } catch (const Interrupted& e) {
        // The verdict stands: the check was over when the restore was interrupted.
        end = {AttemptEnd::interrupted, e.what(), release_and_describe(target, s)};
      } catch (const BoardLost& e) {
        // The check's verdict stands; a board lost while putting it back ends the run after this scenario.
        s.note(std::string("restore failed, the board could not be recovered: ") + e.what());
        a.stops_run = true;
        end = {AttemptEnd::stopped, std::string("restoring the board failed: ") + e.what(),
               release_and_describe(target, s)};
      } catch (const std::exception& e) {
        // A board left changed is worth knowing, but it does not change what this attempt proved.
        s.note(std::string("restore failed: ") + e.what());
      }
    }
    if (wiring_fault && end.how == AttemptEnd::done)
      end = {AttemptEnd::stopped, *wiring_fault, release_and_describe(target, s)};
  } catch (const Interrupted& e) {
    // Setting up or tearing down the attempt's observers: no step to name.
    target.release_lines();
    if (end.how == AttemptEnd::done) {
      a.outcome = Outcome::error;
      a.message = e.what();
      end = {AttemptEnd::interrupted, e.what(), "P12 and RESET released"};
    }
  } catch (const std::exception& e) {
    // The attempt's folder or observers could not be set up: nothing ran.
    a.outcome = Outcome::error;
    a.message = e.what();
  }
  a.seconds = to_ms(now() - start) / 1000.0;
  return end;
}

// Every attempt of one scenario (more after a FAIL or ERROR with --retries).
AttemptEnd run_scenario(Target& target, Scenario& sc, std::size_t index, const RunOptions& options,
                        RunFolder& folder, Progress& progress, RunSummary& run, ScenarioResult& r) {
  int attempts = 1 + std::max(0, options.retries);
  for (int k = 1; k <= attempts; ++k) {
    progress.scenario_started(r.name, k, attempts);
    Attempt& a = r.attempts.emplace_back();
    if (run.simulated)
      if (auto f = faults_now(target); f != run.sim_faults)
        a.sim_faults = f.empty() ? std::vector<std::string>{"none"} : f;
    const auto dir = folder.attempt_dir(index, r.name, k);
    AttemptEnd end = run_attempt(target, sc, dir, progress, a);
    r.seconds += a.seconds;
    // The attempt's views and the run's reports as of now: a run killed during the next attempt keeps them.
    try {
      write_attempt_views(dir, folder.rig_view());
    } catch (const std::exception& e) {
      a.notes.push_back(std::string("serial.txt and signals.vcd not written: ") + e.what());
    }
    r.outcome = combine_attempts(r.attempts);
    folder.write_results(run);
    progress.attempt_finished(r.name, a);
    if (end.how != AttemptEnd::done) return end;
    // Only a FAIL or an ERROR is worth another attempt; PASS and SKIP are final.
    if (a.outcome == Outcome::pass || a.outcome == Outcome::skip) break;
  }
  return {};
}

}  // namespace

namespace {
// The lines every scenario drives, as the rig file names them; empty when the rig wires both.
std::string missing_scenario_lines(const Target& target) {
  std::string missing;
  if (!target.has_line(LineRole::safeboot)) missing = "P12 (lines.safeboot)";
  if (!target.has_line(LineRole::reset))
    missing += std::string(missing.empty() ? "" : " and ") + "RESET (lines.reset)";
  return missing;
}
}  // namespace

RunSummary run_scenarios(Target& target, const std::vector<Scenario*>& scenarios, const RunOptions& options,
                         RunFolder& folder, Progress& progress) {
  RunSummary run = begin_summary(target.rig(), faults_now(target), scenarios, options);
  folder.set_rig_view(rig_view_of(target.rig(), target.led() != nullptr, target.bootloader() != nullptr));
  progress.run_started(target.describe(), target.simulated(), scenarios.size(), folder.path().string());
  folder.write_results(run);

  std::string not_run_reason;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    Scenario& sc = *scenarios[i];
    ScenarioResult& r = run.scenarios[i];
    // A serial-only bench (a rig file with [serial] alone): every scenario drives P12 and RESET, so none can
    // run; each says what it needs, and the board is never touched.
    if (std::string missing = missing_scenario_lines(target); !missing.empty()) {
      r.outcome = Outcome::skip;
      r.reason =
          "needs " + missing + ", which this rig does not wire (console, exec, fs and doctor work on it)";
      folder.write_results(run);
      progress.scenario_finished(r);
      continue;
    }
    if (!sc.info().destructive.empty() && !options.allow_destructive) {
      r.outcome = Outcome::skip;
      r.consent_withheld = true;
      r.reason = "destructive: " + sc.info().destructive + "; name it or pass --destructive";
      folder.write_results(run);
      progress.scenario_finished(r);
      continue;
    }
    if (options.all) {
      std::string missing;
      for (const auto& n : sc.info().needs_images)
        if (!target.rig().firmware.count(n)) missing += (missing.empty() ? "" : " and ") + n;
      if (!missing.empty()) {
        r.outcome = Outcome::skip;
        r.consent_withheld = true;  // not the board's doing: it does not make the exit code 1
        r.reason = "needs [firmware] " + missing + " in the rig file; not in --all without them";
        folder.write_results(run);
        progress.scenario_finished(r);
        continue;
      }
    }
    r.folder = folder.scenario_dir_name(i, r.name);
    r.reason.clear();
    TimePoint started = now();
    AttemptEnd end;
    try {
      end = run_scenario(target, sc, i, options, folder, progress, run, r);
    } catch (const Interrupted& e) {
      // Outside any attempt (between attempts).
      target.release_lines();
      end = {AttemptEnd::interrupted, e.what(), "P12 and RESET released; the board was between attempts"};
    }
    r.outcome = r.attempts.empty() ? Outcome::not_run : combine_attempts(r.attempts);
    if (r.attempts.empty()) r.folder.clear();
    if (end.how != AttemptEnd::done) {
      char took[48];
      std::snprintf(took, sizeof took, "%.1f s in", to_ms(now() - started) / 1000.0);
      if (end.how == AttemptEnd::interrupted) {
        run.interrupted = true;
        run.stop_reason = end.why + " during " + r.name + " (" + took + ")";
        not_run_reason = "not run: the run was interrupted";
      } else {
        run.stop_reason = "the run stopped after " + r.name + ": " + end.why;
        not_run_reason = "not run: " + run.stop_reason;
      }
      run.board_state = end.board_state;
      folder.write_results(run);
      progress.scenario_finished(r);
      break;
    }
    folder.write_results(run);
    progress.scenario_finished(r);
  }
  end_summary(run, options, not_run_reason);
  folder.write_results(run);
  for (const auto& r : run.scenarios)
    if (r.outcome == Outcome::not_run) progress.scenario_finished(r);
  progress.run_finished(run, folder.path().string());
  return run;
}

RunSummary record_unstarted_run(const RigConfig& rig, const std::vector<Scenario*>& scenarios,
                                const RunOptions& options, RunFolder& folder, const std::string& why,
                                bool interrupted) {
  std::vector<std::string> faults;
  if (rig.kind == RigKind::sim && rig.sim.remote.empty())
    faults = active_faults(rig.sim.faults, rig.sim.fault_seed);
  RunSummary run = begin_summary(rig, std::move(faults), scenarios, options);
  folder.set_rig_view(rig_view_of(rig, false, false));
  run.interrupted = interrupted;
  run.stop_reason = why;
  run.board_state = "the rig was not opened: bootrig never drove the board's lines";
  end_summary(run, options, "not run: " + why);
  folder.write_results(run);
  return run;
}

}  // namespace bootrig
