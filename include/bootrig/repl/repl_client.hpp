// The MicroPython REPL client: prompt, friendly and raw execution, raw-paste, soft reset, file writes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "bootrig/core/result.hpp"
#include "bootrig/core/time.hpp"
#include "bootrig/hw/serial.hpp"
#include "bootrig/repl/py_exception.hpp"

namespace bootrig {

// What went wrong on the board's side: an expected failure a scenario judges (never a rig fault: those
// are RigError exceptions thrown by the serial link).
enum class ReplFault : std::uint8_t {
  no_prompt,         // no >>> (or raw >) prompt came in time
  timeout,           // the board stopped answering in the middle of an exchange (code still running?)
  raw_repl_refused,  // Ctrl-A did not give "raw REPL; CTRL-B to exit"
  protocol,          // the board answered something the protocol does not allow
  no_soft_reboot,    // Ctrl-D did not give "soft reboot"
  not_sent,          // bootrig's own line never arrived intact (its echo differed every time): nothing ran
};
const char* to_string(ReplFault f);

struct ReplFailure {
  ReplFault fault = ReplFault::timeout;
  std::string what;       // one line: what was expected and did not come
  std::string last_seen;  // the tail of what arrived, escaped (escape_bytes)
  TimePoint at{};         // when the client gave up
  // "no >>> prompt after 4 Ctrl-C; last seen: \"...\"" (the fault's code is not part of it).
  std::string describe() const;
};

template <class T>
using ReplResult = Result<T, ReplFailure>;

enum class ReplMode : std::uint8_t { unknown, friendly, raw };
enum class RawPasteSupport : std::uint8_t { untested, supported, unsupported };
enum class TransferMode : std::uint8_t { friendly, paste, raw_paste, raw_chunked };
const char* to_string(ReplMode m);
const char* to_string(TransferMode m);

struct ExecResult {
  std::string output;                    // what the code printed, with "\r\n" turned into "\n"
  std::string error_text;                // the error channel (raw) or the traceback (friendly), as printed
  std::optional<PyException> exception;  // set when the code raised
  TransferMode mode = TransferMode::raw_chunked;
  std::size_t code_bytes = 0;  // bytes of code sent
  TimePoint sent{};            // first byte of the code handed to the link
  TimePoint accepted{};        // the board confirmed it had the whole code ("OK" / raw-paste \x04)
  TimePoint done{};            // the prompt after the output arrived
  bool ok() const { return !exception; }
};

// A line printed by code started with ReplClient::start_raw().
struct ProgramLine {
  std::string text;    // without its "\r\n"
  bool ended = false;  // the output ended (\x04) before a line end: `text` is its unfinished last line
};

struct PromptInfo {
  TimePoint at{};           // when the live prompt was confirmed
  int interrupts_sent = 0;  // Ctrl-C rounds it took
  std::string transcript;   // everything received meanwhile (boot output, tracebacks, noise)
};

struct SoftReboot {
  std::string prefix;      // "PYB" (Pycom) or "MPY" (upstream)
  TimePoint requested{};   // Ctrl-D written
  TimePoint seen{};        // "soft reboot" line arrived
  TimePoint prompt{};      // the REPL answered again
  std::string transcript;  // what the board printed in between (boot.py output, banner), "\r\n" kept
};

struct Sent {
  TimePoint at{};
};

struct FileWrite {
  std::size_t bytes = 0;  // payload bytes written before any failure
  std::size_t blocks = 0;
  TimePoint start{}, end{};
  std::optional<PyException> exception;  // the board refused (OSError: no space, bad path ...)
};

struct ReplOptions {
  // While looking for a prompt, Ctrl-C is repeated this often; from the third round on Ctrl-B is
  // added to leave a raw REPL left behind by someone else.
  milliseconds interrupt_interval{250};
  // Try raw-paste first; after one refusal (Pycom firmware) the client uses chunked raw mode.
  bool try_raw_paste = true;
  // Code shorter than this goes through plain raw mode even when raw-paste works: it fits one block, and
  // asking for raw-paste would cost a round trip more than it saves.
  std::size_t raw_paste_min_bytes = 256;
  // Chunked raw mode: blocks of `chunk_bytes`, started no faster than `chunk_line_fraction` of the
  // line rate. 256 bytes fit even the 256-byte RX ring of pre-1.20 Pycom firmware (machuart.c), and the
  // 20 % idle time between blocks lets a board that briefly stopped reading catch up. Unlike
  // pyboard.py's fixed 10 ms pause (69 % of 115200, 22 % of 921600) this gives 80 % at every baud.
  std::size_t chunk_bytes = 256;
  double chunk_line_fraction = 0.8;
  // Nonzero: after each block a fixed pause of this length instead of the pacing above, the way mpremote's
  // and pyboard.py's fallback sends raw REPL code (256 bytes, then 10 ms). Left at 0 by bootrig; it is the
  // alternative its benchmarks measure beside the default.
  milliseconds chunk_pause{0};
  // write_file() sends payload in blocks of this many bytes, one exec each.
  std::size_t file_block = 2048;
  std::size_t last_seen_bytes = 200;
  // exec_friendly types a line and waits for its exact echo before pressing Enter, this many times at most.
  int echo_attempts = 12;
};

// A bytes literal that survives any REPL: b'...' with printable ASCII as is and everything else as
// \xNN (\\ and \' escaped). Pure ASCII, no control bytes. For OTA blocks, say:
// exec_raw("pycom.ota_write(" + py_bytes_literal(block) + ")", deadline).
std::string py_bytes_literal(std::string_view data);
// A str literal for names and paths: '...' with quotes, backslashes and control bytes escaped; UTF-8 kept.
std::string py_str_literal(std::string_view text);

// Drives a MicroPython REPL over a SerialLink. Not thread-safe: one scenario thread talks to a board.
// Every call takes a Deadline and returns by it; expected failures come back as ReplFailure.
// Code passed to exec must not contain the control bytes \x01-\x05 (they steer the REPL); that is a
// programming error (std::invalid_argument).
class ReplClient {
 public:
  explicit ReplClient(SerialLink& link, ReplOptions options = {});

  // Interrupts whatever runs (Ctrl-C, and Ctrl-B after two rounds) until a live friendly prompt
  // answers a numbered comment line ("#bootrig 3") with its echo and a fresh ">>> ". Tolerates boot
  // output, tracebacks, echo and noise.
  ReplResult<PromptInfo> get_prompt(Deadline deadline);
  // Sends nothing: reads boot output until a ">>> " prompt ends it (boot.py must not be interrupted).
  ReplResult<PromptInfo> await_prompt(Deadline deadline);

  // Runs code at the friendly prompt as a person would: one line (compound one-liners are finished
  // with an empty line), or several through paste mode (Ctrl-E), which disables auto-indent.
  ReplResult<ExecResult> exec_friendly(std::string_view code, Deadline deadline);

  ReplResult<Sent> enter_raw(Deadline deadline);
  // Runs code in the raw REPL (entered if needed): raw-paste with the board's flow control when it
  // supports it, chunked raw mode otherwise. Output and error channel are returned apart.
  ReplResult<ExecResult> exec_raw(std::string_view code, Deadline deadline);
  // Code that talks with the host while it runs (binary transfers through sys.stdin): start_raw sends
  // it like exec_raw and returns once the board accepted it (r.accepted set, output not read yet); then
  // read_program_line() takes what it prints line by line, send_stdin() feeds its sys.stdin (any bytes,
  // unescaped: the caller must know the code reads them all) and finish_raw() reads the rest of its
  // output, the error channel and the raw prompt, as exec_raw would have.
  ReplResult<ExecResult> start_raw(std::string_view code, Deadline deadline);
  // `cr_ends_line`: a "\r" ends a line as well, for output whose lines all end "\r\n" and that must not wait
  // for the next line when the line lost a "\n".
  ReplResult<ProgramLine> read_program_line(Deadline deadline, bool cr_ends_line = false);
  // What the running code printed as it arrives, whole lines or not ("\r\n" kept): the bytes received
  // before the end of its output, waiting until the deadline for the first. Nothing by then is not a
  // failure (text empty, the code still runs); `ended` once the output is complete (finish_raw() next).
  ProgramLine read_program_output(Deadline deadline);
  // After read_program_line() said `ended`: true when the error channel's own \x04 follows by the deadline
  // (the output really ended; finish_raw() next), false when it does not, and then the \x04 is dropped as a
  // byte the line garbled (the code still runs). A noisy line makes a \x04 of any byte now and then, and a
  // long transfer reads enough acknowledgements to meet one. A lone \x04 and the raw prompt with nothing after
  // them is the end with one \x04 lost (true).
  bool confirm_output_end(Deadline deadline);
  void send_stdin(std::string_view bytes, Deadline deadline);
  ReplResult<ExecResult> finish_raw(ExecResult started, Deadline deadline);
  // Ctrl-B: back to the friendly REPL.
  ReplResult<PromptInfo> leave_raw(Deadline deadline);

  // Ctrl-D on an empty line (friendly or raw): waits for "PYB: soft reboot" / "MPY: soft reboot" and for
  // the REPL to answer again (friendly ">>> " or raw ">", the mode the board was in).
  ReplResult<SoftReboot> soft_reset(Deadline deadline);
  // Ctrl-F (Pycom): the board sets its safe-boot flag and resets. Sent at the friendly prompt when one
  // can be had (from raw mode Ctrl-B first), else anyway. Returns when the byte was sent; the reset
  // itself is seen in the boot log and on the LED.
  ReplResult<Sent> request_safe_boot(Deadline deadline);

  // Writes a file on the board from raw bytes (binary-safe: bytes literals).
  ReplResult<FileWrite> write_file(std::string_view path, std::string_view data, Deadline deadline);

  // After a hard reset or anything else that changed the board behind the client's back.
  void forget_state();

  ReplMode mode() const { return mode_; }
  unsigned baud() const { return link_.baud(); }
  // How long `bytes` take on the wire (8N1: ten bits a byte; an unknown or absurd rate counts as 1200 baud,
  // so that a wait derived from it is never zero).
  Duration line_time(std::size_t bytes) const {
    return std::chrono::duration_cast<Duration>(
        std::chrono::duration<double>(static_cast<double>(bytes) * 10.0 / std::max(baud(), 1200u)));
  }
  RawPasteSupport raw_paste() const { return raw_paste_; }
  const ReplOptions& options() const { return options_; }
  // Everything received and not consumed by the last exchange, plus what was seen last.
  std::string last_seen() const;

 private:
  ReplFailure failure(ReplFault f, std::string what) const;
  // One read into rx_; false when the deadline passed with nothing.
  bool fill(Deadline deadline);
  // Waits until `pattern` is in rx_ at or after `from`; returns the index just past it.
  std::optional<std::size_t> wait_for(std::string_view pattern, Deadline deadline, std::size_t from = 0);
  // Waits until rx_ ends with `tail` (and nothing arrived after it).
  bool wait_for_tail(std::string_view tail, Deadline deadline);
  std::string take(std::size_t n);
  void send(std::string_view bytes, Deadline deadline);
  // False when the deadline passed before everything was sent.
  bool paced_send(std::string_view bytes, Deadline deadline);
  ReplResult<Sent> ensure_friendly(Deadline deadline);
  ReplResult<ExecResult> exec_paste(std::string_view code, Deadline deadline);
  ReplResult<ExecResult> finish_friendly(ExecResult r, std::size_t body_from, Deadline deadline);
  ReplResult<ExecResult> raw_paste_send(ExecResult r, std::string_view code, std::size_t window,
                                        Deadline deadline);
  ReplResult<ExecResult> read_raw_results(ExecResult r, Deadline deadline);

  SerialLink& link_;
  ReplOptions options_;
  ReplMode mode_ = ReplMode::unknown;
  RawPasteSupport raw_paste_ = RawPasteSupport::untested;
  std::string rx_;    // received, not yet consumed
  std::string seen_;  // the last bytes received, for failure messages
  unsigned probes_ = 0;
};

}  // namespace bootrig
