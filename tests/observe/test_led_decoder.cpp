// Tests for the LED decoder: synthetic edge trains with jitter, missed edges and bounce; live waits.
#include "bootrig/observe/led_decoder.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <random>
#include <set>
#include <thread>

#include "bootrig/core/interrupt.hpp"
#include "bootrig/observe/recording.hpp"
#include "support/fake_lines.hpp"

namespace bootrig {
namespace {

using testing::FakeInput;

// Builds the edges an LED produces: phases of a level held for a duration, with optional jitter.
class Train {
 public:
  explicit Train(TimePoint t0, Level initial = Level::inactive, double jitter = 0.0, unsigned seed = 1)
      : t_(t0), level_(initial), jitter_(jitter), rng_(seed) {}

  void hold(Level l, Duration d) {
    if (l != level_) {
      edges_.push_back({is_active(l) ? Edge::rising : Edge::falling, t_});
      level_ = l;
    }
    double f = jitter_ > 0 ? std::uniform_real_distribution<double>(-jitter_, jitter_)(rng_) : 0.0;
    t_ += std::chrono::duration_cast<Duration>(
        std::chrono::duration<double, Duration::period>(d.count() * (1 + f)));
  }
  // `toggles` half-periods starting on, as bootmgr.c's loops produce them.
  void blink(Duration on, Duration off, int toggles) {
    for (int i = 0; i < toggles; ++i)
      hold(i % 2 == 0 ? Level::active : Level::inactive, i % 2 == 0 ? on : off);
  }
  TimePoint now_at() const { return t_; }
  std::vector<LineEvent>& edges() { return edges_; }

 private:
  TimePoint t_;
  Level level_;
  double jitter_;
  std::mt19937 rng_;
  std::vector<LineEvent> edges_;
};

TimingProfile firmware() { return TimingProfile{}; }

// Ten times faster than the firmware, for tests that run in real time.
TimingProfile fast_profile() {
  TimingProfile p;
  p.window1_toggle = milliseconds(50);
  p.window2_toggle = milliseconds(25);
  p.final_toggle = milliseconds(10);
  p.final_duration = milliseconds(150);
  p.heartbeat_on = milliseconds(8);
  p.heartbeat_off = milliseconds(392);
  p.error_toggle = milliseconds(5);
  p.error_duration = milliseconds(120);
  return p;
}

// The safe-boot sequence held to the end, as bootmgr.c blinks it, then the LED dark.
struct SafeBootTruth {
  TimePoint window1, window2, final_phase, led_off;
};
SafeBootTruth safe_boot_held(Train& tr, const TimingProfile& p) {
  SafeBootTruth t;
  t.window1 = tr.now_at();
  tr.blink(p.window1_toggle, p.window1_toggle, p.window1_iterations);
  t.window2 = tr.now_at();
  tr.blink(p.window2_toggle, p.window2_toggle, p.window2_iterations);
  t.final_phase = tr.now_at();
  tr.blink(p.final_toggle, p.final_toggle, static_cast<int>(p.final_duration / p.final_toggle));
  t.led_off = tr.now_at();
  tr.hold(Level::inactive, p.heartbeat_off * 2);
  return t;
}

std::vector<LedMeasurement> decode(LedDecoder& d, TimePoint origin, Level initial,
                                   std::vector<LineEvent>& edges, TimePoint end) {
  d.start(origin, initial);
  for (const auto& e : edges) d.feed(e);
  d.advance(end);
  auto h = d.history();
  h.push_back(d.current());
  std::vector<LedMeasurement> known;
  for (auto& m : h) {
    if (m.pattern != LedPattern::unknown) known.push_back(m);
  }
  return known;
}

std::vector<LedPattern> patterns_of(const std::vector<LedMeasurement>& spans) {
  std::vector<LedPattern> v;
  for (const auto& s : spans) v.push_back(s.pattern);
  return v;
}

Duration abs_diff(TimePoint a, TimePoint b) { return a > b ? a - b : b - a; }

TEST(LedSettings, ComeFromTheTimingProfile) {
  auto s = LedDecoderSettings::from_profile(firmware());
  EXPECT_DOUBLE_EQ(s.tolerance, 0.2);
  EXPECT_EQ(s.glitch, milliseconds(10));         // 20 % of the 50 ms error toggle
  EXPECT_EQ(s.dark_after, milliseconds(4704));   // beyond the heartbeat's 3920 ms off time
  EXPECT_EQ(s.steady_after, milliseconds(600));  // beyond window 1's 500 ms on time
  ASSERT_EQ(s.patterns.size(), 5u);
  auto p = firmware();
  p.led_tolerance_percent = 10;
  p.window2_toggle = milliseconds(300);
  auto s2 = LedDecoderSettings::from_profile(p);
  EXPECT_DOUBLE_EQ(s2.tolerance, 0.1);
  EXPECT_EQ(s2.patterns[2].on, milliseconds(300));
}

TEST(LedDecoder, SafeBootHeldToTheEndExactEdges) {
  auto p = firmware();
  TimePoint t0 = now();
  Train tr(t0);
  tr.hold(Level::inactive, seconds(5));
  auto truth = safe_boot_held(tr, p);
  LedDecoder d(p);
  auto spans = decode(d, t0, Level::inactive, tr.edges(), tr.now_at());
  ASSERT_EQ(patterns_of(spans), (std::vector<LedPattern>{LedPattern::dark, LedPattern::safeboot_window1,
                                                         LedPattern::safeboot_window2,
                                                         LedPattern::safeboot_final, LedPattern::dark}));
  EXPECT_EQ(spans[1].start, truth.window1);
  EXPECT_EQ(*spans[1].end, truth.window2);
  EXPECT_EQ(spans[2].start, truth.window2);
  EXPECT_EQ(spans[3].start, truth.final_phase);
  // Window 1: 1000 ms period, 500 ms on, 50 % duty, three periods.
  EXPECT_EQ(spans[1].periods, 3);
  EXPECT_EQ(spans[1].period_mean, milliseconds(1000));
  EXPECT_EQ(spans[1].on_mean, milliseconds(500));
  EXPECT_DOUBLE_EQ(spans[1].duty_cycle, 0.5);
  EXPECT_EQ(spans[2].periods, 6);
  EXPECT_EQ(spans[2].period_mean, milliseconds(500));
  EXPECT_EQ(spans[3].on_mean, milliseconds(100));
  // Window 2 was proven after one whole on and off pulse.
  EXPECT_EQ(spans[2].detected, truth.window2 + 2 * p.window2_toggle);
  // The final phase ends with the LED off; dark starts at that last edge.
  EXPECT_EQ(spans[4].start, truth.led_off);
  EXPECT_EQ(spans[0].start, t0);
}

TEST(LedDecoder, JitterWithinToleranceChangesNothing) {
  auto p = firmware();
  for (unsigned seed = 1; seed <= 20; ++seed) {
    TimePoint t0 = now();
    Train tr(t0, Level::inactive, 0.06, seed);
    tr.hold(Level::inactive, milliseconds(300));
    auto truth = safe_boot_held(tr, p);
    LedDecoder d(p);
    auto spans = decode(d, t0, Level::inactive, tr.edges(), tr.now_at());
    ASSERT_EQ(patterns_of(spans),
              (std::vector<LedPattern>{LedPattern::safeboot_window1, LedPattern::safeboot_window2,
                                       LedPattern::safeboot_final, LedPattern::dark}))
        << "seed " << seed;
    // Each switch is placed at the LED edge where it happened (jitter moves only later edges).
    EXPECT_LE(abs_diff(spans[1].start, truth.window2), milliseconds(1)) << "seed " << seed;
    EXPECT_LE(abs_diff(spans[2].start, truth.final_phase), milliseconds(1)) << "seed " << seed;
    EXPECT_NEAR(to_ms(spans[1].period_mean), 500.0, 500.0 * 0.06);
    EXPECT_NEAR(spans[0].duty_cycle, 0.5, 0.06);
  }
}

TEST(LedDecoder, MissedEdgesInsideAPatternDoNotSplitIt) {
  auto p = firmware();
  TimePoint t0 = now();
  Train tr(t0);
  tr.hold(Level::inactive, milliseconds(300));
  auto truth = safe_boot_held(tr, p);
  // Lose single edges well inside window 1 (index 2) and window 2 (indexes 9 and 14).
  auto& e = tr.edges();
  std::vector<LineEvent> kept;
  for (std::size_t i = 0; i < e.size(); ++i) {
    if (i != 2 && i != 9 && i != 14) kept.push_back(e[i]);
  }
  LedDecoder d(p);
  auto spans = decode(d, t0, Level::inactive, kept, tr.now_at());
  ASSERT_EQ(patterns_of(spans),
            (std::vector<LedPattern>{LedPattern::safeboot_window1, LedPattern::safeboot_window2,
                                     LedPattern::safeboot_final, LedPattern::dark}));
  EXPECT_EQ(spans[0].start, truth.window1);
  EXPECT_EQ(spans[1].start, truth.window2);
  EXPECT_EQ(spans[0].missed_edges, 1);
  EXPECT_EQ(spans[1].missed_edges, 2);
  // Whole pulses are still counted across a missed edge.
  EXPECT_EQ(spans[1].periods, 6);
}

TEST(LedDecoder, PhotodiodeBounceIsIgnored) {
  auto p = firmware();
  TimePoint t0 = now();
  Train tr(t0);
  tr.hold(Level::inactive, milliseconds(300));
  auto truth = safe_boot_held(tr, p);
  std::vector<LineEvent> bouncy;
  for (const auto& e : tr.edges()) {
    bouncy.push_back(e);
    // Each transition rings: back for 0.3 ms, then the real level again.
    Edge back = e.edge == Edge::rising ? Edge::falling : Edge::rising;
    bouncy.push_back({back, e.time + microseconds(300)});
    bouncy.push_back({e.edge, e.time + microseconds(700)});
  }
  LedDecoder d(p);
  auto spans = decode(d, t0, Level::inactive, bouncy, tr.now_at());
  ASSERT_EQ(patterns_of(spans),
            (std::vector<LedPattern>{LedPattern::safeboot_window1, LedPattern::safeboot_window2,
                                     LedPattern::safeboot_final, LedPattern::dark}));
  EXPECT_LE(abs_diff(spans[1].start, truth.window2), milliseconds(1));
  EXPECT_EQ(spans[0].missed_edges, 0);
}

TEST(LedDecoder, HeartbeatIsNotMistakenForTheFinalPhase) {
  // An 85 ms pulse fits both the heartbeat (80 +- 16) and the final phase (100 +- 20): the off time
  // decides, and no final phase is ever reported.
  auto p = firmware();
  TimePoint t0 = now();
  Train tr(t0, Level::inactive, 0.03, 9);
  for (int i = 0; i < 6; ++i) {
    tr.hold(Level::active, milliseconds(85));
    tr.hold(Level::inactive, milliseconds(3915));
  }
  LedDecoder d(p);
  auto spans = decode(d, t0, Level::inactive, tr.edges(), tr.now_at() - milliseconds(1000));
  ASSERT_EQ(patterns_of(spans), (std::vector<LedPattern>{LedPattern::heartbeat}));
  EXPECT_NEAR(to_ms(spans[0].period_mean), 4000.0, 4000.0 * 0.05);
  EXPECT_NEAR(to_ms(spans[0].on_mean), 85.0, 85.0 * 0.05);
  EXPECT_NEAR(spans[0].duty_cycle, 0.021, 0.005);
  EXPECT_GE(spans[0].periods, 5);
}

TEST(LedDecoder, HeartbeatStoppingEndsInDark) {
  auto p = firmware();
  TimePoint t0 = now();
  Train tr(t0);
  for (int i = 0; i < 3; ++i) tr.blink(p.heartbeat_on, p.heartbeat_off, 2);
  TimePoint last_on = tr.now_at() - p.heartbeat_off - p.heartbeat_on;
  tr.hold(Level::inactive, seconds(10));
  LedDecoder d(p);
  auto spans = decode(d, t0, Level::inactive, tr.edges(), tr.now_at());
  ASSERT_EQ(patterns_of(spans), (std::vector<LedPattern>{LedPattern::heartbeat, LedPattern::dark}));
  EXPECT_EQ(*spans[0].end, last_on + p.heartbeat_on);
  EXPECT_EQ(spans[1].start, last_on + p.heartbeat_on);
}

TEST(LedDecoder, StuckOnAfterWindowOneIsSteadyOn) {
  auto p = firmware();
  TimePoint t0 = now();
  Train tr(t0);
  tr.hold(Level::inactive, milliseconds(200));
  tr.blink(p.window1_toggle, p.window1_toggle, 4);
  TimePoint stuck = tr.now_at();
  tr.hold(Level::active, seconds(3));
  LedDecoder d(p);
  auto spans = decode(d, t0, Level::inactive, tr.edges(), tr.now_at());
  ASSERT_EQ(patterns_of(spans),
            (std::vector<LedPattern>{LedPattern::safeboot_window1, LedPattern::steady_on}));
  EXPECT_EQ(spans[1].start, stuck);
  EXPECT_EQ(spans[1].detected, stuck + d.settings().steady_after);
}

TEST(LedDecoder, ErrorFlashing) {
  auto p = firmware();
  TimePoint t0 = now();
  Train tr(t0, Level::inactive, 0.05, 3);
  tr.hold(Level::inactive, milliseconds(200));
  TimePoint start = tr.now_at();
  tr.blink(p.error_toggle, p.error_toggle, static_cast<int>(p.error_duration / p.error_toggle));
  tr.hold(Level::inactive, seconds(6));
  LedDecoder d(p);
  auto spans = decode(d, t0, Level::inactive, tr.edges(), tr.now_at());
  ASSERT_EQ(patterns_of(spans), (std::vector<LedPattern>{LedPattern::error_flash, LedPattern::dark}));
  EXPECT_EQ(spans[0].start, start);
  EXPECT_NEAR(to_ms(spans[0].period_mean), 100.0, 5.0);
}

TEST(LedDecoder, NothingButDarkWithoutEdges) {
  LedDecoder d(firmware());
  TimePoint t0 = now();
  d.start(t0, Level::inactive);
  d.advance(t0 + seconds(4));
  EXPECT_EQ(d.current().pattern, LedPattern::unknown);
  d.advance(t0 + seconds(5));
  EXPECT_EQ(d.current().pattern, LedPattern::dark);
  EXPECT_EQ(d.current().start, t0);
  // Unknown level (no reading at start, no edges): nothing can be said.
  LedDecoder d2(firmware());
  d2.start(t0, std::nullopt);
  d2.advance(t0 + seconds(60));
  EXPECT_EQ(d2.current().pattern, LedPattern::unknown);
}

// Ctrl-C ends the LED watcher's wait, and the watcher reports that as a failure of its input; a waiter must
// hear the interruption itself, not "the LED never showed the window" (a safe boot then released P12 anyway
// and went on to its next step, and the run's record lost that P12 had been held when the signal came).
TEST(LedDecoder, AFailureThatCameWithAnInterruptionIsTheInterruption) {
  LedDecoder d(firmware());
  d.start(now(), Level::inactive);
  interrupt::request(SIGINT);
  d.fail("LED input led failed: interrupted by Interrupt");
  EXPECT_THROW(d.wait_for_pattern(LedPattern::safeboot_window1, Deadline::after(seconds(5))), Interrupted);
  interrupt::clear();
  // Without an interruption a failure is still the waiter's answer, at once.
  LedDecoder d2(firmware());
  d2.start(now(), Level::inactive);
  d2.fail("LED input led failed: the line went away");
  auto r = d2.wait_for_pattern(LedPattern::safeboot_window1, Deadline::after(seconds(5)));
  EXPECT_FALSE(r);
}

TEST(LedDecoder, ScalesWithAFasterProfile) {
  auto p = fast_profile();
  TimePoint t0 = now();
  Train tr(t0, Level::inactive, 0.05, 4);
  tr.hold(Level::inactive, milliseconds(30));
  auto truth = safe_boot_held(tr, p);
  LedDecoder d(p);
  auto spans = decode(d, t0, Level::inactive, tr.edges(), tr.now_at());
  ASSERT_EQ(patterns_of(spans),
            (std::vector<LedPattern>{LedPattern::safeboot_window1, LedPattern::safeboot_window2,
                                     LedPattern::safeboot_final, LedPattern::dark}));
  EXPECT_LE(abs_diff(spans[1].start, truth.window2), microseconds(100));
}

TEST(LedDecoder, ListenerSeesStartsAndEndsInOrder) {
  auto p = firmware();
  TimePoint t0 = now();
  Train tr(t0);
  tr.hold(Level::inactive, milliseconds(300));
  safe_boot_held(tr, p);
  LedDecoder d(p);
  std::vector<std::pair<LedPattern, bool>> seen;
  d.set_listener([&](const LedMeasurement& m, bool started) {
    if (m.pattern != LedPattern::unknown) seen.emplace_back(m.pattern, started);
  });
  decode(d, t0, Level::inactive, tr.edges(), tr.now_at());
  std::vector<std::pair<LedPattern, bool>> want = {{LedPattern::safeboot_window1, true},
                                                   {LedPattern::safeboot_window1, false},
                                                   {LedPattern::safeboot_window2, true},
                                                   {LedPattern::safeboot_window2, false},
                                                   {LedPattern::safeboot_final, true},
                                                   {LedPattern::safeboot_final, false},
                                                   {LedPattern::dark, true}};
  EXPECT_EQ(seen, want);
  auto j = to_json(d.history().back());
  EXPECT_TRUE(j.contains("period_mean_ms"));
  EXPECT_TRUE(j.contains("duty_cycle"));
}

// Plays edges in real time into a FakeInput, as an LED would.
void play(FakeInput& in, std::vector<LineEvent> edges) {
  for (const auto& e : edges) {
    std::this_thread::sleep_until(e.time);
    in.push(e.edge, e.time);
  }
}

TEST(LedLive, WaitForWindowTwoThenTheChangeAfterIt) {
  auto p = fast_profile();
  FakeInput in;
  LedDecoder d(p);
  LedWatcher w(in, d, nullptr);
  TimePoint t0 = now() + milliseconds(50);
  Train tr(t0);
  auto truth = safe_boot_held(tr, p);
  std::thread player(play, std::ref(in), tr.edges());

  auto w1 = d.wait_for_pattern(LedPattern::safeboot_window1, Deadline::after(seconds(10)));
  ASSERT_TRUE(w1.ok()) << w1.error().describe();
  auto w2 = d.wait_for_pattern(LedPattern::safeboot_window2, Deadline::after(seconds(10)));
  ASSERT_TRUE(w2.ok()) << w2.error().describe();
  EXPECT_EQ(w2->current.start, truth.window2);
  ASSERT_TRUE(w2->previous);
  EXPECT_EQ(w2->previous->pattern, LedPattern::safeboot_window1);
  EXPECT_GE(w2->reported, truth.window2);  // never before the LED really switched
  auto next = d.wait_for_change(LedPattern::safeboot_window2, Deadline::after(seconds(10)));
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ(next->current.pattern, LedPattern::safeboot_final);
  auto dark = d.wait_for_pattern(LedPattern::dark, Deadline::after(seconds(10)));
  ASSERT_TRUE(dark.ok()) << dark.error().describe();
  player.join();
  // Asked for something that does not come: a timeout naming what is showing.
  auto hb = d.wait_for_pattern(LedPattern::heartbeat, Deadline::after(milliseconds(100)));
  ASSERT_FALSE(hb.ok());
  EXPECT_EQ(hb.error().current.pattern, LedPattern::dark);
  EXPECT_NE(hb.error().describe().find("dark"), std::string::npos);
  w.stop();
  EXPECT_FALSE(w.failure());
  EXPECT_EQ(w.edges_seen(), tr.edges().size());
}

TEST(LedLive, ABrokenInputFailsTheWaitersAtOnce) {
  FakeInput in;
  LedDecoder d(fast_profile());
  LedWatcher w(in, d, nullptr);
  in.break_with("gpiochip0 vanished");
  auto r = d.wait_for_pattern(LedPattern::heartbeat, Deadline::after(seconds(30)));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().describe().find("gpiochip0 vanished"), std::string::npos);
  w.stop();
  ASSERT_TRUE(w.failure());
  EXPECT_FALSE(w.running());
}

}  // namespace
}  // namespace bootrig
