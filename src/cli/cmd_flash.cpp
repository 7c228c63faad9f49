// `bootrig flash IMAGE [--ota]`: puts an application image on the rig's board by hand, by cable (the ROM
// loader through the rig's P2 and RESET lines) or OTA over the REPL, then confirms the version it runs.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <functional>
#include <memory>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/firmware_file.hpp"
#include "bootrig/flash/cable_flash.hpp"
#include "bootrig/flash/ota.hpp"
#include "bootrig/target/target.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

struct FlashOptions {
  std::string image;
  bool ota = false;
  unsigned baud = 0;
};

std::function<void(std::size_t, std::size_t)> progress_printer(const GlobalOptions& g) {
  auto last_tenth = std::make_shared<int>(-1);
  return [last_tenth, &g](std::size_t done, std::size_t total) {
    int tenth = total ? static_cast<int>(done * 10 / total) : 10;
    if (tenth != *last_tenth && !g.quiet) std::fprintf(stderr, "writing: %zu of %zu bytes\n", done, total);
    *last_tenth = tenth;
  };
}

int run_cable_flash(const FlashOptions& o, const LoadedFirmware& fw, GlobalOptions& g) {
  RigConfig rig = load_rig(g);
  auto target = Target::open(rig);
  ReplClient repl(target->serial());
  CableFlashOptions opt;
  opt.baud = o.baud;
  opt.progress = progress_printer(g);
  CableWires w{target->reset(), target->bootloader(), target->serial(), rig.timing.reset_pulse};
  auto r = cable_flash(w, repl, fw.bytes, o.image, opt);
  if (!r) {
    std::printf("cable flash FAILED at %s: %s\n", r.error().step.c_str(), r.error().what.c_str());
    return 1;
  }
  const CableFlashReport& rep = r.value();
  if (rep.before)
    std::printf("found: %s %s, next update slot 0x%X, %s\n", rep.before->board.c_str(),
                rep.before->version.c_str(), rep.before->ota_slot, rep.before->bootmgr.c_str());
  else
    std::printf("found: no REPL answer before the flash (nothing bootable, or busy)\n");
  std::printf("flashed: %s (%s %s, %zu bytes) by cable at 0x%X, %u baud, in %.1f s (writing %.1f s)\n",
              o.image.c_str(), rep.board.c_str(), rep.version.c_str(), rep.bytes, rep.offset, rep.baud,
              to_ms(rep.end - rep.start) / 1000.0, to_ms(rep.write_time()) / 1000.0);
  std::printf("now runs: %s, %s\n", rep.after.version.c_str(), rep.after.bootmgr.c_str());
  return 0;
}

int run_flash(const FlashOptions& o, GlobalOptions& g) {
  // The image is checked before the rig is touched.
  LoadedFirmware fw = load_firmware_file(o.image);
  if (!fw.image.valid())
    throw RigError(o.image + ": not a valid ESP32 application image (" + fw.image.problem_summary() +
                   "); nothing was written to the board");
  if (!o.ota) return run_cable_flash(o, fw, g);
  if (o.baud) throw RigError("bootrig flash: --baud is for cable flashing; drop it when using --ota");
  RigConfig rig = load_rig(g);
  auto target = Target::open(rig);
  ReplClient repl(target->serial());
  if (auto p = repl.get_prompt(Deadline::after(seconds(30))); !p)
    throw RigError(target->describe() + ": no REPL prompt for the OTA update (" + p.error().describe() + ")");
  OtaOptions opt;
  opt.hard_reset = [&] {
    target->reset().set(Level::active);
    wait_for(rig.timing.reset_pulse);
    target->reset().set(Level::inactive);
  };
  opt.progress = progress_printer(g);
  auto r = ota_update(repl, fw.bytes, o.image, opt);
  if (!r) {
    std::printf("OTA update FAILED at %s: %s\n", r.error().step.c_str(), r.error().what.c_str());
    return 1;
  }
  const OtaReport& rep = r.value();
  std::printf("found: %s %s, next update slot 0x%X, %s\n", rep.before.board.c_str(),
              rep.before.version.c_str(), rep.before.ota_slot, rep.before.bootmgr.c_str());
  std::printf("flashed: %s (%s %s, %zu bytes) by OTA in %.1f s (writing %.1f s, %s transfer)\n",
              o.image.c_str(), rep.board.c_str(), rep.version.c_str(), rep.bytes,
              to_ms(rep.end - rep.start) / 1000.0, to_ms(rep.write_time()) / 1000.0, rep.transfer.c_str());
  std::printf("now runs: %s, %s\n", rep.after.version.c_str(), rep.after.bootmgr.c_str());
  return 0;
}

}  // namespace

void add_flash_command(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<FlashOptions>();
  auto* cmd =
      app.add_subcommand("flash", "Put an application image (.bin or Pycom .tar.gz) on the rig's board");
  cmd->add_option("image", o->image, "The image or bundle")->required();
  cmd->add_flag("--ota", o->ota, "Over the air: pycom.ota_* through the REPL, then a reset");
  cmd->add_option(
      "--baud", o->baud,
      "Cable flashing: write at this baud rate (CHANGE_BAUDRATE), e.g. 921600; default the rig's");
  cmd->callback([o, &g] { g.run = [o, &g] { return run_flash(*o, g); }; });
}

}  // namespace bootrig
