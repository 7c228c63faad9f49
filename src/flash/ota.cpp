// OTA update over the REPL: validate, pycom.ota_* with the image sent as raw binary through sys.stdin (or
// 4096-byte bytes-literal blocks on boards without it), reset, confirm.
#include "bootrig/flash/ota.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/repl/binary_stream.hpp"

namespace bootrig {

namespace {

OtaFailure repl_failure(const std::string& step, const ReplFailure& f) { return {step, f.describe()}; }

// Runs code; a failure names the step, an exception on the board too.
Result<ExecResult, OtaFailure> step(ReplClient& repl, const std::string& name, std::string_view code,
                                    Duration t) {
  auto r = repl.exec_raw(code, Deadline::after(t));
  if (!r) return repl_failure(name, r.error());
  if (r.value().exception) return OtaFailure{name, r.value().exception->describe()};
  return std::move(r).value();
}

OtaFailure at_block(OtaFailure f, std::size_t block, std::size_t at) {
  f.what = "block " + std::to_string(block) + " at byte " + std::to_string(at) + ": " + f.what;
  return f;
}

Result<bool, OtaFailure> write_bytes_literal(ReplClient& repl, std::string_view data, std::size_t block,
                                             const OtaOptions& o, OtaReport& rep) {
  for (std::size_t at = 0; at < data.size(); at += block) {
    std::string code = "pycom.ota_write(" + py_bytes_literal(data.substr(at, block)) + ")";
    rep.wire_bytes += code.size();
    auto r = step(repl, "ota_write", code, o.step_timeout);
    if (!r) return at_block(r.error(), rep.blocks + 1, at);
    ++rep.blocks;
    rep.bytes = std::min(at + block, data.size());
    if (o.progress) o.progress(rep.bytes, data.size());
  }
  return true;
}

// The image through the board's sys.stdin, each block acknowledged after pycom.ota_write() took it.
Result<bool, OtaFailure> write_binary(ReplClient& repl, std::string_view data, std::size_t block,
                                      const OtaOptions& o, OtaReport& rep) {
  StdinUpload plan;
  plan.prologue = "import pycom\nw = pycom.ota_write";
  plan.tag = "OTA>";
  plan.block = block;
  plan.step_timeout = o.step_timeout;
  plan.recovery = o.boot_timeout;
  plan.progress = o.progress;
  auto r = upload_through_stdin(repl, data, plan);
  if (!r) return OtaFailure{"ota_write", r.error().what};
  rep.wire_bytes += r->wire_bytes;
  rep.blocks += r->blocks;
  rep.bytes = r->bytes;
  return true;
}

}  // namespace

Result<RunningFirmware, OtaFailure> read_running_firmware(ReplClient& repl, Deadline deadline) {
  auto r = repl.exec_raw(
      "import os, pycom\nu = os.uname()\nprint(u[2])\nprint(u[4].split()[0])\nprint(pycom.ota_slot())\n"
      "print(pycom.bootmgr())\n",
      deadline);
  if (!r) return repl_failure("read running firmware", r.error());
  if (r.value().exception) return OtaFailure{"read running firmware", r.value().exception->describe()};
  std::istringstream in(r.value().output);
  RunningFirmware f;
  std::string slot;
  std::getline(in, f.version);
  std::getline(in, f.board);
  std::getline(in, slot);
  std::getline(in, f.bootmgr);
  try {
    f.ota_slot = static_cast<std::uint32_t>(std::stoul(slot));
  } catch (const std::exception&) {
    return OtaFailure{"read running firmware", "pycom.ota_slot() printed '" + slot + "', not an address"};
  }
  return f;
}

Esp32Image validate_ota_image(std::span<const std::uint8_t> image, const std::string& board,
                              const std::string& source, bool allow_foreign) {
  Esp32Image img = parse_esp32_image(image);
  if (!img.valid())
    throw RigError(source + ": not a valid ESP32 application image (" + img.problem_summary() +
                   "); nothing was written to the board");
  if (img.kind != ImageKind::app)
    throw RigError(source + ": is " + img.describe() + ", not an app for a slot; nothing was written");
  if (!img.identity.pycom) {
    if (!allow_foreign)
      throw RigError(source + ": is " + img.describe() +
                     "; a Pycom module would run it instead of MicroPython, so nothing was written (--force "
                     "flashes it anyway)");
    return img;
  }
  if (!board.empty()) {
    auto want = parse_board(board);
    if (!want || *want != img.board)
      throw RigError(source + ": built for " + to_string(img.board) + " but the board runs " + board +
                     "; nothing was written (use an image for " + board + ")");
  }
  return img;
}

Result<OtaReport, OtaFailure> ota_update(ReplClient& repl, std::span<const std::uint8_t> image,
                                         const std::string& source, const OtaOptions& o) {
  if (!o.hard_reset) throw std::invalid_argument("ota_update needs a hard_reset callback");
  OtaReport rep;
  rep.start = now();
  auto before = read_running_firmware(repl, Deadline::after(o.step_timeout));
  if (!before) return before.error();
  rep.before = before.value();
  Esp32Image img = validate_ota_image(image, rep.before.board, source, o.allow_foreign);
  rep.version = img.identity.version;
  rep.board = to_string(img.board);

  auto r = step(repl, "ota_start", "import pycom\npycom.ota_start()", o.step_timeout);
  if (!r) return r.error();
  std::string_view data(reinterpret_cast<const char*>(image.data()), image.size());
  std::size_t block = o.block_bytes ? o.block_bytes : 4096;
  bool binary = false;
  if (o.binary_transfer) {
    auto probe = has_binary_stdin(repl, Deadline::after(o.step_timeout));
    if (!probe) return repl_failure("probe sys.stdin", probe.error());
    binary = probe.value();
  }
  rep.transfer = binary ? "binary" : "bytes-literal";
  rep.writes_start = now();
  auto w = binary ? write_binary(repl, data, block, o, rep) : write_bytes_literal(repl, data, block, o, rep);
  if (!w) return w.error();
  rep.writes_done = now();
  r = step(repl, "ota_verify", "print(pycom.ota_verify())", o.step_timeout);
  if (!r) return r.error();
  if (r.value().output.find("True") == std::string::npos)
    return OtaFailure{"ota_verify", "the board did not verify the written image (printed '" +
                                        r.value().output + "'); the update was not finished"};
  r = step(repl, "ota_finish", "pycom.ota_finish()", o.step_timeout);
  if (!r) return r.error();

  o.hard_reset();
  repl.forget_state();
  auto prompt = repl.await_prompt(Deadline::after(o.boot_timeout));
  if (!prompt) {
    prompt = repl.get_prompt(Deadline::after(o.step_timeout));
    if (!prompt) return repl_failure("reset", prompt.error());
  }
  auto after = read_running_firmware(repl, Deadline::after(o.step_timeout));
  if (!after) return after.error();
  rep.after = after.value();
  rep.end = now();
  if (rep.after.version != rep.version)
    return OtaFailure{"confirm", "the board runs " + rep.after.version + " after the update, not " +
                                     rep.version + " (the bootloader rolled back?)"};
  return rep;
}

}  // namespace bootrig
