// Benchmark: how long after the LED really switched to window 2 the decoder knows it: offline over 1000
// simulated boots with the firmware's jitter (the decoder alone, no sleeping; also counts false detections),
// and live against the simulated module at the firmware's timings (edge hand-over and thread wake-ups too).
//
//   bench_led [--runs N] [--boots N]     (markdown on stdout)
//
// "Really switched" is the LED edge that began the new pattern (the simulated wire stamps it when the
// firmware changes the colour, as the kernel stamps a GPIO edge).
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "bootrig/observe/led_decoder.hpp"
#include "bootrig/observe/recording.hpp"
#include "bootrig/sim/sim_module.hpp"

using namespace bootrig;

namespace {

struct Row {
  std::vector<double> total, evidence, processing;
};
void add(Row& r, const LedObservation& o) {
  r.total.push_back(to_ms(o.reported - o.current.start));
  r.evidence.push_back(to_ms(o.current.detected - o.current.start));
  r.processing.push_back(to_ms(o.reported - o.current.detected));
}

// The simulated firmware at the timings the decoder expects (here both sides are meant to agree: the bench
// measures the decoder's latency, not a disagreement).
FirmwareTiming firmware_like(const TimingProfile& t) {
  FirmwareTiming f;
  f.safeboot_recheck = t.safeboot_recheck;
  f.window1_toggle = t.window1_toggle;
  f.window1_iterations = t.window1_iterations;
  f.window2_toggle = t.window2_toggle;
  f.window2_iterations = t.window2_iterations;
  f.final_toggle = t.final_toggle;
  f.final_duration = t.final_duration;
  f.heartbeat_on = t.heartbeat_on;
  f.heartbeat_off = t.heartbeat_off;
  f.error_toggle = t.error_toggle;
  f.error_duration = t.error_duration;
  f.rom_boot = t.rom_boot;
  f.app_start = t.app_start;
  f.banner_delay = t.banner_delay;
  return f;
}

// P12 held through a reset until window 2 is known, then released (a window-2 safe boot), runs times.
void safe_boot_runs(const TimingProfile& timing, int runs, Row& w2) {
  SimConfig c;
  c.timing = firmware_like(timing);
  SimModule m(c, 115200);
  m.start();
  auto safeboot = m.make_output(LineRole::safeboot);
  auto reset = m.make_output(LineRole::reset);
  auto led = m.make_led_input();
  LedDecoder d(timing);
  LedWatcher w(*led, d, nullptr);
  for (int i = 0; i < runs; ++i) {
    safeboot->set(Level::active);
    reset->set(Level::active);
    wait_for(timing.reset_pulse);
    reset->set(Level::inactive);
    auto a = d.wait_for_pattern(LedPattern::safeboot_window2, Deadline::after(seconds(30)));
    if (!a) {
      std::fprintf(stderr, "bench_led: %s\n", a.error().describe().c_str());
      std::exit(2);
    }
    add(w2, *a);
    safeboot->set(Level::inactive);
    // The rest of window 2's iteration and the boot, before the next reset.
    wait_for(timing.window2_toggle + timing.app_start + timing.banner_delay);
  }
}

// 1000 simulated boots decoded offline (feed + advance, no sleeping: the decoder decides by the edges' times
// alone): window 1 then window 2 as the firmware blinks them, with jitter, and as many boots released in
// window 1 (no window 2 may be reported there). The jitter: each boot's blink period off by up to +-1 % (the
// bootloader's delay loop against the rig's clock), each edge up to +-2 ms (tick and photodiode comparator),
// the whole train shifted by up to 1 s of boot time.
struct Offline {
  bench::Spread latency_ms;  // window 2's proof minus its first edge
  int boots = 0, false_detections = 0, missed = 0;
};

Offline offline_boots(const TimingProfile& p, const LedDecoderSettings& settings, int boots, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> period_error(-0.01, 0.01), edge_jitter(-2.0, 2.0), shift(0, 1000.0);
  Offline o;
  const TimePoint origin{};
  for (int b = 0; b < 2 * boots; ++b) {
    const bool reaches_window2 = b % 2 == 0;
    const double scale = 1.0 + period_error(rng);
    std::vector<LineEvent> edges;
    double t_ms = 100.0 + shift(rng);
    bool on = false;
    TimePoint window2_start{};
    auto toggle = [&](milliseconds half) {
      on = !on;
      auto at = origin + std::chrono::duration_cast<Duration>(
                             std::chrono::duration<double, std::milli>(t_ms + edge_jitter(rng)));
      edges.push_back({on ? Edge::rising : Edge::falling, at});
      t_ms += static_cast<double>(half.count()) * scale;
    };
    for (int k = 0; k < p.window1_iterations; ++k) toggle(p.window1_toggle);
    if (reaches_window2) {
      // The LED phase carries on into window 2 (bootmgr.c's static toggle): the pattern begins at its first
      // edge, whichever way it goes.
      window2_start =
          origin + std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(t_ms));
      for (int k = 0; k < p.window2_iterations; ++k) toggle(p.window2_toggle);
    }
    // Then the app: dark until the heartbeat.
    if (on) toggle(milliseconds(0));
    LedDecoder d(settings);
    d.start(origin, Level::inactive);
    for (const auto& e : edges) {
      while (auto due = d.next_decision()) {
        if (*due > e.time) break;
        d.advance(*due);
      }
      d.feed(e);
    }
    d.advance(origin +
              std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(t_ms + 5000)));
    auto spans = d.history();
    spans.push_back(d.current());
    bool found = false;
    for (const auto& m : spans) {
      if (m.pattern != LedPattern::safeboot_window2) continue;
      // Proven before window 2 began, or in a boot that never showed it: a false detection.
      if (!reaches_window2 || m.detected < window2_start) {
        ++o.false_detections;
        continue;
      }
      if (!found) o.latency_ms.add(to_ms(m.detected - window2_start));
      found = true;
    }
    if (reaches_window2) {
      ++o.boots;
      if (!found) ++o.missed;
    } else {
      ++o.boots;
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 5, boots = 1000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (!std::strcmp(argv[i], "--runs"))
      runs = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--boots"))
      boots = std::atoi(argv[++i]);
  }
  const TimingProfile firmware{};
  const double half_ms = static_cast<double>(firmware.window2_toggle.count());
  const double target_ms = 1.1 * half_ms;
  std::printf(
      "| measured | boots | window 1 -> 2 known after (ms): median (min-max) | p99 ms | in half-periods "
      "(median) | target 1.1 half-periods (%.0f ms) | false detections |\n",
      target_ms);
  std::printf("|---|---|---|---|---|---|---|\n");
  // bootrig's decoder as it is, and with one whole pulse as evidence instead of two (what meeting the target
  // would take): latency against false detections, the same boots.
  for (int confirm : {LedDecoderSettings::from_profile(firmware).confirm_half_periods, 1}) {
    LedDecoderSettings settings = LedDecoderSettings::from_profile(firmware);
    settings.confirm_half_periods = confirm;
    Offline o = offline_boots(firmware, settings, boots, 18);
    std::printf(
        "| offline, the decoder alone%s, firmware timings with jitter | %d + %d released in window 1 | %s | "
        "%.1f | %.2f | %s | %d (window 2 not found: %d) |\n",
        confirm == 1 ? " **with confirm_half_periods = 1 (not bootrig's setting)**" : "", boots, boots,
        o.latency_ms.text(1).c_str(), o.latency_ms.pct(99), o.latency_ms.median() / half_ms,
        bench::verdict(o.latency_ms.pct(99) <= target_ms && o.false_detections == 0 && o.missed == 0),
        o.false_detections, o.missed);
  }
  std::fflush(stdout);
  Row w2;
  safe_boot_runs(firmware, runs, w2);
  bench::Spread live;
  for (double v : w2.total) live.add(v);
  bench::Spread processing;
  for (double v : w2.processing) processing.add(v);
  std::printf(
      "| live, simulated module (firmware timings), normal priority | %d | %s | %.1f | %.2f | %s | - |\n",
      runs, live.text(1).c_str(), live.pct(99), live.median() / half_ms,
      bench::verdict(live.max() <= target_ms));
  std::printf(
      "\nLive: of which the decoder's processing after the evidence existed (edge hand-over, thread "
      "wake-ups): "
      "median %.1f ms, worst %.1f ms.\n",
      processing.median(), processing.max());
  return 0;
}
