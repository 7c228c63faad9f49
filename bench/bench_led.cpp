// Benchmark: how long after the LED really switched the decoder reports the new pattern, against the
// simulated module (safe-boot windows) and against a synthetic edge train played in real time.
//
//   ./build/bench/bench_led [--runs N] [--firmware]
//
// "Really switched" is the LED edge that began the new pattern (the simulated wire stamps it when the
// firmware changes the colour, as the kernel stamps a GPIO edge). The latency splits into the evidence
// the decoder must wait for (one whole on+off period of the new pattern, by design) and the processing
// delay after that evidence existed (edge hand-over, glitch hold, thread wake-ups).
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bootrig/observe/led_decoder.hpp"
#include "bootrig/observe/recording.hpp"
#include "bootrig/sim/sim_module.hpp"

using namespace bootrig;

namespace {

struct Row {
  std::vector<double> total, evidence, processing;
};
double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
double worst(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

void add(Row& r, const LedObservation& o) {
  r.total.push_back(to_ms(o.reported - o.current.start));
  r.evidence.push_back(to_ms(o.current.detected - o.current.start));
  r.processing.push_back(to_ms(o.reported - o.current.detected));
}

void print(const char* what, const Row& r) {
  std::printf("| %-41s | %4zu | %7.1f | %8.1f | %10.2f | %16.2f |\n", what, r.total.size(), median(r.total),
              median(r.evidence), median(r.processing), worst(r.processing));
}

TimingProfile fast() {
  TimingProfile t;
  t.safeboot_recheck = milliseconds(20);
  t.window1_toggle = milliseconds(100);
  t.window2_toggle = milliseconds(50);
  t.final_toggle = milliseconds(20);
  t.final_duration = milliseconds(300);
  t.heartbeat_on = milliseconds(16);
  t.heartbeat_off = milliseconds(784);
  t.error_toggle = milliseconds(10);
  t.error_duration = milliseconds(240);
  t.rom_boot = milliseconds(10);
  t.app_start = milliseconds(30);
  t.banner_delay = milliseconds(10);
  t.reset_pulse = milliseconds(20);
  return t;
}

// Holds P12 through a reset until the factory phase, recording when each change was reported.
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

void safe_boot_runs(const TimingProfile& timing, int runs, Row& w2, Row& fin) {
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
    auto deadline = Deadline::after(seconds(30));
    auto a = d.wait_for_pattern(LedPattern::safeboot_window2, deadline);
    auto b = d.wait_for_pattern(LedPattern::safeboot_final, deadline);
    if (!a || !b) {
      std::fprintf(stderr, "bench_led: %s\n", (!a ? a.error() : b.error()).describe().c_str());
      std::exit(2);
    }
    add(w2, *a);
    add(fin, *b);
    safeboot->set(Level::inactive);
    if (auto hb = d.wait_for_pattern(LedPattern::heartbeat, Deadline::after(seconds(30))); !hb) {
      std::fprintf(stderr, "bench_led: no heartbeat after the factory phase\n");
      std::exit(2);
    }
  }
}

// An LED input that plays a prepared edge train in real time, each edge stamped with its planned time.
class PlayedInput : public DigitalInput {
 public:
  explicit PlayedInput(std::vector<LineEvent> edges) : edges_(edges.begin(), edges.end()) {}
  Level get() override { return Level::inactive; }
  std::optional<LineEvent> wait_event(Deadline deadline) override {
    if (!edges_.empty()) {
      TimePoint due = edges_.front().time;
      if (due <= now()) {
        LineEvent e = edges_.front();
        edges_.pop_front();
        return e;
      }
      wait_until(deadline.min(Deadline::at(due)));
      if (due <= now()) {
        LineEvent e = edges_.front();
        edges_.pop_front();
        return e;
      }
      return std::nullopt;
    }
    wait_until(deadline.min(Deadline::after(milliseconds(100))));
    return std::nullopt;
  }
  std::string describe() const override { return "played edge train"; }

 private:
  std::deque<LineEvent> edges_;
};

void synthetic_runs(const TimingProfile& p, int runs, Row& w2) {
  for (int i = 0; i < runs; ++i) {
    std::vector<LineEvent> edges;
    TimePoint t = now() + milliseconds(20);
    bool on = false;
    auto toggle = [&](Duration d) {
      on = !on;
      edges.push_back({on ? Edge::rising : Edge::falling, t});
      t += d;
    };
    for (int k = 0; k < p.window1_iterations; ++k) toggle(p.window1_toggle);
    for (int k = 0; k < 6; ++k) toggle(p.window2_toggle);
    PlayedInput in(edges);
    LedDecoder d(p);
    LedWatcher w(in, d, nullptr);
    auto r = d.wait_for_pattern(LedPattern::safeboot_window2, Deadline::after(seconds(30)));
    if (!r) {
      std::fprintf(stderr, "bench_led: %s\n", r.error().describe().c_str());
      std::exit(2);
    }
    add(w2, *r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 10;
  bool firmware = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) runs = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--firmware")) firmware = true;
  }
  std::printf("LED pattern change: report time minus the edge that began the new pattern (ms)\n\n");
  std::printf(
      "| change                                    | runs |   total | evidence | processing | worst "
      "processing |\n");
  std::printf(
      "|-------------------------------------------|------|---------|----------|------------|----------------"
      "--|\n");
  {
    Row w2, fin;
    safe_boot_runs(fast(), runs, w2, fin);
    print("sim, fast profile: window 1 -> 2", w2);
    print("sim, fast profile: window 2 -> final", fin);
  }
  if (firmware) {
    Row w2, fin;
    safe_boot_runs(TimingProfile{}, std::max(1, runs / 5), w2, fin);
    print("sim, firmware timings: window 1 -> 2", w2);
    print("sim, firmware timings: window 2 -> final", fin);
  }
  {
    Row w2;
    synthetic_runs(fast(), runs, w2);
    print("played edges, fast profile: window 1 -> 2", w2);
  }
  return 0;
}
