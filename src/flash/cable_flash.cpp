// Cable flashing as the vendor's firmware tool does it for an app: factory slot, boot_info erased, reset.
#include "bootrig/flash/cable_flash.hpp"

#include <vector>

#include "bootrig/core/errors.hpp"

namespace bootrig {

namespace {

// Holds P2 (download mode) while it lives; releases it on every exit.
class HoldP2 {
 public:
  explicit HoldP2(DigitalOutput& p2) : p2_(p2) { p2_.set(Level::active); }
  ~HoldP2() { release(); }
  HoldP2(const HoldP2&) = delete;
  HoldP2& operator=(const HoldP2&) = delete;
  void release() {
    if (!held_) return;
    held_ = false;
    try {
      p2_.set(Level::inactive);
    } catch (const std::exception&) {
      // Releasing is best effort on an exit path; the rig's safe-state guard releases it again.
    }
  }

 private:
  DigitalOutput& p2_;
  bool held_ = true;
};

// Puts the rig's serial link back at the rig's rate on every exit (a CHANGE_BAUDRATE moved it).
class KeepBaud {
 public:
  explicit KeepBaud(SerialLink& link) : link_(link), baud_(link.baud()) {}
  ~KeepBaud() {
    try {
      if (link_.baud() != baud_) link_.set_baud(baud_);
    } catch (const std::exception&) {
      // Best effort on an exit path: the next command that opens the port sets its rate again.
    }
  }
  KeepBaud(const KeepBaud&) = delete;
  KeepBaud& operator=(const KeepBaud&) = delete;
  unsigned baud() const { return baud_; }

 private:
  SerialLink& link_;
  unsigned baud_;
};

void pulse_reset(const CableWires& w) { pulse(w.reset, w.reset_pulse); }

constexpr const char* kNothingWritten =
    "nothing was written; the board runs what it ran before after a reset";
constexpr const char* kHalfWritten =
    "the factory slot is half written: the module will not boot from it until a cable flash completes";

}  // namespace

Result<CableFlashReport, FlashFailure> cable_flash(const CableWires& w, ReplClient& repl,
                                                   std::span<const std::uint8_t> image,
                                                   const std::string& source, const CableFlashOptions& o) {
  // Before anything is touched: the image, then the rig.
  Esp32Image img = validate_ota_image(image, "", source);
  if (!w.bootloader)
    throw RigError(
        "cable flashing needs the module's P2 (download mode) line: the rig file has no "
        "[lines.bootloader]; wire P2 (G23) to a GPIO and name it there, or use bootrig flash --ota");
  CableFlashReport rep;
  rep.start = now();
  rep.version = img.app->version;
  rep.board = to_string(img.board);
  rep.bytes = image.size();
  KeepBaud keep_baud(w.serial);
  const unsigned rig_baud = keep_baud.baud();
  rep.baud = o.baud ? o.baud : rig_baud;

  // What runs now, if anything answers: for the report, and to refuse an image for another board.
  if (auto p = repl.get_prompt(Deadline::after(o.probe_timeout)); p) {
    if (auto b = read_running_firmware(repl, Deadline::after(o.probe_timeout)); b) {
      rep.before = b.value();
      validate_ota_image(image, rep.before->board, source);
    }
  }

  RomFlasher rom(w.serial, o.rom);
  rep.writes_start = now();
  {
    HoldP2 p2(*w.bootloader);
    pulse_reset(w);
    w.serial.discard_input();
    auto c = rom.sync(o.sync_attempts);
    // The strapping pin is latched at reset: once the ROM answers it can go.
    p2.release();
    if (!c) {
      pulse_reset(w);  // out of download mode: the module runs its firmware again
      return FlashFailure{"download mode", "the ROM loader did not answer after a reset with P2 held low (" +
                                               c.error().message +
                                               "); is P2 (G23) wired to the rig's bootloader line? " +
                                               kNothingWritten};
    }
  }
  auto fail_early = [&](const char* step, const RomError& e) {
    w.serial.set_baud(rig_baud);
    pulse_reset(w);
    return FlashFailure{step, e.message + "; " + kNothingWritten};
  };
  // The ROM answered a moment ago; its re-SYNC gets the same patience (one 100 ms try failed here under
  // load in the kernel tier, where the module is a process in a TCG guest).
  if (auto c = rom.connect(4u << 20, o.sync_attempts); !c) return fail_early("connect", c.error());
  if (o.baud && o.baud != rig_baud) {
    if (auto c = rom.change_baudrate(o.baud); !c) return fail_early("change baud", c.error());
  }
  auto wr = rom.write_flash(kCableAppOffset, image, o.progress);
  if (!wr) {
    w.serial.set_baud(rig_baud);
    pulse_reset(w);  // out of download mode, into whatever the bootloader makes of the slots
    return FlashFailure{"write", wr.error().message + "; " + kHalfWritten};
  }
  // The vendor tool's full flash erases otadata: the bootloader then rewrites boot_info as factory, READY.
  std::vector<std::uint8_t> erased(kOtadataSectorSize, 0xFF);
  if (auto e = rom.write_flash(kOtadataOffset, erased); !e)
    return FlashFailure{"erase boot_info",
                        e.error().message +
                            "; the new image is in the factory slot but boot_info may still "
                            "name another slot: flash again"};
  rep.writes_done = now();
  if (o.baud && o.baud != rig_baud) {
    if (auto c = rom.change_baudrate(rig_baud); !c)
      return FlashFailure{"change baud back",
                          c.error().message + "; the image is written: reset the module to run it"};
  }
  // Stay in the loader (as esptool's --after hard_reset): the RESET line restarts the chip cleanly.
  if (auto c = rom.flash_end(false); !c)
    return FlashFailure{"flash end",
                        c.error().message + "; the image is written: reset the module to run it"};
  w.serial.set_baud(rig_baud);
  pulse_reset(w);
  repl.forget_state();
  auto prompt = repl.await_prompt(Deadline::after(o.boot_timeout));
  if (!prompt) {
    prompt = repl.get_prompt(Deadline::after(o.probe_timeout));
    if (!prompt)
      return FlashFailure{"boot", "no REPL prompt after the reset (" + prompt.error().describe() +
                                      "); the image was written and verified (MD5)"};
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

}  // namespace bootrig
