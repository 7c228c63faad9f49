// What the libgpiod v1 and v2 drivers share: chip discovery, the interruptible event wait, error messages.
// Private to src/drivers; it includes no libgpiod header, so it builds and is tested with either API.
#pragma once

#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bootrig/core/time.hpp"
#include "bootrig/hw/gpio.hpp"

namespace bootrig::gpiod_detail {

// True only in the kernel tier's self-test binary (tests/CMakeLists.txt, gpiod_broken_driver_tests), whose
// driver is compiled with BOOTRIG_TEST_BROKEN_ACTIVE_LOW: a driver that gets the wiring polarity wrong, which
// the tier must catch. No bootrig binary is built with it. (constexpr: each translation unit has its own.)
#ifdef BOOTRIG_TEST_BROKEN_ACTIVE_LOW
constexpr bool kBrokenActiveLow = true;
#else
constexpr bool kBrokenActiveLow = false;
#endif
// The active-low flag the kernel is asked for (static: it must stay per translation unit too).
static constexpr bool requested_active_low(const LineSettings& s) { return s.active_low != kBrokenActiveLow; }

// The GPIO character devices in dev_dir (gpiochipN), sorted by N as a number so gpiochip10 follows
// gpiochip9. A missing or unreadable dev_dir yields an empty list: a machine without GPIO is normal.
std::vector<std::string> gpiochip_paths(const std::filesystem::path& dev_dir = "/dev");

// Blocks in ppoll() until fd is readable (true) or the deadline passes (false). Throws Interrupted as
// soon as bootrig's interrupt fd fires, and RigError naming `what` when the fd reports an error or
// hang-up (the chip was removed).
bool wait_readable(int fd, const Deadline& deadline, const std::string& what);

// Edge events in kernel order. The kernel hands over several at once; callers want one per call.
class EdgeQueue {
 public:
  // Reads whatever the now-readable fd holds and appends it; called only after ppoll said readable.
  using Reader = std::function<void(std::deque<LineEvent>&)>;
  // The oldest pending event, else the next one the kernel reports before the deadline. Events already
  // received are returned even after the deadline, because they did happen in time.
  std::optional<LineEvent> next(int fd, const Deadline& deadline, const std::string& what,
                                const Reader& read_more);
  std::size_t pending() const { return pending_.size(); }

 private:
  std::deque<LineEvent> pending_;
};

// A kernel edge timestamp on bootrig's clock. The v1 uAPI stamped events with CLOCK_REALTIME before
// Linux 5.7; such a stamp lies decades after the monotonic "now" and is moved onto the monotonic
// timeline so it still lines up with serial bytes and pin changes.
TimePoint monotonic_event_time(std::int64_t kernel_ns);

// "libgpiod 1.6.3 (v1 API)", plus the runtime library's version when it differs from the headers'.
std::string describe_api(const std::string& runtime_version);

// The errno behind a libgpiod exception: std::system_error carries it; libgpiod 2 turns EINVAL into
// std::invalid_argument. 0 when unknown.
int error_code_of(const std::exception& e);

// One-line RigErrors with the fix in them.
[[noreturn]] void throw_chip_error(const std::string& chip_path, int err, const std::string& detail);
[[noreturn]] void throw_offset_out_of_range(const std::string& chip_path, std::size_t num_lines,
                                            unsigned offset);
[[noreturn]] void throw_request_error(const std::string& line, bool output, const LineSettings& s, int err,
                                      const std::string& holder, const std::string& detail);

// "active-low, open-drain, bias pull-up, initial active" / "active-high, bias as-is, debounce 500 us".
std::string settings_summary(const LineSettings& s, bool output);

}  // namespace bootrig::gpiod_detail
