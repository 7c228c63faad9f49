// The recovery ladder: bringing a silent or stuck board back to its REPL with the least force, each rung
// logged, and a verdict on whose fault it was when nothing works.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "bootrig/scenario/session.hpp"

namespace bootrig {

// Why a board that could not be brought back is not answering, as far as the wires tell.
enum class LostCause : std::uint8_t {
  none,
  rig,            // nothing at all arrived after RESET pulses: port, RESET wiring, power, cable
  board_boot,     // the ROM starts but the firmware never reaches the REPL, not even in safe boot
};

struct RecoveryReport {
  bool recovered = false;
  std::vector<std::string> tried;  // one line per rung: "RESET pulse: no prompt within 15.0 s (ROM lines seen)"
  std::string state;               // the board's state when the ladder ended, in words
  bool via_safe_boot = false;      // only a safe boot reached the REPL: the board's own scripts hang
  bool rom_seen = false;           // a RESET produced the ROM's lines: the chip and the wiring are alive
  bool any_bytes = false;          // anything at all arrived on the port during the ladder
  LostCause cause = LostCause::none;
  std::string describe() const;    // "tried: ...; state: ..."
};

// Climbs the ladder until the board answers at a friendly prompt: wait for a re-enumerated port, Ctrl-C and
// Ctrl-B (get_prompt), a RESET pulse with P12 and P2 released, a safe boot released in window 1 (scripts
// skipped), and a cable flash of the rig's `current` image when P2 is wired and the rig names one. Notes
// every rung in the session. `why` says what made recovery necessary.
RecoveryReport recover_board(Session& s, const std::string& why);

// The board could not be brought back: thrown out of a scenario, caught by the runner, which records one
// verdict (ERROR for a rig cause, FAIL when the board's own firmware never reaches the REPL) and stops the run.
class BoardLost : public std::runtime_error {
 public:
  explicit BoardLost(RecoveryReport r);
  const RecoveryReport& report() const { return report_; }

 private:
  RecoveryReport report_;
};

}  // namespace bootrig
