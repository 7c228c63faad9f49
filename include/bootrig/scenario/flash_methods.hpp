// How a session puts an image on the board: OTA over its REPL, or by cable through download mode.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "bootrig/flash/ensure.hpp"

namespace bootrig {

class Session;

// A transfer's progress said at each tenth, not at each frame (a noisy line makes the frames small: a line
// each put a thousand lines of one update in the log): "37 of 74 KiB (50 %)" when `done` reaches a tenth
// other than `last_tenth`, which it updates; nothing otherwise.
std::optional<std::string> tenth_progress(int& last_tenth, std::size_t done, std::size_t total);

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
