// `bootrig check [RIG]`: validates a rig file and prints the wiring as bootrig understands it, resolved on
// this machine when the hardware is there.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/escape.hpp"
#include "bootrig/drivers/gpiod.hpp"
#include "bootrig/drivers/serialport.hpp"
#include "bootrig/flash/ensure.hpp"
#include "bootrig/flash/external_tool.hpp"
#include "bootrig/rig/rig_file.hpp"
#include "bootrig/target/rig_lock.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

struct CheckOptions {
  std::string rig;
  bool offline = false;
};

std::string line_settings_text(const LineSettings& s, LineRole role) {
  std::string t = std::string("active ") + (s.active_low ? "low" : "high");
  if (role != LineRole::led) t += std::string(", ") + to_string(s.drive);
  if (s.bias != Bias::as_is) t += std::string(", bias ") + to_string(s.bias);
  if (role == LineRole::led && s.debounce.count() > 0) t += ", debounce " + std::to_string(s.debounce.count()) + " us";
  return t;
}

int run_check(const CheckOptions& o, const GlobalOptions& g) {
  GlobalOptions eff = g;
  if (!o.rig.empty()) eff.rig = o.rig;
  RigConfig rig = load_rig(eff);
  std::ostringstream out;
  int problems = 0;

  out << "rig:      " << rig.name << " (" << rig.source.string() << ")\n";
  if (rig.kind == RigKind::sim) {
    out << "kind:     sim - the SIMULATED module (" << rig.sim.board << ", profile " << rig.sim.profile
        << "); nothing here touches hardware\n";
    out << "slots:    factory " << rig.sim.factory_version << ", ota_0 "
        << (rig.sim.ota0_version.empty() ? "(empty)" : rig.sim.ota0_version) << ", active " << rig.sim.active_slot
        << "\n";
    out << "serial:   simulated UART (pty) at " << rig.serial.settings.baud << " baud 8N1\n";
  } else {
    out << "kind:     hardware\n";
    std::vector<ChipInfo> chips;
    if (!o.offline) chips = make_gpiod_backend()->chips();
    out << "lines:\n";
    for (LineRole role : kAllLineRoles) {
      const LineConfig* lc = rig.line(role);
      char head[96];
      std::snprintf(head, sizeof head, "  %-11s %-40s ", to_string(role), role_purpose(role));
      out << head;
      if (!lc) {
        out << "not wired\n";
        continue;
      }
      out << lc->where.describe() << ", " << line_settings_text(lc->settings, role);
      if (!o.offline) {
        out << "  -> ";
        try {
          ResolvedLine where = resolve_line(chips, lc->where);
          out << where.describe();
          // A line someone else holds would stop `bootrig run` at its start: say who, now.
          const ChipInfo* chip = find_chip(chips, where.chip_path);
          if (chip && where.offset < chip->lines.size() && chip->lines[where.offset].used) {
            const std::string& who = chip->lines[where.offset].consumer;
            out << "  BUSY: " << (who.empty() ? std::string("another user") : "'" + who + "'")
                << " holds it; stop that user or choose another line";
            ++problems;
          }
        } catch (const RigError& e) {
          out << "NOT FOUND: " << e.what();
          ++problems;
        }
      }
      out << "\n";
    }
    const auto& s = rig.serial;
    out << "serial:   " << s.port.describe() << " at " << s.settings.baud << " baud 8N1, flow "
        << to_string(s.settings.flow) << ", DTR " << (s.settings.dtr ? (*s.settings.dtr ? "on" : "off") : "untouched")
        << ", RTS " << (s.settings.rts ? (*s.settings.rts ? "on" : "off") : "untouched");
    if (!o.offline) {
      out << "  -> ";
      try {
        out << select_port(list_serial_ports(), s.port);
      } catch (const RigError& e) {
        out << "NOT FOUND: " << e.what();
        ++problems;
      }
    }
    out << "\n";
  }
  const auto& t = rig.timing;
  out << "timing:   safe-boot re-check " << t.safeboot_recheck.count() << " ms; window 1 "
      << t.window1_iterations << " x " << t.window1_toggle.count() << " ms; window 2 " << t.window2_iterations
      << " x " << t.window2_toggle.count() << " ms; final " << t.final_toggle.count() << " ms blink for "
      << t.final_duration.count() << " ms; heartbeat " << t.heartbeat_on.count() << "/"
      << t.heartbeat_off.count() << " ms; boot timeout " << t.boot_timeout.count() << " ms\n";
  if (auto lock = lock_path_for(rig))
    out << "lock:     " << lock->string() << " (held by run, flash and station; --wait-lock to queue)\n";
  else
    out << "lock:     none (a simulated rig is locked only when [rig] lock names a file)\n";
  // Every image `run` would flash, read and validated as `run` reads it: a rig `check` passes never stops
  // `run` at its images.
  int file_problems = 0;
  if (rig.firmware.empty()) out << "firmware: none named (the scenarios run with what the board holds)\n";
  std::map<std::string, RigImage> images;
  for (const auto& [name, img] : rig.firmware) {
    out << "firmware: " << name << " = " << img.path.string();
    try {
      RigImage loaded =
          load_image_file(name, img.path.string(), "[firmware] " + name + " = " + img.path.string());
      out << "  (" << loaded.board << " " << loaded.version << ", " << loaded.bytes.size() << " bytes)";
      images.emplace(name, std::move(loaded));
    } catch (const RigError& e) {
      out << "  PROBLEM: " << e.what();
      ++file_problems;
    }
    out << "\n";
  }
  if (!file_problems) {
    try {
      check_rig_images(rig, images);
    } catch (const RigError& e) {
      out << "firmware: PROBLEM: " << e.what() << "\n";
      ++file_problems;
    }
  }
  if (rig.flasher) {
    const ExternalFlasher& f = *rig.flasher;
    out << "flasher: ";
    for (const auto& arg : f.command) out << " " << arg;
    out << " (timeout " << f.timeout.count() << " ms; "
        << (f.download_mode ? "bootrig enters download mode through its lines"
                            : "the tool enters download mode itself")
        << ")";
    if (!o.offline) {
      out << "  -> ";
      if (auto where = find_program(f.command.front())) {
        out << where->string();
      } else {
        out << "NOT FOUND: '" << f.command.front() << "' is not on PATH or not executable";
        ++problems;
      }
    }
    out << "\n";
  }
  std::cout << terminal_safe(out.str());
  if (file_problems) {
    std::cerr << "bootrig: " << rig.source.string() << ": " << file_problems
              << " [firmware] problem(s) above; `run` would refuse this rig\n";
    return static_cast<int>(ExitCode::rig_error);
  }
  if (problems) {
    std::cerr << "bootrig: " << problems << " part(s) of the rig were not found on this machine"
              << " (use --offline to only validate the file)\n";
    return static_cast<int>(ExitCode::rig_error);
  }
  return 0;
}

}  // namespace

void add_check_command(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<CheckOptions>();
  auto* cmd = app.add_subcommand("check", "Validate a rig file and print its wiring, resolved on this machine");
  cmd->add_option("rig", o->rig, "Rig file (default: the usual search, see --rig)");
  cmd->add_flag("--offline", o->offline, "Only validate the file; do not look for its lines and port here");
  cmd->callback([o, &g] { g.run = [o, &g] { return run_check(*o, g); }; });
}

}  // namespace bootrig
