// Benchmark: `bootrig fs` copies (BoardFiles put/get: escaped binary through the REPL's stdin and stdout in
// 4 KiB blocks, acknowledged upward, sent on request downward) against a chunked sender that moves 256 bytes
// per REPL exchange with a 10 ms pause (pyboard.py's and mpremote's way: bytes literals up, repr() down),
// both directions, both firmware profiles, 115200 and 921600 baud, as a share of the line rate (10 bits a
// byte). Optionally the real mpremote `fs cp` too, timed from its start (connecting included).
//
//   ./build/bench/bench_fs [--kib K] [--runs N] [--mpremote TOOLS_DIR]
//
// The simulated UART paces bytes at the baud rate both ways, the bound a real UART has. Prints one table;
// BENCHMARKS.md records a run.
#include <sys/wait.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "bootrig/drivers/termios_serial.hpp"
#include "bootrig/repl/board_files.hpp"
#include "bootrig/sim/sim_module.hpp"

using namespace bootrig;

namespace {

struct Board {
  SimModule module;
  std::unique_ptr<SerialLink> link;
  ReplClient repl;
  CheckedChannel channel;
  BoardFiles files;
  Board(const std::string& profile, unsigned baud, const std::filesystem::path& link_path = {})
      : module(config(profile), baud),
        link(open(module, baud, link_path)),
        repl(*link),
        channel(repl),
        files(repl, channel) {
    if (auto p = repl.get_prompt(Deadline::after(seconds(20))); !p) fail(p.error().describe());
  }
  static SimConfig config(const std::string& profile) {
    SimConfig c;
    c.profile = profile;
    c.timing = bench::quick_boot();
    return c;
  }
  static std::unique_ptr<SerialLink> open(SimModule& m, unsigned baud,
                                          const std::filesystem::path& link_path) {
    if (!link_path.empty()) m.set_uart_link(link_path);
    m.start();
    SerialSettings s;
    s.baud = baud;
    return open_termios(m.uart_path(), s);
  }
  [[noreturn]] static void fail(const std::string& what) {
    std::fprintf(stderr, "bench_fs: %s\n", what.c_str());
    std::exit(2);
  }
};

std::string payload(std::size_t size) {
  std::string s;
  std::mt19937 rng(3);
  while (s.size() < size) s += static_cast<char>(rng() & 0xFF);
  return s;
}

double share(std::size_t bytes, unsigned baud, double seconds) { return bytes * 10.0 / baud / seconds; }

// 256 bytes per exchange, 10 ms apart: f.write(b'...') up, print(repr(f.read(256))) down.
double chunked_put(Board& b, const std::string& data) {
  auto open =
      b.repl.exec_raw("f = open('/flash/chunked.bin', 'wb')\nw = f.write", Deadline::after(seconds(10)));
  if (!open || open->exception) Board::fail("chunked put: open");
  TimePoint start = now();
  for (std::size_t at = 0; at < data.size(); at += 256) {
    auto r = b.repl.exec_raw("w(" + py_bytes_literal(std::string_view(data).substr(at, 256)) + ")",
                             Deadline::after(seconds(10)));
    if (!r || r->exception) Board::fail("chunked put: write");
    wait_for(milliseconds(10));
  }
  double s = to_ms(now() - start) / 1000.0;
  (void)b.repl.exec_raw("f.close()", Deadline::after(seconds(10)));
  return s;
}

double chunked_get(Board& b, std::size_t size) {
  auto open =
      b.repl.exec_raw("f = open('/flash/chunked.bin', 'rb')\nr = f.read", Deadline::after(seconds(10)));
  if (!open || open->exception) Board::fail("chunked get: open");
  TimePoint start = now();
  std::size_t got = 0;
  while (got < size) {
    auto r = b.repl.exec_raw("print(repr(r(256)))", Deadline::after(seconds(10)));
    if (!r || r->exception) Board::fail("chunked get: read");
    got += 256;
    wait_for(milliseconds(10));
  }
  double s = to_ms(now() - start) / 1000.0;
  (void)b.repl.exec_raw("f.close()", Deadline::after(seconds(10)));
  return s;
}

// The real mpremote against the simulated module's link; seconds from its start to its exit.
double mpremote_cp(const std::string& tools, const std::string& tty, const std::string& from,
                   const std::string& to) {
  std::string cmd = "env PYTHONPATH='" + tools + "/mpremote' /usr/bin/python3 -m mpremote connect '" + tty +
                    "' fs cp '" + from + "' '" + to + "' >/dev/null 2>&1";
  TimePoint start = now();
  int st = std::system(cmd.c_str());
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) Board::fail("mpremote failed: " + cmd);
  return to_ms(now() - start) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t kib = 64;
  int runs = 3;
  std::string tools;
  bool quick = false;  // the Pycom profile only
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--kib") && i + 1 < argc)
      kib = std::strtoul(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc)
      runs = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--mpremote") && i + 1 < argc)
      tools = argv[++i];
    else if (!std::strcmp(argv[i], "--quick"))
      quick = true;
    else {
      std::fprintf(stderr,
                   "usage: bench_fs [--kib K] [--runs N] [--quick] [--mpremote MICROPYTHON_TOOLS_DIR]\n");
      return 2;
    }
  }
  const std::string data = payload(kib * 1024);
  std::printf(
      "| profile | baud | direction | bootrig fs: share of line rate, median (min-max) of %d | "
      "chunked 256 B / 10 ms: share | bootrig / chunked | target >= 90 %% |\n",
      runs);
  std::printf("|---|---|---|---|---|---|---|\n");
  std::vector<const char*> profiles{"pycom"};
  if (!quick) profiles.push_back("upstream");
  for (const char* profile : profiles) {
    for (unsigned baud : {115200u, 921600u}) {
      Board b(profile, baud);
      // Interleaved: each round runs bootrig's transfer and the chunked one in each direction.
      bench::Spread up, down, cup, cdown;
      for (int r = 0; r < runs; ++r) {
        auto p = b.files.put("/flash/bench.bin", data);
        if (!p) Board::fail("put: " + p.error().what);
        up.add(100 * p->line_share(baud));
        cup.add(100 * share(data.size(), baud, chunked_put(b, data)));
        std::string back;
        auto g = b.files.get("/flash/bench.bin", back);
        if (!g || back != data) Board::fail("get: " + (g ? std::string("bytes differ") : g.error().what));
        down.add(100 * g->line_share(baud));
        cdown.add(100 * share(data.size(), baud, chunked_get(b, data.size())));
      }
      std::printf("| %s | %u | put (host to board) | %s %% | %s %% | %.2f | %s |\n", profile, baud,
                  up.text(1).c_str(), cup.text(1).c_str(), up.median() / cup.median(),
                  bench::verdict(up.median() >= 90.0));
      std::printf("| %s | %u | get (board to host) | %s %% | %s %% | %.2f | %s |\n", profile, baud,
                  down.text(1).c_str(), cdown.text(1).c_str(), down.median() / cdown.median(),
                  bench::verdict(down.median() >= 90.0));
      std::fflush(stdout);
    }
  }
  if (!tools.empty()) {
    auto dir = std::filesystem::temp_directory_path() / ("bench-fs-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto local = dir / "data.bin";
    std::ofstream(local, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
    for (const char* profile : profiles) {
      std::optional<Board> b;
      b.emplace(profile, 115200u, dir / "tty");
      auto put = b->files.put("/flash/bench.bin", data);
      if (!put) Board::fail(put.error().what);
      const std::string tty = (dir / "tty").string();
      b->repl.forget_state();
      // mpremote takes the port while it runs: the bench's own link stays open but quiet.
      double up = mpremote_cp(tools, tty, local.string(), ":/flash/mp.bin");
      double down = mpremote_cp(tools, tty, ":/flash/bench.bin", (dir / "back.bin").string());
      std::printf(
          "| %s | 115200 | mpremote fs cp up / down (process start to exit) | %.1f %% / %.1f %% | | | |\n",
          profile, share(data.size(), 115200, up) * 100, share(data.size(), 115200, down) * 100);
      std::printf("|   |   | bootrig fs put / get of the same file, same board | %.1f %% / ",
                  put->line_share(115200) * 100);
      std::string back;
      auto g = b->files.get("/flash/bench.bin", back);
      std::printf("%.1f %% | | | |\n", g ? g->line_share(115200) * 100 : 0.0);
    }
    std::filesystem::remove_all(dir);
  }
  return 0;
}
