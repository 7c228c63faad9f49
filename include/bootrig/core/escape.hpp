// Printable, reversible spelling of raw bytes for logs, JSON events and failure messages.
#pragma once

#include <string>
#include <string_view>

namespace bootrig {

// C-style: printable ASCII as is, backslash and double quote escaped, \r \n \t by name, everything else
// \xNN. The result is pure ASCII (so valid UTF-8 inside JSON) and never contains a newline, so one
// chunk stays on one log line.
std::string escape_bytes(std::string_view bytes);

// The inverse of escape_bytes. Unknown or truncated escapes are kept literally rather than rejected:
// a log damaged by a crash should still be readable.
std::string unescape_bytes(std::string_view text);

// The last `max_bytes` bytes, escaped, prefixed with "..." when something was cut: what a failure
// message shows as "last seen".
std::string escaped_tail(std::string_view bytes, std::size_t max_bytes);

}  // namespace bootrig
