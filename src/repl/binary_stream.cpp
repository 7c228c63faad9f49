// Escaping for binary data through a REPL's stdin and stdout (see the header for which bytes and why).
#include "bootrig/repl/binary_stream.hpp"

#include <algorithm>
#include <cstdio>

namespace bootrig {

std::string escape_for_stdin(std::string_view piece) {
  std::string body;
  body.reserve(piece.size() + piece.size() / 64 + 8);
  for (char ch : piece) {
    if (ch == '\x10')
      body += "\x10\x20";
    else if (ch == '\x06')
      body += "\x10\x16";
    else
      body += ch;
  }
  return body;
}

std::string stdin_block(std::string_view piece) {
  std::string body = escape_for_stdin(piece);
  char head[8];
  std::snprintf(head, sizeof head, "%05zu", body.size());
  return head + body;
}

bool StdoutUnescaper::feed(std::string_view wire, std::string& out) {
  for (char ch : wire) {
    if (escape_) {
      escape_ = false;
      if (ch == '\x20')
        out += '\x10';
      else if (ch == '\x14')
        out += '\x04';
      else
        return false;
    } else if (ch == '\x10') {
      escape_ = true;
    } else {
      out += ch;
    }
  }
  return true;
}

std::uint32_t byte_sum(std::string_view data, std::uint32_t acc) {
  for (char ch : data) acc += static_cast<unsigned char>(ch);
  return acc;
}

namespace {

// The board's loop, as a function `_bup()`. Each block's length comes first as five ASCII digits ("00000":
// stop) so that the host can always end the loop, Ctrl-C being disabled.
std::string indent(const std::string& code) {
  std::string out;
  std::size_t from = 0;
  while (from < code.size()) {
    auto eol = code.find('\n', from);
    if (eol == std::string::npos) eol = code.size();
    if (eol > from) out += " " + code.substr(from, eol - from) + "\n";
    from = eol + 1;
  }
  return out;
}

std::string upload_function(const StdinUpload& plan, std::size_t total) {
  return "def _bup():\n"
         " import sys, micropython\n" +
         indent(plan.prologue) +
         " r = sys.stdin.buffer.read\n"
         " n = 0\n"
         " c = 0\n"
         " micropython.kbd_intr(-1)\n"
         " try:\n"
         "  print('" +
         plan.tag + "', n, c)\n  while n < " + std::to_string(total) +
         ":\n"
         "   m = 0\n"
         "   for d in r(5):\n"
         "    m = m * 10 + d - 48\n"
         "   if m <= 0:\n"
         "    break\n"
         "   b = r(m)" +
         std::string(kStdinUnescape) +
         "\n"
         "   " +
         plan.sink +
         "(b)\n"
         "   n += len(b)\n"
         "   c = (c + sum(b)) & 0xffffffff\n"
         "   print('" +
         plan.tag +
         "', n, c)\n"
         " finally:\n"
         "  micropython.kbd_intr(3)\n" +
         (plan.epilogue.empty() ? "" : "  " + plan.epilogue + "\n");
}

// After a failed block: make sure the loop ends (ASCII zeros fill any block the board still waits for, at
// most twice the block escaped, then read as a "00000" stop), and bring the board back to a prompt.
std::string abandon(ReplClient& repl, const StdinUpload& plan, bool board_waits) {
  if (board_waits) repl.send_stdin(std::string(2 * plan.block + 10, '0'), Deadline::after(plan.step_timeout));
  repl.forget_state();
  // A board that is merely slow may still be inside the sink: give it as long as a boot.
  auto p = repl.get_prompt(Deadline::after(std::max(plan.step_timeout, plan.recovery)));
  return p ? "; the board is back at its prompt"
           : "; the board gave no prompt afterwards (" + p.error().describe() + ")";
}

}  // namespace

ReplResult<bool> has_binary_stdin(ReplClient& repl, Deadline deadline) {
  auto r = repl.exec_raw("import sys, micropython\nsys.stdin.buffer.read\nmicropython.kbd_intr", deadline);
  if (!r) return r.error();
  return !r.value().exception;
}

Result<UploadReport, UploadFailure> upload_through_stdin(ReplClient& repl, std::string_view data,
                                                         const StdinUpload& plan) {
  const std::size_t block = std::max<std::size_t>(plan.block, 1);
  UploadReport rep;
  const std::string function = upload_function(plan, data.size());
  std::string call = "_bup()";
  if (plan.define) {
    // Defined through a checked exchange: then only these few bytes travel unchecked.
    if (std::string why = plan.define(function); !why.empty()) return UploadFailure{why, std::nullopt};
  } else {
    call = function + call;
  }
  auto started = repl.start_raw(call, Deadline::after(plan.step_timeout));
  if (!started) return UploadFailure{started.error().describe(), std::nullopt};
  ExecResult run = std::move(started).value();
  rep.start = run.sent;  // from the call on: the board's start-up counts against the transfer
  std::size_t sent = 0;  // bytes handed to the board
  std::uint32_t sum = 0;
  std::size_t block_no = 0, block_at = 0;
  // Each acknowledgement must name exactly what was sent so far.
  auto expect_ack = [&]() -> std::optional<UploadFailure> {
    auto at_block = [&](std::string what) {
      return block_no == 0
                 ? what
                 : "block " + std::to_string(block_no) + " at byte " + std::to_string(block_at) + ": " + what;
    };
    auto fail = [&](std::string what, bool board_waits) {
      return UploadFailure{at_block(what + abandon(repl, plan, board_waits)), std::nullopt};
    };
    auto line = repl.read_program_line(Deadline::after(plan.step_timeout));
    if (!line) return fail("no acknowledgement from the board (" + line.error().describe() + ")", true);
    if (line.value().ended) {
      // The loop stopped by itself: an exception (OSError from the sink, say).
      auto end = repl.finish_raw(std::move(run), Deadline::after(plan.step_timeout));
      if (!end) return fail(end.error().describe(), false);
      if (end.value().exception)
        return UploadFailure{
            (block_no ? "block " + std::to_string(block_no) + ": " : "") + end.value().exception->describe(),
            end.value().exception};
      return fail("the board's loop ended early after '" + line.value().text + "'", false);
    }
    char want[80];
    std::snprintf(want, sizeof want, "%s %zu %u", plan.tag.c_str(), sent, static_cast<unsigned>(sum));
    if (line.value().text != want) {
      // Boot output after a reset, or bytes lost or changed on the way.
      bool ack_like = line.value().text.rfind(plan.tag + " ", 0) == 0;
      return fail("the board answered '" + line.value().text + "' instead of '" + want + "'" +
                      (ack_like ? " (bytes lost or changed on the line)" : " (did it reset?)"),
                  ack_like);
    }
    return std::nullopt;
  };
  if (auto f = expect_ack()) return *f;
  for (std::size_t at = 0; at < data.size(); at += block) {
    auto piece = data.substr(at, block);
    std::string out = stdin_block(piece);
    repl.send_stdin(out, Deadline::after(plan.step_timeout));
    rep.wire_bytes += out.size();
    block_at = at;
    sent += piece.size();
    sum = byte_sum(piece, sum);
    ++block_no;
    if (auto f = expect_ack()) return *f;
    ++rep.blocks;
    rep.bytes = sent;
    if (plan.progress) plan.progress(rep.bytes, data.size());
  }
  rep.end = now();
  auto end = repl.finish_raw(std::move(run), Deadline::after(plan.step_timeout));
  if (!end) return UploadFailure{end.error().describe(), std::nullopt};
  if (end.value().exception) return UploadFailure{end.value().exception->describe(), end.value().exception};
  return rep;
}

}  // namespace bootrig
