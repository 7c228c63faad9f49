// The station's SQLite records: append-only tables (triggers refuse every UPDATE and DELETE), one
// transaction per run, and the queries behind `bootrig records`.
#include "bootrig/report/records.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "bootrig/core/errors.hpp"

namespace bootrig {

namespace {

constexpr const char* kRecordsSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', '1');
CREATE TABLE IF NOT EXISTS units(
  serial TEXT PRIMARY KEY,
  first_seen_utc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY,
  unit TEXT NOT NULL REFERENCES units(serial),
  started_utc TEXT NOT NULL,
  ended_utc TEXT,
  outcome TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  suite TEXT NOT NULL,
  station TEXT NOT NULL,
  operator TEXT NOT NULL,
  rig_name TEXT, rig_sha256 TEXT, simulated INTEGER NOT NULL,
  bootrig_version TEXT, command_line TEXT, run_folder TEXT, stop_reason TEXT,
  recorded_utc TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
CREATE INDEX IF NOT EXISTS runs_by_unit ON runs(unit, started_utc);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs(started_utc);
CREATE TABLE IF NOT EXISTS scenario_results(
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  scenario TEXT NOT NULL,
  outcome TEXT NOT NULL,
  seconds REAL NOT NULL,
  reason TEXT);
CREATE INDEX IF NOT EXISTS results_by_run ON scenario_results(run_id);
CREATE TABLE IF NOT EXISTS attempts(
  id INTEGER PRIMARY KEY,
  result_id INTEGER NOT NULL REFERENCES scenario_results(id),
  number INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  message TEXT,
  seconds REAL NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_by_result ON attempts(result_id);
CREATE TABLE IF NOT EXISTS measurements(
  id INTEGER PRIMARY KEY,
  attempt_id INTEGER NOT NULL REFERENCES attempts(id),
  name TEXT NOT NULL,
  value REAL NOT NULL,
  unit TEXT NOT NULL,
  low REAL,
  high REAL,
  within_limits INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS measurements_by_attempt ON measurements(attempt_id);
CREATE TABLE IF NOT EXISTS firmware_flashed(
  id INTEGER PRIMARY KEY,
  attempt_id INTEGER NOT NULL REFERENCES attempts(id),
  image TEXT NOT NULL,
  version TEXT NOT NULL,
  method TEXT NOT NULL,
  seconds REAL NOT NULL);
)sql";

constexpr const char* kRecordTables[] = {
    "meta", "units", "runs", "scenario_results", "attempts", "measurements", "firmware_flashed"};

// A prepared statement, finalized on every path.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql, const std::filesystem::path& path) : db_(db), path_(path) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind(int i, const std::optional<double>& v) {
    if (v)
      sqlite3_bind_double(s_, i, *v);
    else
      sqlite3_bind_null(s_, i);
    return *this;
  }
  // true while there is a row.
  bool step() {
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("step");
  }
  void run() {
    while (step()) {
    }
  }
  std::string text(int col) const {
    auto* p = sqlite3_column_text(s_, col);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  double real(int col) const { return sqlite3_column_double(s_, col); }
  std::int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }
  std::optional<double> maybe(int col) const {
    if (sqlite3_column_type(s_, col) == SQLITE_NULL) return std::nullopt;
    return real(col);
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw RigError("records " + path_.string() + ": " + what + " failed: " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  const std::filesystem::path& path_;
  sqlite3_stmt* s_ = nullptr;
};

void exec_sql(sqlite3* db, const std::string& sql, const std::filesystem::path& path) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    throw RigError("records " + path.string() + ": " + m);
  }
}

// The filter as a WHERE clause over runs r, parameters ?1..?5.
constexpr const char* kRunFilter =
    " WHERE (?1 = '' OR r.unit = ?1) AND (?2 = '' OR r.started_utc >= ?2) AND (?3 = '' OR r.started_utc < ?3)"
    " AND (?4 = '' OR r.outcome = ?4) AND (?5 = '' OR EXISTS (SELECT 1 FROM scenario_results sr"
    " WHERE sr.run_id = r.id AND sr.scenario = ?5))";

void bind_filter(Stmt& s, const RecordFilter& f) {
  s.bind(1, f.unit).bind(2, f.since_utc).bind(3, f.until_utc).bind(4, f.outcome).bind(5, f.scenario);
}

std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
  std::string q = "\"";
  for (char c : v) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string number_text(const std::optional<double>& v) {
  if (!v) return "";
  std::ostringstream o;
  o.precision(10);
  o << *v;
  return o.str();
}

}  // namespace

std::string run_outcome_name(int exit_code) {
  switch (exit_code) {
    case 0:
      return "PASS";
    case 1:
      return "FAIL";
    case 3:
      return "INTERRUPTED";
    default:
      return "ERROR";
  }
}

std::string check_record_date(const std::string& text, const std::string& what) {
  static const std::regex iso(R"(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z?)?)");
  if (!std::regex_match(text, iso))
    throw RigError(what + " " + text + ": not a date; write 2026-12-05 or 2026-12-05T14:00Z (UTC)");
  return text.back() == 'Z' ? text.substr(0, text.size() - 1) : text;
}

RecordStore::RecordStore(const std::filesystem::path& path) : path_(path) {
  std::error_code ec;
  auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  if (!std::filesystem::is_directory(dir, ec))
    throw RigError("records " + path.string() + ": its folder " + dir.string() +
                   " does not exist; create it");
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string m = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw RigError("records " + path.string() + ": cannot open it: " + m);
  }
  // Readers (`bootrig records` beside a running station) and the writer wait for each other briefly
  // instead of failing.
  sqlite3_busy_timeout(db_, 10000);
  try {
    // WAL: a reader never blocks the station; synchronous=FULL: a committed unit survives a power cut.
    exec_sql(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", path_);
    exec_sql(db_, "BEGIN IMMEDIATE;", path_);
    exec_sql(db_, kRecordsSchema, path_);
    // Records are evidence: bootrig never rewrites one, and the database itself refuses to.
    for (const char* t : kRecordTables)
      for (const char* op : {"UPDATE", "DELETE"})
        exec_sql(
            db_,
            std::string("CREATE TRIGGER IF NOT EXISTS no_") + op + "_" + t + " BEFORE " + op + " ON " + t +
                " BEGIN SELECT RAISE(ABORT, 'bootrig records are append-only: a retest is a new run'); END;",
            path_);
    exec_sql(db_, "COMMIT;", path_);
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

RecordStore::~RecordStore() { sqlite3_close(db_); }

std::int64_t RecordStore::add_run(const RunSummary& run, const StationIdentity& who,
                                  const std::string& run_folder) {
  if (run.unit.empty()) throw RigError("records " + path_.string() + ": a run without a unit serial number");
  const int code = run.exit_code.value_or(exit_code_for(run, false));
  exec_sql(db_, "BEGIN IMMEDIATE;", path_);
  try {
    Stmt(db_, "INSERT OR IGNORE INTO units(serial, first_seen_utc) VALUES (?1, ?2)", path_)
        .bind(1, run.unit)
        .bind(2, run.started_utc)
        .run();
    Stmt r(db_,
           "INSERT INTO runs(unit, started_utc, ended_utc, outcome, exit_code, suite, station, operator, "
           "rig_name,"
           " rig_sha256, simulated, bootrig_version, command_line, run_folder, stop_reason)"
           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
           path_);
    r.bind(1, run.unit).bind(2, run.started_utc).bind(3, run.ended_utc).bind(4, run_outcome_name(code));
    r.bind(5, static_cast<std::int64_t>(code)).bind(6, who.suite).bind(7, who.station).bind(8, who.operator_);
    r.bind(9, run.rig_name).bind(10, run.rig_sha256).bind(11, static_cast<std::int64_t>(run.simulated));
    r.bind(12, run.bootrig_version).bind(13, run.command_line).bind(14, run_folder).bind(15, run.stop_reason);
    r.run();
    const std::int64_t run_id = sqlite3_last_insert_rowid(db_);
    for (const auto& sc : run.scenarios) {
      Stmt(db_,
           "INSERT INTO scenario_results(run_id, scenario, outcome, seconds, reason) VALUES (?1,?2,?3,?4,?5)",
           path_)
          .bind(1, run_id)
          .bind(2, sc.name)
          .bind(3, std::string(to_string(sc.outcome)))
          .bind(4, sc.seconds)
          .bind(5, sc.reason)
          .run();
      const std::int64_t result_id = sqlite3_last_insert_rowid(db_);
      for (std::size_t k = 0; k < sc.attempts.size(); ++k) {
        const Attempt& a = sc.attempts[k];
        Stmt(db_,
             "INSERT INTO attempts(result_id, number, outcome, message, seconds) VALUES (?1,?2,?3,?4,?5)",
             path_)
            .bind(1, result_id)
            .bind(2, static_cast<std::int64_t>(k + 1))
            .bind(3, std::string(to_string(a.outcome)))
            .bind(4, a.message)
            .bind(5, a.seconds)
            .run();
        const std::int64_t attempt_id = sqlite3_last_insert_rowid(db_);
        for (const auto& m : a.measurements)
          Stmt(db_,
               "INSERT INTO measurements(attempt_id, name, value, unit, low, high, within_limits)"
               " VALUES (?1,?2,?3,?4,?5,?6,?7)",
               path_)
              .bind(1, attempt_id)
              .bind(2, m.name)
              .bind(3, m.value)
              .bind(4, m.unit)
              .bind(5, m.low)
              .bind(6, m.high)
              .bind(7, static_cast<std::int64_t>(m.within_limits()))
              .run();
        if (a.firmware)
          for (const auto& f : a.firmware->flashed)
            Stmt(db_,
                 "INSERT INTO firmware_flashed(attempt_id, image, version, method, seconds) VALUES "
                 "(?1,?2,?3,?4,?5)",
                 path_)
                .bind(1, attempt_id)
                .bind(2, f.image)
                .bind(3, f.version)
                .bind(4, f.method)
                .bind(5, f.seconds)
                .run();
      }
    }
    exec_sql(db_, "COMMIT;", path_);
    return run_id;
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK;", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<RecordedRun> RecordStore::runs(const RecordFilter& filter) {
  std::vector<RecordedRun> out;
  Stmt s(db_,
         std::string(
             "SELECT r.id, r.unit, r.started_utc, r.ended_utc, r.outcome, r.suite, r.station, r.operator,"
             " r.run_folder, (SELECT COUNT(*) FROM runs r2 WHERE r2.unit = r.unit AND"
             " (r2.started_utc < r.started_utc OR (r2.started_utc = r.started_utc AND r2.id <= r.id)))"
             " FROM runs r") +
             kRunFilter + " ORDER BY r.started_utc, r.id",
         path_);
  bind_filter(s, filter);
  while (s.step()) {
    RecordedRun r;
    r.id = s.integer(0);
    r.unit = s.text(1);
    r.started_utc = s.text(2);
    r.ended_utc = s.text(3);
    r.outcome = s.text(4);
    r.suite = s.text(5);
    r.station = s.text(6);
    r.operator_ = s.text(7);
    r.run_folder = s.text(8);
    r.run_of_unit = static_cast<int>(s.integer(9));
    out.push_back(r);
  }
  for (auto& r : out) {
    Stmt f(
        db_,
        "SELECT f.image, f.version, f.method FROM firmware_flashed f JOIN attempts a ON a.id = f.attempt_id"
        " JOIN scenario_results sr ON sr.id = a.result_id WHERE sr.run_id = ?1 ORDER BY f.id",
        path_);
    f.bind(1, r.id);
    while (f.step())
      r.firmware_flashed +=
          (r.firmware_flashed.empty() ? "" : "; ") + f.text(0) + " " + f.text(1) + " by " + f.text(2);
    Stmt x(
        db_,
        "SELECT sr.scenario, sr.outcome, COALESCE((SELECT a.message FROM attempts a WHERE a.result_id = sr.id"
        " ORDER BY a.number DESC LIMIT 1), sr.reason) FROM scenario_results sr WHERE sr.run_id = ?1 AND"
        " sr.outcome <> 'PASS' ORDER BY sr.id",
        path_);
    x.bind(1, r.id);
    while (x.step())
      r.failures += (r.failures.empty() ? "" : "; ") + x.text(0) + " " + x.text(1) + ": " + x.text(2);
  }
  return out;
}

RecordStats RecordStore::stats(const RecordFilter& filter) {
  RecordStats st;
  std::vector<RecordedRun> all = runs(filter);
  std::map<std::string, int> per_unit;
  for (const auto& r : all) {
    ++st.runs;
    ++per_unit[r.unit];
    if (r.run_of_unit == 1) {
      // First-pass yield counts units first tested in the period, by their first run.
      ++st.units;
      if (r.outcome == "PASS") ++st.first_pass;
    } else {
      ++st.retests;
    }
  }
  for (const auto& [unit, n] : per_unit)
    if (n > 1) ++st.retested_units;

  Stmt m(db_,
         std::string("SELECT m.name, m.unit, m.value, m.low, m.high, m.within_limits FROM measurements m"
                     " JOIN attempts a ON a.id = m.attempt_id JOIN scenario_results sr ON sr.id = a.result_id"
                     " JOIN runs r ON r.id = sr.run_id") +
             kRunFilter + " ORDER BY m.name, m.id",
         path_);
  bind_filter(m, filter);
  struct Acc {
    MeasurementStats s;
    std::vector<double> values;
    bool first = true;
  };
  std::map<std::string, Acc> acc;
  while (m.step()) {
    Acc& a = acc[m.text(0)];
    a.s.name = m.text(0);
    a.s.unit = m.text(1);
    a.values.push_back(m.real(2));
    auto low = m.maybe(3), high = m.maybe(4);
    if (!a.first && (low != a.s.low || high != a.s.high)) a.s.limits_changed = true;
    a.s.low = low;  // the latest record's limits
    a.s.high = high;
    a.first = false;
    if (m.integer(5) == 0) ++a.s.out_of_limits;
  }
  for (auto& [name, a] : acc) {
    MeasurementStats s = a.s;
    s.n = static_cast<int>(a.values.size());
    double sum = 0;
    for (double v : a.values) sum += v;
    s.mean = sum / s.n;
    double sq = 0;
    for (double v : a.values) sq += (v - s.mean) * (v - s.mean);
    s.stddev = s.n > 1 ? std::sqrt(sq / (s.n - 1)) : 0.0;
    if (s.n > 1 && s.stddev > 0 && (s.low || s.high)) {
      double cpk = INFINITY;
      if (s.high) cpk = std::min(cpk, (*s.high - s.mean) / (3 * s.stddev));
      if (s.low) cpk = std::min(cpk, (s.mean - *s.low) / (3 * s.stddev));
      s.cpk = cpk;
    }
    st.measurements.push_back(s);
  }
  return st;
}

namespace {
constexpr const char* kExportColumns[] = {
    "run_id",          "unit",     "started_utc", "run_outcome",     "station",     "operator",
    "suite",           "scenario", "attempt",     "attempt_outcome", "measurement", "value",
    "unit_of_measure", "low",      "high",        "within_limits"};

// One row per measurement (or per attempt without any), the filter applied to runs.
template <typename Row>
void for_each_export_row(sqlite3* db, const std::filesystem::path& path, const RecordFilter& filter,
                         Row&& row) {
  Stmt s(db,
         std::string(
             "SELECT r.id, r.unit, r.started_utc, r.outcome, r.station, r.operator, r.suite, sr.scenario,"
             " a.number, a.outcome, m.name, m.value, m.unit, m.low, m.high, m.within_limits FROM runs r"
             " JOIN scenario_results sr ON sr.run_id = r.id JOIN attempts a ON a.result_id = sr.id"
             " LEFT JOIN measurements m ON m.attempt_id = a.id") +
             kRunFilter + " ORDER BY r.started_utc, r.id, sr.id, a.number, m.id",
         path);
  bind_filter(s, filter);
  while (s.step()) row(s);
}
}  // namespace

std::string RecordStore::export_csv(const RecordFilter& filter) {
  std::string out;
  for (const char* c : kExportColumns) out += std::string(out.empty() ? "" : ",") + c;
  out += "\n";
  for_each_export_row(db_, path_, filter, [&](const Stmt& s) {
    bool has_m = s.maybe(11).has_value();
    std::vector<std::string> f = {std::to_string(s.integer(0)),
                                  s.text(1),
                                  s.text(2),
                                  s.text(3),
                                  s.text(4),
                                  s.text(5),
                                  s.text(6),
                                  s.text(7),
                                  std::to_string(s.integer(8)),
                                  s.text(9),
                                  s.text(10),
                                  number_text(s.maybe(11)),
                                  s.text(12),
                                  number_text(s.maybe(13)),
                                  number_text(s.maybe(14)),
                                  has_m ? std::to_string(s.integer(15)) : ""};
    std::string line;
    for (std::size_t i = 0; i < f.size(); ++i) line += (i ? "," : "") + csv_field(f[i]);
    out += line + "\n";
  });
  return out;
}

std::string RecordStore::export_jsonl(const RecordFilter& filter) {
  std::string out;
  for_each_export_row(db_, path_, filter, [&](const Stmt& s) {
    nlohmann::json j = {{"run_id", s.integer(0)},      {"unit", s.text(1)},     {"started_utc", s.text(2)},
                        {"run_outcome", s.text(3)},    {"station", s.text(4)},  {"operator", s.text(5)},
                        {"suite", s.text(6)},          {"scenario", s.text(7)}, {"attempt", s.integer(8)},
                        {"attempt_outcome", s.text(9)}};
    if (auto v = s.maybe(11)) {
      j["measurement"] = s.text(10);
      j["value"] = *v;
      j["unit_of_measure"] = s.text(12);
      j["low"] = s.maybe(13) ? nlohmann::json(*s.maybe(13)) : nlohmann::json(nullptr);
      j["high"] = s.maybe(14) ? nlohmann::json(*s.maybe(14)) : nlohmann::json(nullptr);
      j["within_limits"] = s.integer(15) != 0;
    }
    out += j.dump() + "\n";
  });
  return out;
}

}  // namespace bootrig
