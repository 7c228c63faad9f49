// The LED decoder, boot-log reader and timeline against the simulated module, wired as a rig wires them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "bootrig/observe/recording.hpp"
#include "bootrig/repl/repl_client.hpp"
#include "support/sim_fixture.hpp"

namespace bootrig {
namespace {

using test::SimRig;

// The simulator's fast timings, with an error toggle of its own (the fixture leaves the firmware's 50 ms,
// which would equal window 2 there) and a generous tolerance: the simulated chip is a thread on a
// loaded machine, its LED edges jitter by milliseconds.
TimingProfile decoder_timing(const SimRig& rig) {
  TimingProfile p = rig.timing();
  p.error_toggle = milliseconds(10);
  p.error_duration = milliseconds(240);
  p.led_tolerance_percent = 30;
  return p;
}

// Known patterns in order, repeats merged (a late simulated toggle may split a span in two).
std::vector<LedPattern> sequence(const LedDecoder& d) {
  std::vector<LedPattern> v;
  auto spans = d.history();
  spans.push_back(d.current());
  for (const auto& s : spans) {
    if (s.pattern == LedPattern::unknown) continue;
    if (v.empty() || v.back() != s.pattern) v.push_back(s.pattern);
  }
  return v;
}

bool contains(const std::vector<LedPattern>& v, LedPattern p) {
  return std::find(v.begin(), v.end(), p) != v.end();
}

Deadline soon() { return Deadline::after(seconds(20)); }

TEST(LedSim, ReleaseInWindowTwoOnTheLedsWord) {
  SimRig rig;
  LedDecoder d(decoder_timing(rig));
  LedWatcher w(rig.led(), d, nullptr);
  rig.safeboot().set(Level::active);
  rig.press_reset();
  auto w1 = d.wait_for_pattern(LedPattern::safeboot_window1, soon());
  ASSERT_TRUE(w1.ok()) << w1.error().describe();
  auto w2 = d.wait_for_pattern(LedPattern::safeboot_window2, soon());
  ASSERT_TRUE(w2.ok()) << w2.error().describe();
  rig.safeboot().set(Level::inactive);
  // What the decoder measured when it answered: one whole period of 50 ms on / 50 ms off.
  EXPECT_GE(w2->current.half_periods, 2);
  EXPECT_NEAR(to_ms(w2->current.on_mean), 50.0, 15.0);
  ASSERT_TRUE(w2->previous);
  EXPECT_EQ(w2->previous->pattern, LedPattern::safeboot_window1);
  EXPECT_NEAR(to_ms(w2->previous->period_mean), 200.0, 60.0);
  EXPECT_GE(w2->previous->periods, 2);
  // Released in window 2: the board boots without the factory phase and the heartbeat starts.
  auto hb = d.wait_for_pattern(LedPattern::heartbeat, soon());
  ASSERT_TRUE(hb.ok()) << hb.error().describe();
  EXPECT_NEAR(to_ms(hb->current.on_mean), 16.0, 12.0);
  auto seq = sequence(d);
  EXPECT_FALSE(contains(seq, LedPattern::safeboot_final));
  EXPECT_LT(std::find(seq.begin(), seq.end(), LedPattern::safeboot_window2) - seq.begin(),
            std::find(seq.begin(), seq.end(), LedPattern::heartbeat) - seq.begin());
  EXPECT_FALSE(w.failure());
}

TEST(LedSim, HeldToTheEndShowsAllThreePhases) {
  SimRig rig;
  LedDecoder d(decoder_timing(rig));
  LedWatcher w(rig.led(), d, nullptr);
  rig.safeboot().set(Level::active);
  rig.press_reset();
  auto fin = d.wait_for_pattern(LedPattern::safeboot_final, soon());
  ASSERT_TRUE(fin.ok()) << fin.error().describe();
  auto after = d.wait_for_change(LedPattern::safeboot_final, soon());
  ASSERT_TRUE(after.ok()) << after.error().describe();
  rig.safeboot().set(Level::inactive);
  auto seq = sequence(d);
  ASSERT_GE(seq.size(), 3u);
  EXPECT_EQ(seq[0], LedPattern::safeboot_window1);
  EXPECT_EQ(seq[1], LedPattern::safeboot_window2);
  EXPECT_EQ(seq[2], LedPattern::safeboot_final);
  // The final phase lasts its 300 ms (15 toggles of 20 ms). The decoder names a span only after a few
  // toggles and the simulated chip is a thread on a possibly loaded machine, so only the order of magnitude
  // is asserted: clearly a phase of its own, not a stray blink, and not the whole boot.
  auto spans = d.history();
  for (const auto& s : spans) {
    if (s.pattern == LedPattern::safeboot_final && s.end) {
      EXPECT_GE(to_ms(*s.end - s.start), 120.0);
      EXPECT_LE(to_ms(*s.end - s.start), 1500.0);
    }
  }
}

TEST(LedSim, NormalBootOnlyHeartbeat) {
  SimRig rig;
  LedDecoder d(decoder_timing(rig));
  LedWatcher w(rig.led(), d, nullptr);
  rig.press_reset();
  auto hb = d.wait_for_pattern(LedPattern::heartbeat, soon());
  ASSERT_TRUE(hb.ok()) << hb.error().describe();
  EXPECT_NEAR(to_ms(hb->current.period_mean), 800.0, 80.0);
  EXPECT_NEAR(hb->current.duty_cycle, 0.02, 0.015);
  auto seq = sequence(d);
  EXPECT_FALSE(contains(seq, LedPattern::safeboot_window1));
}

TEST(ObserveSim, OneTimelineForPinsLedSerialAndSteps) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("observe_sim_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  SimRig rig;
  {
    Timeline tl(dir);
    BootLogRecorder boot(&tl);
    RecordingSerialLink link(rig.uart(), tl, &boot);
    RecordingOutput safeboot(rig.safeboot(), tl, "safeboot");
    RecordingOutput reset(rig.reset(), tl, "reset");
    LedDecoder d(decoder_timing(rig));
    LedWatcher w(rig.led(), d, &tl);
    ReplClient repl(link);

    tl.step_start("safe boot released in window 2");
    safeboot.set(Level::active);
    reset.set(Level::active);
    wait_for(rig.timing().reset_pulse);
    reset.set(Level::inactive);
    auto w2 = d.wait_for_pattern(LedPattern::safeboot_window2, soon());
    ASSERT_TRUE(w2.ok()) << w2.error().describe();
    safeboot.set(Level::inactive);
    auto prompt = repl.await_prompt(soon());
    ASSERT_TRUE(prompt.ok()) << prompt.error().describe();
    auto r = repl.exec_raw("import pycom\nprint(pycom.bootmgr()[2])", soon());
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->output, "SafeBoot: True\n");
    tl.step_end("safe boot released in window 2", "pass");
    w.stop();
  }
  auto ev = read_events(dir / "events.jsonl");
  std::map<std::string, int> count;
  std::int64_t reset_release = 0, release = 0, w2_detected = 0, rom = 0, banner = 0;
  std::int64_t last_edge = 0;
  for (const auto& e : ev) {
    std::string kind = e["kind"];
    ++count[kind];
    std::int64_t t = e["t"];
    if (kind == "output" && e["line"] == "reset" && e["level"] == 0) reset_release = t;
    if (kind == "output" && e["line"] == "safeboot" && e["level"] == 0) release = t;
    if (kind == "led_pattern" && e["pattern"] == "safeboot_window2" && e["phase"] == "start" &&
        !w2_detected) {
      w2_detected = e["detected"];
    }
    if (kind == "boot" && e["event"] == "rom_reset" && !rom) rom = t;
    if (kind == "boot" && e["event"] == "banner") banner = t;
    if (kind == "led_edge") {
      EXPECT_GE(t, last_edge);  // kernel-style timestamps arrive in order
      last_edge = t;
    }
  }
  EXPECT_EQ(count["output"], 4);
  EXPECT_GT(count["led_edge"], 10);
  EXPECT_GT(count["serial"], 2);
  EXPECT_GE(count["led_pattern"], 3);
  EXPECT_EQ(count["step_start"], 1);
  EXPECT_EQ(count["step_end"], 1);
  // One clock: the causal order shows in the times.
  EXPECT_GT(rom, reset_release);
  EXPECT_GT(release, w2_detected);
  EXPECT_GT(banner, release);
  std::ifstream log(dir / "serial.log");
  std::string first;
  std::getline(log, first);
  EXPECT_NE(first.find(" rx "), std::string::npos);
}

}  // namespace
}  // namespace bootrig
