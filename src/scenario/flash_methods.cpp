// OTA and cable flashing from inside a session, with progress and the board's state in every error.
#include "bootrig/scenario/flash_methods.hpp"

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/flash/cable_flash.hpp"
#include "bootrig/flash/external_flash.hpp"
#include "bootrig/flash/ota.hpp"
#include "bootrig/scenario/boot_strategy.hpp"
#include "bootrig/scenario/scenario.hpp"
#include "bootrig/scenario/session.hpp"

namespace bootrig {

namespace {

// Runs a flash; when it is interrupted, the session's record of the board says what the cut left there
// (left_board) and bootrig forgets what it knew of the board's REPL.
template <class Flash, class What>
auto said_if_interrupted(Session& s, Flash&& flash, What&& what) {
  try {
    return flash();
  } catch (const Interrupted&) {
    s.left_board(what());
    s.forget_board_state();
    throw;
  }
}

}  // namespace

bool FlashMethods::cable_available() const {
  const RigConfig& rig = s_.target().rig();
  if (rig.flasher) return !rig.flasher->download_mode || s_.bootloader() != nullptr;
  return s_.bootloader() != nullptr;
}

std::optional<std::string> tenth_progress(int& last_tenth, std::size_t done, std::size_t total) {
  int tenth = total ? static_cast<int>(done * 10 / total) : 10;
  if (tenth == last_tenth) return std::nullopt;
  last_tenth = tenth;
  return std::to_string(done / 1024) + " of " + std::to_string(total / 1024) + " KiB (" +
         std::to_string(tenth * 10) + " %)";
}

void FlashMethods::progress(const RigImage& image, const char* how, std::size_t done, std::size_t total) {
  if (auto said = tenth_progress(last_tenth_, done, total))
    s_.waiting(std::string("writing ") + image.name + " by " + how + ": " + *said);
}

void FlashMethods::ota(const RigImage& image) {
  auto step = s_.step("OTA " + image.name + " " + image.version);
  last_tenth_ = -1;
  OtaOptions opt;
  opt.boot_timeout = s_.timing().boot_timeout;
  opt.channel = &s_.channel();
  // Where the new image's first boot begins: what it did is judged from there when it never answers.
  std::size_t boot_log_from = 0;
  TimePoint reset_at{};
  opt.hard_reset = [&] {
    boot_log_from = s_.boot_log().size();
    reset_at = now();
    pulse(s_.reset(), s_.timing().reset_pulse);
  };
  opt.progress = [&](std::size_t done, std::size_t total) { progress(image, "OTA", done, total); };
  auto r = said_if_interrupted(
      s_, [&] { return ota_update(s_.repl(), image.bytes, image.path, opt); },
      [&] {
        // bootrig's OTA loop reads the image with Ctrl-C disabled: cut short, the board waits for the rest.
        return last_tenth_ < 10
                   ? "an OTA update of " + image.name +
                         " was cut short before the whole image was sent: the board may wait for "
                         "the rest with Ctrl-C disabled until a RESET, then boots the image it ran"
                   : "an OTA update of " + image.name +
                         " was cut short after the transfer: the next boot runs the new image if "
                         "the update was finished, else the one it ran";
      });
  s_.forget_board_state();
  if (!r) {
    // Until ota_finish() the board keeps booting what it ran; after it, the bootloader checks the new image.
    const bool finished = r.error().step == "reset" || r.error().step == "confirm";
    if (r.error().step == "reset") {
      // The update went in and the board never came back: when the ROM's lines show the chip restarting, it
      // is the image that does not boot (the firmware under test is broken), not the rig.
      BootDiagnosis d = BootStrategy(s_).diagnose(boot_log_from, reset_at);
      if (d.failed() && d.resets > 0) {
        note_diagnosis(s_, "first boot of " + image.name, "first_boot", d);
        throw CheckFailed(
            image.describe() + " was put on by OTA and does not boot: it " + d.describe() +
                "; the board is left running it (window 2 of a safe boot goes back to the image it ran)",
            true);
      }
    }
    throw RigError("OTA of " + image.describe() + " failed at " + r.error().step + ": " + r.error().what +
                   (finished ? " (the update was finished: the bootloader verifies it and falls back to the "
                               "previous image if it is bad)"
                             : " (the update was not finished: the board still boots the image it ran)"));
  }
  step.ok();
}

void FlashMethods::cable(const RigImage& image) {
  auto step = s_.step("cable flash " + image.name + " " + image.version);
  const RigConfig& rig = s_.target().rig();
  if (rig.flasher) {
    // The tool's own output is the evidence of what it did: every line on the timeline.
    auto r = external_flash(s_.target(), {s_.reset(), s_.bootloader()}, s_.repl(), image.path, image.version,
                            [this](std::string_view line) { s_.timeline().note("flasher: " + std::string(line)); });
    s_.forget_board_state();
    if (!r) throw RigError("cable flash of " + image.describe() + " failed at " + r.error().step + ": " + r.error().what);
    step.ok();
    return;
  }
  last_tenth_ = -1;
  CableFlashOptions opt;
  opt.boot_timeout = s_.timing().boot_timeout;
  opt.progress = [&](std::size_t done, std::size_t total) { progress(image, "cable", done, total); };
  auto r = said_if_interrupted(
      s_,
      [&] {
        return cable_flash({s_.reset(), s_.bootloader(), s_.serial(), s_.timing().reset_pulse}, s_.repl(),
                           image.bytes, image.path, opt);
      },
      [&] {
        return "a cable flash of " + image.name +
               " was cut short: the factory slot may be half-written (the next cable flash repairs it)";
      });
  s_.forget_board_state();
  if (!r) throw RigError("cable flash of " + image.describe() + " failed at " + r.error().step + ": " + r.error().what);
  step.ok();
}

}  // namespace bootrig
