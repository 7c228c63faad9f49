// Binary data through a REPL while code runs: to the board through its sys.stdin, from it through
// sys.stdout.buffer, each direction escaped only where a byte would steer the REPL or the firmware.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "bootrig/core/result.hpp"
#include "bootrig/repl/repl_client.hpp"

namespace bootrig {

// Host to board. Pycom's UART interrupt resets the module into safe boot on Ctrl-F (0x06) whatever runs
// (machuart.c, mp_reset_char), so 0x10 becomes 0x10 0x20 and 0x06 becomes 0x10 0x16; every 0x10 on the wire
// starts a pair, so kStdinUnescape's two replace() calls undo it unambiguously. Ctrl-C is data while the
// board's code runs with micropython.kbd_intr(-1).
std::string escape_for_stdin(std::string_view piece);
// A frame as it goes on the wire: "\x10S" (a pair escaped data never holds, so a board that lost its place
// finds the next frame), the offset as ten ASCII digits, the escaped length as five ("00000": stop) and the
// same five again, the first 8 hex digits of SHA-256 over the first fifteen digits and the unescaped data,
// then the escaped data. The length goes twice because a byte lost before it shifts it: a board that took a
// shifted length larger than the frame would wait in its read for bytes that are not coming (silence, the
// slowest failure to find out); two shifted copies disagree, and the frame is refused at once.
std::string upload_frame(std::size_t offset, std::string_view piece);
// Appended to a Python bytes expression on the board, undoes escape_for_stdin().
inline constexpr std::string_view kStdinUnescape =
    ".replace(b'\\x10\\x16', b'\\x06').replace(b'\\x10\\x20', b'\\x10')";

// Board to host. The raw REPL ends a program's output at the first 0x04, so the board sends 0x10 as 0x10 0x20
// and 0x04 as 0x10 0x14 (kStdoutEscape, C-speed replace() calls on the board) and the host undoes it as the
// bytes come, a pair split across reads included.
inline constexpr std::string_view kStdoutEscape =
    ".replace(b'\\x10', b'\\x10\\x20').replace(b'\\x04', b'\\x10\\x14')";
class StdoutUnescaper {
 public:
  // Appends the decoded bytes of `wire` to `out`; false when a 0x10 is followed by anything but 0x20 or 0x14
  // (the line changed a byte).
  bool feed(std::string_view wire, std::string& out);
  bool pending() const { return escape_; }

 private:
  bool escape_ = false;
};

// The 32-bit byte sum both sides keep over a transfer (sum(b) on the board).
std::uint32_t byte_sum(std::string_view data, std::uint32_t acc = 0);

// Sends bytes to code on the board through its sys.stdin in checked frames (upload_frame): the board runs
// `prologue`, then a loop that finds a frame, checks it, passes its data unescaped to `sink` when it comes
// next and prints "<tag> count sum +|-" (what it holds, and whether the frame checked out), with Ctrl-C off
// and `epilogue` in its finally. One frame is in flight at a time, so a board whose UART buffer is small
// never overflows. A frame refused or not acknowledged in about the time a good one takes is sent again
// (after zeros that finish a read the line shortened), smaller while the line garbles; data the board
// already holds is never written twice. Only when one position defeats every attempt does the transfer
// fail, naming the line's record. A stop frame at the end of the data leaves the SHA-256 of all the data
// the sink took, in hex, in the board's global `_bupz` (kUploadDigestName) for a checked read.
inline constexpr std::string_view kUploadDigestName = "_bupz";
struct StdinUpload {
  std::string
      prologue;  // imports and the sink, run inside the loop's function: "import pycom\nw = pycom.ota_write"
  std::string sink = "w";
  std::string epilogue;  // "f.close()"
  // Defines the loop's function `_bup` on the board through a checked exchange (returns "" or why it could
  // not), so that only the call "_bup()" goes unchecked; unset: the definition goes with the call.
  std::function<std::string(const std::string& code)> define;
  std::string tag = "ACK>";
  std::size_t block = 4096;      // data per frame at first and at most
  std::size_t min_block = 64;    // frames halve down to this while the line garbles
  int attempts = 40;             // failed frames in a row at one position before the transfer is given up
  Duration ack_slack = milliseconds(300);  // the board's time per frame until it has shown its own
  // One block's line time and the sink's work, plus slack: a position that makes no progress for this long
  // (after at least three attempts) fails the transfer.
  Duration step_timeout = seconds(10);
  Duration recovery = seconds(15);      // how long the board may take to give a prompt after a failure
  std::function<void(std::size_t done, std::size_t total)> progress;
};
struct UploadReport {
  std::size_t bytes = 0;  // acknowledged by the board
  std::size_t blocks = 0;
  std::size_t wire_bytes = 0;  // escaped, with headers
  std::size_t frames = 0;      // sent, the stop frame included
  std::size_t resent = 0;      // of those, refused or not acknowledged (the line's doing)
  TimePoint start{}, end{};    // the call sent, the last acknowledgement
};
struct UploadFailure {
  // One line: "block 3 at byte 8192: no acknowledgement from the board (40 of 52 frames garbled or lost on the
  // line (77 %)); the board is back at its prompt", or the board's
  // exception ("block 2: OSError: [Errno 28] ENOSPC").
  std::string what;
  std::optional<PyException> exception;
};
// Whether the board's sys.stdin has a binary buffer (binary transfers need it).
ReplResult<bool> has_binary_stdin(ReplClient& repl, Deadline deadline);
Result<UploadReport, UploadFailure> upload_through_stdin(ReplClient& repl, std::string_view data,
                                                         const StdinUpload& plan);

}  // namespace bootrig
