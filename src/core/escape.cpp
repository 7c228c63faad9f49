// Escaping raw bytes for logs and messages, and reading them back.
#include "bootrig/core/escape.hpp"

namespace bootrig {

std::string escape_bytes(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 4);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        }
    }
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string unescape_bytes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\\' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    char e = text[i + 1];
    switch (e) {
      case '\\':
        out += '\\';
        ++i;
        break;
      case '"':
        out += '"';
        ++i;
        break;
      case 'r':
        out += '\r';
        ++i;
        break;
      case 'n':
        out += '\n';
        ++i;
        break;
      case 't':
        out += '\t';
        ++i;
        break;
      case 'x': {
        int hi = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
        int lo = i + 3 < text.size() ? hex_value(text[i + 3]) : -1;
        if (hi < 0 || lo < 0) {
          out += c;
          break;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 3;
        break;
      }
      default:
        out += c;
        break;
    }
  }
  return out;
}

std::string escaped_tail(std::string_view bytes, std::size_t max_bytes) {
  if (bytes.size() <= max_bytes) return escape_bytes(bytes);
  return "..." + escape_bytes(bytes.substr(bytes.size() - max_bytes));
}

}  // namespace bootrig
