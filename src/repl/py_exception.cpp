// Parsing MicroPython tracebacks into type, message and frames.
#include "bootrig/repl/py_exception.hpp"

#include <cctype>
#include <charconv>

namespace bootrig {

namespace {

constexpr std::string_view kHeader = "Traceback (most recent call last):";

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Raw REPL error text follows a \x04 on the same line; a line may also carry stray control bytes.
std::string_view strip_leading_controls(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) < 0x20 && s.front() != '\t') s.remove_prefix(1);
  return s;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      if (start < text.size()) lines.push_back(trim_right(text.substr(start)));
      break;
    }
    lines.push_back(trim_right(text.substr(start, nl - start)));
    start = nl + 1;
  }
  return lines;
}

bool is_identifier_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_identifier_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
}

}  // namespace

std::string PyException::describe() const {
  std::string s = type.empty() ? std::string("exception") : type;
  if (!message.empty()) s += ": " + message;
  if (!traceback.empty()) {
    const auto& f = traceback.back();
    s += " (at " + f.file + ":" + std::to_string(f.line) + ")";
  }
  return s;
}

bool is_traceback_header(std::string_view line) {
  return trim_right(strip_leading_controls(line)) == kHeader;
}

std::optional<TracebackFrame> parse_frame_line(std::string_view line) {
  line = trim_right(line);
  std::size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  if (i == 0) return std::nullopt;
  line.remove_prefix(i);
  constexpr std::string_view kFile = "File \"";
  if (line.substr(0, kFile.size()) != kFile) return std::nullopt;
  line.remove_prefix(kFile.size());
  auto q = line.find('"');
  if (q == std::string_view::npos) return std::nullopt;
  TracebackFrame f;
  f.file = std::string(line.substr(0, q));
  line.remove_prefix(q + 1);
  constexpr std::string_view kLine = ", line ";
  if (line.substr(0, kLine.size()) != kLine) return std::nullopt;
  line.remove_prefix(kLine.size());
  auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), f.line);
  if (ec != std::errc()) return std::nullopt;
  line.remove_prefix(static_cast<std::size_t>(ptr - line.data()));
  constexpr std::string_view kIn = ", in ";
  if (line.substr(0, kIn.size()) == kIn) {
    f.function = std::string(line.substr(kIn.size()));
  } else if (!line.empty()) {
    return std::nullopt;
  }
  return f;
}

std::optional<std::pair<std::string, std::string>> parse_exception_line(std::string_view line) {
  line = trim_right(strip_leading_controls(line));
  if (line.empty() || !is_identifier_start(line.front())) return std::nullopt;
  std::size_t i = 1;
  while (i < line.size() && is_identifier_char(line[i])) ++i;
  std::string type(line.substr(0, i));
  if (type.back() == '.') return std::nullopt;
  if (i == line.size()) return std::pair{type, std::string()};
  if (line[i] != ':') return std::nullopt;
  auto rest = line.substr(i + 1);
  if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return std::pair{type, std::string(rest)};
}

std::optional<PyException> parse_exception(std::string_view text) {
  auto lines = split_lines(text);
  std::size_t i = 0;
  bool header = false;
  for (std::size_t k = 0; k < lines.size(); ++k) {
    if (is_traceback_header(lines[k])) {
      i = k + 1;
      header = true;
      break;
    }
  }
  PyException ex;
  if (header) {
    while (i < lines.size()) {
      if (auto f = parse_frame_line(lines[i])) {
        ex.traceback.push_back(std::move(*f));
        ++i;
      } else if (!lines[i].empty() && lines[i].front() == ' ') {
        ++i;  // a source line some ports print under the frame
      } else {
        break;
      }
    }
  } else {
    // No header: the exception line is the first line that looks like one.
    while (i < lines.size() && !parse_exception_line(lines[i])) ++i;
  }
  while (i < lines.size() && lines[i].empty()) ++i;
  if (i >= lines.size()) {
    if (!header) return std::nullopt;
  } else if (auto el = parse_exception_line(lines[i])) {
    ex.type = std::move(el->first);
    ex.message = std::move(el->second);
    // A message may continue on further lines (rare, but e.g. multi-line OSError texts).
    for (std::size_t k = i + 1; k < lines.size(); ++k) {
      if (lines[k].empty()) continue;
      ex.message += "\n" + std::string(lines[k]);
    }
  } else if (!header) {
    return std::nullopt;
  } else {
    ex.message = std::string(lines[i]);
  }
  std::string normalised;
  normalised.reserve(text.size());
  for (std::size_t k = 0; k < text.size(); ++k) {
    if (text[k] == '\r' && k + 1 < text.size() && text[k + 1] == '\n') continue;
    normalised += text[k];
  }
  ex.text = std::move(normalised);
  return ex;
}

}  // namespace bootrig
