// MicroPython's REPL protocols as the firmware runs them: friendly REPL with readline, paste mode, raw REPL
// and (upstream profile only) raw-paste with window flow control.
#pragma once

#include <string>
#include <string_view>

#include "sim/python/interp.hpp"

namespace bootrig::sim {

enum class ExecOutcome : std::uint8_t { ok, error, forced_exit };

// What the REPL needs from the chip. read_char blocks; a chip reset unwinds out of it.
class ReplIo {
 public:
  virtual ~ReplIo() = default;
  virtual int read_char() = 0;
  virtual void write(std::string_view bytes) = 0;  // terminal output, line ends already \r\n
  // pyexec's parse_compile_execute: runs code, prints its output and any traceback (print_eof: the raw
  // REPL's \x04 markers). forced_exit asks for a soft reset.
  virtual ExecOutcome execute(const std::string& code, bool single, bool print_eof) = 0;
  // Ctrl-F on a blank line (Pycom): set the software safe-boot flag and reset. Does not return.
  [[noreturn]] virtual void safe_boot_reset() = 0;
  // While the raw REPL is collecting code, bytes are data, never commands.
  virtual void set_collecting_code(bool) {}
};

class Repl {
 public:
  // `banner` gives the friendly REPL's first line (without line end).
  Repl(ReplIo& io, py::Dialect dialect, std::string banner);

  // Runs the REPL until a soft reset is asked for. Friendly/raw mode persists across calls, as
  // pyexec_mode_kind does across soft resets (main.py only runs in friendly mode).
  void run();
  bool raw_mode() const { return raw_; }

 private:
  static constexpr int kCtrlA = 1, kCtrlB = 2, kCtrlC = 3, kCtrlD = 4, kCtrlE = 5, kCtrlF = 6;
  bool friendly();  // true: soft reset requested; false: switch to raw REPL
  bool raw();       // true: soft reset requested; false: switch to friendly REPL
  // Reads one line after `prompt` into `line` (appending, for continuation lines). Returns 0 on Enter or a
  // control character (Ctrl-A..E, Ctrl-F on Pycom) pressed on an empty line, Ctrl-C on a non-empty one.
  int readline(std::string& line, const char* prompt);
  void auto_indent(std::string& line);
  ExecOutcome raw_paste();

  ReplIo& io_;
  py::Dialect dialect_;
  std::string banner_;
  bool raw_ = false;
};

}  // namespace bootrig::sim
