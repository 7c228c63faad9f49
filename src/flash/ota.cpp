// OTA update over the REPL: validate, pycom.ota_* with the image sent as raw binary through sys.stdin (or
// 4096-byte bytes-literal blocks on boards without it), reset, confirm.
#include "bootrig/flash/ota.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/hash.hpp"
#include "bootrig/repl/binary_stream.hpp"
#include "bootrig/repl/checked_channel.hpp"

namespace bootrig {

namespace {

OtaFailure repl_failure(const std::string& step, const ReplFailure& f) { return {step, f.describe()}; }

// Runs bootrig's code through the checked channel (so the line can neither change what runs nor what it
// answers); a failure names the step, an exception on the board too.
Result<ChannelAnswer, OtaFailure> ota_step(CheckedChannel& ch, const std::string& name, std::string_view code,
                                           Duration t) {
  auto r = ch.run(code, t, Deadline::after(4 * t));
  if (!r) return OtaFailure{name, r.error().what};
  if (r->raised()) return OtaFailure{name, *r->exc_type + ": " + r->exc_message};
  return std::move(r).value();
}

OtaFailure at_block(OtaFailure f, std::size_t block, std::size_t at) {
  f.what = "block " + std::to_string(block) + " at byte " + std::to_string(at) + ": " + f.what;
  return f;
}

Result<bool, OtaFailure> write_bytes_literal(CheckedChannel& ch, std::string_view data, std::size_t block,
                                             const OtaOptions& o, OtaReport& rep) {
  for (std::size_t at = 0; at < data.size(); at += block) {
    std::string code = "import pycom\npycom.ota_write(" + py_bytes_literal(data.substr(at, block)) + ")";
    rep.wire_bytes += code.size();
    auto r = ota_step(ch, "ota_write", code, o.step_timeout);
    if (!r) return at_block(r.error(), rep.blocks + 1, at);
    ++rep.blocks;
    rep.bytes = std::min(at + block, data.size());
    if (o.progress) o.progress(rep.bytes, data.size());
  }
  return true;
}

// The image through the board's sys.stdin in checked frames, each acknowledged after pycom.ota_write() took
// it; then the SHA-256 of all the board wrote, read through the checked channel, must be the image's.
Result<bool, OtaFailure> write_binary(CheckedChannel& ch, ReplClient& repl, std::string_view data,
                                      std::size_t block, const OtaOptions& o, OtaReport& rep) {
  StdinUpload plan;
  plan.prologue = "import pycom\nw = pycom.ota_write";
  plan.tag = "OTA>";
  plan.block = block;
  plan.step_timeout = o.step_timeout;
  plan.recovery = o.boot_timeout;
  plan.progress = o.progress;
  plan.define = [&](const std::string& code) -> std::string {
    auto a = ch.run(code + "_r = 'ok'\n", o.step_timeout, Deadline::after(4 * o.step_timeout));
    if (!a) return a.error().what;
    if (a->raised()) return "the board refused bootrig's transfer code: " + *a->exc_type + ": " + a->exc_message;
    return "";
  };
  auto r = upload_through_stdin(repl, data, plan);
  if (!r) return OtaFailure{"ota_write", r.error().what};
  rep.wire_bytes += r->wire_bytes;
  rep.blocks += r->blocks;
  rep.bytes = r->bytes;
  rep.resent = r->resent;
  rep.frames = r->frames;
  auto digest = ota_step(ch, "ota_write", "_r = " + std::string(kUploadDigestName), o.step_timeout);
  if (!digest) return digest.error();
  Sha256 h;
  h.update(data);
  auto d = h.finish();
  const std::string want = to_hex(d);
  if (digest->value != want)
    return OtaFailure{"ota_write", "the board wrote data whose SHA-256 is " + digest->value + ", not the image's " +
                                       want + "; the update was not finished"};
  return true;
}

}  // namespace

Result<RunningFirmware, OtaFailure> read_running_firmware(CheckedChannel& channel, Deadline deadline) {
  const char* step_name = "read running firmware";
  auto r = channel.run(
      "import os, pycom\nu = os.uname()\n"
      "_r = '%s\\n%s\\n%s\\n%s' % (u[2], u[4].split()[0], pycom.ota_slot(), pycom.bootmgr())\n",
      milliseconds(500), deadline);
  if (!r) return OtaFailure{step_name, r.error().what};
  if (r->raised()) return OtaFailure{step_name, *r->exc_type + ": " + r->exc_message};
  std::istringstream in(r->value);
  RunningFirmware f;
  std::string slot;
  std::getline(in, f.version);
  std::getline(in, f.board);
  std::getline(in, slot);
  std::getline(in, f.bootmgr);
  try {
    f.ota_slot = static_cast<std::uint32_t>(std::stoul(slot));
  } catch (const std::exception&) {
    return OtaFailure{step_name, "pycom.ota_slot() gave '" + slot + "', not an address"};
  }
  return f;
}

Result<RunningFirmware, OtaFailure> read_running_firmware(ReplClient& repl, Deadline deadline) {
  CheckedChannel channel(repl);
  return read_running_firmware(channel, deadline);
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

Result<bool, OtaFailure> ota_write_image(ReplClient& repl, CheckedChannel& ch, std::span<const std::uint8_t> image,
                                         const OtaOptions& o, OtaReport& rep) {
  auto r = ota_step(ch, "ota_start", "import pycom\npycom.ota_start()", o.step_timeout);
  if (!r) return r.error();
  std::string_view data(reinterpret_cast<const char*>(image.data()), image.size());
  std::size_t block = o.block_bytes ? o.block_bytes : 4096;
  bool binary = false;
  if (o.binary_transfer) {
    auto probe = ch.run("import sys, micropython\nsys.stdin.buffer.read\nmicropython.kbd_intr", o.step_timeout,
                        Deadline::after(4 * o.step_timeout));
    if (!probe) return OtaFailure{"probe sys.stdin", probe.error().what};
    binary = !probe->raised();
  }
  rep.transfer = binary ? "binary" : "bytes-literal";
  rep.writes_start = now();
  auto w = binary ? write_binary(ch, repl, data, block, o, rep) : write_bytes_literal(ch, data, block, o, rep);
  if (!w) return w.error();
  rep.writes_done = now();
  return true;
}

Result<OtaReport, OtaFailure> ota_update(ReplClient& repl, std::span<const std::uint8_t> image,
                                         const std::string& source, const OtaOptions& o) {
  if (!o.hard_reset) throw std::invalid_argument("ota_update needs a hard_reset callback");
  std::optional<CheckedChannel> own;
  CheckedChannel& ch = o.channel ? *o.channel : own.emplace(repl);
  OtaReport rep;
  rep.start = now();
  auto before = read_running_firmware(ch, Deadline::after(4 * o.step_timeout));
  if (!before) return before.error();
  rep.before = before.value();
  Esp32Image img = validate_ota_image(image, rep.before.board, source, o.allow_foreign);
  rep.version = img.identity.version;
  rep.board = to_string(img.board);

  auto w = ota_write_image(repl, ch, image, o, rep);
  if (!w) return w.error();
  auto r = ota_step(ch, "ota_verify", "import pycom\n_r = str(pycom.ota_verify())", o.step_timeout);
  if (!r) return r.error();
  if (r->value != "True")
    return OtaFailure{"ota_verify", "the board did not verify the written image (pycom.ota_verify() gave '" +
                                        r->value + "'); the update was not finished"};
  r = ota_step(ch, "ota_finish", "import pycom\npycom.ota_finish()", o.step_timeout);
  if (!r) return r.error();

  o.hard_reset();
  repl.forget_state();
  ch.forget();
  auto prompt = repl.await_prompt(Deadline::after(o.boot_timeout));
  if (!prompt) {
    prompt = repl.get_prompt(Deadline::after(o.step_timeout));
    if (!prompt) return repl_failure("reset", prompt.error());
  }
  auto after = read_running_firmware(ch, Deadline::after(4 * o.step_timeout));
  if (!after) return after.error();
  rep.after = after.value();
  rep.end = now();
  if (rep.after.version != rep.version)
    return OtaFailure{"confirm", "the board runs " + rep.after.version + " after the update, not " +
                                     rep.version + " (the bootloader rolled back?)"};
  return rep;
}

}  // namespace bootrig
