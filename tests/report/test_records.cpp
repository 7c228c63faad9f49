// Tests for the station's records: append-only SQLite in WAL mode, filters, exports read back, yield and Cpk.
#include "bootrig/report/records.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "support/run_bootrig.hpp"
#include "support/scenario_rig.hpp"
#include "support/sqlite_query.hpp"

namespace bootrig {
namespace {

// A finished run of `unit` with one scenario and one measurement, as the runner would leave it.
RunSummary unit_run(const std::string& unit, const std::string& started, Outcome outcome, double value,
                    const std::string& scenario = "normal-boot") {
  RunSummary run;
  run.unit = unit;
  run.started_utc = started;
  run.ended_utc = started;
  run.rig_name = "test";
  run.simulated = true;
  run.finished = true;
  ScenarioResult sc;
  sc.name = scenario;
  sc.outcome = outcome;
  Attempt a;
  a.outcome = outcome;
  a.message = outcome == Outcome::pass ? "" : "measured outside the limits: boot.reset_to_prompt_ms = 9 ms";
  a.measurements.push_back({"boot.reset_to_prompt_ms", value, "ms", 100.0, 200.0});
  a.firmware =
      FirmwarePrep{"current running", "factory runs 1.20.2.r4", {{"current", "1.20.2.r6", "OTA", 4.0}}};
  sc.attempts.push_back(a);
  run.scenarios.push_back(sc);
  run.exit_code = outcome == Outcome::pass ? 0 : 1;
  return run;
}

RecordFilter filter_of(std::string unit, std::string since, std::string until, std::string outcome,
                       std::string scenario) {
  RecordFilter f;
  f.unit = std::move(unit);
  f.since_utc = std::move(since);
  f.until_utc = std::move(until);
  f.outcome = std::move(outcome);
  f.scenario = std::move(scenario);
  return f;
}

class StationRecords : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = testing::fresh_run_dir("records");
    std::filesystem::create_directories(dir);
    db = dir / "station.sqlite";
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::filesystem::path dir, db;
  StationIdentity who{"line-1", "ana", "eol"};
};

TEST_F(StationRecords, WalModeAppendOnlyAndARetestIsANewRun) {
  {
    RecordStore store(db);
    store.add_run(unit_run("SN1", "2026-12-01T08:00:00.000Z", Outcome::fail, 90), who, "runs/SN1");
    store.add_run(unit_run("SN1", "2026-12-01T08:05:00.000Z", Outcome::pass, 150), who, "runs/SN1/run-2");
  }
  EXPECT_EQ(testing::sqlite_first_value(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(testing::sqlite_first_value(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(testing::sqlite_first_value(db, "SELECT COUNT(*) FROM runs WHERE unit = 'SN1'"), "2");
  EXPECT_EQ(testing::sqlite_first_value(db, "SELECT COUNT(*) FROM units"), "1");
  EXPECT_EQ(testing::sqlite_first_value(db, "SELECT within_limits FROM measurements ORDER BY id LIMIT 1"),
            "0");
  EXPECT_EQ(
      testing::sqlite_first_value(db, "SELECT version || ' by ' || method FROM firmware_flashed LIMIT 1"),
      "1.20.2.r6 by OTA");
  // The database refuses rewriting, whoever asks.
  EXPECT_NE(testing::sqlite_first_value(db, "UPDATE runs SET outcome = 'PASS'").find("append-only"),
            std::string::npos);
  EXPECT_NE(testing::sqlite_first_value(db, "DELETE FROM measurements").find("append-only"),
            std::string::npos);
  EXPECT_EQ(testing::sqlite_first_value(db, "SELECT COUNT(*) FROM measurements"), "2");

  RecordStore store(db);
  auto runs = store.runs({});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].outcome, "FAIL");
  EXPECT_EQ(runs[0].run_of_unit, 1);
  EXPECT_EQ(runs[1].run_of_unit, 2);
  EXPECT_EQ(runs[0].station, "line-1");
  EXPECT_EQ(runs[0].operator_, "ana");
  EXPECT_EQ(runs[0].firmware_flashed, "current 1.20.2.r6 by OTA");
  EXPECT_NE(runs[0].failures.find("normal-boot FAIL: measured outside the limits"), std::string::npos);
}

TEST_F(StationRecords, FiltersByUnitDateOutcomeAndScenario) {
  RecordStore store(db);
  store.add_run(unit_run("A1", "2026-12-01T08:00:00.000Z", Outcome::pass, 150), who, "");
  store.add_run(unit_run("A2", "2026-12-02T08:00:00.000Z", Outcome::fail, 250, "hard-reset-pin"), who, "");
  store.add_run(unit_run("A3", "2026-12-03T08:00:00.000Z", Outcome::pass, 160), who, "");
  EXPECT_EQ(store.runs(filter_of("A2", "", "", "", "")).size(), 1u);
  EXPECT_EQ(store.runs(filter_of("", "2026-12-02", "", "", "")).size(), 2u);
  EXPECT_EQ(store.runs(filter_of("", "2026-12-02", "2026-12-03", "", "")).size(), 1u);
  EXPECT_EQ(store.runs(filter_of("", "", "", "PASS", "")).size(), 2u);
  auto hr = store.runs(filter_of("", "", "", "", "hard-reset-pin"));
  ASSERT_EQ(hr.size(), 1u);
  EXPECT_EQ(hr[0].unit, "A2");
  EXPECT_EQ(check_record_date("2026-12-05T06:00Z", "--since"), "2026-12-05T06:00");
  EXPECT_THROW(check_record_date("yesterday", "--since"), RigError);
}

TEST_F(StationRecords, StatsGiveFirstPassYieldRetestsAndCpk) {
  RecordStore store(db);
  // U1 fails then passes (a retest); U2 and U3 pass first time: 2 of 3 first-pass.
  store.add_run(unit_run("U1", "2026-12-01T08:00:00.000Z", Outcome::fail, 120), who, "");
  store.add_run(unit_run("U1", "2026-12-01T09:00:00.000Z", Outcome::pass, 140), who, "");
  store.add_run(unit_run("U2", "2026-12-01T10:00:00.000Z", Outcome::pass, 160), who, "");
  store.add_run(unit_run("U3", "2026-12-01T11:00:00.000Z", Outcome::pass, 180), who, "");
  RecordStats st = store.stats({});
  EXPECT_EQ(st.runs, 4);
  EXPECT_EQ(st.units, 3);
  EXPECT_EQ(st.first_pass, 2);
  EXPECT_NEAR(st.first_pass_yield(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(st.retests, 1);
  EXPECT_EQ(st.retested_units, 1);
  ASSERT_EQ(st.measurements.size(), 1u);
  const MeasurementStats& m = st.measurements[0];
  // Values 120, 140, 160, 180: mean 150, sample sd sqrt(2000/3); limits 100..200: Cpk = 50 / (3 sd).
  double sd = std::sqrt(2000.0 / 3.0);
  EXPECT_EQ(m.n, 4);
  EXPECT_NEAR(m.mean, 150.0, 1e-9);
  EXPECT_NEAR(m.stddev, sd, 1e-9);
  ASSERT_TRUE(m.cpk);
  EXPECT_NEAR(*m.cpk, 50.0 / (3 * sd), 1e-9);
  // A period that starts after U1's first run: U1's retest is no first run, so it counts as a retest only.
  RecordStats later = store.stats(filter_of("", "2026-12-01T08:30", "", "", ""));
  EXPECT_EQ(later.units, 2);
  EXPECT_EQ(later.retests, 1);
}

TEST_F(StationRecords, ExportsAreReadBackByRealReaders) {
  {
    RecordStore store(db);
    RunSummary r = unit_run("SN,\"7\"", "2026-12-01T08:00:00.000Z", Outcome::pass, 150);
    store.add_run(r, who, "");
    store.add_run(unit_run("SN8", "2026-12-01T09:00:00.000Z", Outcome::fail, 250), who, "");
  }
  RecordStore store(db);
  std::istringstream lines(store.export_jsonl({}));
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["measurement"], "boot.reset_to_prompt_ms");
    EXPECT_EQ(j["low"], 100.0);
    EXPECT_EQ(j["within_limits"], j["value"].get<double>() <= 200.0);
  }
  EXPECT_EQ(n, 2);
  // Python's csv module, not our own reader, parses the CSV.
  std::ofstream(dir / "out.csv") << store.export_csv({});
  auto r = testing::run_command(
      "python3 -c 'import csv,sys; rows=list(csv.DictReader(open(sys.argv[1]))); "
      "print(len(rows), rows[0][\"unit\"], rows[1][\"within_limits\"], rows[0][\"value\"])' " +
      (dir / "out.csv").string());
  EXPECT_EQ(r.out, "2 SN,\"7\" 0 150\n");
}

// A writer killed at any instant (SIGKILL: no handler runs) leaves a database whose every run is whole.
TEST_F(StationRecords, AKilledWriterLeavesAValidDatabase) {
  { RecordStore create(db); }
  pid_t child = ::fork();
  ASSERT_GE(child, 0) << "fork";
  if (child == 0) {
    // The child never returns into the test framework (a failure there would run the rest of the test in two
    // processes): anything but being killed ends it at once.
    try {
      RecordStore store(db);
      for (int i = 0;; ++i) {
        RunSummary r = unit_run("K" + std::to_string(i), "2026-12-01T08:00:00.000Z", Outcome::pass, 150);
        for (int k = 0; k < 20; ++k)
          r.scenarios[0].attempts[0].measurements.push_back({"x", 1.0 * k, "ms", {}, {}});
        store.add_run(r, who, "");
      }
    } catch (...) {
    }
    ::_exit(1);
  }
  // Killed once some runs are committed (polled, not timed), in the middle of later ones.
  RecordStore reader(db);
  for (int tries = 0; reader.runs({}).size() < 5 && tries < 6000; ++tries) ::usleep(10000);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  EXPECT_EQ(testing::sqlite_first_value(db, "PRAGMA integrity_check"), "ok");
  auto runs = reader.runs({});
  EXPECT_GE(runs.size(), 5u);
  // Every committed run has all 21 measurements: no run is half there.
  EXPECT_EQ(testing::sqlite_first_value(
                db,
                "SELECT COUNT(*) FROM (SELECT sr.run_id, COUNT(m.id) AS n FROM scenario_results sr JOIN "
                "attempts a ON a.result_id = sr.id JOIN measurements m ON m.attempt_id = a.id GROUP BY "
                "sr.run_id) WHERE n <> 21"),
            "0");
}

TEST_F(StationRecords, AMissingFolderOrARunWithoutAUnitIsRefused) {
  EXPECT_THROW(RecordStore(dir / "nope" / "x.sqlite"), RigError);
  RecordStore store(db);
  RunSummary r = unit_run("", "2026-12-01T08:00:00.000Z", Outcome::pass, 150);
  EXPECT_THROW(store.add_run(r, who, ""), RigError);
}

}  // namespace
}  // namespace bootrig
