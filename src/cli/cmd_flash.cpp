// `bootrig flash IMAGE [--ota]`: puts an application image on the rig's board by hand, by cable (the ROM
// loader through the rig's P2 and RESET lines, or the rig's external flasher) or OTA over the REPL, then
// confirms the version it runs. Like the step before each check, it flashes nothing when the board already
// runs that image, and keeps bootrig's record of the slots on the board up to date.
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/escape.hpp"
#include "bootrig/firmware/firmware_file.hpp"
#include "bootrig/firmware/hash.hpp"
#include "bootrig/flash/cable_flash.hpp"
#include "bootrig/flash/ensure.hpp"
#include "bootrig/flash/external_flash.hpp"
#include "bootrig/flash/ota.hpp"
#include "bootrig/flash/slot_proof.hpp"
#include "bootrig/hw/serial.hpp"
#include "bootrig/observe/recording.hpp"
#include "bootrig/target/rig_lock.hpp"
#include "bootrig/target/target.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

struct FlashOptions {
  std::string image;
  bool ota = false;
  unsigned baud = 0;
  bool force = false;
};

// On a terminal a bar redrawn in place with the rate; elsewhere (CI logs) a line every 10 %.
std::function<void(std::size_t, std::size_t)> progress_printer(const GlobalOptions& g, const char* how) {
  struct State {
    int last = -1;        // the last percentage drawn
    int last_tenth = -1;  // the last 10 % step printed as a line
    TimePoint start = now();
  };
  auto st = std::make_shared<State>();
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  return [st, tty, how, &g](std::size_t done, std::size_t total) {
    int pct = total ? static_cast<int>(done * 100 / total) : 100;
    if (pct / 10 != st->last_tenth) {
      st->last_tenth = pct / 10;
      char line[128];
      std::snprintf(line, sizeof line, "writing by %s: %zu of %zu bytes (%d %%)", how, done, total, pct);
      log_to_file(line);
      if (!tty && !g.quiet) std::fprintf(stderr, "%s\n", line);
    }
    if (!tty || g.quiet) return;
    if (pct == st->last) return;
    st->last = pct;
    double s = to_ms(now() - st->start) / 1000.0;
    char bar[31];
    int filled = pct * 30 / 100;
    for (int i = 0; i < 30; ++i) bar[i] = i < filled ? '#' : '.';
    bar[30] = 0;
    std::fprintf(stderr, "\r%s [%s] %3d %%  %zu/%zu bytes  %.1f KiB/s ", how, bar, pct, done, total,
                 s > 0 ? static_cast<double>(done) / 1024.0 / s : 0.0);
    if (done >= total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  };
}

int run_flash(const FlashOptions& o, GlobalOptions& g) {
  if (o.ota && o.baud) throw RigError("bootrig flash: --baud is for cable flashing; drop it when using --ota");
  // The image is checked before the rig is touched. An app that is not a Pycom MicroPython build goes on
  // only with --force (a Pycom module would then run it instead of MicroPython).
  const LoadedFirmware file = load_firmware_file(o.image);
  const bool foreign = file.image.valid() && file.image.kind == ImageKind::app && !file.image.identity.pycom;
  if (foreign && !o.force)
    throw RigError(o.image + ": is " + file.image.describe() +
                   "; a Pycom module would run it instead of MicroPython, so nothing was written (--force "
                   "flashes it anyway)");
  if (foreign && o.ota)
    throw RigError(o.image + ": is not a Pycom MicroPython build; only a cable flash can put it on");
  RigImage img;
  if (foreign) {
    img.name = "image";
    img.path = o.image;
    img.bytes = file.bytes;
    img.version = file.image.identity.version;
    img.board = file.image.identity.board_name;
    img.sha256 = to_hex(sha256(std::span<const std::uint8_t>(file.bytes)));  // no banner, so no build
  } else {
    img = load_image_file("image", o.image, o.image);
  }
  RigConfig rig = load_rig(g);
  // Held until the command returns: the lines are released (Target's destructor) before the lock goes.
  auto rig_lock = lock_rig(rig, g);
  auto target = Target::open(rig);
  // -vv shows (and --log-file keeps) every byte of the exchanges with the board.
  LoggingSerialLink link(target->serial());
  ReplClient repl(link);
  // -v shows (and --log-file keeps) every change of RESET and P2.
  LoggingOutput reset(target->reset(), "reset");
  std::optional<LoggingOutput> p2;
  if (target->bootloader()) p2.emplace(*target->bootloader(), "bootloader");
  DigitalOutput* bootloader = p2 ? &*p2 : nullptr;
  CheckedChannel channel(repl);  // what bootrig asks the board arrives intact or not at all
  const TimingProfile& t = rig.timing;

  // What the board holds, when it answers; a cable flash does not need it to (a board that does not boot).
  std::optional<BoardFirmware> before;
  spdlog::debug("asking the board for a REPL prompt, then what it runs");
  if (auto p = repl.get_prompt(Deadline::after(t.boot_timeout + t.prompt_timeout)); p) {
    auto b = read_board_firmware(channel, Deadline::after(t.prompt_timeout * 10));
    if (!b) throw RigError(target->describe() + ": could not read what the board runs: " + b.error().what);
    before = b.value();
  } else if (o.ota) {
    throw RigError(target->describe() + ": no REPL prompt for the OTA update (" + p.error().describe() + ")");
  }
  if (before) {
    say("found: " + before->describe());
    if (!foreign && before->running.board != img.board)
      throw RigError(o.image + ": built for " + img.board + " but the board is a " + before->running.board +
                     "; nothing was written (use an image for " + before->running.board + ")");
    // With P2 wired the ROM's MD5 of the slots is the proof (two resets and about a second); without it,
    // bootrig's record and the running build, and a flash when in doubt. Another version needs no proof.
    if (bootloader && !o.force && before->running.version == img.version) {
      BoardFirmware proven = *before;
      CableFlashOptions opt;
      opt.boot_timeout = t.boot_timeout;
      auto r = prove_slots({reset, bootloader, link, t.reset_pulse}, proven,
                           {{img.name, img}}, opt);
      if (r) before->proven = proven.proven;
      else say("could not read the slots' MD5 (" + r.error().step + ": " + r.error().what + ")");
      repl.forget_state();
      if (auto back = repl.await_prompt(Deadline::after(t.boot_timeout)); !back && o.ota)
        throw RigError(target->describe() + ": no REPL prompt after reading the slots' MD5 (" +
                       back.error().describe() + "); nothing was written");
    }
    std::string why;
    if (runs_image(*before, img, &why) && !o.force) {
      say("nothing flashed: " + why + " (--force flashes anyway)");
      return 0;
    }
    say("compared: " + why);
  } else {
    say("found: no REPL answer before the flash (nothing bootable, or busy)");
  }

  TimePoint start = now();
  std::string how, detail;
  if (o.ota) {
    spdlog::debug("OTA update of {} through the REPL", o.image);
    OtaOptions opt;
    opt.boot_timeout = t.boot_timeout;
    opt.hard_reset = [&] { pulse(reset, t.reset_pulse); };
    opt.progress = progress_printer(g, "OTA");
    auto r = ota_update(repl, img.bytes, o.image, opt);
    if (!r) {
      say("OTA update FAILED at " + r.error().step + ": " + r.error().what);
      return 1;
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, "writing %.1f s, %s transfer", to_ms(r->write_time()) / 1000.0, r->transfer.c_str());
    how = "OTA";
    detail = buf;
  } else if (rig.flasher) {
    if (o.baud) throw RigError("bootrig flash: --baud is for the built-in flasher; the rig's [flasher] sets its own");
    spdlog::debug("cable flash of {} with the rig's external flasher", o.image);
    auto r =
        external_flash(*target, {reset, bootloader}, repl, o.image, img.version, [&](std::string_view line) {
          if (!g.quiet) std::fprintf(stderr, "flasher: %.*s\n", static_cast<int>(line.size()), line.data());
          log_to_file("flasher: " + std::string(line));
        });
    if (!r) {
      say("cable flash FAILED at " + r.error().step + ": " + r.error().what);
      return 1;
    }
    how = "cable";
    detail = "external flasher " + r->argv[0];
  } else {
    spdlog::debug("cable flash of {} with the built-in ROM flasher (P2 held through a RESET pulse)", o.image);
    CableFlashOptions opt;
    opt.baud = o.baud;
    opt.boot_timeout = t.boot_timeout;
    opt.allow_foreign = foreign;
    opt.bundle = file.is_bundle() ? &file : nullptr;
    opt.progress = progress_printer(g, "cable");
    auto r = cable_flash({reset, bootloader, link, t.reset_pulse}, repl, img.bytes, o.image, opt);
    if (!r) {
      say("cable flash FAILED at " + r.error().step + ": " + r.error().what);
      return 1;
    }
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s, %u baud, %zu bytes %s, writing %.1f s",
                  file.is_bundle() ? "bundle's script" : "at 0x10000", r->baud, r->wire_bytes,
                  r->compressed ? "compressed on the wire" : "on the wire", to_ms(r->write_time()) / 1000.0);
    how = "cable";
    detail = buf;
  }
  double took = to_ms(now() - start) / 1000.0;

  char took_text[32];
  std::snprintf(took_text, sizeof took_text, "%.1f s", took);
  if (foreign) {
    say("flashed: " + o.image + " (" + file.image.describe() + ", " + std::to_string(img.bytes.size()) +
        " bytes) by " + how + " in " + took_text + " (" + detail +
        "); it is not MicroPython, so bootrig keeps no record on the board");
    return 0;
  }
  // The record tells the next run what the other slot holds (the board cannot say).
  FirmwareRecord record = how == "OTA" ? record_after_ota(*before, img) : record_after_cable(before ? &*before : nullptr, img);
  channel.forget();  // the flash reset the board: bootrig's helper is gone
  spdlog::debug("writing bootrig's record {} and reading what the board runs now", kFirmwareRecordPath);
  if (auto w = write_firmware_record(channel, record, Deadline::after(t.prompt_timeout * 10)); !w)
    say(std::string("warning: could not write bootrig's record ") + kFirmwareRecordPath + ": " +
        w.error().what);
  auto after = read_board_firmware(channel, Deadline::after(t.prompt_timeout * 10));
  say("flashed: " + o.image + " (" + img.board + " " + img.version + ", " + std::to_string(img.bytes.size()) +
      " bytes) by " + how + " in " + took_text + " (" + detail + ")");
  if (after) say("now runs: " + after->describe());
  return 0;
}

}  // namespace

void add_flash_command(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<FlashOptions>();
  auto* cmd =
      app.add_subcommand("flash", "Put an application image (.bin or Pycom .tar.gz) on the rig's board");
  cmd->add_option("image", o->image, "The image or bundle")->required();
  cmd->add_flag("--ota", o->ota, "Over the air: pycom.ota_* through the REPL, then a reset");
  cmd->add_option("--baud", o->baud,
                  "Cable flashing: write at this baud rate (CHANGE_BAUDRATE), e.g. 921600; default the rig's")
      ->check(CLI::Range(kSerialBaudMin, kSerialBaudMax));
  cmd->add_flag(
      "--force", o->force,
      "Flash even when the board already runs this image, or when it is not a Pycom MicroPython build");
  cmd->callback([o, &g] { g.run = [o, &g] { return run_flash(*o, g); }; });
}

}  // namespace bootrig
