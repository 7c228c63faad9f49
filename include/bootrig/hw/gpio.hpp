// Protocol interfaces for GPIO lines: what every scenario, the simulator and the drivers agree on.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bootrig/core/time.hpp"

namespace bootrig {

// Logical levels: "active" already accounts for active-low wiring, so callers say what they mean
// ("assert safe boot") and the wiring decides which voltage that is.
enum class Level : std::uint8_t { inactive = 0, active = 1 };
inline Level level_of(bool active) { return active ? Level::active : Level::inactive; }
inline bool is_active(Level l) { return l == Level::active; }
const char* to_string(Level l);

enum class Drive : std::uint8_t { push_pull, open_drain, open_source };
enum class Bias : std::uint8_t { as_is, disabled, pull_up, pull_down };
const char* to_string(Drive d);
const char* to_string(Bias b);

// Where a line is: by name across all chips (recommended: names survive chip renumbering, as on the
// Raspberry Pi 5), or by chip plus offset. A chip is a name (gpiochip0), number (0), label or path.
struct LineLocator {
  std::string name;
  std::string chip;
  std::optional<unsigned> offset;
  std::string describe() const;
};

// How a line is claimed. The initial level is applied in the same request so the line never glitches.
struct LineSettings {
  std::string consumer = "bootrig";
  bool active_low = false;
  Drive drive = Drive::push_pull;
  Bias bias = Bias::as_is;
  Level initial = Level::inactive;
  microseconds debounce{0};  // inputs only; ignored where the API has no debounce (libgpiod 1.6)
};

// A logical edge: rising means the line became active.
enum class Edge : std::uint8_t { rising, falling };
const char* to_string(Edge e);

struct LineEvent {
  Edge edge;
  TimePoint time;  // kernel timestamp, CLOCK_MONOTONIC
};

class DigitalOutput {
 public:
  virtual ~DigitalOutput() = default;
  virtual void set(Level level) = 0;
  virtual Level get() const = 0;
  // What the line is called in messages, e.g. "safeboot (GPIO17 on /dev/gpiochip0)".
  virtual std::string describe() const = 0;
};

// Drives `out` active for `width`, then inactive; inactive again however the wait ends (Ctrl-C included), so
// a RESET pulse never leaves the module held in reset.
void pulse(DigitalOutput& out, Duration width);
// The same pulse held for its whole width (at most 1 s) even while bootrig is being interrupted: for exit paths
// whose job is the pulse itself (resetting a module out of download mode), where a cut-short pulse would leave
// it in the ROM loader.
void pulse_on_exit_path(DigitalOutput& out, Duration width);

class DigitalInput {
 public:
  virtual ~DigitalInput() = default;
  virtual Level get() = 0;
  // The next edge, in order, or nullopt when the deadline passes first. Blocks in the kernel (or the
  // simulator's condition variable), never polls; wakes at once on interruption.
  virtual std::optional<LineEvent> wait_event(Deadline deadline) = 0;
  virtual std::string describe() const = 0;
};

// What a GPIO chip offers, as the drivers enumerate it; pure data so lookup logic is testable.
struct LineInfo {
  std::string name;      // empty when the line is unnamed
  std::string consumer;  // who holds it, empty when free
  bool used = false;
  bool output = false;
};
struct ChipInfo {
  std::string path;   // /dev/gpiochip0
  std::string name;   // gpiochip0
  std::string label;  // pinctrl-bcm2711
  std::vector<LineInfo> lines;
};

struct ResolvedLine {
  std::string chip_path;
  unsigned offset = 0;
  std::string line_name;
  std::string describe() const;
};

// Finds a line among the chips. Throws RigError naming the locator when it is missing, ambiguous
// (the same name on two chips) or out of range.
ResolvedLine resolve_line(const std::vector<ChipInfo>& chips, const LineLocator& where);
// Finds a chip by name, number, label or path; nullptr when none matches.
const ChipInfo* find_chip(const std::vector<ChipInfo>& chips, const std::string& chip);

// A source of GPIO lines: libgpiod (v1 or v2, chosen at configure time) or a test double.
class GpioBackend {
 public:
  virtual ~GpioBackend() = default;
  virtual std::vector<ChipInfo> chips() = 0;
  virtual std::unique_ptr<DigitalOutput> request_output(const ResolvedLine& line, const LineSettings& s) = 0;
  virtual std::unique_ptr<DigitalInput> request_input(const ResolvedLine& line, const LineSettings& s) = 0;
};

}  // namespace bootrig
