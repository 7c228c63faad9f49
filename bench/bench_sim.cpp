// Benchmark of the simulated module with the firmware's own timings: host CPU while idle at the REPL, while
// Python code sleeps or spins, and while blinking the safe-boot windows, LED edge lateness against the
// firmware's schedule, UART throughput. Usage: bench_sim [idle_seconds]   (default 20). Prints a Markdown
// table; see bench/results/sim.md.
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "bootrig/drivers/termios_serial.hpp"
#include "bootrig/sim/sim_module.hpp"

namespace bootrig {
namespace {

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Drains the UART like a rig that listens all the time; counts bytes and remembers the text.
class Listener {
 public:
  explicit Listener(const std::string& path, unsigned baud) {
    SerialSettings s;
    s.baud = baud;
    link_ = open_termios(path, s);
    thread_ = std::thread([this] {
      while (!stop_) {
        auto c = link_->read(Deadline::after(milliseconds(200)));
        if (!c) continue;
        std::lock_guard lk(m_);
        text_ += c->bytes;
        last_ = c->time;
      }
    });
  }
  ~Listener() {
    stop_ = true;
    thread_.join();
  }
  bool wait_for(const std::string& needle, Duration timeout) {
    Deadline d = Deadline::after(timeout);
    while (!d.expired()) {
      {
        std::lock_guard lk(m_);
        if (text_.find(needle, from_) != std::string::npos) {
          from_ = text_.find(needle, from_) + needle.size();
          return true;
        }
      }
      std::this_thread::sleep_for(milliseconds(5));
    }
    return false;
  }
  void send(const std::string& s) { link_->write(s, Deadline::after(seconds(5))); }
  TimePoint last() {
    std::lock_guard lk(m_);
    return last_;
  }
  std::size_t size() {
    std::lock_guard lk(m_);
    return text_.size();
  }

 private:
  std::unique_ptr<SerialLink> link_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex m_;
  std::string text_;
  std::size_t from_ = 0;
  TimePoint last_{};
};

struct Lateness {
  std::size_t n = 0;
  double p50 = 0, p99 = 0, max = 0;
};

Lateness lateness(const std::vector<SimModule::LedChange>& changes) {
  std::vector<double> us;
  for (const auto& c : changes)
    us.push_back(std::chrono::duration<double, std::micro>(c.actual - c.scheduled).count());
  Lateness l;
  l.n = us.size();
  if (us.empty()) return l;
  std::sort(us.begin(), us.end());
  l.p50 = us[us.size() / 2];
  l.p99 = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  l.max = us.back();
  return l;
}

void row(const char* what, double cpu, double wall, const Lateness& l) {
  std::printf("| %-34s | %7.1f s | %6.3f %% | %5zu | %8.0f | %8.0f | %8.0f |\n", what, wall,
              100.0 * cpu / wall, l.n, l.p50, l.p99, l.max);
}

}  // namespace
}  // namespace bootrig

int main(int argc, char** argv) {
  using namespace bootrig;
  double idle_s = argc > 1 ? std::atof(argv[1]) : 20.0;
  if (idle_s < 1) idle_s = 1;
  utsname u{};
  ::uname(&u);
  std::printf("bench_sim: %s %s, %ld CPUs online, firmware timings, 115200 baud\n\n", u.sysname, u.release,
              ::sysconf(_SC_NPROCESSORS_ONLN));

  SimConfig cfg;
  cfg.factory_version = "1.20.2.r4";
  cfg.ota0_version = "1.20.2.r6";
  cfg.active_slot = "ota_0";
  SimModule m(cfg, 115200);  // the firmware's own timings
  auto p12 = m.make_output(LineRole::safeboot, Level::inactive);
  auto reset = m.make_output(LineRole::reset, Level::inactive);
  m.start();
  Listener uart(m.uart_path(), 115200);
  if (!uart.wait_for(">>> ", seconds(20))) {
    std::fprintf(stderr, "bench_sim: no prompt\n");
    return 1;
  }

  std::printf("| %-34s | %9s | %8s | %5s | %8s | %8s | %8s |\n", "phase", "wall", "CPU", "LED", "p50 us",
              "p99 us", "max us");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(36, '-').c_str(), std::string(11, '-').c_str(),
              std::string(10, '-').c_str(), std::string(7, '-').c_str(), std::string(10, '-').c_str(),
              std::string(10, '-').c_str(), std::string(10, '-').c_str());

  // 1. Idle at the REPL: only the heartbeat (80 ms / 3920 ms) is running.
  m.clear_led_history();
  double c0 = cpu_seconds();
  TimePoint w0 = now();
  std::this_thread::sleep_for(std::chrono::duration<double>(idle_s));
  double cpu = cpu_seconds() - c0;
  double wall = std::chrono::duration<double>(now() - w0).count();
  row("idle at the REPL (heartbeat)", cpu, wall, lateness(m.led_history()));

  // 1b. Python code sleeping (time.sleep) and Python code spinning (while True: pass), both at the REPL with
  // the heartbeat running. A sleep blocks the chip's thread; a busy loop runs at about an ESP32's pace.
  for (const auto& [what, code] :
       {std::pair<const char*, const char*>{"time.sleep() in Python code", "import time; time.sleep(600)\r"},
        {"while True: pass (busy Python code)", "while True: pass\r\r\r"}}) {
    uart.send(code);
    std::this_thread::sleep_for(milliseconds(500));
    m.clear_led_history();
    c0 = cpu_seconds();
    w0 = now();
    std::this_thread::sleep_for(std::chrono::duration<double>(idle_s / 2));
    cpu = cpu_seconds() - c0;
    wall = std::chrono::duration<double>(now() - w0).count();
    row(what, cpu, wall, lateness(m.led_history()));
    uart.send("\x03");
    if (!uart.wait_for(">>> ", seconds(10))) return 1;
  }

  // 2. Held safe-boot pin through all three phases: 6 x 500 ms, 12 x 250 ms, 15 x 100 ms of blinking.
  m.clear_led_history();
  p12->set(Level::active);
  reset->set(Level::active);
  std::this_thread::sleep_for(milliseconds(100));
  c0 = cpu_seconds();
  w0 = now();
  reset->set(Level::inactive);
  if (!uart.wait_for("entry 0x", seconds(5))) return 1;
  // The blink lasts ~7.6 s from bootloader start; measure 7.4 s of it.
  std::this_thread::sleep_for(milliseconds(7400));
  cpu = cpu_seconds() - c0;
  wall = std::chrono::duration<double>(now() - w0).count();
  auto blink = m.led_history();
  row("safe-boot windows 1, 2 and factory", cpu, wall, lateness(blink));
  p12->set(Level::inactive);
  if (!uart.wait_for(">>> ", seconds(20))) return 1;

  // 3. UART throughput: 20000 characters printed at 115200 baud 8N1 (11520 bytes/s at most).
  std::size_t before = uart.size();
  c0 = cpu_seconds();
  w0 = now();
  uart.send("print('x' * 20000)\r");
  if (!uart.wait_for(">>> ", seconds(30))) return 1;
  cpu = cpu_seconds() - c0;
  double secs = std::chrono::duration<double>(uart.last() - w0).count();
  std::size_t bytes = uart.size() - before;
  std::printf(
      "\nUART: %zu bytes in %.3f s = %.0f bytes/s (line limit 11520); CPU %.2f %% of a core meanwhile\n",
      bytes, secs, static_cast<double>(bytes) / secs, 100.0 * cpu / secs);
  return 0;  // the listener closes the port before the module goes
}
