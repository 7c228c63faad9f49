// Cable flashing as the vendor's firmware tool does it (factory slot or a bundle's files, boot_info erased,
// reset), and reading a flash region's MD5, both through the ESP32 ROM loader in download mode.
#include "bootrig/flash/cable_flash.hpp"

#include <algorithm>
#include <vector>

#include "bootrig/core/errors.hpp"
#include "firmware/byte_order.hpp"

namespace bootrig {

namespace {

// The module in download mode for as long as this lives: P2 held low through each RESET pulse until the ROM
// answers a SYNC (the strapping pin is latched at reset, so it is released right after), and on every exit
// that did not finish the job (a failure, an exception) the module is reset out of download mode: rig baud
// rate back, P2 released, a RESET pulse, so it runs its firmware again.
class DownloadMode {
 public:
  DownloadMode(const CableWires& w) : w_(w), rig_baud_(w.serial.baud()) {}
  ~DownloadMode() {
    try {
      if (!done_) reset_out();
    } catch (const std::exception&) {
      // Best effort on an exit path: the rig's safe-state guard releases P2 and RESET again.
    }
  }
  DownloadMode(const DownloadMode&) = delete;
  DownloadMode& operator=(const DownloadMode&) = delete;

  // Several rounds of reset-with-P2-held and SYNC attempts, as esptool makes several connection attempts:
  // a module that missed the first reset (a slow supply, a bouncing line) is caught by the next.
  RomStatus enter(RomFlasher& rom, const CableFlashOptions& o) {
    RomError last;
    const int rounds = std::max(1, o.reset_rounds);
    for (int round = 0; round < rounds; ++round) {
      w_.bootloader->set(Level::active);
      p2_held_ = true;
      pulse(w_.reset, w_.reset_pulse);
      w_.serial.discard_input();
      auto s = rom.sync(o.sync_attempts);
      release_p2();
      if (s) return s;
      last = s.error();
    }
    last.message += " (" + std::to_string(rounds) + " resets with P2 held)";
    return last;
  }
  // Out of download mode into the app, the job done.
  void finish() {
    done_ = true;
    reset_out();
  }
  unsigned rig_baud() const { return rig_baud_; }

 private:
  void release_p2() {
    if (!p2_held_) return;
    p2_held_ = false;
    w_.bootloader->set(Level::inactive);
  }
  void reset_out() {
    release_p2();
    // The pulse first and whole, even when interrupted: a module left in the ROM loader strands the next run.
    pulse_on_exit_path(w_.reset, w_.reset_pulse);
    if (w_.serial.baud() != rig_baud_) w_.serial.set_baud(rig_baud_);
  }

  const CableWires& w_;
  unsigned rig_baud_;
  bool p2_held_ = false;
  bool done_ = false;
};

void require_p2(const CableWires& w) {
  if (!w.bootloader)
    throw RigError(
        "cable flashing needs the module's P2 (download mode) line: the rig file has no "
        "[lines.bootloader]; wire P2 (G23) to a GPIO and name it there, or use bootrig flash --ota");
}

constexpr const char* kNothingWritten =
    "nothing was written; the module was reset out of download mode and runs what it ran before";
constexpr const char* kHalfWritten =
    "the factory slot is erased or half written: the module will not boot from it until a cable flash "
    "completes; it was reset out of download mode";

}  // namespace

Result<CableFlashReport, FlashFailure> cable_flash(const CableWires& w, ReplClient& repl,
                                                   std::span<const std::uint8_t> image,
                                                   const std::string& source, const CableFlashOptions& o) {
  // Before anything is touched: the image, then the rig.
  Esp32Image img = validate_ota_image(image, "", source, o.allow_foreign);
  require_p2(w);
  CableFlashReport rep;
  rep.start = now();
  rep.version = img.identity.version;
  rep.board = img.board != PycomBoard::unknown ? to_string(img.board) : img.identity.board_name;
  rep.bytes = image.size();
  rep.compressed = o.compress;

  // What runs now, if anything answers: for the report, and to refuse an image for another board.
  if (auto p = repl.get_prompt(Deadline::after(o.probe_timeout)); p) {
    if (auto b = read_running_firmware(repl, Deadline::after(o.probe_timeout)); b) {
      rep.before = b.value();
      if (img.identity.pycom) validate_ota_image(image, rep.before->board, source, o.allow_foreign);
    }
  }

  RomFlasher rom(w.serial, o.rom);
  DownloadMode dl(w);
  rep.baud = o.baud ? o.baud : dl.rig_baud();
  rep.writes_start = now();
  if (auto c = dl.enter(rom, o); !c) {
    return FlashFailure{"download mode",
                        "the ROM loader did not answer after a reset with P2 held low (" + c.error().message +
                            "); is P2 (G23) wired to the rig's bootloader line? " + kNothingWritten};
  }
  // The ROM answered a moment ago; its re-SYNC still gets the same patience (one 100 ms try failed under load
  // in the kernel tier, where the module is a process in a TCG guest).
  auto connected = rom.connect(o.sync_attempts);
  if (!connected) return FlashFailure{"connect", connected.error().message + "; " + kNothingWritten};
  rep.flash_size = connected.value();

  // What goes where: the app into the factory slot, or a bundle's files as its script says.
  std::vector<FlashWrite> writes;
  if (o.bundle) {
    writes = bundle_writes(*o.bundle, rep.flash_size);
    for (const auto& fw : writes) {
      if (fw.offset != kPycomPartitionTableOffset) continue;
      // Checked before anything is written: a table for another flash size would leave a module the
      // bootloader cannot boot.
      const auto table = parse_partition_table(fw.bytes, o.bundle->source.file + ": " + fw.name);
      if (auto why = partition_table_mismatch(table, rep.flash_size); !why.empty())
        throw RigError(o.bundle->source.file + ": " + fw.name + " does not fit this module's flash (" + why +
                       "; the flash chip says " + std::to_string(rep.flash_size >> 20) +
                       " MB); nothing was written (the module was reset out of download mode)");
    }
  } else {
    writes.push_back(
        FlashWrite{kCableAppOffset, source, std::vector<std::uint8_t>(image.begin(), image.end())});
  }
  if (o.baud && o.baud != dl.rig_baud()) {
    if (auto c = rom.change_baudrate(o.baud); !c)
      return FlashFailure{"change baud", c.error().message + "; " + kNothingWritten};
  }
  std::size_t total = 0, done_before = 0;
  for (const auto& fw : writes) total += fw.bytes.size();
  bool touched = false;  // a FLASH_BEGIN was acknowledged: the ROM erased before writing
  for (const auto& fw : writes) {
    auto progress = [&](std::size_t done, std::size_t) {
      if (o.progress) o.progress(done_before + done, total);
    };
    auto wr = rom.write_flash(fw.offset, fw.bytes, progress, o.compress);
    if (!wr) {
      const bool began =
          wr.error().command != RomCommand::flash_begin && wr.error().command != RomCommand::flash_defl_begin;
      touched = touched || began;
      return FlashFailure{"write", wr.error().message + "; " + (touched ? kHalfWritten : kNothingWritten)};
    }
    touched = true;
    done_before += fw.bytes.size();
    rep.wire_bytes += wr.value().wire_bytes;
    rep.written.push_back(fw.name + " at " + hex32(fw.offset) +
                          (wr.value().block_size && wr.value().block_size < kRomFlashBlockSize
                               ? " (in " + std::to_string(wr.value().block_size) +
                                     "-byte blocks: the line spoiled larger ones)"
                               : "") +
                          (wr.value().sectors_rewritten
                               ? " (" + std::to_string(wr.value().sectors_rewritten) +
                                     " sector(s) landed wrong and were written again)"
                               : ""));
  }
  // The vendor tool's full flash erases otadata: the bootloader then rewrites boot_info as factory, READY.
  std::vector<std::uint8_t> erased(kOtadataSectorSize, 0xFF);
  auto e = rom.write_flash(kOtadataOffset, erased, {}, o.compress);
  if (!e)
    return FlashFailure{
        "erase boot_info",
        e.error().message +
            "; the new image is in the factory slot but boot_info may still name another slot: "
            "flash again (the module was reset out of download mode)"};
  rep.wire_bytes += e.value().wire_bytes;
  rep.written.push_back("otadata erased at " + hex32(kOtadataOffset));
  rep.writes_done = now();
  // No FLASH_END: it would leave the loader on its own terms (0 reboots, 1 runs the app without a reset).
  // A RESET pulse with P2 released starts the new firmware cleanly, as esptool's --after hard_reset does.
  dl.finish();
  repl.forget_state();
  auto prompt = repl.await_prompt(Deadline::after(o.boot_timeout));
  if (!prompt) {
    prompt = repl.get_prompt(Deadline::after(o.probe_timeout));
    if (!prompt)
      return FlashFailure{"boot", "no REPL prompt after the reset (" + prompt.error().describe() +
                                      "); the image was written and verified (MD5)"};
  }
  if (!img.identity.pycom) {  // a foreign app: nothing to confirm through MicroPython
    rep.end = now();
    return rep;
  }
  auto after = read_running_firmware(repl, Deadline::after(o.boot_timeout));
  if (!after) return after.error();
  rep.after = after.value();
  rep.end = now();
  if (rep.after.version != rep.version)
    return FlashFailure{"confirm", "the board runs " + rep.after.version + " after the flash, not " +
                                       rep.version + " (" + rep.after.bootmgr + ")"};
  return rep;
}

Result<Md5Digest, FlashFailure> read_flash_md5(const CableWires& w, std::uint32_t offset,
                                               std::uint32_t length, const CableFlashOptions& o) {
  auto one = [&](std::uint32_t) { return std::vector<FlashRegion>{{"", offset, length}}; };
  auto d = read_flash_digests(w, one, o);
  if (!d) return d.error();
  return d.value().md5.front();
}

Result<FlashDigests, FlashFailure> read_flash_digests(
    const CableWires& w, const std::function<std::vector<FlashRegion>(std::uint32_t)>& regions,
    const CableFlashOptions& o) {
  require_p2(w);
  RomFlasher rom(w.serial, o.rom);
  DownloadMode dl(w);
  if (auto c = dl.enter(rom, o); !c)
    return FlashFailure{"download mode", "the ROM loader did not answer after a reset with P2 held low (" +
                                             c.error().message +
                                             "); is P2 (G23) wired to the rig's bootloader line?"};
  FlashDigests out;
  auto id = rom.flash_id();
  if (!id) return FlashFailure{"flash id", id.error().message};
  const std::uint32_t size_code = id.value() >> 16 & 0xFF;
  out.flash_size = size_code >= 18 && size_code <= 26 ? 1u << size_code : 4u << 20;
  auto pads = rom.efuse_spi_pads();
  if (!pads) return FlashFailure{"read eFuse", pads.error().message};
  if (auto a = rom.spi_attach(pads.value()); !a) return FlashFailure{"attach flash", a.error().message};
  for (const auto& r : regions(out.flash_size)) {
    auto digest = rom.flash_md5(r.offset, r.length);
    if (!digest) return FlashFailure{r.name.empty() ? "flash MD5" : "flash MD5 of " + r.name, digest.error().message};
    out.md5.push_back(digest.value());
  }
  dl.finish();
  return out;
}

}  // namespace bootrig
