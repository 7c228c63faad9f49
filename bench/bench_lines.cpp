// Benchmark: P12 and RESET changes requested for a time against when they took effect, through the path the
// boot strategies use (RecordingOutput::set_at over the simulated module's lines), at normal priority.
//
//   bench_lines [--changes N]     (markdown on stdout)
//
// "Took effect" is when the driver call returned (the simulated module sees the level then, as the kernel has
// set a GPIO line when its ioctl returns). On a Pi the same path runs through libgpiod; gpio-sim is not timed
// here.
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "bench_support.hpp"
#include "bootrig/observe/recording.hpp"
#include "bootrig/sim/sim_module.hpp"

using namespace bootrig;

int main(int argc, char** argv) {
  int changes = 200;
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], "--changes")) changes = std::max(1, std::atoi(argv[++i]));
  const auto dir =
      std::filesystem::temp_directory_path() / ("bootrig-bench-lines-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    SimConfig c;
    c.timing = bench::quick_boot();
    SimModule m(c, 115200);
    m.start();
    Timeline tl(dir);
    RecordingOutput p12(m.make_output(LineRole::safeboot), tl, "safeboot");
    RecordingOutput reset(m.make_output(LineRole::reset), tl, "reset");
    bench::Spread late_p12, late_reset;
    // Interleaved: a P12 change, then a RESET change, each requested 5 to 24 ms ahead (as a pulse's release
    // or a window's release is), alternating levels.
    for (int i = 0; i < changes; ++i) {
      for (RecordingOutput* out : {&p12, &reset}) {
        const Level level = i % 2 == 0 ? Level::active : Level::inactive;
        out->set_at(level, now() + milliseconds(5 + (i * 7) % 20));
        const auto ch = out->last_change();
        (out == &p12 ? late_p12 : late_reset).add(to_ms(ch->effective - ch->requested) * 1000.0);
      }
    }
    p12.set(Level::inactive);
    reset.set(Level::inactive);
    std::printf("| line | changes | late by (us): p50 | p99 | max |\n|---|---|---|---|---|\n");
    std::printf("| P12 (safe boot) | %d | %.0f | %.0f | %.0f |\n", changes, late_p12.median(),
                late_p12.pct(99), late_p12.max());
    std::printf("| RESET | %d | %.0f | %.0f | %.0f |\n", changes, late_reset.median(), late_reset.pct(99),
                late_reset.max());
  }
  std::filesystem::remove_all(dir);
  return 0;
}
