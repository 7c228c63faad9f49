// Printable, reversible spelling of raw bytes for logs, JSON events and failure messages.
#pragma once

#include <string>
#include <string_view>

namespace bootrig {

// C-style: printable ASCII as is, backslash and double quote escaped, \r \n \t by name, everything else
// \xNN. The result is pure ASCII (so valid UTF-8 inside JSON) and never contains a newline, so one
// chunk stays on one log line.
std::string escape_bytes(std::string_view bytes);

// Text that came from a rig file or the board, made safe to print on a terminal: printable ASCII and valid
// UTF-8 stay as they are (a board name, a path in any language), while what could move the cursor, recolour
// or retitle the terminal, or reorder what is shown is made visible instead: C0 controls and DEL as \xNN
// (\r as \r, and \n too unless keep_newlines), C1 controls and Unicode's bidirectional and invisible format
// characters (U+202E RIGHT-TO-LEFT OVERRIDE, ...) as \u{202e}, bytes that are not UTF-8 as \xNN.
std::string terminal_safe(std::string_view text, bool keep_newlines = true);

// The inverse of escape_bytes. Unknown or truncated escapes are kept literally rather than rejected:
// a log damaged by a crash should still be readable.
std::string unescape_bytes(std::string_view text);

// The last `max_bytes` bytes, escaped, prefixed with "..." when something was cut: what a failure
// message shows as "last seen".
std::string escaped_tail(std::string_view bytes, std::size_t max_bytes);

}  // namespace bootrig
