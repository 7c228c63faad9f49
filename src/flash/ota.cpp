// OTA update over the REPL: validate, pycom.ota_* with the image sent as raw binary through sys.stdin (or
// 4096-byte bytes-literal blocks on boards without it), reset, confirm.
#include "bootrig/flash/ota.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "bootrig/core/errors.hpp"

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

// The board's side of the binary transfer. Before each block the host sends its length on the wire as five
// ASCII digits ("00000": stop) so that it can always end the loop, Ctrl-C being disabled. Pycom's UART
// interrupt handler resets the module into safe boot on a Ctrl-F (0x06) byte whatever runs (machuart.c,
// mp_reset_char), so the block is escaped: 0x10 becomes 0x10 0x20 and 0x06 becomes 0x10 0x16, undone by two
// replace() calls (every 0x10 on the wire starts a pair, so the order is unambiguous). Each "OTA> count sum"
// line acknowledges what was written (unescaped) and lets the next block go.
std::string binary_loop(std::size_t total) {
  return "import sys, micropython, pycom\n"
         "r = sys.stdin.buffer.read\n"
         "w = pycom.ota_write\n"
         "T = " +
         std::to_string(total) +
         "\n"
         "n = 0\n"
         "c = 0\n"
         "micropython.kbd_intr(-1)\n"
         "try:\n"
         "    print('OTA>', n, c)\n"
         "    while n < T:\n"
         "        m = 0\n"
         "        for d in r(5):\n"
         "            m = m * 10 + d - 48\n"
         "        if m <= 0:\n"
         "            break\n"
         "        b = r(m).replace(b'\\x10\\x16', b'\\x06').replace(b'\\x10\\x20', b'\\x10')\n"
         "        w(b)\n"
         "        n += len(b)\n"
         "        c = (c + sum(b)) & 0xffffffff\n"
         "        print('OTA>', n, c)\n"
         "finally:\n"
         "    micropython.kbd_intr(3)\n";
}

// A block as it goes on the wire: its escaped length as five digits, then the escaped bytes.
std::string binary_block(std::string_view piece) {
  std::string body;
  body.reserve(piece.size() + piece.size() / 64 + 8);
  for (char ch : piece) {
    if (ch == '\x10') body += "\x10\x20";
    else if (ch == '\x06') body += "\x10\x16";
    else body += ch;
  }
  char head[8];
  std::snprintf(head, sizeof head, "%05zu", body.size());
  return head + body;
}

// After a failed block: make sure the loop ends (zeros complete any block the board still waits for, then
// read as "stop"), and bring the board back to a prompt. Says what became of the board.
std::string abandon_binary(ReplClient& repl, std::size_t block, bool board_waits, const OtaOptions& o) {
  // ASCII zeros fill any block the board still waits for (at most twice the block, escaped) and then read as
  // a "00000" stop header.
  if (board_waits) repl.send_stdin(std::string(2 * block + 10, '0'), Deadline::after(o.step_timeout));
  repl.forget_state();
  // A board that is merely slow may still be inside pycom.ota_write(): give it as long as a boot.
  auto p = repl.get_prompt(Deadline::after(std::max(o.step_timeout, o.boot_timeout)));
  return p ? "; the board is back at its prompt"
           : "; the board gave no prompt afterwards (" + p.error().describe() + ")";
}

std::uint32_t byte_sum(std::string_view data, std::uint32_t acc) {
  for (char ch : data) acc += static_cast<unsigned char>(ch);
  return acc;
}

Result<bool, OtaFailure> write_binary(ReplClient& repl, std::string_view data, std::size_t block,
                                      const OtaOptions& o, OtaReport& rep) {
  auto started = repl.start_raw(binary_loop(data.size()), Deadline::after(o.step_timeout));
  if (!started) return repl_failure("ota_write", started.error());
  ExecResult run = std::move(started).value();
  std::size_t sent = 0;  // image bytes handed to the board
  std::uint32_t sum = 0;
  std::size_t block_no = 0, block_at = 0;
  // Each acknowledgement must name exactly what was sent so far.
  auto expect_ack = [&]() -> Result<bool, OtaFailure> {
    auto fail = [&](std::string what, bool board_waits) {
      OtaFailure f{"ota_write", std::move(what)};
      f.what += abandon_binary(repl, block, board_waits, o);
      return block_no == 0 ? f : at_block(std::move(f), block_no, block_at);
    };
    auto line = repl.read_program_line(Deadline::after(o.step_timeout));
    if (!line) return fail("no acknowledgement from the board (" + line.error().describe() + ")", true);
    if (line.value().ended) {
      // The loop stopped by itself: an exception (OSError from pycom.ota_write, say).
      auto end = repl.finish_raw(std::move(run), Deadline::after(o.step_timeout));
      if (!end) return fail(end.error().describe(), false);
      if (end.value().exception)
        return OtaFailure{"ota_write", (block_no ? "block " + std::to_string(block_no) + ": " : "") +
                                           end.value().exception->describe()};
      return fail("the board's loop ended early after '" + line.value().text + "'", false);
    }
    char want[64];
    std::snprintf(want, sizeof want, "OTA> %zu %u", sent, static_cast<unsigned>(sum));
    if (line.value().text != want) {
      // Boot output after a reset, or bytes lost or changed on the way.
      bool ack_like = line.value().text.rfind("OTA> ", 0) == 0;
      return fail("the board answered '" + line.value().text + "' instead of '" + want + "'" +
                      (ack_like ? " (bytes lost or changed on the line)" : " (did it reset?)"),
                  ack_like);
    }
    return true;
  };
  if (auto a = expect_ack(); !a) return a.error();
  for (std::size_t at = 0; at < data.size(); at += block) {
    auto piece = data.substr(at, block);
    std::string out = binary_block(piece);
    repl.send_stdin(out, Deadline::after(o.step_timeout));
    rep.wire_bytes += out.size();
    block_at = at;
    sent += piece.size();
    sum = byte_sum(piece, sum);
    ++block_no;
    if (auto a = expect_ack(); !a) return a.error();
    ++rep.blocks;
    rep.bytes = sent;
    if (o.progress) o.progress(rep.bytes, data.size());
  }
  auto end = repl.finish_raw(std::move(run), Deadline::after(o.step_timeout));
  if (!end) return repl_failure("ota_write", end.error());
  if (end.value().exception) return OtaFailure{"ota_write", end.value().exception->describe()};
  return true;
}

// Whether the board can read binary from its REPL's stdin.
Result<bool, OtaFailure> has_binary_stdin(ReplClient& repl, Duration t) {
  auto r = repl.exec_raw("import sys, micropython\nsys.stdin.buffer.read\nmicropython.kbd_intr",
                         Deadline::after(t));
  if (!r) return repl_failure("probe sys.stdin", r.error());
  return !r.value().exception;
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
    auto probe = has_binary_stdin(repl, o.step_timeout);
    if (!probe) return probe.error();
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
