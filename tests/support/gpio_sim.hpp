// gpio-sim lines for the tests that need the kernel's GPIO code (the kernel tier, tests/kernel): finding a
// line, driving its simulated pull and reading the level the chip sees, through the chip's sysfs.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include "bootrig/hw/gpio.hpp"

namespace bootrig::testing {

namespace fs = std::filesystem;

// A line on a gpio-sim chip and the sysfs folder through which the simulator's side of it is driven (pull)
// and observed (value): /sys/devices/platform/gpio-sim.N/gpiochipM/sim_gpioK.
struct SimLine {
  ChipInfo chip;
  ResolvedLine line;
  fs::path sim;

  void pull(bool up) const {
    std::ofstream f(sim / "pull");
    f << (up ? "pull-up" : "pull-down");
    f.flush();
    if (!f) throw std::runtime_error("cannot write " + (sim / "pull").string());
  }
  // The physical level the chip sees on the pin, before any active-low inversion.
  int physical_value() const {
    std::ifstream f(sim / "value");
    int v = -1;
    f >> v;
    return v;
  }
};

inline std::optional<fs::path> sim_folder(const ChipInfo& chip, unsigned offset) {
  std::error_code ec;
  for (const auto& dev : fs::directory_iterator("/sys/devices/platform", ec)) {
    if (dev.path().filename().string().rfind("gpio-sim.", 0) != 0) continue;
    fs::path p = dev.path() / chip.name / ("sim_gpio" + std::to_string(offset));
    if (fs::exists(p / "pull", ec)) return p;
  }
  return std::nullopt;
}

// The gpio-sim line called `name` (the tier names its chip's lines like a Raspberry Pi's: GPIO0..GPIO27).
inline std::optional<SimLine> named_sim_line(GpioBackend& backend, const std::string& name) {
  for (const ChipInfo& c : backend.chips()) {
    if (c.label.rfind("gpio-sim", 0) != 0) continue;
    for (unsigned i = 0; i < c.lines.size(); ++i)
      if (c.lines[i].name == name)
        if (auto sim = sim_folder(c, i)) return SimLine{c, ResolvedLine{c.path, i, name}, *sim};
  }
  return std::nullopt;
}

inline constexpr const char* kNoPiSimChip =
    "no gpio-sim chip with a Raspberry Pi's line names (GPIO17...); the kernel tier "
    "(tests/kernel/run-tier.sh) "
    "makes one under qemu";

// A hardware rig wired like rigs/pi4-expansion31.toml, on the tier's gpio-sim chip and the UART under
// test; empty when this machine has neither (then the caller skips with `why_not`).
inline std::string pi_rig_on_gpio_sim(GpioBackend& backend, std::string& why_not) {
  const char* port = std::getenv("BOOTRIG_TEST_SERIAL_PORT");
  if (!named_sim_line(backend, "GPIO17")) {
    why_not = kNoPiSimChip;
    return {};
  }
  if (!port || !*port) {
    why_not = "no UART to use: set BOOTRIG_TEST_SERIAL_PORT (the kernel tier does)";
    return {};
  }
  return std::string(R"([rig]
name = "pi wiring on gpio-sim"
kind = "hardware"
[lines.safeboot]
name = "GPIO17"
active = "high"
bias = "pull-down"
[lines.reset]
name = "GPIO27"
active = "low"
drive = "open-drain"
[lines.led]
name = "GPIO22"
active = "low"
bias = "pull-up"
[lines.bootloader]
name = "GPIO23"
active = "low"
drive = "open-drain"
[serial]
port = ")") +
         port + "\"\n";
}

}  // namespace bootrig::testing
