// The simulated Pycom module as a rig backend: its wires (pins, LED photodiode, UART pty) and its controls.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bootrig/core/time.hpp"
#include "bootrig/hw/gpio.hpp"
#include "bootrig/rig/rig_config.hpp"
#include "bootrig/sim/sim_wires.hpp"

namespace bootrig {

// Where the module's firmware is, for status reports and tests that want to know why a wire looks quiet.
enum class SimPhase : std::uint8_t {
  off,               // no power
  in_reset,          // EN held low
  rom,               // first-stage ROM
  download,          // ROM serial download mode (P2 low at reset)
  bootloader,        // second-stage bootloader, safe-boot pin not (or no longer) held
  safeboot_window1,  // 500 ms blink: scripts will be skipped
  safeboot_window2,  // 250 ms blink: previous image chosen
  safeboot_factory,  // 100 ms blink for 1.5 s: factory slot chosen
  app_start,         // app init, filesystem mount, _boot.py
  boot_py,
  main_py,
  repl,  // friendly REPL
  raw_repl,
  halted,      // fatal error: solid red LED
  deep_sleep,  // machine.deepsleep(): the chip is off until its timer or the RESET pin wakes it
};
const char* to_string(SimPhase p);

struct SimStatus {
  bool powered = false;
  bool in_reset = false;
  bool p12_high = false;
  bool p2_low = false;
  LedColour led = 0;
  SimPhase phase = SimPhase::off;
  std::string running_slot;     // "factory" / "ota_0"; empty until an app runs
  std::string running_version;  // e.g. "1.20.2.r4"
  bool safe_boot = false;       // the running boot skips boot.py and main.py
  bool repl_attached = true;    // os.dupterm: the REPL is on UART0
  int hard_boots = 0;           // ROM runs since start()
  int soft_boots = 0;           // soft resets since the last hard boot
  std::string uart_path;
};

// Download mode (P2 held low through reset): the ROM hands received bytes here. By default the module runs
// the ESP32 ROM serial loader over its own flash (see docs/simulator.md); set_download_handler(nullptr)
// makes the ROM ignore the bytes, as a ROM nobody talks to (or one that never answers).
class SimDownloadHandler {
 public:
  virtual ~SimDownloadHandler() = default;
  virtual void begin() {}
  // Called on the chip's thread; `reply` queues bytes on UART0 TX.
  virtual void received(std::string_view bytes, const std::function<void(std::string_view)>& reply) = 0;
  // The chip leaves download mode (a reset, power loss, or the app started after FLASH_END).
  virtual void end() {}
};

// Named faults, for the control socket, the command line and rig files: name, value type, meaning.
struct SimFaultField {
  const char* name;  // rig-file key under [sim.faults]
  const char* type;  // "bool", "ratio" (0..1), "ms", "bytes"
  const char* meaning;
};
const std::vector<SimFaultField>& sim_fault_fields();
// Sets one fault by name from text ("true", "0.05", "300"); returns an error message or empty on success.
std::string set_sim_fault(SimFaults& f, std::string_view name, std::string_view value);
std::string get_sim_fault(const SimFaults& f, std::string_view name);

// The module with in-process wires: outputs and the LED input behave like libgpiod lines, the UART is a
// pseudo-terminal that the rig opens with open_termios(uart_path()).
class SimModule {
 public:
  // Throws RigError for an impossible arrangement (e.g. the active slot holds no image). The firmware runs
  // on config.timing, never on what a rig expects.
  explicit SimModule(SimConfig config, unsigned baud = 115200);
  ~SimModule();
  SimModule(const SimModule&) = delete;
  SimModule& operator=(const SimModule&) = delete;

  // Creates the pty (and the symlink, if one was set) and powers the module: it boots unless an output
  // made for the reset or power role holds it. Idempotent.
  void start();
  void stop();

  // A stable path for the UART: a symlink kept pointing at the current pty (the pty is re-created when
  // the port-vanishes fault is on). Set before start(); the folder must exist. Without it a private
  // symlink in a fresh owner-only folder under $XDG_RUNTIME_DIR or /tmp is used.
  void set_uart_link(std::filesystem::path link);
  std::string uart_path() const;    // what open_termios() should open: the symlink
  std::string uart_device() const;  // the current /dev/pts/N

  // Rig-side wires. Roles: safeboot (P12; active = high = safe-boot request), reset (active = EN held
  // low), bootloader (P2; active = held low = download mode at reset), power (active = powered). A
  // destroyed output releases its pin: P12 low, EN and P2 high, power on.
  std::unique_ptr<DigitalOutput> make_output(LineRole role, Level initial = Level::inactive);
  // The photodiode on the RGB LED: active = lit (any non-zero colour). Edges are stamped when the LED
  // changes and queued per input from its creation on.
  std::unique_ptr<DigitalInput> make_led_input();

  // Controls (used by the control socket, stdin commands and tests).
  void set_line(LineRole role, Level level);  // as an output of that role would
  Level line(LineRole role) const;
  void press_reset(Duration pulse);  // holds EN low for `pulse`, then releases it
  SimStatus status() const;
  LedColour led() const;
  SimFaults faults() const;
  void set_faults(const SimFaults& f);
  // Replaces the built-in ROM loader; nullptr: download mode answers nothing.
  void set_download_handler(std::shared_ptr<SimDownloadHandler> h);
  const SimConfig& config() const;
  const FirmwareTiming& timing() const;
  unsigned baud() const;

  // Every LED change with when the firmware scheduled it and when the host thread made it (benchmarks,
  // latency). The photodiode input's edges carry the scheduled time, as a real module's LED keeps its own
  // timer: see docs/simulator.md.
  struct LedChange {
    LedColour colour;
    TimePoint scheduled;
    TimePoint actual;
  };
  std::vector<LedChange> led_history() const;  // the most recent 4096
  void clear_led_history();
  // Subscribes to LED changes (colour, the photodiode's edge time), called on the module's threads; returns
  // an id for unwatch.
  int watch_led(std::function<void(LedColour, TimePoint)> fn);
  // Subscribes to the photodiode's edges as a rig sees them (lit: rising), after its faults: the blinks it
  // misses (photodiode_miss_rate) and its wire (wire_photodiode). unwatch_led ends it too.
  int watch_photodiode(std::function<void(bool lit, TimePoint)> fn);
  bool photodiode_lit() const;  // the photodiode's level now, through its wire
  void unwatch_led(int id);

  // Shared with the wire objects, which keep it alive after the module object is gone.
  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace bootrig
