// Tests for report.html: its content from a made-up timeline, and a real run on the simulator read back by
// headless Chromium, sigrok-cli, python3-jsonschema and python3-junitparser.
#include "bootrig/report/html_report.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "bootrig/observe/timeline.hpp"
#include "support/run_folder_check.hpp"
#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

std::size_t html_count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// A run of one scenario with two attempts whose timelines are written by a real Timeline: a safe-boot reset
// (P12 asserted, RESET pulsed), LED edges, a banner with a hostile line, a command typed, the verdict.
struct MadeUpRun {
  std::filesystem::path dir = testing::fresh_run_dir("html");
  RunSummary run;
  RigView rig;
  MadeUpRun() {
    run.rig_name = "made-up <rig>";
    run.simulated = true;
    run.started_utc = "2026-12-05T06:00:00.000Z";
    ScenarioResult s;
    s.name = "safeboot-window1";
    s.folder = "01-safeboot-window1";
    s.outcome = Outcome::flaky;
    for (int k = 1; k <= 2; ++k) {
      Attempt a;
      a.outcome = k == 1 ? Outcome::fail : Outcome::pass;
      a.message = k == 1 ? "window 1 blinked at 400 ms" : "";
      a.seconds = 1.5;
      a.measurements.push_back({"window1.toggle_ms", k == 1 ? 400.0 : 251.0, "ms", 200.0, 300.0});
      s.attempts.push_back(a);
      Timeline tl(dir / s.folder / ("attempt-" + std::to_string(k)));
      TimePoint t0 = now();
      tl.note("rig made up", t0);
      tl.output_change("safeboot", Level::active, t0 + milliseconds(10), t0 + milliseconds(10));
      tl.output_change("reset", Level::active, t0 + milliseconds(20), t0 + milliseconds(20));
      tl.output_change("reset", Level::inactive, t0 + milliseconds(70), t0 + milliseconds(70));
      tl.led_edge("led", {Edge::rising, t0 + milliseconds(180)});
      tl.led_edge("led", {Edge::falling, t0 + milliseconds(430)});
      tl.serial(SerialDirection::rx, "pty", t0 + milliseconds(200),
                "ets Jun  8 2016\r\n<script>x</script>\r\n>>> ");
      tl.serial(SerialDirection::tx, "pty", t0 + milliseconds(900), "import os\r");
      tl.output_change("safeboot", Level::inactive, t0 + milliseconds(1000), t0 + milliseconds(1000));
      tl.step_end("release P12 in window 1", "ok", t0 + milliseconds(1001));
      tl.note(k == 1 ? "verdict FAIL: window 1 blinked at 400 ms" : "verdict PASS", t0 + milliseconds(2600));
    }
    run.scenarios.push_back(s);
    ScenarioResult n;
    n.name = "normal-boot";
    n.outcome = Outcome::not_run;
    n.reason = "not run: the run was interrupted";
    run.scenarios.push_back(n);
    rig.timing = testing::half_timing();
    rig.p2 = false;
  }
  ~MadeUpRun() { std::filesystem::remove_all(dir); }
};

TEST(HtmlReport, OneDiagramPerAttemptWithItsLanesWindowsMarksAndVerdict) {
  MadeUpRun m;
  std::string h = to_html_report(m.run, m.dir, m.rig);
  EXPECT_EQ(h.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html_count(h, "<figure class=\"attempt\""), 2u);
  EXPECT_EQ(html_count(h, "<svg class=\"timing\""), 2u);
  for (const char* lane : {"P12", "RESET", "P2", "LED", "serial", "bootrig"})
    EXPECT_EQ(html_count(h, std::string("data-lane=\"") + lane + "\""), 2u) << lane;
  // The reset released with P12 asserted: the bootloader's phases shaded, each once per attempt, up to the
  // attempt's end (the final phase would begin at 3.15 s, after the verdict at 2.6 s).
  for (const char* w : {"re-check", "window 1", "window 2"})
    EXPECT_EQ(html_count(h, std::string("data-window=\"") + w + "\""), 2u) << w;
  EXPECT_EQ(html_count(h, "data-window=\"final\""), 0u);
  // Four line changes acted, one step and the verdict decided, per attempt.
  EXPECT_EQ(html_count(h, "data-mark=\"acted\""), 8u);
  EXPECT_EQ(html_count(h, "data-mark=\"decided\""), 4u);
  EXPECT_NE(h.find("P2 not wired on this rig"), std::string::npos);
  // Verdict and measurement on the diagram, the measurement against its limits in the table.
  EXPECT_NE(h.find(">FAIL  safeboot-window1, attempt 1"), std::string::npos);
  EXPECT_NE(h.find("window1.toggle_ms = 400 ms, limits 200 to 300 ms OUT"), std::string::npos);
  EXPECT_NE(h.find("OUT OF LIMITS"), std::string::npos);
  EXPECT_NE(h.find("window 1 blinked at 400 ms"), std::string::npos);
  // What the board printed is text, never markup; the serial excerpt marks the verdict.
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_NE(h.find("&lt;script&gt;x&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(h.find("--- verdict ---"), std::string::npos);
  EXPECT_NE(h.find("made-up &lt;rig&gt;"), std::string::npos);
  EXPECT_NE(h.find("not run: the run was interrupted"), std::string::npos);
  // Self-contained: the SVG namespace is the only URL in it.
  EXPECT_EQ(html_count(h, "http"), 2u);
}

TEST(HtmlReport, AnAttemptWithoutATimelineSaysSoAndStillHasItsDiagram) {
  MadeUpRun m;
  std::filesystem::remove_all(m.dir / "01-safeboot-window1/attempt-2");
  std::string h = to_html_report(m.run, m.dir, m.rig);
  EXPECT_EQ(html_count(h, "<figure class=\"attempt\""), 2u);
  EXPECT_NE(h.find("No timing diagram: "), std::string::npos);
  EXPECT_NE(h.find("events.jsonl (a run"), std::string::npos);
  EXPECT_NE(h.find("event log): no such file; check the path"), std::string::npos);
  EXPECT_NE(h.find("No serial traffic in this attempt."), std::string::npos);
}

TEST(HtmlReport, ACacheReadsAFinishedAttemptsLogOnceAndAChangedOneAgain) {
  MadeUpRun m;
  HtmlReportCache cache;
  const std::string first = to_html_report(m.run, m.dir, m.rig, &cache);
  EXPECT_EQ(first, to_html_report(m.run, m.dir, m.rig)) << "the cache changes nothing drawn";
  EXPECT_EQ(cache.files_read(), 2u);
  EXPECT_EQ(to_html_report(m.run, m.dir, m.rig, &cache), first);
  EXPECT_EQ(cache.files_read(), 2u) << "unchanged logs are not read again";
  // The running attempt's log grows between writes: it is read again and its new event drawn.
  auto log = m.dir / "01-safeboot-window1/attempt-2/events.jsonl";
  std::string last;
  {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) last = line;
  }
  auto t = nlohmann::json::parse(last).at("t").get<std::int64_t>();
  std::ofstream(log, std::ios::app) << nlohmann::json{{"t", t + 1}, {"seq", 999}, {"kind", "output"},
                                                      {"line", "bootloader"}, {"level", 1}}
                                           .dump()
                                    << "\n";
  std::string grown = to_html_report(m.run, m.dir, m.rig, &cache);
  EXPECT_EQ(cache.files_read(), 3u);
  EXPECT_EQ(html_count(grown, "data-mark=\"acted\""), 9u);
  EXPECT_EQ(grown, to_html_report(m.run, m.dir, m.rig));
  // A log that went away is said so, and asked for again at each write rather than remembered.
  std::filesystem::remove(m.dir / "01-safeboot-window1/attempt-1/events.jsonl");
  for (int k = 0; k < 2; ++k)
    EXPECT_NE(to_html_report(m.run, m.dir, m.rig, &cache).find("No timing diagram: "), std::string::npos);
  EXPECT_EQ(cache.files_read(), 5u);
}

// One run on the simulator: a pass and a measurement out of limits retried once, then every file it left
// read back by the real readers, report.html rendered once in headless Chromium.
TEST(HtmlReport, ARealRunReadsBackInChromiumSigrokJsonschemaAndJunitparser) {
  auto dir = testing::fresh_run_dir("report");
  std::filesystem::create_directories(dir);
  auto rig = dir / "rig.toml";
  // Window 1 blinks 60 % slow: out of its limits, a FAIL with a measurement, retried.
  std::ofstream(rig) << testing::half_speed_sim_rig_toml() << "[sim.faults]\nled_period_percent = 60\n";
  auto out = dir / "run";
  auto r = testing::run_bootrig("--rig " + rig.string() +
                                " run normal-boot safeboot-window1 --retries 1 --out " + out.string());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto t0 = std::chrono::steady_clock::now();
  auto c = testing::check_run_folder(out, "--sigrok --render");
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(c.exit_code, 0) << c.out;
  std::printf("readers: %s(%.1f s)\n", c.out.c_str(), took);
  auto j = nlohmann::json::parse(testing::slurp_file(out / "results.json"));
  EXPECT_EQ(j["scenarios"][1]["attempts"].size(), 2u);
  // What the board said of itself: the normal boot runs the current image; the slow blink made window 1's
  // release late, so the last attempt booted the previous one, and the run's identity is the last read.
  EXPECT_EQ(j["scenarios"][0]["attempts"][0]["board"]["firmware_version"], "1.20.2.r6");
  EXPECT_EQ(j["board"]["firmware_version"], j["scenarios"][1]["attempts"][1]["board"]["firmware_version"]);
  EXPECT_EQ(j["board"]["board"], "FiPy");
  EXPECT_EQ(j["board"]["unique_id"].get<std::string>().size(), 12u) << j["board"];
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bootrig
