// `bootrig records [stats]`: lists, filters and exports a station's records, and its yield and capability.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/escape.hpp"
#include "bootrig/report/records.hpp"
#include "bootrig/report/writers.hpp"
#include "bootrig/rig/rig_file.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

struct RecordsCliOptions {
  std::string db;
  RecordFilter filter;
  bool csv = false;
  bool jsonl = false;
  std::string output;
};

// --db, else the rig's [station] records, else the station's default in the working folder. A rig file that
// does not load is an error only when it was needed.
std::filesystem::path records_path(const RecordsCliOptions& o, const GlobalOptions& g) {
  if (!o.db.empty()) return o.db;
  RigChoice choice = choose_rig(g.rig, current_rig_search_env());
  if (!choice.path.empty()) {
    RigConfig rig = load_chosen_rig(choice);
    if (!rig.station.records.empty()) return rig.station.records;
  }
  return "bootrig-records.sqlite";
}

RecordFilter checked_filter(const RecordsCliOptions& o) {
  RecordFilter f = o.filter;
  if (!f.since_utc.empty()) f.since_utc = check_record_date(f.since_utc, "--since");
  if (!f.until_utc.empty()) f.until_utc = check_record_date(f.until_utc, "--until");
  std::transform(f.outcome.begin(), f.outcome.end(), f.outcome.begin(),
                 [](unsigned char c) { return std::toupper(c); });
  if (!f.outcome.empty() && f.outcome != "PASS" && f.outcome != "FAIL" && f.outcome != "ERROR" &&
      f.outcome != "INTERRUPTED")
    throw RigError("--outcome " + o.filter.outcome + ": one of PASS, FAIL, ERROR, INTERRUPTED");
  return f;
}

// Reading never creates: a mistyped --db must not leave an empty database behind and list nothing.
RecordStore open_existing(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw RigError("records " + path.string() +
                   ": no such database (give it with --db, or set [station] records)");
  return RecordStore(path);
}

void emit_records_text(const RecordsCliOptions& o, const std::string& text) {
  if (o.output.empty()) {
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    return;
  }
  check_output_file(o.output, "--output");
  write_file_atomically(o.output, text);
}

int run_records(const RecordsCliOptions& o, const GlobalOptions& g) {
  if (o.csv && o.jsonl) throw RigError("give --csv or --jsonl, not both");
  RecordFilter f = checked_filter(o);
  RecordStore store = open_existing(records_path(o, g));
  if (o.csv || o.jsonl) {
    emit_records_text(o, o.csv ? store.export_csv(f) : store.export_jsonl(f));
    return 0;
  }
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-6s %-24s %-20s %-11s %-4s %-6s %-14s %s\n", "run", "started (UTC)",
                "unit", "outcome", "try", "suite", "operator", "failures / firmware flashed");
  out += line;
  auto runs = store.runs(f);
  for (const auto& r : runs) {
    std::string detail = r.failures;
    if (!r.firmware_flashed.empty())
      detail += (detail.empty() ? "" : "; ") + std::string("flashed ") + r.firmware_flashed;
    std::snprintf(line, sizeof line, "%-6lld %-24s %-20s %-11s %-4d %-6s %-14s ",
                  static_cast<long long>(r.id), r.started_utc.c_str(), terminal_safe(r.unit).c_str(),
                  r.outcome.c_str(), r.run_of_unit, r.suite.empty() ? "-" : r.suite.c_str(),
                  terminal_safe(r.operator_).c_str());
    out += line + terminal_safe(detail, false) + "\n";
  }
  out += std::to_string(runs.size()) + " run(s)\n";
  emit_records_text(o, out);
  return 0;
}

std::string limit_text(const std::optional<double>& v) {
  if (!v) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%g", *v);
  return b;
}

int run_stats(const RecordsCliOptions& o, const GlobalOptions& g) {
  RecordFilter f = checked_filter(o);
  RecordStore store = open_existing(records_path(o, g));
  RecordStats st = store.stats(f);
  std::string out;
  char line[512];
  std::string period = (f.since_utc.empty() ? "the first record" : f.since_utc) + " to " +
                       (f.until_utc.empty() ? "the last" : f.until_utc);
  out += "period: " + period + "\n";
  std::snprintf(
      line, sizeof line,
      "runs: %d; units first tested: %d; first-pass yield: %.1f %% (%d of %d); retests: %d run(s) of %d "
      "unit(s)\n",
      st.runs, st.units, 100.0 * st.first_pass_yield(), st.first_pass, st.units, st.retests,
      st.retested_units);
  out += line;
  std::snprintf(line, sizeof line, "%-40s %6s %12s %12s %10s %10s %8s %6s\n", "measurement", "n", "mean",
                "std dev", "low", "high", "Cpk", "out");
  out += line;
  for (const auto& m : st.measurements) {
    std::string cpk = m.cpk ? (std::isinf(*m.cpk) ? "inf" : [&] {
      char b[32];
      std::snprintf(b, sizeof b, "%.2f", *m.cpk);
      return std::string(b);
    }())
                            : "-";
    std::snprintf(line, sizeof line, "%-40s %6d %12.3f %12.3f %10s %10s %8s %6d%s\n",
                  (m.name + " (" + m.unit + ")").c_str(), m.n, m.mean, m.stddev, limit_text(m.low).c_str(),
                  limit_text(m.high).c_str(), cpk.c_str(), m.out_of_limits,
                  m.limits_changed ? "  (limits changed in the period; the latest shown)" : "");
    out += line;
  }
  emit_records_text(o, out);
  return 0;
}

void add_filter_options(CLI::App* cmd, RecordsCliOptions& o) {
  cmd->add_option(
      "--db", o.db,
      "The station's database (default: the rig's [station] records, else ./bootrig-records.sqlite)");
  cmd->add_option("--unit", o.filter.unit, "Only this unit's runs");
  cmd->add_option("--since", o.filter.since_utc,
                  "Runs started at or after this UTC date (2026-12-01, 2026-12-01T06:00Z)");
  cmd->add_option("--until", o.filter.until_utc, "Runs started before this UTC date");
  cmd->add_option("--outcome", o.filter.outcome,
                  "Only runs with this outcome: PASS, FAIL, ERROR, INTERRUPTED");
  cmd->add_option("--scenario", o.filter.scenario, "Only runs that ran this scenario");
  cmd->add_option("--output", o.output, "Write to this file instead of the terminal");
}

}  // namespace

void add_records_command(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<RecordsCliOptions>();
  auto* cmd =
      app.add_subcommand("records", "A station's records: list and filter runs, export CSV or JSON Lines");
  add_filter_options(cmd, *o);
  cmd->add_flag("--csv", o->csv, "Export one row per measurement (or attempt) as CSV, for an MES");
  cmd->add_flag("--jsonl", o->jsonl, "Export the same rows as JSON Lines");
  auto so = std::make_shared<RecordsCliOptions>();
  auto* stats = cmd->add_subcommand(
      "stats",
      "First-pass yield, retests and, per measurement, mean, standard deviation and Cpk over a period");
  add_filter_options(stats, *so);
  cmd->callback([o, so, stats, &g] {
    if (stats->parsed())
      g.run = [so, &g] { return run_stats(*so, g); };
    else
      g.run = [o, &g] { return run_records(*o, g); };
  });
}

}  // namespace bootrig
