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
// A block as it goes on the wire: its escaped length as five ASCII digits ("00000": stop), then the bytes.
std::string stdin_block(std::string_view piece);
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

// Sends bytes to code on the board through its sys.stdin, block by block, each acknowledged: the board runs
// `prologue`, then a loop that reads a block (stdin_block), passes it unescaped to `sink` and prints
// "<tag> count sum" (what it took so far), with Ctrl-C off and `epilogue` in its finally. A block goes only
// after the previous one was acknowledged with exactly the count and sum sent, so a board whose UART buffer
// is small never overflows and a lost or changed byte is named at its block.
struct StdinUpload {
  std::string
      prologue;  // imports and the sink, run inside the loop's function: "import pycom\nw = pycom.ota_write"
  std::string sink = "w";
  std::string epilogue;  // "f.close()"
  // Defines the loop's function `_bup` on the board through a checked exchange (returns "" or why it could
  // not), so that only the call "_bup()" goes unchecked; unset: the definition goes with the call.
  std::function<std::string(const std::string& code)> define;
  std::string tag = "ACK>";
  std::size_t block = 4096;
  Duration step_timeout = seconds(10);  // one block's line time and the sink's work, plus slack
  Duration recovery = seconds(15);      // how long the board may take to give a prompt after a failure
  std::function<void(std::size_t done, std::size_t total)> progress;
};
struct UploadReport {
  std::size_t bytes = 0;  // acknowledged by the board
  std::size_t blocks = 0;
  std::size_t wire_bytes = 0;  // escaped, with headers
  TimePoint start{}, end{};    // the call sent, the last acknowledgement
};
struct UploadFailure {
  // One line: "block 3 at byte 8192: no acknowledgement ...; the board is back at its prompt", or the board's
  // exception ("block 2: OSError: [Errno 28] ENOSPC").
  std::string what;
  std::optional<PyException> exception;
};
// Whether the board's sys.stdin has a binary buffer (binary transfers need it).
ReplResult<bool> has_binary_stdin(ReplClient& repl, Deadline deadline);
Result<UploadReport, UploadFailure> upload_through_stdin(ReplClient& repl, std::string_view data,
                                                         const StdinUpload& plan);

}  // namespace bootrig
