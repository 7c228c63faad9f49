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
  return run;
}

TEST(SummaryLine, ShowsOutcomeNameTimeAndMessage) {
  auto run = sample_run();
  EXPECT_EQ(summary_line(run.scenarios[1]),
            "FAIL   safeboot-window2               9.0 s  expected 1.20.2.r4, saw 1.20.2.r6");
  EXPECT_NE(summary_line(run.scenarios[2]).find("(2 attempts)"), std::string::npos);
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
  EXPECT_FALSE(std::filesystem::exists(dir / "junit.xml.tmp"));
  std::filesystem::remove_all(dir);
}

// A full disk while writing: /dev/full fails every write with ENOSPC, as a full file system does. The report
// keeps its last complete version (never a truncated JSON) and the error says what happened.
TEST(WriteFileAtomically, AFullDiskLeavesTheLastCompleteVersionAndSaysSo) {
  auto dir = std::filesystem::temp_directory_path() / ("bootrig-writers-full-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / "results.json";
  write_file_atomically(p, "{\"complete\": false}\n");
  std::filesystem::create_symlink("/dev/full", dir / "results.json.tmp");
  try {
    write_file_atomically(p, "{\"complete\": true, \"scenarios\": [" + std::string(100000, ' ') + "]}\n");
    ADD_FAILURE() << "a write to a full disk passed";
  } catch (const RigError& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + (dir / "results.json.tmp").string() +
                                         " (disk full?); results.json keeps its last complete version");
  }
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "{\"complete\": false}\n");
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(dir / "results.json.tmp")));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bootrig
