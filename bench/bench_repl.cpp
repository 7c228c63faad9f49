// Benchmark: REPL round trip and bulk transfer against the line time, each beside the alternative a user
// would pick (a reader polling every 50 ms; a sender pausing 10 ms after each 256-byte block), interleaved.
//
//   ./build/bench/bench_repl [--rounds N] [--kib K]
//
// The simulated UART paces bytes at the baud rate both ways (10 bits a byte), so "line rate" is the
// same bound a real UART has. Prints markdown; `cmake/dev.sh bench` puts it into BENCHMARKS.md.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "bootrig/drivers/termios_serial.hpp"
#include "bootrig/repl/repl_client.hpp"
#include "bootrig/sim/sim_module.hpp"

using namespace bootrig;

namespace {

struct Board {
  SimModule module;
  std::unique_ptr<SerialLink> link;
  ReplClient repl;
  Board(const std::string& profile, unsigned baud, milliseconds poll, ReplOptions o)
      : module(config(profile), baud), link(open(module, baud, poll)), repl(*link, o) {}
  static SimConfig config(const std::string& profile) {
    SimConfig c;
    c.profile = profile;
    c.timing = bench::quick_boot();
    return c;
  }
  static std::unique_ptr<SerialLink> open(SimModule& m, unsigned baud, milliseconds poll) {
    m.start();
    SerialSettings s;
    s.baud = baud;
    s.poll_interval = poll;
    return open_termios(m.uart_path(), s);
  }
};

double line_ms(std::size_t bytes, unsigned baud) { return static_cast<double>(bytes) * 10.0 * 1000.0 / baud; }

void fail(const ReplFailure& f) {
  std::fprintf(stderr, "bench_repl: %s\n", f.describe().c_str());
  std::exit(2);
}

// One-line command in the friendly REPL, its whole round trip: tx "print(1)\r", rx echo, "1" and prompt.
double round_trip_ms(Board& b) {
  auto r = b.repl.exec_friendly("print(1)", Deadline::after(seconds(10)));
  if (!r) fail(r.error());
  return to_ms(r->done - r->sent);
}

// Code of `bytes` bytes that any MicroPython compiles quickly: comment lines.
std::string bulk_code(std::size_t bytes) {
  std::string line = "# " + std::string(61, 'x') + "\n";  // 64 bytes
  std::string code;
  while (code.size() + line.size() < bytes) code += line;
  code += "print(len('ok'))";
  return code;
}

// Bulk code through the raw REPL, first byte sent to the board's acknowledgement, as a share of line rate.
double bulk_share(Board& b, const std::string& code, unsigned baud, TransferMode* mode) {
  auto r = b.repl.exec_raw(code, Deadline::after(seconds(120)));
  if (!r) fail(r.error());
  if (r->output != "2\n") {
    std::fprintf(stderr, "bench_repl: bulk code printed '%s'\n", r->output.c_str());
    std::exit(2);
  }
  *mode = r->mode;
  return static_cast<double>(code.size()) / std::chrono::duration<double>(r->accepted - r->sent).count() /
         (baud / 10.0);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  std::size_t kib = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::max(1, std::atoi(argv[i + 1]));
    if (!std::strcmp(argv[i], "--kib")) kib = static_cast<std::size_t>(std::atoi(argv[i + 1]));
  }
  const std::size_t tx = std::string("print(1)\r").size(), rx = std::string("print(1)\r\n1\r\n>>> ").size();
  std::printf(
      "Round trip of `print(1)` in the friendly REPL (tx %zu B, rx %zu B), bootrig's reader (woken by the "
      "first byte) against a reader polling every 50 ms, interleaved, %d rounds of 10 each:\n\n",
      tx, rx, rounds);
  std::printf(
      "| profile | baud | line time ms (full duplex: echo overlaps) | bootrig ms, median (min-max) | "
      "bootrig / line time | polling 50 ms: ms | bootrig / polling |\n|---|---|---|---|---|---|---|\n");
  for (unsigned baud : {115200u, 921600u}) {
    for (const char* profile : {"pycom", "upstream"}) {
      Board ours(profile, baud, milliseconds(0), {});
      Board polling(profile, baud, milliseconds(50), {});
      for (Board* b : {&ours, &polling})
        if (auto p = b->repl.get_prompt(Deadline::after(seconds(20))); !p) fail(p.error());
      bench::Spread a, c;
      for (int r = 0; r < rounds * 10; ++r) {
        a.add(round_trip_ms(ours));
        c.add(round_trip_ms(polling));
      }
      // Full duplex: the echo comes back while the line is still sent, so the floor is the longer direction.
      const double line = line_ms(std::max(tx, rx), baud);
      std::printf("| %s | %u | %.2f | %s | %.2f | %s | %.3f |\n", profile, baud, line, a.text(2).c_str(),
                  a.median() / line, c.text(1).c_str(), a.median() / c.median());
    }
  }
  std::printf(
      "\nBulk code through the raw REPL (%zu KiB at 115200, %zu KiB at 921600; first byte sent to the "
      "board's acknowledgement) as a share of the line rate, bootrig's sender against one pacing 256-byte "
      "blocks with a 10 ms pause (mpremote's fallback; ReplOptions::chunk_pause), interleaved, %d "
      "rounds:\n\n",
      kib, kib * 4, rounds);
  std::printf(
      "| profile | baud | bootrig's mode | bootrig: share of line rate, median (min-max) | 256 B + 10 ms: "
      "share | bootrig / paced | target >= 90 %% |\n|---|---|---|---|---|---|---|\n");
  for (unsigned baud : {115200u, 921600u}) {
    for (const char* profile : {"upstream", "pycom"}) {
      ReplOptions paced;
      paced.chunk_pause = milliseconds(10);
      paced.try_raw_paste = false;
      Board ours(profile, baud, milliseconds(0), {});
      Board alt(profile, baud, milliseconds(0), paced);
      for (Board* b : {&ours, &alt}) {
        if (auto p = b->repl.get_prompt(Deadline::after(seconds(20))); !p) fail(p.error());
        // The first exec settles raw-paste support; it is not measured.
        if (auto r = b->repl.exec_raw("x=0", Deadline::after(seconds(20))); !r) fail(r.error());
      }
      const std::string code = bulk_code((baud > 200000 ? kib * 4 : kib) * 1024);
      bench::Spread a, c;
      TransferMode mode = TransferMode::raw_chunked, alt_mode = TransferMode::raw_chunked;
      for (int r = 0; r < rounds; ++r) {
        a.add(100 * bulk_share(ours, code, baud, &mode));
        c.add(100 * bulk_share(alt, code, baud, &alt_mode));
      }
      const bool paced_by_setting = mode == TransferMode::raw_chunked;
      std::printf("| %s | %u | %s | %s %% | %s %% | %.2f | %s |\n", profile, baud, to_string(mode),
                  a.text(1).c_str(), c.text(1).c_str(), a.median() / c.median(),
                  paced_by_setting ? "a setting: chunked raw mode is paced to 80 % of the line by "
                                     "ReplOptions::chunk_line_fraction (firmware without raw-paste)"
                                   : bench::verdict(a.median() >= 90.0));
    }
  }
  return 0;
}
