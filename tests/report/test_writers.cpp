// Tests for the summary line, JUnit XML and JSON renderings of a run.
#include "bootrig/report/writers.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bootrig/core/errors.hpp"

namespace bootrig {
namespace {

RunSummary sample_run() {
  RunSummary run;
  run.rig_name = "sim & co";
  run.rig_source = "<built-in>";
  run.simulated = true;
  run.unit = "FIPY-0042";
  run.started_utc = "2026-11-29T00:00:00Z";
  ScenarioResult pass{"normal-boot", "boot.py then main.py", Outcome::pass, {}, 4.2, "01-normal-boot"};
  pass.attempts.push_back({Outcome::pass, "scripts ran in order", "", 4.2,
                           {{"heartbeat.on_ms", 81, "ms", 60.0, 100.0}}, {}});
  ScenarioResult fail{"safeboot-window2", "previous image", Outcome::fail, {}, 9.0, "02-safeboot-window2"};
  fail.attempts.push_back({Outcome::fail, "expected 1.20.2.r4, saw 1.20.2.r6", "serial: >>> \x01\x02 <tag>", 9.0, {}, {}});
  ScenarioResult flaky{"hard-reset-pin", "", Outcome::flaky, {}, 8.0, ""};
  flaky.attempts.push_back({Outcome::fail, "no prompt", "", 4.0, {}, {}});
  flaky.attempts.push_back({Outcome::pass, "", "", 4.0, {}, {}});
  ScenarioResult skip{"factory-reset", "", Outcome::skip, {}, 0, ""};
  skip.attempts.push_back({Outcome::skip, "no SD card on this rig", "", 0, {}, {}});
  ScenarioResult err{"soft-reset-ctrl-d", "", Outcome::error, {}, 1, ""};
  err.attempts.push_back({Outcome::error, "serial port /dev/ttyUSB0 vanished", "", 1, {}, {}});
  run.scenarios = {pass, fail, flaky, skip, err};
  run.bootrig_version = "0.1.0";
  run.command_line = "bootrig run --all --out 'records/A B'";
  run.rig_sha256 = "ab12";
  run.sim_faults = {"garbage_rate=0.001", "fault_seed=1"};
  run.started_monotonic_ns = 12'000'000'001;
  return run;
}

// A run cut short while its second scenario held P12: one PASS with an unchecked expectation, the interrupted
// attempt, and one scenario that never ran.
RunSummary interrupted_run() {
  RunSummary run = sample_run();
  ScenarioResult w1{"safeboot-window1", "", Outcome::pass, {}, 4.1, "01-safeboot-window1"};
  Attempt a{Outcome::pass, "", "", 4.1, {}, {"firmware found: ota_0 runs FiPy 1.20.2.r6"}};
  a.expectations = {{"LED window 1 (slow blink)", ExpectationStatus::unchecked, "no photodiode on this rig"},
                    {"scripts skipped", ExpectationStatus::passed, ""}};
  w1.attempts.push_back(a);
  ScenarioResult w2{"safeboot-window2", "", Outcome::error, {}, 2.5, "02-safeboot-window2"};
  w2.attempts.push_back({Outcome::error, "interrupted by Interrupt", "", 2.5, {}, {"firmware found: ..."}});
  ScenarioResult nb{"normal-boot", "", Outcome::not_run, {}, 0, ""};
  nb.reason = "not run: the run was interrupted";
  run.scenarios = {w1, w2, nb};
  run.interrupted = true;
  run.finished = true;
  run.stop_reason = "interrupted by Interrupt during safeboot-window2 (2.5 s in)";
  run.board_state =
      "P12 and RESET released (bootrig had P12 asserted); the board was in 'release P12 in window 2'";
  run.ended_utc = "2026-11-29T00:00:09.000Z";
  run.exit_code = 3;
  return run;
}

std::string last_line(const std::string& text) {
  std::string t = text.substr(0, text.find_last_not_of('\n') + 1);
  return t.substr(t.rfind('\n') + 1);
}

TEST(SummaryLine, ShowsOutcomeNameTimeAndMessage) {
  auto run = sample_run();
  EXPECT_EQ(summary_line(run.scenarios[1]),
            "FAIL   safeboot-window2               9.0 s  expected 1.20.2.r4, saw 1.20.2.r6");
  EXPECT_NE(summary_line(run.scenarios[2]).find("(2 attempts)"), std::string::npos);
}

TEST(SummaryLine, SaysWhatThePassDidNotCheckAndWhyAScenarioDidNotRun) {
  auto run = interrupted_run();
  EXPECT_EQ(
      summary_line(run.scenarios[0]),
      "PASS   safeboot-window1               4.1 s  [LED window 1 (slow blink) not checked: no photodiode on "
      "this rig]");
  EXPECT_EQ(summary_line(run.scenarios[2]),
            "NOT RUN normal-boot                      -  not run: the run was interrupted");
}

TEST(SummaryText, AFinishedRunEndsWithItsTotals) {
  auto run = sample_run();
  run.finished = true;
  run.exit_code = 1;
  run.ended_utc = "2026-11-29T00:01:00.000Z";
  std::string t = to_summary_text(run);
  EXPECT_EQ(t.rfind("bootrig 0.1.0: bootrig run --all --out 'records/A B'\n", 0), 0u) << t;
  EXPECT_NE(t.find("rig: sim & co (<built-in>, sha256 ab12), SIMULATED module\n"), std::string::npos) << t;
  EXPECT_NE(t.find("simulator faults: garbage_rate=0.001, fault_seed=1\n"), std::string::npos) << t;
  EXPECT_NE(t.find("unit: FIPY-0042\n"), std::string::npos) << t;
  EXPECT_NE(t.find("started: 2026-11-29T00:00:00Z (monotonic 12.000000001 s)\n"), std::string::npos) << t;
  EXPECT_NE(t.find("ended: 2026-11-29T00:01:00.000Z"), std::string::npos) << t;
  EXPECT_NE(t.find("\nFAIL   safeboot-window2"), std::string::npos) << t;
  EXPECT_EQ(last_line(t), "1 passed, 1 failed, 1 errors, 1 skipped, 1 flaky, 0 not run; exit code 1") << t;
}

TEST(SummaryText, AnInterruptedRunListsWhatDidNotRunAndEndsWithTheInterruption) {
  std::string t = to_summary_text(interrupted_run());
  EXPECT_NE(t.find("\nNOT RUN normal-boot"), std::string::npos) << t;
  EXPECT_NE(t.find("1 passed, 0 failed, 1 errors, 0 skipped, 0 flaky, 1 not run; exit code 3\n"),
            std::string::npos)
      << t;
  EXPECT_EQ(
      last_line(t),
      "INTERRUPTED: interrupted by Interrupt during safeboot-window2 (2.5 s in); P12 and RESET released "
      "(bootrig had P12 asserted); the board was in 'release P12 in window 2'")
      << t;
}

TEST(SummaryText, AReportWrittenWhileTheRunGoesSaysSo) {
  auto run = sample_run();
  EXPECT_EQ(last_line(to_summary_text(run)).rfind("RUNNING: ", 0), 0u);
  run.finished = true;
  run.stop_reason = "the run stopped after normal-boot: the board could not be recovered";
  EXPECT_EQ(last_line(to_summary_text(run)),
            "STOPPED: the run stopped after normal-boot: the board could not be recovered");
}

TEST(JUnit, CountsAndKinds) {
  std::string x = to_junit_xml(sample_run());
  EXPECT_NE(x.find("<testsuites name=\"bootrig\" tests=\"5\" failures=\"2\" errors=\"1\" skipped=\"1\""),
            std::string::npos);
  EXPECT_NE(x.find("<testsuite name=\"bootrig sim &amp; co\""), std::string::npos);
  EXPECT_NE(x.find("<failure message=\"expected 1.20.2.r4, saw 1.20.2.r6\">"), std::string::npos);
  EXPECT_NE(x.find("<failure type=\"flaky\""), std::string::npos);
  EXPECT_NE(x.find("<skipped message=\"no SD card on this rig\"/>"), std::string::npos);
  EXPECT_NE(x.find("<error message=\"serial port /dev/ttyUSB0 vanished\">"), std::string::npos);
  EXPECT_NE(x.find("<property name=\"unit\" value=\"FIPY-0042\"/>"), std::string::npos);
  EXPECT_NE(x.find("attempt 1: FAIL (4.0 s) no prompt"), std::string::npos);
  EXPECT_NE(x.find("heartbeat.on_ms = 81 ms [60, 100]"), std::string::npos);
}

TEST(JUnit, ScenariosThatDidNotRunAreSkippedWithTheReasonAndUncheckedExpectationsAreListed) {
  std::string x = to_junit_xml(interrupted_run());
  EXPECT_NE(x.find("tests=\"3\" failures=\"0\" errors=\"1\" skipped=\"1\""), std::string::npos) << x;
  EXPECT_NE(x.find("<testcase classname=\"bootrig\" name=\"normal-boot\" time=\"0.000\">\n"
                   "      <skipped message=\"not run: the run was interrupted\"/>"),
            std::string::npos)
      << x;
  EXPECT_NE(
      x.find("<property name=\"expectation unchecked\" value=\"LED window 1 (slow blink): no photodiode on "
             "this rig\"/>"),
      std::string::npos)
      << x;
  EXPECT_NE(x.find("<property name=\"expectation checked-pass\" value=\"scripts skipped\"/>"),
            std::string::npos);
  EXPECT_NE(x.find("  expectation unchecked: LED window 1 (slow blink) (no photodiode on this rig)\n"),
            std::string::npos);
  EXPECT_NE(x.find("<property name=\"run_end\" value=\"INTERRUPTED: interrupted by Interrupt"),
            std::string::npos);
  EXPECT_NE(x.find("<property name=\"exit_code\" value=\"3\"/>"), std::string::npos);
  EXPECT_NE(
      x.find("<property name=\"command_line\" value=\"bootrig run --all --out &apos;records/A B&apos;\"/>"),
      std::string::npos);
  EXPECT_NE(x.find("<property name=\"rig_sha256\" value=\"ab12\"/>"), std::string::npos);
  EXPECT_NE(x.find("<property name=\"sim_faults\" value=\"garbage_rate=0.001, fault_seed=1\"/>"),
            std::string::npos);
  // The interrupted attempt keeps its notes.
  EXPECT_NE(x.find("attempt 1: ERROR (2.5 s) interrupted by Interrupt\n  note: firmware found: ...\n"),
            std::string::npos);
}

TEST(JUnit, SerialGarbageNeverBreaksTheXml) {
  std::string x = to_junit_xml(sample_run());
  for (char c : x) {
    unsigned char u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 || c == '\n' || c == '\t' || c == '\r') << "control byte " << int(u);
  }
  EXPECT_NE(x.find("&lt;tag&gt;"), std::string::npos);
  EXPECT_EQ(xml_escape(std::string("a\x01\xff", 3)), "a\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(Json, KeepsEveryAttemptAndMeasurement) {
  auto j = to_json(sample_run());
  EXPECT_EQ(j["rig"]["simulated"], true);
  EXPECT_EQ(j["unit"], "FIPY-0042");
  ASSERT_EQ(j["scenarios"].size(), 5u);
  EXPECT_EQ(j["scenarios"][2]["outcome"], "FLAKY");
  EXPECT_EQ(j["scenarios"][2]["attempts"].size(), 2u);
  EXPECT_EQ(j["scenarios"][0]["attempts"][0]["measurements"][0]["within_limits"], true);
  // Invalid UTF-8 from the serial line is replaced, so dump() cannot throw.
  EXPECT_NO_THROW((void)j.dump());
  EXPECT_EQ(j["exit_code"], nullptr) << "not known while the run goes";
  EXPECT_EQ(j["finished"], false);
}

TEST(Json, CarriesTheRunsProvenanceTotalsExpectationsAndHowItEnded) {
  auto j = to_json(interrupted_run());
  EXPECT_EQ(j["bootrig_version"], "0.1.0");
  EXPECT_EQ(j["command_line"], "bootrig run --all --out 'records/A B'");
  EXPECT_EQ(j["rig"]["sha256"], "ab12");
  EXPECT_EQ(j["rig"]["sim_faults"][0], "garbage_rate=0.001");
  EXPECT_EQ(j["started_monotonic_ns"], 12'000'000'001);
  EXPECT_EQ(j["ended_utc"], "2026-11-29T00:00:09.000Z");
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_EQ(j["interrupted"], true);
  EXPECT_EQ(j["totals"]["NOT RUN"], 1);
  EXPECT_EQ(j["totals"]["PASS"], 1);
  EXPECT_NE(j["board_state"].get<std::string>().find("P12 and RESET released"), std::string::npos);
  EXPECT_EQ(j["scenarios"][2]["outcome"], "NOT RUN");
  EXPECT_EQ(j["scenarios"][2]["reason"], "not run: the run was interrupted");
  EXPECT_EQ(j["scenarios"][2]["attempts"].size(), 0u);
  const auto& e = j["scenarios"][0]["attempts"][0]["expectations"];
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0]["what"], "LED window 1 (slow blink)");
  EXPECT_EQ(e[0]["status"], "unchecked");
  EXPECT_EQ(e[0]["detail"], "no photodiode on this rig");
  EXPECT_EQ(e[1]["status"], "checked-pass");
  EXPECT_FALSE(j["scenarios"][1]["attempts"][0].contains("stops_run"));
  auto stopped = interrupted_run();
  stopped.scenarios[1].attempts[0].stops_run = true;
  EXPECT_EQ(to_json(stopped)["scenarios"][1]["attempts"][0]["stops_run"], true);
}

TEST(WriteFileAtomically, ReplacesContentAndLeavesNoTemporary) {
  auto dir = std::filesystem::temp_directory_path() / ("bootrig-writers-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / "junit.xml";
  write_file_atomically(p, "one");
  write_file_atomically(p, "two");
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "two");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    files += e.path().filename() == "junit.xml" ? 1 : 100;
  EXPECT_EQ(files, 1) << "no temporary left behind";
  std::filesystem::remove_all(dir);
}

TEST(WriteFileAtomically, AFolderThatIsGoneIsAnErrorNamingTheFile) {
  auto dir = std::filesystem::temp_directory_path() / ("bootrig-writers-gone-" + std::to_string(::getpid()));
  EXPECT_THROW(write_file_atomically(dir / "results.json", "{}"), RigError) << "its folder does not exist";
}

TEST(CheckOutputFile, RefusesFoldersMissingFoldersAndPlacesNothingCanBeCreated) {
  auto dir = std::filesystem::temp_directory_path() / ("bootrig-check-out-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto message = [](const std::filesystem::path& p) {
    try {
      check_output_file(p, "--junit");
    } catch (const RigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(dir / "report.xml"), "accepted");
  EXPECT_FALSE(std::filesystem::exists(dir / "report.xml")) << "checking writes nothing";
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 0) << "and leaves nothing behind";
  EXPECT_EQ(message(dir), "--junit " + dir.string() + ": is a folder; give a file name in it");
  EXPECT_EQ(message(dir / "missing/report.xml"), "--junit " + (dir / "missing/report.xml").string() +
                                                     ": the folder " + (dir / "missing").string() +
                                                     " does not exist; create it first");
  EXPECT_FALSE(std::filesystem::exists(dir / "missing")) << "never created";
  EXPECT_EQ(message("/proc/bootrig-report.xml")
                .rfind("--junit /proc/bootrig-report.xml: cannot create files in /proc (", 0),
            0u)
      << message("/proc/bootrig-report.xml");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bootrig
