// A Python exception as structured data, parsed from the traceback text MicroPython prints.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bootrig {

// One `File "boot.py", line 3, in <module>` line.
struct TracebackFrame {
  std::string file;  // "boot.py", "<stdin>"
  int line = 0;
  std::string function;  // "<module>"; empty when the frame line names none (SyntaxError)
  bool operator==(const TracebackFrame&) const = default;
};

struct PyException {
  std::string type;     // "OSError", "ImportError"; empty only when the text could not be parsed
  std::string message;  // "[Errno 2] ENOENT"; empty for a bare "KeyboardInterrupt"
  std::vector<TracebackFrame> traceback;  // outermost call first, as printed
  std::string text;                       // the text as the board printed it, "\r\n" turned into "\n"

  // "OSError: [Errno 2] ENOENT (at boot.py:3)".
  std::string describe() const;
};

// Parses "Traceback (most recent call last):\n  File ...\nType: message" (a missing header is
// tolerated: "Type: message" alone also parses). Line ends may be "\r\n" or "\n". nullopt when the
// text holds no exception line at all; text that has one but is otherwise odd still yields the parts
// that could be read.
std::optional<PyException> parse_exception(std::string_view text);

// Whether `line` (no line end) is MicroPython's traceback header.
bool is_traceback_header(std::string_view line);
// Parses `  File "x.py", line 3, in f`; nullopt for anything else.
std::optional<TracebackFrame> parse_frame_line(std::string_view line);
// Splits "Type: message" / "Type"; nullopt when `line` does not look like an exception line.
std::optional<std::pair<std::string, std::string>> parse_exception_line(std::string_view line);

}  // namespace bootrig
