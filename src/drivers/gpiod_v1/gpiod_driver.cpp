// The libgpiod 1.x (v1 API) driver: GPIO lines through the kernel's character device, Debian 12's libgpiod.
#include <spdlog/spdlog.h>

#include <gpiod.hpp>
#include <mutex>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/gpiod.hpp"
#include "drivers/gpiod_common.hpp"

namespace bootrig {

namespace {

namespace gd = gpiod_detail;

gpiod::chip open_chip(const std::string& path) {
  try {
    return gpiod::chip(path, gpiod::chip::OPEN_BY_PATH);
  } catch (const std::exception& e) {
    gd::throw_chip_error(path, gd::error_code_of(e), e.what());
  }
}

ChipInfo read_chip(const std::string& path) {
  gpiod::chip chip = open_chip(path);
  ChipInfo info{path, chip.name(), chip.label(), {}};
  const unsigned n = chip.num_lines();
  info.lines.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    gpiod::line l = chip.get_line(i);
    info.lines.push_back(
        LineInfo{l.name(), l.consumer(), l.is_used(), l.direction() == gpiod::line::DIRECTION_OUTPUT});
  }
  return info;
}

// The line at the resolved offset, and what to call it in messages (its kernel name when the rig file
// located it by chip and offset only).
struct OpenLine {
  gpiod::line line;
  std::string what;
};

OpenLine open_line(const ResolvedLine& where) {
  gpiod::chip chip = open_chip(where.chip_path);
  if (where.offset >= chip.num_lines())
    gd::throw_offset_out_of_range(where.chip_path, chip.num_lines(), where.offset);
  gpiod::line line = chip.get_line(where.offset);  // keeps the chip open for as long as the line lives
  ResolvedLine named = where;
  if (named.line_name.empty()) named.line_name = line.name();
  return OpenLine{line, named.describe()};
}

std::bitset<32> common_flags(const LineSettings& s) {
  std::bitset<32> f;
  if (gd::requested_active_low(s)) f |= gpiod::line_request::FLAG_ACTIVE_LOW;
  switch (s.bias) {
    case Bias::as_is:
      break;
    case Bias::disabled:
      f |= gpiod::line_request::FLAG_BIAS_DISABLE;
      break;
    case Bias::pull_up:
      f |= gpiod::line_request::FLAG_BIAS_PULL_UP;
      break;
    case Bias::pull_down:
      f |= gpiod::line_request::FLAG_BIAS_PULL_DOWN;
      break;
  }
  return f;
}

void request(OpenLine& ol, const gpiod::line_request& config, int initial, const LineSettings& s,
             bool output) {
  try {
    ol.line.request(config, initial);
  } catch (const std::exception& e) {
    const int err = gd::error_code_of(e);
    std::string holder;
    if (err == EBUSY) {
      try {
        ol.line.update();
        holder = ol.line.consumer();
      } catch (const std::exception&) {
        // The holder is a nicety for the message; the busy error itself is what matters.
      }
    }
    gd::throw_request_error(ol.what, output, s, err, holder, e.what());
  }
}

// Releasing in the destructor returns the line to the kernel; the safe-state guard that owns this
// object has already driven it inactive.
class ReleasesOnDestruction {
 public:
  explicit ReleasesOnDestruction(gpiod::line line) : line_(std::move(line)) {}
  ~ReleasesOnDestruction() {
    try {
      if (line_.is_requested()) line_.release();
    } catch (const std::exception& e) {
      spdlog::warn("releasing GPIO line failed: {}", e.what());
    }
  }
  ReleasesOnDestruction(const ReleasesOnDestruction&) = delete;
  ReleasesOnDestruction& operator=(const ReleasesOnDestruction&) = delete;

 protected:
  gpiod::line line_;
};

class GpiodOutput final : public DigitalOutput, private ReleasesOnDestruction {
 public:
  GpiodOutput(gpiod::line line, std::string what)
      : ReleasesOnDestruction(std::move(line)), what_(std::move(what)) {}

  void set(Level level) override {
    try {
      line_.set_value(is_active(level) ? 1 : 0);
    } catch (const std::exception& e) {
      throw RigError("cannot set " + what_ + " " + to_string(level) + ": " + e.what());
    }
  }
  Level get() const override {
    try {
      return level_of(line_.get_value() != 0);
    } catch (const std::exception& e) {
      throw RigError("cannot read " + what_ + ": " + e.what());
    }
  }
  std::string describe() const override { return what_; }

 private:
  std::string what_;
};

class GpiodInput final : public DigitalInput, private ReleasesOnDestruction {
 public:
  GpiodInput(gpiod::line line, std::string what)
      : ReleasesOnDestruction(std::move(line)), what_(std::move(what)) {}

  Level get() override {
    try {
      return level_of(line_.get_value() != 0);
    } catch (const std::exception& e) {
      throw RigError("cannot read " + what_ + ": " + e.what());
    }
  }

  std::optional<LineEvent> wait_event(Deadline deadline) override {
    return queue_.next(line_.event_get_fd(), deadline, what_, [this](std::deque<LineEvent>& out) {
      std::vector<gpiod::line_event> events;
      try {
        events = line_.event_read_multiple();
      } catch (const std::exception& e) {
        throw RigError("cannot read edges of " + what_ + ": " + e.what());
      }
      // With both edges requested the kernel reports the logical level after the edge (active-low
      // already applied), so "rising" means "became active" here too.
      for (const auto& ev : events)
        out.push_back(
            LineEvent{ev.event_type == gpiod::line_event::RISING_EDGE ? Edge::rising : Edge::falling,
                      gd::monotonic_event_time(ev.timestamp.count())});
    });
  }
  std::string describe() const override { return what_; }

 private:
  std::string what_;
  gd::EdgeQueue queue_;
};

class GpiodBackend final : public GpioBackend {
 public:
  std::vector<ChipInfo> chips() override {
    std::vector<ChipInfo> result;
    for (const auto& path : gd::gpiochip_paths()) result.push_back(read_chip(path));
    return result;
  }

  std::unique_ptr<DigitalOutput> request_output(const ResolvedLine& where, const LineSettings& s) override {
    OpenLine ol = open_line(where);
    std::bitset<32> flags = common_flags(s);
    if (s.drive == Drive::open_drain) flags |= gpiod::line_request::FLAG_OPEN_DRAIN;
    if (s.drive == Drive::open_source) flags |= gpiod::line_request::FLAG_OPEN_SOURCE;
    // The initial value travels with the request, so the line goes straight to it without a glitch.
    request(ol, gpiod::line_request{s.consumer, gpiod::line_request::DIRECTION_OUTPUT, flags},
            is_active(s.initial) ? 1 : 0, s, true);
    spdlog::debug("requested {} as output ({})", ol.what, gd::settings_summary(s, true));
    return std::make_unique<GpiodOutput>(ol.line, ol.what);
  }

  std::unique_ptr<DigitalInput> request_input(const ResolvedLine& where, const LineSettings& s) override {
    OpenLine ol = open_line(where);
    if (s.debounce.count() > 0) {
      static std::once_flag told;
      std::call_once(told, [&] {
        spdlog::debug("libgpiod v1 API has no debounce; ignoring the {} us asked for on {}",
                      s.debounce.count(), ol.what);
      });
    }
    request(ol, gpiod::line_request{s.consumer, gpiod::line_request::EVENT_BOTH_EDGES, common_flags(s)}, 0, s,
            false);
    spdlog::debug("requested {} as input with edge events ({})", ol.what, gd::settings_summary(s, false));
    return std::make_unique<GpiodInput>(ol.line, ol.what);
  }
};

}  // namespace

std::string gpiod_api_description() { return gd::describe_api(::gpiod_version_string()); }

std::unique_ptr<GpioBackend> make_gpiod_backend() { return std::make_unique<GpiodBackend>(); }

}  // namespace bootrig
