// Escaping for binary data through a REPL's stdin and stdout (see the header for which bytes and why).
#include "bootrig/repl/binary_stream.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "bootrig/repl/checked_channel.hpp"

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

// The board's loop, as a function `_bup()`. Each frame is "\x10S" (a pair escaped data never holds), the
// offset as ten digits, the escaped length as five and again, the first 8 hex digits of SHA-256 over the
// offset, the length and the data, then the escaped data; the board acknowledges every frame with
// "<tag> count sum +|-" (what it holds, and whether the frame checked out). Data at an offset it already holds
// is acknowledged and not written again; a frame of length 0 that checks out ends the loop.
std::string bup_indent(const std::string& code) {
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

std::string upload_function(const StdinUpload& plan, std::size_t max_wire) {
  const std::string tag = "'" + plan.tag + "'";
  return "def _bup():\n"
         " global _bupz\n"
         " import sys, micropython\n"
         " try:\n  import uhashlib as H\n except ImportError:\n  import hashlib as H\n"
         " try:\n  import ubinascii as X\n except ImportError:\n  import binascii as X\n"
         " def g(s):\n  v = 0\n  for d in s:\n   if d < 48 or d > 57:\n    return -1\n"
         "   v = v * 10 + d - 48\n  return v\n" +
         bup_indent(plan.prologue) +
         " r = sys.stdin.buffer.read\n"
         " n = 0\n"
         " c = 0\n"
         " z = H.sha256()\n"
         " _bupz = ''\n"
         " micropython.kbd_intr(-1)\n"
         " try:\n"
         "  print(" + tag + ", n, c, '+')\n"
         "  while 1:\n"
         "   p = 0\n"
         "   while 1:\n"
         "    d = r(1)\n"
         "    if p == 16 and d == b'S':\n"
         "     break\n"
         "    p = d[0] if d else 0\n"
         "   h = r(28)\n"
         "   k = '-'\n"
         "   o = g(h[:10])\n"
         "   m = g(h[10:15])\n"
         "   if o >= 0 and 0 <= m <= " + std::to_string(max_wire) + " and h[15:20] == h[10:15]:\n"
         "    b = r(m)" + std::string(kStdinUnescape) + "\n"
         "    if X.hexlify(H.sha256(h[:15] + b).digest()[:4]) == h[20:28]:\n"
         "     k = '+'\n"
         "     if m == 0 and o == n:\n"
         "      _bupz = X.hexlify(z.digest()).decode()\n"
         "      break\n"
         "     if m == 0:\n"
         "      break\n"
         "     if o == n:\n"
         "      " + plan.sink + "(b)\n"
         "      z.update(b)\n"
         "      n += len(b)\n"
         "      c = (c + sum(b)) & 0xffffffff\n"
         "   print(" + tag + ", n, c, k)\n"
         " finally:\n"
         "  micropython.kbd_intr(3)\n" +
         (plan.epilogue.empty() ? "" : "  " + plan.epilogue + "\n");
}

// The longest escaped data a frame may carry: every byte doubled.
std::size_t max_wire_of(const StdinUpload& plan) { return 2 * std::max<std::size_t>(plan.block, 1); }

// Completes whatever read the board's loop is stuck in (a frame that lost bytes on the way): more ASCII
// zeros than the longest frame, which the loop then skips while it looks for the next frame's start.
std::string upload_filler(const StdinUpload& plan) { return std::string(max_wire_of(plan) + 40, '0'); }

// An acknowledgement "<tag> count sum +|-", parsed; nullopt for anything else (boot output, garbled text).
struct UploadAck {
  std::size_t count = 0;
  std::uint32_t sum = 0;
  bool good = false;
};
std::optional<UploadAck> parse_upload_ack(const std::string& line, const std::string& tag) {
  if (line.rfind(tag + " ", 0) != 0) return std::nullopt;
  unsigned long long count = 0, sum = 0;
  char flag = 0, extra = 0;
  if (std::sscanf(line.c_str() + tag.size(), " %llu %llu %c %c", &count, &sum, &flag, &extra) != 3)
    return std::nullopt;
  if (flag != '+' && flag != '-') return std::nullopt;
  return UploadAck{static_cast<std::size_t>(count), static_cast<std::uint32_t>(sum), flag == '+'};
}

// A line only the ROM prints: the board reset under the transfer (a brown-out, a RESET pulse).
bool upload_saw_reset(const std::string& line) { return line.find("rst:0x") != std::string::npos; }

// After a failed transfer: stop the loop and bring the board back to a prompt. A stop frame goes every
// second or so, every other one after zeros that finish a read the line shortened, until the loop ends: a
// board busy in its sink (its UART ring full, later bytes lost) reads a later one.
std::string abandon(ReplClient& repl, const StdinUpload& plan, bool board_waits) {
  const Deadline until = Deadline::after(std::max(plan.step_timeout, plan.recovery));
  bool ended = !board_waits;
  for (int i = 0; !ended && !until.expired(); ++i) {
    repl.send_stdin((i % 2 ? upload_filler(plan) : std::string()) + upload_frame(0, {}), until);
    const Deadline listen = Deadline::after(seconds(1)).min(until);
    for (;;) {
      auto l = repl.read_program_line(listen);
      if (!l) break;
      if (l.value().ended) {
        ended = true;
        break;
      }
    }
  }
  repl.forget_state();
  // A board that is merely slow may still be inside the sink: give it as long as a boot.
  auto p = repl.get_prompt(Deadline::after(std::max(plan.step_timeout, plan.recovery)));
  return p ? "; the board is back at its prompt"
           : "; the board gave no prompt afterwards (" + p.error().describe() + ")";
}

// How long the error channel's \x04 may take after the output's: a traceback's worth of line time plus the
// board's slack. A \x04 with none after it was a garbled byte.
Duration end_confirm_wait(const ReplClient& repl, const StdinUpload& plan) {
  return std::min<Duration>(plan.step_timeout, repl.line_time(1024) + plan.ack_slack);
}

std::string upload_rate(std::size_t failed, std::size_t frames) {
  char buf[120];
  std::snprintf(buf, sizeof buf, "%zu of %zu frames garbled or lost on the line (%.0f %%)", failed, frames,
                frames ? 100.0 * static_cast<double>(failed) / static_cast<double>(frames) : 0.0);
  return buf;
}

}  // namespace

std::string upload_frame(std::size_t offset, std::string_view piece) {
  std::string body = escape_for_stdin(piece);
  char head[24];
  std::snprintf(head, sizeof head, "%010zu%05zu", offset, body.size());
  std::string digest = channel_digest(std::string(head) + std::string(piece));
  return std::string("\x10S", 2) + head + std::string(head + 10, 5) + digest + body;
}

ReplResult<bool> has_binary_stdin(ReplClient& repl, Deadline deadline) {
  auto r = repl.exec_raw("import sys, micropython\nsys.stdin.buffer.read\nmicropython.kbd_intr", deadline);
  if (!r) return r.error();
  return !r.value().exception;
}

Result<UploadReport, UploadFailure> upload_through_stdin(ReplClient& repl, std::string_view data,
                                                         const StdinUpload& plan) {
  const std::size_t top = std::max<std::size_t>(plan.block, 1);
  const std::size_t bottom = std::clamp<std::size_t>(plan.min_block, 1, top);
  UploadReport rep;
  const std::string function = upload_function(plan, max_wire_of(plan));
  std::string call = "_bup()";
  if (plan.define) {
    // Defined through a checked exchange: then only these few bytes travel unchecked.
    if (std::string why = plan.define(function); !why.empty()) return UploadFailure{why, std::nullopt};
  } else {
    call = function + call;
  }
  std::size_t frames = 0, failed = 0;

  // The call, until the loop's first acknowledgement: a call the line garbled raises (NameError,
  // SyntaxError) and is sent again; an exception that comes back every time is the board's own.
  std::optional<ExecResult> running;
  std::string why_not;
  for (int attempt = 0; attempt < 4 && !running; ++attempt) {
    const TimePoint called = now();
    auto started = repl.start_raw(call, Deadline::after(plan.step_timeout));
    if (!started) {
      why_not = started.error().describe();
      // An "OK" the line garbled (one call in fifty at 1 % of bytes lost): the loop runs all the same and
      // says so first, "<tag> 0 0 +" behind what is left of the OK.
      if (started.error().fault == ReplFault::protocol) {
        auto first = repl.read_program_line(Deadline::after(plan.step_timeout), true);
        if (first && !first.value().ended &&
            first.value().text.find(plan.tag + " 0 0 +") != std::string::npos) {
          ExecResult run;
          run.code_bytes = call.size();
          run.sent = called;
          run.accepted = now();
          rep.start = called;
          running = std::move(run);
          break;
        }
      }
      repl.forget_state();
      // Ctrl-C is data to a running loop: when no prompt comes, stop the loop as a failed transfer does.
      if (!repl.get_prompt(Deadline::after(plan.step_timeout))) abandon(repl, plan, true);
      if (repl.mode() == ReplMode::unknown) break;
      continue;
    }
    ExecResult run = std::move(started).value();
    for (;;) {
      auto line = repl.read_program_line(Deadline::after(plan.step_timeout));
      if (!line) {
        // The board took the call and it has not ended: the loop runs, its first line was garbled.
        rep.start = run.sent;
        running = std::move(run);
        break;
      }
      if (line.value().ended) {
        if (!repl.confirm_output_end(Deadline::after(end_confirm_wait(repl, plan)))) continue;  // a garbled byte
        auto end = repl.finish_raw(std::move(run), Deadline::after(plan.step_timeout));
        if (!end) return UploadFailure{end.error().describe(), std::nullopt};
        if (!end.value().exception) {
          why_not = "the board's loop ended before it started";
          break;
        }
        why_not = end.value().exception->describe();
        if (attempt == 3) return UploadFailure{why_not, end.value().exception};
        break;
      }
      auto ack = parse_upload_ack(line.value().text, plan.tag);
      if (ack && ack->count == 0 && ack->sum == 0) {
        rep.start = run.sent;  // from the call on: the board's start-up counts against the transfer
        running = std::move(run);
        break;
      }
    }
  }
  if (!running) return UploadFailure{"the board's transfer loop could not be started: " + why_not, std::nullopt};

  std::size_t pos = 0;     // what the board holds, by its last consistent acknowledgement
  std::uint32_t sum = 0;   // byte sum of data[0, pos)
  std::size_t reach = 0;   // the furthest byte ever sent: no acknowledgement can name more
  std::size_t block = top;
  int good_run = 0;        // frames through in a row at this size
  int misses = 0;          // failed frames at this position
  // The last progress or the last line from the board, whichever came later: a board that answers at all is
  // alive behind a bad line, one that says nothing for the step time-out is stuck.
  TimePoint last_sign = now();
  int silent_run = 0;  // failures in a row at this position with nothing heard in time
  // The longest a good acknowledgement took after the board had its whole frame: the board's own time (its
  // sink, its loop), so that the first frames' size (4 KiB, a third of a second at 115200) does not stretch
  // the wait for the small frames a noisy line brings. Unset until a frame is acknowledged.
  std::optional<Duration> slowest;
  auto where = [&] {
    return "block " + std::to_string(rep.blocks + 1) + " at byte " + std::to_string(pos) + ": ";
  };
  // Reads acknowledgements for a frame: true when the board moved on (or, for the stop frame, the loop
  // ended), false when it refused the frame or nothing consistent came in time.
  enum class Heard { moved, refused, garbled, silent, ended, reset };
  // `board_has_it`: when the board had the whole frame answered (sent plus its line time), for the board's own
  // time; unset after a filler, whose line time would count as the board's and stretch every later wait.
  // The loop prints nothing but acknowledgements, one a frame, so a line that is none (the line garbled or
  // shortened it) is this frame's answer lost: sent again at once, not after the wait for a silent board
  // (at 1 % of bytes lost, one acknowledgement in six). A "\r" ends a line too: one whose "\n" was lost is
  // read now, not when the next frame's answer completes it.
  auto listen = [&](Deadline d, std::optional<TimePoint> board_has_it) -> Heard {
    for (;;) {
      auto line = repl.read_program_line(d, true);
      if (!line) return Heard::silent;
      last_sign = now();
      if (line.value().ended) {
        if (repl.confirm_output_end(Deadline::after(end_confirm_wait(repl, plan)))) return Heard::ended;
        continue;  // a byte the line garbled into \x04: the loop still runs
      }
      const std::string& text = line.value().text;
      if (text.empty()) continue;  // the "\n" of a line already read at its "\r"
      if (upload_saw_reset(text)) return Heard::reset;
      auto ack = parse_upload_ack(text, plan.tag);
      // Less than this side thought the board held: a count the line garbled ("128" into "28"), caught by its
      // sum; or, with a consistent sum, the board's word, and it is what counts. A late answer to an earlier
      // frame says so, and so does a board this side got ahead of: a count the line garbled upwards over
      // bytes that sum to zero (a run of zeros in an image) passes the sum check, and the board then refused
      // every later frame. Going back costs a frame at most: a frame the board already holds is acknowledged
      // again, never written twice.
      if (ack && ack->count < pos) {
        const std::uint32_t held = byte_sum(data.substr(0, ack->count));
        if (held != ack->sum) return Heard::garbled;
        pos = ack->count;
        sum = held;
        return Heard::garbled;
      }
      if (!ack || ack->count > reach) return Heard::garbled;
      std::uint32_t s = byte_sum(data.substr(pos, ack->count - pos), sum);
      if (s != ack->sum) return Heard::garbled;
      if (ack->count > pos) {
        pos = ack->count;
        sum = s;
        if (board_has_it) slowest = std::max(slowest.value_or(Duration{}), now() - *board_has_it);
        return Heard::moved;
      }
      if (!ack->good) return Heard::refused;
      // A late acknowledgement of a frame the board already held: the one awaited may still come.
    }
  };
  // The zeros after the last frame the loop read are left to the raw REPL as the start of a line: the client
  // forgets its mode, so that the next exchange enters the raw REPL afresh (Ctrl-A resets its line) instead
  // of being prefixed with them.
  auto finish = [&] {
    auto end = repl.finish_raw(std::move(*running), Deadline::after(plan.step_timeout));
    repl.forget_state();
    return end;
  };
  auto end_of_loop = [&](const std::string& context) -> Result<UploadReport, UploadFailure> {
    auto end = finish();
    if (!end) return UploadFailure{where() + end.error().describe(), std::nullopt};
    if (end.value().exception)
      return UploadFailure{"block " + std::to_string(rep.blocks + 1) + ": " + end.value().exception->describe(),
                           end.value().exception};
    return UploadFailure{where() + context + abandon(repl, plan, false), std::nullopt};
  };

  bool stopping = false;
  for (;;) {
    stopping = pos >= data.size();
    auto piece = stopping ? std::string_view{} : data.substr(pos, block);
    // The zeros after a frame finish the board's read when the line lost some of the frame's bytes, so that it
    // refuses the frame at once instead of waiting for the next one: 8, and once the line has failed a frame,
    // one more for every 32 bytes of frame (a 4 KiB frame on a line that loses 1 % is some 40 bytes short;
    // on a clean line they would cost 3 %).
    std::string frame = upload_frame(pos, piece);
    std::string out = frame + std::string(8 + (failed ? frame.size() / 32 : 0), '0');
    reach = std::max(reach, pos + piece.size());
    const TimePoint board_has_it = now() + repl.line_time(out.size());
    repl.send_stdin(out, Deadline::after(plan.step_timeout));
    rep.wire_bytes += out.size();
    ++frames;
    // The line time both ways plus what the board took at most so far: a lost frame is found out in about
    // the time a good one takes, not at a fixed long timeout (the step time-out bounds it).
    Duration wait = 2 * repl.line_time(out.size() + 64) +
                    std::max<Duration>(plan.ack_slack, 4 * slowest.value_or(Duration{}));
    if (!slowest) wait = std::max<Duration>(wait, seconds(2));  // the board not yet heard
    Deadline d = Deadline::after(std::min<Duration>(wait, plan.step_timeout));
    Heard h = listen(d, board_has_it);
    if (h == Heard::moved) {
      ++rep.blocks;
      rep.bytes = pos;
      misses = 0;
      silent_run = 0;
      last_sign = now();
      if (++good_run >= 4 && block < top) {
        block = std::min(top, block * 2);  // sizes creep back up on a line that behaves
        good_run = 0;
      }
      if (plan.progress) plan.progress(rep.bytes, data.size());
      continue;
    }
    if (h == Heard::ended) {
      if (stopping) break;
      return end_of_loop("the board's loop ended early");
    }
    if (h == Heard::reset)
      return UploadFailure{where() + "the board reset under the transfer (its ROM banner came instead of an "
                                     "acknowledgement)" + abandon(repl, plan, false),
                           std::nullopt};
    ++failed;
    ++misses;
    good_run = 0;
    block = std::max(bottom, block / 2);
    silent_run = h == Heard::silent ? silent_run + 1 : 0;
    // A board that says nothing at all for the step time-out is stuck; one that answers, even garbled, is
    // behind a bad line: it gets every attempt (at 1 % of bytes lost, two frames in three fail, and a run of
    // ten failures at one position is no rarity over a 74 KiB image).
    if (misses >= plan.attempts || (now() - last_sign > plan.step_timeout && misses >= 3)) {
      std::string what = h == Heard::refused   ? "the board refused the data every time"
                         : h == Heard::garbled ? "the board's answers came garbled every time"
                                               : "no acknowledgement from the board";
      return UploadFailure{where() + what + " (" + upload_rate(failed, frames) + ")" + abandon(repl, plan, true),
                           std::nullopt};
    }
    // Nothing in time, a second time running: the board may be stuck in a read the line shortened (a length
    // garbled longer); finish it, and take what it says then. A first silence is most often an acknowledgement
    // the line lost, which the next frame, a resend, brings again: a filler of a longest frame's zeros (0.7 s
    // of line at 115200) would only delay it.
    if (h == Heard::silent && silent_run >= 2) {
      repl.send_stdin(upload_filler(plan), Deadline::after(plan.step_timeout));
      Heard after = listen(Deadline::after(std::min<Duration>(wait, plan.step_timeout)), std::nullopt);
      if (after == Heard::moved) {
        ++rep.blocks;
        rep.bytes = pos;
        misses = 0;
        silent_run = 0;
        last_sign = now();
        if (plan.progress) plan.progress(rep.bytes, data.size());
      } else if (after == Heard::ended) {
        if (stopping) break;
        return end_of_loop("the board's loop ended early");
      } else if (after == Heard::reset) {
        return UploadFailure{where() + "the board reset under the transfer (its ROM banner came instead of an "
                                       "acknowledgement)" + abandon(repl, plan, false),
                             std::nullopt};
      }
    }
  }
  rep.end = now();
  rep.frames = frames;
  rep.resent = failed;
  auto end = finish();
  if (!end) return UploadFailure{end.error().describe(), std::nullopt};
  if (end.value().exception) return UploadFailure{end.value().exception->describe(), end.value().exception};
  return rep;
}

}  // namespace bootrig
