// Benchmark: OTA update over the REPL against the simulated module at 115200 and 921600 baud, in the Pycom
// profile (chunked raw mode: no raw-paste) and the upstream one (raw-paste), with the binary transfer through
// sys.stdin and the bytes-literal fallback: line use while writing, and image bytes per second, as
// fractions of the line rate.
//
//   ./build/bench/bench_ota [--kib K] [--quick] [--binary-only]   (--quick: 115200 only)
//
// `cmake/dev.sh bench` puts its table into BENCHMARKS.md (bench/results/firmware.md: an earlier run by hand).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench_support.hpp"
#include "bootrig/drivers/termios_serial.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "bootrig/flash/ota.hpp"
#include "bootrig/sim/sim_module.hpp"

using namespace bootrig;

namespace {

void run(const std::string& profile, unsigned baud, std::size_t kib, bool binary) {
  SimConfig c;
  c.profile = profile;
  c.timing = bench::quick_boot();
  SimModule m(c, baud);
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
  o.binary_transfer = binary;
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
  std::printf("| %-8s | %6u | %-13s | %7zu | %7zu | %6.2f | %5.1f %% | %8.0f | %5.1f %% | %6.2f |\n",
              profile.c_str(), baud, rep.transfer.c_str(), rep.bytes, rep.wire_bytes, secs,
              100.0 * rep.wire_bytes / secs / line, rep.bytes / secs, 100.0 * rep.bytes / secs / line, total);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t kib = 32;
  bool quick = false;
  bool binary_only = false;  // without the bytes-literal fallback (about 45 s a run)
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--kib") == 0 && i + 1 < argc) kib = std::strtoul(argv[++i], nullptr, 10);
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--binary-only") == 0) binary_only = true;
  }
  std::printf(
      "| profile  |   baud | transfer      | image B |  wire B | write s | line use | image B/s | image rate "
      "| total s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (unsigned baud : {115200u, 921600u}) {
    if (quick && baud != 115200u) continue;
    for (bool binary : {true, false}) {
      if (binary_only && !binary) continue;
      run("pycom", baud, kib, binary);
      run("upstream", baud, kib, binary);
    }
  }
  return 0;
}
