// Puts a check's images on the board before it runs: read, plan, flash what is missing, record, say so.
#include "bootrig/scenario/prepare.hpp"

#include <cstdio>

#include "bootrig/core/errors.hpp"
#include "bootrig/flash/cable_flash.hpp"
#include "bootrig/flash/ota.hpp"
#include "bootrig/flash/slot_proof.hpp"
#include "bootrig/scenario/flash_methods.hpp"
#include "bootrig/scenario/recovery.hpp"
#include "bootrig/scenario/session.hpp"

namespace bootrig {

namespace {

BoardFirmware read_board(Session& s, const std::string& when) {
  auto r = read_board_firmware(s.channel(), Deadline::after(s.timing().prompt_timeout * 10));
  if (!r) throw RigError("could not read the board's firmware " + when + ": " + r.error().step + ": " + r.error().what);
  return r.value();
}

// With P2 wired the ROM says what each slot holds: asked once a run, and again when the record is gone. The
// visit resets the board twice, so the prompt is awaited and the board read again before the proof is used.
void prove_slots_once(Session& s, BoardFirmware& board, const std::map<std::string, RigImage>& images) {
  if (!s.bootloader() || images.empty() || (s.target().slots_proven() && board.record)) return;
  auto step = s.step("prove the slots' content (the ROM's SPI_FLASH_MD5)");
  CableFlashOptions opt;
  opt.boot_timeout = s.timing().boot_timeout;
  BoardFirmware proven_board = board;
  auto r = prove_slots({s.reset(), s.bootloader(), s.serial(), s.timing().reset_pulse}, proven_board, images, opt);
  s.forget_board_state();
  if (!r) {
    // Not proven is not a verdict: the record and the running build still decide, and doubt means a flash.
    s.note("could not read the slots' MD5 (" + r.error().step + ": " + r.error().what +
           "); the firmware is judged by bootrig's record and the running build");
  }
  s.waiting("a >>> prompt after download mode");
  if (auto p = s.repl().await_prompt(Deadline::after(s.timing().boot_timeout)); !p) {
    RecoveryReport rr = recover_board(s, "no REPL prompt after reading the slots' MD5: " + p.error().describe());
    if (!rr.recovered) throw BoardLost(rr);
  }
  BoardFirmware again = read_board(s, "after reading the slots' MD5");
  if (r) {
    again.proven = proven_board.proven;
    std::string held;
    for (const auto& [slot, name] : again.proven->holds)
      held += std::string(held.empty() ? "" : ", ") + to_string(slot) + " holds " + (name.empty() ? "none of the rig's images" : name);
    s.note("the ROM's MD5 of the slots: " + held);
    FirmwareRecord rec = record_from_proof(again, images);
    if (!again.record || !(*again.record == rec)) {
      if (auto w = write_firmware_record(s.channel(), rec, Deadline::after(s.timing().prompt_timeout * 10)); !w)
        throw RigError("could not write bootrig's record to " + std::string(kFirmwareRecordPath) + ": " + w.error().what);
      s.note(again.record ? "bootrig's record disagreed with the slots' MD5: rewritten from it"
                          : "bootrig's record was missing: written from the slots' MD5");
      auto proof = again.proven;
      again = read_board(s, "after writing bootrig's record");
      again.proven = proof;
    }
    s.target().set_slots_proven(true);
  }
  board = again;
  step.ok();
}

}  // namespace

void prepare_firmware(Session& s, const Arrangement& wanted) {
  auto step = s.step("check the firmware on the board");
  s.waiting("a >>> prompt (Ctrl-C)");
  if (auto p = s.repl().get_prompt(Deadline::after(s.timing().prompt_timeout + s.timing().boot_timeout)); !p) {
    RecoveryReport r = recover_board(s, "no REPL prompt to read the board's firmware: " + p.error().describe());
    if (!r.recovered) throw BoardLost(r);
  }

  // The images were validated when the run began; reading them again is cheap and sees the same files.
  auto images = load_rig_images(s.target().rig());
  std::vector<std::string> dropped;
  Arrangement a = resolve_arrangement(wanted, images, &dropped);

  FirmwarePrep prep;
  prep.arrangement = a.describe();
  BoardFirmware board = read_board(s, "before the check");
  if (!a.any()) prove_slots_once(s, board, images);
  prep.found = board.describe();
  s.note("firmware found: " + prep.found);
  if (!dropped.empty()) {
    std::string names;
    for (const auto& d : dropped) names += (names.empty() ? "" : ", ") + d;
    s.note("the rig names no image for " + names + " ([firmware] in " + s.target().rig().source.string() +
           "): the check runs with what the board holds");
  }
  if (!a.running.empty() && board.running.board != images.at(a.running).board)
    throw RigError("the board is a " + board.running.board + " but [firmware] " + a.running + " is built for " +
                   images.at(a.running).board + "; nothing was written (use images for " + board.running.board + ")");

  FlashMethods methods(s);
  auto plan = plan_flashes(board, a, images, methods.cable_available());
  for (const auto& f : plan) {
    const RigImage& img = images.at(f.image);
    s.note("flashing " + img.describe() + " by " + to_string(f.method) + ": " + f.why);
    TimePoint start = now();
    FirmwareRecord record = f.method == FlashMethod::cable ? record_after_cable(&board, img) : record_after_ota(board, img);
    if (f.method == FlashMethod::cable) methods.cable(img);
    else methods.ota(img);
    double took = to_ms(now() - start) / 1000.0;
    prep.flashed.push_back({img.name, img.version, to_string(f.method), took});
    // Written at once: an interruption before the next flash must not leave the board with a stale record.
    if (auto w = write_firmware_record(s.channel(), record, Deadline::after(s.timing().prompt_timeout * 10)); !w)
      throw RigError(img.describe() + " was flashed, but bootrig could not write its record to " +
                     kFirmwareRecordPath + ": " + w.error().what);
    board = read_board(s, "after flashing " + img.name);
    if (!board.record || !(*board.record == record))
      throw RigError("after flashing " + img.describe() + " the board is not as bootrig recorded it: " + board.describe());
    char buf[64];
    std::snprintf(buf, sizeof buf, " in %.1f s", took);
    s.note("flashed " + img.describe() + " by " + to_string(f.method) + buf);
  }
  if (!plan.empty()) {
    s.note("firmware now: " + board.describe());
  } else if (!a.any()) {
    std::string why;
    runs_image(board, images.at(a.running), &why);
    s.note("firmware: the board already has " + a.describe() + "; nothing flashed (" + why + ")");
  }
  s.attempt().firmware = prep;
  s.set_firmware(board);
  step.ok();
}

}  // namespace bootrig
