// Opening a rig: real drivers for hardware rigs, the in-process simulated module for sim rigs.
#include "bootrig/target/target.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/gpiod.hpp"
#include "bootrig/drivers/serialport.hpp"
#include "bootrig/drivers/termios_serial.hpp"
#include "bootrig/sim/remote_sim.hpp"
#include "bootrig/sim/sim_module.hpp"

namespace bootrig {

namespace {

// Opens the rig's port. A port away at this moment (an adapter re-enumerating after the last run's reset, a
// simulator's re-created pty) gets the rig's re-enumeration gap to appear, and keeps it for later absences.
std::unique_ptr<SerialLink> open_rig_port(const std::string& port, const SerialSettings& at, milliseconds gap) {
  const Deadline back = Deadline::after(gap);
  std::error_code ec;
  while (!std::filesystem::exists(port, ec) && !back.expired()) wait_until(Deadline::after(milliseconds(50)).min(back));
  // libserialport refuses pseudo-terminals (a simulator, socat, a program serving a REPL): termios opens them.
  return is_pty_path(port) ? open_termios(port, at, gap) : open_serialport(port, at, gap);
}

}  // namespace

Target::Target(const RigConfig& rig) : rig_(rig) {}

Target::~Target() {
  // Explicit so the order is visible: lines inactive first, then the serial port, then the module.
  safe_.release_all();
  serial_.reset();
  led_.reset();
}

DigitalOutput& Target::safeboot() {
  if (!safeboot_)
    throw RigError(rig_.name + ": no P12 safe-boot line (the rig file has no [lines.safeboot]); wire P12 and add "
                               "it to the rig file for this command");
  return *safeboot_;
}

DigitalOutput& Target::reset() {
  if (!reset_)
    throw RigError(rig_.name + ": no RESET line (the rig file has no [lines.reset]); wire RESET/EN and add it to "
                               "the rig file for this command");
  return *reset_;
}

bool Target::has_line(LineRole role) const {
  switch (role) {
    case LineRole::safeboot: return safeboot_ != nullptr;
    case LineRole::reset: return reset_ != nullptr;
    case LineRole::bootloader: return bootloader_ != nullptr;
    case LineRole::power: return power_ != nullptr;
    case LineRole::led: return led_ != nullptr;
  }
  return false;
}

RigConfig Target::port_rig(const std::string& path, unsigned baud) {
  RigConfig rig;
  rig.source = "<--port>";
  rig.name = "port " + path;
  rig.kind = RigKind::hardware;
  rig.serial.port.path = path;
  rig.serial.settings.baud = baud;
  return rig;
}

std::unique_ptr<Target> Target::open_port(const std::string& path, unsigned baud) {
  return open(port_rig(path, baud));
}

std::string Target::describe() const {
  return rig_.name + (simulated() ? " [SIMULATED]" : " [hardware]");
}

std::unique_ptr<Target> Target::open(const RigConfig& rig) {
  std::unique_ptr<Target> t(new Target(rig));
  // P12 and RESET are released first (priority 0), the download strap next, power last: cutting power
  // before the pins are quiet could back-power the module through them.
  auto priority = [](LineRole r) {
    switch (r) {
      case LineRole::safeboot:
      case LineRole::reset: return 0;
      case LineRole::bootloader: return 1;
      default: return 2;
    }
  };
  auto slot = [&](LineRole r) -> DigitalOutput** {
    switch (r) {
      case LineRole::safeboot: return &t->safeboot_;
      case LineRole::reset: return &t->reset_;
      case LineRole::bootloader: return &t->bootloader_;
      case LineRole::power: return &t->power_;
      default: return nullptr;
    }
  };

  if (rig.kind == RigKind::sim) {
    if (rig.sim.wires.kind == SimWiresKind::gpio_sim)
      throw RigError("rig " + rig.source.string() +
                     " wires the simulated module to gpio-sim lines; run it with `bootrig sim` and drive it "
                     "through those lines with a hardware rig file");
    // In this process, or a standalone `bootrig sim` reached through its control socket.
    if (rig.sim.remote.empty()) t->sim_ = std::make_unique<SimModule>(rig.sim, rig.serial.settings.baud);
    else t->remote_ = open_sim_wires(rig);
    auto output = [&](LineRole r) {
      return t->sim_ ? t->sim_->make_output(r, Level::inactive) : t->remote_->make_output(r, Level::inactive);
    };
    // The simulated rig has no power switch: like most benches, power stays on and RESET does the work.
    for (LineRole r : {LineRole::safeboot, LineRole::reset, LineRole::bootloader})
      *slot(r) = &t->safe_.adopt(to_string(r), output(r), priority(r));
    if (rig.sim.photodiode) t->led_ = t->sim_ ? t->sim_->make_led_input() : t->remote_->make_led_input();
    if (t->sim_) t->sim_->start();
    std::string uart = t->sim_ ? t->sim_->uart_path() : t->remote_->uart_path();
    t->serial_ = std::make_unique<LendableLink>(
        uart, rig.serial.settings.baud, [uart, s = rig.serial.settings, gap = rig.serial.reappear](unsigned baud) {
          SerialSettings at = s;
          at.baud = baud;
          return open_rig_port(uart, at, gap);
        });
    return t;
  }

  // A serial-only rig touches no GPIO chip (there may be none on this machine).
  std::unique_ptr<GpioBackend> gpio;
  std::vector<ChipInfo> chips;
  if (!rig.lines.empty()) {
    gpio = make_gpiod_backend();
    chips = gpio->chips();
  }
  for (const auto& [role, lc] : rig.lines) {
    ResolvedLine where = resolve_line(chips, lc.where);
    spdlog::debug("{}: {}", to_string(role), where.describe());
    if (role == LineRole::led) {
      t->led_ = gpio->request_input(where, lc.settings);
    } else {
      LineSettings s = lc.settings;
      s.initial = Level::inactive;  // claimed quiet: a line never glitches when bootrig starts
      *slot(role) = &t->safe_.adopt(to_string(role), gpio->request_output(where, s), priority(role));
    }
  }
  // Open by the name in the rig file (a by-id link stays valid across re-enumeration); a USB selector is
  // resolved to today's device.
  std::string port = rig.serial.port.path;
  if (port.empty()) port = select_port(list_serial_ports(), rig.serial.port);
  t->serial_ = std::make_unique<LendableLink>(
      port, rig.serial.settings.baud, [port, s = rig.serial.settings, gap = rig.serial.reappear](unsigned baud) {
        SerialSettings at = s;
        at.baud = baud;
        return open_rig_port(port, at, gap);
      });
  return t;
}

}  // namespace bootrig
