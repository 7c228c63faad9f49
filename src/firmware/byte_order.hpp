// Little-endian load/store helpers shared by the image, bundle and ROM-protocol code (private to
// src/firmware).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bootrig::le {

inline std::uint16_t load16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
inline std::uint32_t load32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}
inline void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
inline void store32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
inline void append16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
}
inline void append32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace bootrig::le

namespace bootrig {

// "0x1ae000": the way addresses and sizes appear in messages.
inline std::string hex32(std::uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  bool started = false;
  for (int shift = 28; shift >= 0; shift -= 4) {
    unsigned d = (v >> shift) & 0xF;
    if (d != 0 || started || shift == 0) {
      s.push_back(kDigits[d]);
      started = true;
    }
  }
  return s;
}
inline std::string hex8(std::uint8_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string("0x") + kDigits[v >> 4] + kDigits[v & 0xF];
}

}  // namespace bootrig
