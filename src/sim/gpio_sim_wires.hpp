// The simulated module wired to a gpio-sim chip and a real tty: its pins are kernel GPIO lines that a bootrig
// elsewhere drives through libgpiod, read (and pulled, for the photodiode) through the chip's sysfs.
#pragma once

#include <array>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "bootrig/drivers/termios_serial.hpp"
#include "bootrig/rig/rig_config.hpp"
#include "bootrig/sim/sim_wires.hpp"

namespace bootrig::sim {

// The module's side of the wires on gpio-sim lines. gpio-sim reports no value changes, so the lines the rig
// drives are polled (every millisecond: far finer than any timing of the boot windows or a reset pulse).
// The module's own pull resistors are applied as the lines' pulls: P12 pull-down (the rig's 100 kOhm), EN
// and P2 pull-up (the module's), so a released open-drain line reads high as on the bench.
class GpioSimPins {
 public:
  // Resolves the line names among the GPIO chips and finds each line's sysfs folder. Throws RigError
  // naming the line when it is missing or not on a gpio-sim chip.
  explicit GpioSimPins(const SimWiresConfig& wires);
  ~GpioSimPins();
  GpioSimPins(const GpioSimPins&) = delete;
  GpioSimPins& operator=(const GpioSimPins&) = delete;

  // The pins' levels now (before start(), for the board's power-up).
  bool high(ModulePin pin);
  // Reports every later change of P12, EN and P2 to `board`, from its own thread: changes from the levels
  // high() last returned (what the board was started with), or from those read now for pins not asked.
  void start(ModuleInputs& board);
  void stop();
  // The photodiode comparator pulls its line low while the LED is lit.
  void led(bool lit);
  std::string describe() const;

 private:
  struct Line {
    std::string name;
    std::filesystem::path dir;  // /sys/devices/platform/gpio-sim.N/gpiochipM/sim_gpioK
    int value_fd = -1;
  };
  enum Index { p12, en, p2, photodiode, count };
  void attach(const SimWiresConfig& wires);  // the constructor's work; it closes what it opened on failure
  bool read(Line& l);
  void pull(Line& l, bool up);
  void run(ModuleInputs& board);

  std::array<Line, count> lines_;
  std::array<std::optional<bool>, count> told_;  // the level high() last reported, per pin
  std::mutex led_m_;
  bool led_lit_ = false;
  std::atomic<bool> stop_{false};
  int wake_fd_ = -1;
  std::thread thread_;
};

// A tty held raw 8N1 at `baud` for the module's side of a real UART (Pty-shaped: master_fd is the tty, no
// hold fd). Throws RigError naming the path.
Pty open_raw_tty(const std::string& path, unsigned baud);
// Changes the speed of a tty opened by open_raw_tty(); failures only matter on a real cable and are logged.
void set_raw_tty_baud(int fd, unsigned baud);

}  // namespace bootrig::sim
