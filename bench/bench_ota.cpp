// Benchmark: OTA update over the REPL against the simulated module at 115200 baud, in the Pycom profile
// (chunked raw mode: no raw-paste) and the upstream one (raw-paste): line use while writing, and image
// bytes per second, as fractions of the line rate.
//
//   ./build/bench/bench_ota [--kib K]
//
// bench/results/firmware.md records a run.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bootrig/drivers/termios_serial.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "bootrig/flash/ota.hpp"
#include "bootrig/sim/sim_module.hpp"

using namespace bootrig;

namespace {

TimingProfile quick_boot() {
  TimingProfile t;
  t.rom_boot = milliseconds(10);
  t.app_start = milliseconds(30);
  t.banner_delay = milliseconds(10);
  return t;
}

void run(const std::string& profile, unsigned baud, std::size_t kib) {
  SimConfig c;
  c.profile = profile;
  SimModule m(c, quick_boot(), baud);
  m.start();
  SerialSettings s;
  s.baud = baud;
  auto link = open_termios(m.uart_path(), s);
  ReplClient repl(*link);
  if (auto p = repl.get_prompt(Deadline::after(seconds(20))); !p) {
    std::fprintf(stderr, "bench_ota: %s\n", p.error().describe().c_str());
    std::exit(2);
  }
  ImageSpec spec;
  spec.version = "1.20.3.r1";
  spec.payload_size = kib * 1024;
  auto image = build_esp32_image(spec);
  OtaOptions o;
  o.step_timeout = seconds(60);
  o.hard_reset = [&] { m.press_reset(milliseconds(20)); };
  auto r = ota_update(repl, image, "bench.bin", o);
  if (!r) {
    std::fprintf(stderr, "bench_ota: %s: %s\n", r.error().step.c_str(), r.error().what.c_str());
    std::exit(2);
  }
  const OtaReport& rep = r.value();
  double secs = std::chrono::duration<double>(rep.write_time()).count();
  double line = baud / 10.0;
  double total = std::chrono::duration<double>(rep.end - rep.start).count();
  std::printf("| %-8s | %6u | %7zu | %7zu | %6.2f | %5.1f %% | %5.1f %% | %6.2f |\n", profile.c_str(), baud,
              rep.bytes, rep.wire_bytes, secs, 100.0 * rep.wire_bytes / secs / line,
              100.0 * rep.bytes / secs / line, total);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t kib = 32;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--kib") == 0) kib = std::strtoul(argv[i + 1], nullptr, 10);
  std::printf("| profile  |   baud | image B |  wire B | write s | line use | image rate | total s |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  run("pycom", 115200, kib);
  run("upstream", 115200, kib);
  return 0;
}
