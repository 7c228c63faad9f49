// SLIP framing (RFC 1055 as the ESP ROM loader uses it): 0xC0 ends a frame, 0xDB escapes 0xC0 and 0xDB.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace bootrig {

inline constexpr char kSlipEnd = '\xC0';
inline constexpr char kSlipEsc = '\xDB';
inline constexpr char kSlipEscEnd = '\xDC';
inline constexpr char kSlipEscEsc = '\xDD';

// 0xC0, the escaped packet, 0xC0: what esptool writes.
std::string slip_encode(std::string_view packet);

// Incremental decoder: bytes arrive in arbitrary pieces, frames come out whole. Bytes between frames (boot
// messages, line noise) are counted and dropped; a frame with a bad escape is dropped and counted.
class SlipDecoder {
 public:
  // Frames completed by these bytes, in order. Empty frames (back-to-back 0xC0) are not frames.
  std::vector<std::string> feed(std::string_view bytes);
  void reset();
  bool in_frame() const { return in_frame_; }
  std::size_t noise_bytes() const { return noise_; }
  std::size_t bad_frames() const { return bad_frames_; }
  // Guard against a lost end byte swallowing everything: a frame longer than this is dropped as bad.
  void set_max_frame(std::size_t n) { max_frame_ = n; }

 private:
  std::string frame_;
  bool in_frame_ = false;
  bool escape_ = false;
  bool broken_ = false;
  std::size_t noise_ = 0;
  std::size_t bad_frames_ = 0;
  std::size_t max_frame_ = 64 * 1024;
};

}  // namespace bootrig
