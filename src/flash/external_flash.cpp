// The external flasher between bootrig's own download-mode entry and its version check.
#include "bootrig/flash/external_flash.hpp"

#include <cstdio>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"

namespace bootrig {

namespace {

// The last non-empty line of the tool's output: what it said when it gave up.
std::string last_line(const std::string& tail) {
  std::size_t end = tail.find_last_not_of("\r\n ");
  if (end == std::string::npos) return "(no output)";
  std::size_t start = tail.find_last_of("\r\n", end);
  return tail.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1));
}

// Releases P2 on every way out, so the module's next reset boots the app.
struct StrapHold {
  DigitalOutput* p2;
  explicit StrapHold(DigitalOutput* l) : p2(l) {
    if (p2) p2->set(Level::active);
  }
  ~StrapHold() {
    if (p2) p2->set(Level::inactive);
  }
  StrapHold(const StrapHold&) = delete;
  StrapHold& operator=(const StrapHold&) = delete;
};

}  // namespace

Result<ExternalFlashReport, OtaFailure> external_flash(Target& target, const ExternalFlashWires& wires,
                                                       ReplClient& repl, const std::string& image_path,
                                                       const std::string& expected_version,
                                                       const std::function<void(std::string_view)>& on_line) {
  const RigConfig& rig = target.rig();
  if (!rig.flasher) throw RigError(rig.source.string() + ": no [flasher] names an external flasher");
  const ExternalFlasher& f = *rig.flasher;
  if (f.download_mode && !wires.bootloader)
    throw RigError(rig.source.string() +
                   ": [flasher] download_mode = true needs [lines.bootloader] (P2) to put the module in download "
                   "mode; wire it, or set download_mode = false if the tool does it through DTR/RTS");
  ExternalFlashReport rep;
  rep.start = now();
  const unsigned baud = target.serial().baud();
  rep.argv = expand_flasher_command(f.command, flasher_values(target.serial_path(), image_path, 0x10000, baud));
  try {
    // P2 low through a RESET pulse: the ROM latches the strap and waits for a flasher (esptool's
    // --before no_reset). Held until the tool is done; it is only sampled at reset.
    StrapHold strap(f.download_mode ? wires.bootloader : nullptr);
    if (f.download_mode) {
      pulse(wires.reset, rig.timing.reset_pulse);
      wait_for(rig.timing.rom_boot);
    }
    auto loan = target.lend_serial();
    rep.run = run_tool(rep.argv, Deadline::after(f.timeout), on_line, rig.source.string());
  } catch (const Interrupted&) {
    throw;  // P2 is released; RESET and P12 are the signal path's to release, without waiting here
  } catch (...) {
    // The tool could not run: the module must not stay in download mode.
    pulse(wires.reset, rig.timing.reset_pulse);
    throw;
  }
  // A clean reset into the app whatever the tool's --after did.
  pulse(wires.reset, rig.timing.reset_pulse);
  repl.forget_state();
  const std::string state =
      " (the factory slot may be half written: the module may not boot until a cable flash completes)";
  if (!rep.run.ok()) {
    char limit[32];
    std::snprintf(limit, sizeof limit, "%.1f", static_cast<double>(f.timeout.count()) / 1000.0);
    std::string how = rep.run.timed_out ? std::string("did not finish within ") + limit + " s"
                      : rep.run.term_signal ? "was ended by signal " + std::to_string(rep.run.term_signal)
                                            : "exited with status " + std::to_string(rep.run.exit_code);
    return OtaFailure{"flasher", "'" + rep.argv[0] + "' " + how + "; it said: " + last_line(rep.run.output_tail) + state};
  }
  // A live prompt (the numbered probe), not just a ">>> " that may still sit in the input from before.
  auto prompt = repl.get_prompt(Deadline::after(rig.timing.boot_timeout + rig.timing.prompt_timeout));
  if (!prompt)
    return OtaFailure{"reset", "the flasher succeeded but the module gave no REPL prompt after the reset: " +
                                   prompt.error().describe() + state};
  auto after = read_running_firmware(repl, Deadline::after(rig.timing.prompt_timeout * 3));
  if (!after) return after.error();
  rep.after = after.value();
  rep.end = now();
  if (rep.after.version != expected_version)
    return OtaFailure{"confirm", "the flasher succeeded but the module runs " + rep.after.version + ", not " +
                                     expected_version + " (did the tool write another image or offset?)"};
  return rep;
}

}  // namespace bootrig
