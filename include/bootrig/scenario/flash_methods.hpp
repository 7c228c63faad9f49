// How a session puts an image on the board: OTA over its REPL, or by cable through download mode.
#pragma once

#include "bootrig/flash/ensure.hpp"

namespace bootrig {

class Session;

// Each method flashes through the session's own wires (so the timeline shows every pin change and byte),
// shows progress, and throws RigError saying what failed and what state the board is left in.
class FlashMethods {
 public:
  explicit FlashMethods(Session& s) : s_(s) {}
  // The rig wires the module's P2 (bootloader) line, which cable flashing needs for download mode.
  bool cable_available() const;
  void ota(const RigImage& image);
  void cable(const RigImage& image);

 private:
  // Progress for `done` of `total` bytes, on the status line, at most every 10 %.
  void progress(const RigImage& image, const char* how, std::size_t done, std::size_t total);

  Session& s_;
  int last_tenth_ = -1;
};

}  // namespace bootrig
