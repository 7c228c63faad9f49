// Test support: an in-process simulated module on a fast timing profile, driven only through its rig-side
// wires and its UART pty, with helpers to talk to the REPL.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bootrig/hw/gpio.hpp"
#include "bootrig/hw/serial.hpp"
#include "bootrig/rig/rig_config.hpp"
#include "bootrig/sim/sim_module.hpp"

namespace bootrig::test {

// The firmware's timings divided by five (boot delays smaller still), for tests: window 1 blinks every
// 100 ms, window 2 every 50 ms, the factory phase every 20 ms for 300 ms; heartbeat 16 ms on, 784 ms off;
// the error signal after a failing script 240 ms.
TimingProfile fast_timing();
// The firmware the fast rig expects, as the simulated module runs it: the same numbers, written down apart so
// that the module and the rig's expectations come from separate sources (a test may make them differ).
FirmwareTiming fast_firmware();
// `c` with the fast firmware.
SimConfig fast_sim(SimConfig c = {});
inline constexpr unsigned kFastBaud = 921600;

struct RawResult {
  bool ok = false;     // the raw REPL answered with OK and both \x04 markers
  std::string output;  // what the code printed
  std::string error;   // the traceback, empty when none
};

// An observed LED edge.
struct LedEdge {
  Edge edge;
  TimePoint time;
};

class SimRig {
 public:
  // Starts the module with the rig's lines at rest (P12 low, RESET released, P2 high, power on) and opens
  // the UART. `start = false` leaves starting to the test (call start()). The module runs config.timing;
  // a config with the firmware's own (default) timings runs fast_firmware() instead, the suite's speed.
  // `timing` is what the rig expects (timing()).
  explicit SimRig(SimConfig config = {}, TimingProfile timing = fast_timing(), unsigned baud = kFastBaud,
                  bool start = true);
  ~SimRig();
  SimRig(const SimRig&) = delete;
  SimRig& operator=(const SimRig&) = delete;

  void start();
  SimModule& module() { return *module_; }
  DigitalOutput& safeboot() { return *safeboot_; }
  DigitalOutput& reset() { return *reset_; }
  DigitalOutput& bootloader() { return *bootloader_; }
  DigitalOutput& power() { return *power_; }
  DigitalInput& led() { return *led_; }
  SerialLink& uart() { return *uart_; }

  // ---- UART ----
  void send(std::string_view bytes);
  void send_line(std::string_view line) { send(std::string(line) + "\r"); }
  // Everything received since the previous successful read_until, up to and including `needle`; nullopt
  // (and nothing consumed) when the needle has not arrived by the deadline. The default deadlines only bound a
  // hang: they are generous because a loaded 2-core machine (an ASan build beside other builds) can take
  // several times the module's own boot time; a test about time compares the simulator's recorded times.
  std::optional<std::string> read_until(std::string_view needle, Duration timeout = seconds(30));
  // Reads until the line has been quiet for `quiet`; returns what was unread.
  std::string read_quiet(Duration quiet, Duration timeout = seconds(10));
  // Forgets unread input (what arrived so far); the transcript keeps it.
  void skip_unread();
  const std::string& transcript() const { return buf_; }

  // ---- REPL ----
  // Waits for the banner's "Type "help()"..." line and the first ">>> " after it.
  bool wait_banner(Duration timeout = seconds(30));
  // Ctrl-C twice then Enter, until a fresh ">>> " shows.
  bool interrupt_to_prompt(Duration timeout = seconds(30));
  // Runs code through the raw REPL (enter with Ctrl-A, send, Ctrl-D, read OK/output/\x04/error/\x04/>, then
  // back to the friendly REPL with Ctrl-B).
  RawResult exec_raw(const std::string& code, Duration timeout = seconds(10));
  // Friendly REPL: sends one line and returns what it printed before the next ">>> ".
  std::optional<std::string> eval_line(const std::string& line, Duration timeout = seconds(10));

  // ---- pins and LED ----
  void press_reset();  // RESET active for the profile's reset pulse, then released
  // Next LED edge, or nullopt at the deadline.
  std::optional<LedEdge> next_led_edge(Duration timeout);
  // Collects LED edges until `count` were seen or the deadline passes.
  std::vector<LedEdge> led_edges(std::size_t count, Duration timeout);

  const TimingProfile& timing() const { return timing_; }

 private:
  bool fill(Deadline d);

  TimingProfile timing_;
  std::unique_ptr<SimModule> module_;
  std::unique_ptr<DigitalOutput> safeboot_, reset_, bootloader_, power_;
  std::unique_ptr<DigitalInput> led_;
  std::unique_ptr<SerialLink> uart_;
  unsigned baud_;
  std::string buf_;
  std::size_t pos_ = 0;
};

}  // namespace bootrig::test
