// ota-broken-recover and ota-rollback-invalid: an OTA update that breaks the board, named from the evidence
// and undone through safe-boot window 2; and an update that fails the bootloader's verification, which the
// bootloader undoes by itself.
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "bootrig/flash/ota.hpp"
#include "bootrig/hw/gpio.hpp"
#include "bootrig/scenario/flash_methods.hpp"
#include "bootrig/scenario/recovery.hpp"
#include "scenario/scenarios/common.hpp"

namespace bootrig::scenarios {

namespace {

// The bootloader's line when the image it was told to boot fails verification (bootloader.c).
const std::string kRollbackLine =
    "Cannot load Firmware img in the active partition! .. Defaulting back to previous partition";

// Thrown by the OTA's reset callback: the update is finished and the board reset, and what the new image's
// first boot does is the scenario's to watch, not the updater's to wait for.
struct FirstBootBegan {};

struct UpdateReset {
  std::size_t boot_log_from = 0;
  TimePoint at{};
};

// Puts `image` on the board by OTA (bootrig's updater, unchanged) and stops at the reset that loads it.
UpdateReset ota_until_reset(Session& s, const RigImage& image) {
  auto step = s.step("OTA " + image.name + " " + image.version);
  UpdateReset r;
  OtaOptions opt;
  opt.boot_timeout = s.timing().boot_timeout;
  opt.hard_reset = [&] {
    r.boot_log_from = s.boot_log().size();
    r.at = now();
    pulse(s.reset(), s.timing().reset_pulse);
    throw FirstBootBegan{};
  };
  try {
    auto u = ota_update(s.repl(), image.bytes, image.path, opt);
    s.forget_board_state();
    throw RigError(
        "OTA of " + image.describe() + " failed at " +
        (u ? std::string("the end: the board was never reset") : u.error().step + ": " + u.error().what) +
        " (the update was not finished: the board still boots the image it ran)");
  } catch (const FirstBootBegan&) {
    s.forget_board_state();
  }
  step.ok();
  return r;
}

// Writes bootrig's record as it is after `image` went on by cable or OTA, from what the board says now.
void record_flash(Session& s, const RigImage& image, FlashMethod how) {
  auto board = read_board_firmware(s.channel(), Deadline::after(s.timing().prompt_timeout * 10));
  if (!board)
    throw RigError("could not read the board's firmware after flashing " + image.name + ": " +
                   board.error().what);
  FirmwareRecord rec = how == FlashMethod::cable ? record_after_cable(&board.value(), image)
                                                 : record_after_ota(board.value(), image);
  if (auto w = write_firmware_record(s.channel(), rec, Deadline::after(s.timing().prompt_timeout * 10)); !w)
    throw RigError(image.describe() + " was flashed, but bootrig could not write its record to " +
                   kFirmwareRecordPath + ": " + w.error().what);
}

// The good image back for good, from a REPL reached through window 2: by cable when the rig can (download
// mode: nothing runs from the slot being written), else by OTA.
void reinstate(Session& s, const RigImage& good) {
  FlashMethods methods(s);
  if (methods.cable_available()) {
    methods.cable(good);
    record_flash(s, good, FlashMethod::cable);
  } else {
    methods.ota(good);
    record_flash(s, good, FlashMethod::ota);
  }
  s.note("reinstated " + good.describe() + " so that a normal boot runs it again");
}

// The evidence scripts acting only under `version`: the updated build boots from the same /flash, and what it
// runs there (a build whose UART is dead still runs boot.py and main.py) must not count for the boots after
// it.
std::string only_under(const std::string& script, const std::string& version) {
  std::string out = "import os\nif os.uname().release == '" + version + "':\n";
  std::istringstream in(script);
  std::string line;
  while (std::getline(in, line)) out += "    " + line + "\n";
  return out;
}

struct BrokenUpdate {
  RigImage broken, good;
};

BrokenUpdate broken_update_images(Session& s) {
  auto images = load_rig_images(s.target().rig());
  const std::string rig = s.target().rig().source.string();
  if (!images.count("current"))
    s.skip("the rig names no [firmware] current, the build to update to (" + rig +
           "); name tonight's build there");
  if (!images.count("previous"))
    s.skip("the rig names no [firmware] previous, the good build window 2 must bring back (" + rig + ")");
  return {images.at("current"), images.at("previous")};
}

class OtaBrokenRecover : public BootCheck {
 public:
  OtaBrokenRecover()
      : BootCheck(
            {"ota-broken-recover",
             "OTA [firmware] current onto a board running previous; name how it fails; window 2 brings "
             "previous back",
             {"put [firmware] previous on to run; reach the REPL; install evidence scripts",
              "OTA [firmware] current and reset into it",
              "watch its boot: the prompt, or a panic, a reboot loop, a hang or a silent UART, and the LED",
              "hold P12 through a RESET; release it in window 2 (fast blink)",
              "the previous image runs with boot.py and main.py skipped",
              "reinstate previous (cable when P2 is wired, else OTA); a normal reset runs it with its "
              "scripts",
              "restore the board's scripts and reset it"},
             {"the updated image's first boot is watched and how it fails is named from the evidence "
              "(reported, not judged: a build that boots is noted as such)",
              "the LED switches from the slow to the fast blink while P12 is held",
              "window 2 boots the previous image with boot.py and main.py skipped",
              "after reinstating previous, a normal reset runs it and its scripts"},
             {"[firmware] current (the build under test) and previous (a good build) in the rig file",
              "P12 and RESET wired"},
             "about 30 s (most of it the OTA and watching the broken boot)"},
            {"previous", ""}) {
    needs_images({"current", "previous"});
    holds_p12();
  }

  void restore(Session& s) override {
    // The broken image is the board's active one until reinstated: a board left in it cannot be restored by
    // the usual ladder (its safe boot in window 1 runs the same image). Window 2 is the way back.
    BootStrategy boot(s);
    boot.release_pins();
    if (needs_reinstating_ && good_ && !s.repl().get_prompt(Deadline::after(s.timing().prompt_timeout))) {
      BootRecord w2 = boot.safe_boot(SafeBootWindow::window2);
      try {
        if (w2.prompt) {
          reinstate(s, *good_);
        } else if (FlashMethods(s).cable_available()) {
          // Download mode does not care what the slots hold: the last way back short of the user's hands.
          s.note("restoring: window 2 did not reach the REPL (" + w2.failure + "); cable-flashing " +
                 good_->name);
          FlashMethods(s).cable(*good_);
          record_flash(s, *good_, FlashMethod::cable);
        } else {
          s.note("restoring: window 2 did not reach the REPL either (" + w2.failure + ")");
        }
      } catch (const RigError& e) {
        s.note(std::string("could not reinstate the previous image while restoring: ") + e.what());
      }
    }
    needs_reinstating_ = false;
    good_.reset();
    BootCheck::restore(s);
  }

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    BrokenUpdate images = broken_update_images(s);
    const RigImage& broken = images.broken;
    const RigImage& good = images.good;
    board.install_evidence();
    board.write_file("/flash/boot.py", only_under(evidence_boot_py(), good.version));
    board.write_file("/flash/main.py", only_under(evidence_main_py(), good.version));
    BoardFacts before = board.facts();
    if (before.release != good.version)
      throw RigError("the board runs " + before.describe() + " after bootrig put [firmware] previous (" +
                     good.version + ") on it");
    s.note("before the update the board runs " + before.describe());

    good_ = good;
    needs_reinstating_ = true;
    UpdateReset u = ota_until_reset(s, broken);
    BootDiagnosis d = boot.watch_boot(u.boot_log_from, u.at);
    note_diagnosis(s, "updated image", "update", d);
    s.checked("the updated image's first boot is named", d.describe());
    if (!d.failed()) {
      s.note("the updated image " + broken.version +
             " boots to its REPL: nothing broken this time; the way back "
             "through window 2 is checked all the same");
    }

    BootRecord w2 = boot.safe_boot(SafeBootWindow::window2);
    require_prompt(s, w2, "a safe boot released in window 2 after the update");
    require_window_seen(s, w2, "window 2 (fast blink)");
    measure_window(s, w2, "window2", s.timing().window2_toggle);
    BoardFacts rescued = board.facts();
    require_scripts_skipped(s, rescued, "in the window-2 safe boot after the update");
    if (rescued.release != good.version)
      s.failed("window 2 boots the previous image", "expected window 2 to boot the previous image " +
                                                        good.version + " after the update to " +
                                                        broken.version + ", saw " + rescued.describe());
    s.checked("window 2 boots the previous image", "ran " + rescued.release + " with its scripts skipped");
    s.note("recovered through window 2: " + rescued.describe() + " runs again");

    reinstate(s, good);
    needs_reinstating_ = false;
    board.clear_evidence();
    BootRecord normal = boot.hard_reset();
    require_prompt(s, normal, "reinstating " + good.version + " and resetting");
    BoardFacts after = board.facts();
    require_scripts_ran(s, after, "on the normal boot after reinstating " + good.version);
    if (after.release != good.version)
      s.fail("expected a normal reset after reinstating " + good.version + " to run it, saw " +
             after.describe());
    s.checked("after reinstating previous, a normal reset runs it and its scripts");
  }

 private:
  std::optional<RigImage> good_;
  bool needs_reinstating_ = false;
};

// A copy of a Pycom build of `version` for `board` with one payload byte flipped after sealing, as a flash
// write gone wrong leaves it: its checksum and SHA-256 both disagree, which the bootloader's verification
// catches.
std::vector<std::uint8_t> unverifiable_image(const std::string& version, const std::string& board) {
  ImageSpec spec;
  spec.version = version;
  spec.board = parse_board(board).value_or(PycomBoard::fipy);
  return build_esp32_image(spec, ImageCorruption::corrupt_payload);
}

class OtaRollbackInvalid : public BootCheck {
 public:
  OtaRollbackInvalid()
      : BootCheck(
            {"ota-rollback-invalid",
             "OTA an image that fails the bootloader's verification: it rolls back by itself",
             {"reach the REPL; install evidence scripts; read the running version, slot and boot_info",
              "write an image with one payload byte flipped (checksum and SHA-256 wrong) through "
              "pycom.ota_start/ota_write/ota_finish, without pycom.ota_verify()",
              "pulse RESET: the bootloader verifies the new image (Status CHECK)",
              "wait for the prompt; read the version, slot, boot_info and /flash",
              "update bootrig's record (the other slot no longer holds what it did)",
              "restore the board's scripts and reset it"},
             {"the bootloader prints \"Cannot load Firmware img in the active partition! .. Defaulting back "
              "to previous partition\"",
              "the image that ran before the update runs again (same version and slot)",
              "boot_info's record is READY again and names that slot (pycom.bootmgr())",
              "boot.py and main.py run (a rollback is a normal boot)"},
             {"a REPL reachable on the serial port", "RESET wired"},
             "about 15 s"}) {}

 protected:
  void check(Session& s, Board& board, BootStrategy& boot) override {
    board.install_evidence();
    BoardFacts before = board.facts();
    s.note("before the update the board runs " + before.describe());
    std::vector<std::uint8_t> bad = unverifiable_image(before.release, before.board);
    std::size_t frames_resent = 0;  // the update's frames the line spoiled: evidence of a noisy line
    {
      auto step = s.step("write an image that fails verification (" + std::to_string(bad.size()) + " bytes)");
      // bootrig's own OTA transfer (checked frames through sys.stdin where the board has it), stopped short of
      // ota_verify(): a byte-literal copy moved five times the image's bytes (401 KB for 77 KB: 47 s).
      OtaOptions opt;
      opt.boot_timeout = s.timing().boot_timeout;
      opt.channel = &s.channel();
      int last_tenth = -1;
      opt.progress = [&](std::size_t done, std::size_t total) {
        if (auto said = tenth_progress(last_tenth, done, total)) s.waiting("pycom.ota_write(): " + *said);
      };
      // A brown-out or a control byte made by line noise can reset the board mid-write: the update begun
      // with ota_start() is gone with the interpreter. It is begun again, a few times.
      constexpr int kWriteRounds = 3;
      for (int round = 1;; ++round) {
        OtaReport rep;
        auto w = ota_write_image(s.repl(), s.channel(), bad, opt, rep);
        frames_resent += rep.resent;
        std::string why;
        if (w) {
          // Finished without pycom.ota_verify(), which would refuse it: the bootloader's check is what is
          // tested. A reset since ota_start() would make ota_finish() raise: that, too, begins it again.
          if (board.exec_unless_reset("import pycom\npycom.ota_finish()\n_r = repr(pycom.bootmgr())",
                                      "pycom.ota_finish()", milliseconds(200))) {
            s.note("the update written by " + rep.transfer + " transfer: " + std::to_string(rep.wire_bytes) +
                   " bytes on the line, " + std::to_string(rep.resent) + " frames sent again");
            break;
          }
          why = "pycom.ota_finish(): bootrig's REPL helper was gone, so the board had been reset";
        } else {
          why = w.error().step + ": " + w.error().what;
        }
        s.forget_board_state();
        if (round == kWriteRounds)
          throw RigError("the update could not be written in " + std::to_string(kWriteRounds) +
                         " tries (last: " + why + "); it was not finished");
        s.note((why.find("reset") != std::string::npos ? "the board was reset while the update was being written ("
                                                        : "writing the update failed (") +
               why + "); the update is begun again with ota_start()");
      }
      step.ok();
    }
    BootRecord r = boot.hard_reset();
    require_prompt(s, r, "the reset into the update");
    bool message = false;
    for (const auto& e : r.events) message = message || e.kind == BootEventKind::rollback;
    if (message) {
      s.checked("the bootloader's rollback message", "seen on the UART");
    } else if (r.printed("Cannot load Firmware img") ||
               r.printed_nearly(kRollbackLine, kRollbackLine.size() / 10)) {
      // A noisy line garbles a line this long more often than not (at 1 % garbage the fault matrix made its
      // absence a false FAIL): one byte in ten may differ.
      s.checked("the bootloader's rollback message", "seen on the UART (partly garbled)");
    } else if (!r.rom) {
      // Not even the ROM's line came before it: the port re-enumerated through the reset (a USB adapter on
      // the module's own supply), or the line garbled the start of the boot. No evidence against the board;
      // the image that runs and boot_info, read intact through the checked channel, judge the rollback (the
      // fault matrix's re-enumerating port made this a false FAIL).
      s.unchecked("the bootloader's rollback message",
                  "the boot's first lines did not arrive (not even the ROM's reset line: the port may have "
                  "re-enumerated at the reset, or the line garbled them); the image that runs and boot_info "
                  "judge the rollback");
    } else if (s.channel().stats().garbled > 0) {
      // The same line garbled bootrig's own exchanges in this check (answers that came wrong, not late: a
      // slow host does not make them): a line that spoils more than one byte in ten of this one, or loses it
      // whole, is the line's doing as likely as the board's. Only on a line that delivered bootrig's
      // exchanges intact is the message's absence evidence against the board.
      s.unchecked("the bootloader's rollback message",
                  "not in the boot's output, on a line that garbled " + s.channel().stats().describe() +
                      " (the update's frames sent again: " + std::to_string(frames_resent) +
                      "); the image that runs and boot_info judge the rollback");
    } else {
      s.failed(
          "the bootloader's rollback message",
          "expected the bootloader to print \"Cannot load Firmware img in the active partition! .. "
          "Defaulting "
          "back to previous partition\" after the reset into an image that fails verification; it did not");
    }
    BoardFacts after = board.facts();
    if (after.release != before.release || after.slot != before.slot)
      s.fail("expected the image that ran before the update (" + before.describe() +
             ") after the bootloader's rollback, saw " + after.describe());
    s.checked("the previous image runs again", after.describe());
    ChannelAnswer bm = board.exec("import pycom\n_r = repr(pycom.bootmgr())", "reading pycom.bootmgr()");
    s.note("boot_info after the rollback: pycom.bootmgr() = " + bm.value);
    if (bm.value.find("Ready") == std::string::npos || bm.value.find(before.slot) == std::string::npos)
      s.failed("boot_info READY, naming the slot that runs",
               "expected pycom.bootmgr() to name " + before.slot +
                   " with Status Ready after the rollback, saw " + bm.value);
    s.checked("boot_info READY, naming the slot that runs", bm.value);
    require_scripts_ran(s, after, "on the boot after the rollback");
    forget_other_slot(s);
  }

 private:
  // The update overwrote the other slot: bootrig's record must no longer say what it held, and after a
  // rollback the bootloader names the factory slot as the previous image.
  static void forget_other_slot(Session& s) {
    auto board = read_board_firmware(s.channel(), Deadline::after(s.timing().prompt_timeout * 10));
    if (!board)
      throw RigError("could not read the board's firmware after the rollback: " + board.error().what);
    if (!board.value().record) return;  // nothing recorded, nothing stale
    FirmwareRecord rec = *board.value().record;
    rec.slots.erase(other_slot(rec.active));
    rec.prev = Slot::factory;
    if (auto w = write_firmware_record(s.channel(), rec, Deadline::after(s.timing().prompt_timeout * 10)); !w)
      throw RigError("could not update bootrig's record after the rollback: " + w.error().what);
    s.note("bootrig's record: the " + std::string(to_string(other_slot(rec.active))) +
           " slot holds the rejected image now; the next check that needs it flashes it");
  }
};

}  // namespace

std::unique_ptr<Scenario> make_ota_broken_recover() { return std::make_unique<OtaBrokenRecover>(); }
std::unique_ptr<Scenario> make_ota_rollback_invalid() { return std::make_unique<OtaRollbackInvalid>(); }

}  // namespace bootrig::scenarios
