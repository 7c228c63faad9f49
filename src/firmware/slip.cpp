// SLIP encoder and the split-chunk-safe decoder for the ROM loader link.
#include "bootrig/firmware/slip.hpp"

namespace bootrig {

std::string slip_encode(std::string_view packet) {
  std::string out;
  out.reserve(packet.size() + 8);
  out.push_back(kSlipEnd);
  for (char c : packet) {
    if (c == kSlipEnd) {
      out.push_back(kSlipEsc);
      out.push_back(kSlipEscEnd);
    } else if (c == kSlipEsc) {
      out.push_back(kSlipEsc);
      out.push_back(kSlipEscEsc);
    } else {
      out.push_back(c);
    }
  }
  out.push_back(kSlipEnd);
  return out;
}

void SlipDecoder::reset() {
  frame_.clear();
  in_frame_ = false;
  escape_ = false;
  broken_ = false;
}

std::vector<std::string> SlipDecoder::feed(std::string_view bytes) {
  std::vector<std::string> frames;
  for (char c : bytes) {
    if (!in_frame_) {
      if (c == kSlipEnd) {
        in_frame_ = true;
      } else {
        ++noise_;
      }
      continue;
    }
    if (c == kSlipEnd) {
      if (frame_.empty() && !broken_ && !escape_) continue;  // C0 C0: the second one is the real start
      if (broken_ || escape_) {
        ++bad_frames_;
      } else {
        frames.push_back(std::move(frame_));
      }
      // Like esptool's reader: every frame opens with its own C0, so bytes after an end and before the next
      // start are noise, not a frame.
      frame_.clear();
      escape_ = false;
      broken_ = false;
      in_frame_ = false;
      continue;
    }
    if (broken_) continue;
    if (escape_) {
      escape_ = false;
      if (c == kSlipEscEnd) {
        frame_.push_back(kSlipEnd);
      } else if (c == kSlipEscEsc) {
        frame_.push_back(kSlipEsc);
      } else {
        broken_ = true;
      }
    } else if (c == kSlipEsc) {
      escape_ = true;
    } else {
      frame_.push_back(c);
    }
    if (frame_.size() > max_frame_) broken_ = true;
  }
  return frames;
}

}  // namespace bootrig
