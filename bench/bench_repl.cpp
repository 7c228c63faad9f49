// Benchmark: REPL round trip beyond the line time, and bulk transfer throughput (raw-paste and chunked
// raw mode) as a fraction of the line rate, against the simulated module at 115200 and 921600 baud.
//
//   ./build/bench/bench_repl [--rounds N] [--kib K]
//
// The simulated UART paces bytes at the baud rate both ways (10 bits a byte), so "line rate" is the
// same bound a real UART has. Prints one table; bench/results/senses.md records a run.
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

struct Stats {
  double median = 0, p90 = 0, min = 0, max = 0;
};
Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  Stats s;
  if (v.empty()) return s;
  s.min = v.front();
  s.max = v.back();
  s.median = v[v.size() / 2];
  s.p90 = v[std::min(v.size() - 1, v.size() * 9 / 10)];
  return s;
}

struct Board {
  SimModule module;
  std::unique_ptr<SerialLink> link;
  ReplClient repl;
  Board(const std::string& profile, unsigned baud)
      : module(config(profile), baud), link(open(module, baud)), repl(*link) {}
  static SimConfig config(const std::string& profile) {
    SimConfig c;
    c.profile = profile;
    c.timing = bench::quick_boot();
    return c;
  }
  static std::unique_ptr<SerialLink> open(SimModule& m, unsigned baud) {
    m.start();
    SerialSettings s;
    s.baud = baud;
    return open_termios(m.uart_path(), s);
  }
};

double line_ms(std::size_t bytes, unsigned baud) { return bytes * 10.0 * 1000.0 / baud; }

void fail(const ReplFailure& f) {
  std::fprintf(stderr, "bench_repl: %s\n", f.describe().c_str());
  std::exit(2);
}

// One-line command in the friendly REPL: what it costs beyond sending the line and receiving the
// echo, the output and the prompt at line rate.
void round_trip(const std::string& profile, unsigned baud, int rounds) {
  Board b(profile, baud);
  if (auto p = b.repl.get_prompt(Deadline::after(seconds(20))); !p) fail(p.error());
  const std::string cmd = "print(1)";
  // tx "print(1)\r", rx "print(1)\r\n" "1\r\n" ">>> "
  const std::size_t tx = cmd.size() + 1, rx = cmd.size() + 2 + 3 + 4;
  std::vector<double> total, beyond;
  for (int i = 0; i < rounds; ++i) {
    auto r = b.repl.exec_friendly(cmd, Deadline::after(seconds(10)));
    if (!r) fail(r.error());
    double ms = to_ms(r->done - r->sent);
    total.push_back(ms);
    beyond.push_back(ms - line_ms(tx + rx, baud));
  }
  // Raw REPL one-liner: tx code + \x04 (or the raw-paste framing), rx "OK" \x04 \x04 ">".
  std::vector<double> raw_total;
  for (int i = 0; i < rounds; ++i) {
    auto r = b.repl.exec_raw("x=1", Deadline::after(seconds(10)));
    if (!r) fail(r.error());
    raw_total.push_back(to_ms(r->done - r->sent));
  }
  auto t = stats(total), x = stats(beyond), rt = stats(raw_total);
  std::printf("| %-8s | %6u | friendly `print(1)` | %8.2f | %7.2f | %6.2f ms (%.2f ms)      |\n",
              profile.c_str(), baud, t.median, line_ms(tx + rx, baud), x.median, x.p90);
  std::printf("| %-8s | %6u | raw `x=1`           | %8.2f |         |                         |\n",
              profile.c_str(), baud, rt.median);
}

// Code of `bytes` bytes that any MicroPython compiles quickly: comment lines.
std::string bulk_code(std::size_t bytes) {
  std::string line = "# " + std::string(61, 'x') + "\n";  // 64 bytes
  std::string code;
  while (code.size() + line.size() < bytes) code += line;
  code += "print(len('ok'))";
  return code;
}

void throughput(const std::string& profile, unsigned baud, std::size_t kib, int rounds) {
  Board b(profile, baud);
  if (auto p = b.repl.get_prompt(Deadline::after(seconds(20))); !p) fail(p.error());
  // The first exec settles raw-paste support; it is not measured.
  if (auto r = b.repl.exec_raw("x=0", Deadline::after(seconds(20))); !r) fail(r.error());
  std::string code = bulk_code(kib * 1024);
  const double line_rate = baud / 10.0;  // bytes per second
  std::vector<double> fraction;
  TransferMode mode = TransferMode::raw_chunked;
  for (int i = 0; i < rounds; ++i) {
    auto r = b.repl.exec_raw(code, Deadline::after(seconds(120)));
    if (!r) fail(r.error());
    if (r->output != "2\n") {
      std::fprintf(stderr, "bench_repl: bulk code printed '%s'\n", r->output.c_str());
      std::exit(2);
    }
    mode = r->mode;
    double seconds_taken = std::chrono::duration<double>(r->accepted - r->sent).count();
    fraction.push_back(code.size() / seconds_taken / line_rate);
  }
  // Payload written as a file: bytes literals (about 3.2 bytes on the wire per random byte) plus one
  // exec round trip per block.
  std::string data;
  std::uint32_t x = 12345;
  for (std::size_t i = 0; i < kib * 1024 / 4; ++i) {
    x = x * 1103515245u + 12345u;
    data += static_cast<char>(x >> 16);
  }
  auto w = b.repl.write_file("/flash/bench.bin", data, Deadline::after(seconds(300)));
  if (!w) fail(w.error());
  double file_rate = data.size() / std::chrono::duration<double>(w->end - w->start).count();
  auto s = stats(fraction);
  std::printf("| %-8s | %6u | %-11s | %4zu KiB | %5.1f %% (%5.1f %%)        | %5.1f %% of line rate |\n",
              profile.c_str(), baud, to_string(mode), kib, 100 * s.median, 100 * s.min,
              100 * file_rate / line_rate);
}

// A board that answers at once, in-process: what the client itself costs per exchange.
class InstantBoard : public SerialLink {
 public:
  void write(std::string_view bytes, Deadline) override {
    in_ += bytes;
    for (;;) {
      if (take("\x03\x03")) {
        out_ += "\r\n>>> \r\n>>> ";
      } else if (in_.rfind("#bootrig ", 0) == 0 && in_.find('\r') != std::string::npos) {
        auto cr = in_.find('\r');
        out_ += in_.substr(0, cr) + "\r\n>>> ";
        in_.erase(0, cr + 1);
      } else if (take("print(1)\r")) {
        out_ += "print(1)\r\n1\r\n>>> ";
      } else if (take("\x01")) {
        out_ += "\r\nraw REPL; CTRL-B to exit\r\n>";
      } else if (take("x=1\x04")) {
        out_ += "OK\x04\x04>";
      } else {
        break;
      }
    }
  }
  std::optional<SerialChunk> read(Deadline) override {
    if (out_.empty()) return std::nullopt;
    SerialChunk c{now(), std::move(out_)};
    out_.clear();
    return c;
  }
  void drain(Deadline) override {}
  void discard_input() override { out_.clear(); }
  void set_baud(unsigned) override {}
  unsigned baud() const override { return 0; }
  std::string describe() const override { return "instant board"; }

 private:
  bool take(std::string_view token) {
    if (in_.compare(0, token.size(), token) != 0) return false;
    in_.erase(0, token.size());
    return true;
  }
  std::string in_, out_;
};

void client_overhead(int rounds) {
  InstantBoard board;
  ReplOptions o;
  o.try_raw_paste = false;
  ReplClient repl(board, o);
  if (auto p = repl.get_prompt(Deadline::after(seconds(5))); !p) fail(p.error());
  std::vector<double> friendly, raw;
  for (int i = 0; i < rounds * 50; ++i) {
    auto t0 = now();
    auto r = repl.exec_friendly("print(1)", Deadline::after(seconds(5)));
    if (!r) fail(r.error());
    friendly.push_back(to_ms(now() - t0) * 1000.0);
  }
  for (int i = 0; i < rounds * 50; ++i) {
    auto t0 = now();
    auto r = repl.exec_raw("x=1", Deadline::after(seconds(5)));
    if (!r) fail(r.error());
    raw.push_back(to_ms(now() - t0) * 1000.0);
  }
  std::printf(
      "\nClient's own cost per exchange (in-process board that answers at once, median of %d): "
      "friendly %.1f us, raw %.1f us\n",
      rounds * 50, stats(friendly).median, stats(raw).median);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 20;
  std::size_t kib = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--kib")) kib = static_cast<std::size_t>(std::atoi(argv[i + 1]));
  }
  std::printf(
      "REPL round trip (median of %d; line time = the command, echo, output and prompt at 10 bits a "
      "byte)\n\n",
      rounds);
  std::printf("| profile  |   baud | command             | total ms | line ms | beyond line time (p90)  |\n");
  std::printf("|----------|--------|---------------------|----------|---------|-------------------------|\n");
  for (unsigned baud : {115200u, 921600u}) {
    for (const char* p : {"pycom", "upstream"}) round_trip(p, baud, rounds);
  }
  client_overhead(rounds);
  std::printf(
      "\nBulk transfer: %zu KiB of code through the raw REPL, from first byte sent to the board's\n"
      "acknowledgement (median and worst of %d); file: %zu KiB of random bytes via write_file()\n\n",
      kib, std::max(3, rounds / 4), kib / 4);
  std::printf(
      "| profile  |   baud | mode        | code     | code throughput (worst) | file payload         |\n");
  std::printf(
      "|----------|--------|-------------|----------|-------------------------|----------------------|\n");
  for (unsigned baud : {115200u, 921600u}) {
    for (const char* p : {"upstream", "pycom"})
      throughput(p, baud, baud > 200000 ? kib * 4 : kib, std::max(3, rounds / 4));
  }
  return 0;
}
