// The libgpiod 2.x (v2 API) driver: GPIO lines through the kernel's character device, with debounce.
#include <spdlog/spdlog.h>

#include <gpiod.hpp>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/gpiod.hpp"
#include "drivers/gpiod_common.hpp"

namespace bootrig {

namespace {

namespace gd = gpiod_detail;
namespace gl = gpiod::line;

gpiod::chip open_chip(const std::string& path) {
  try {
    return gpiod::chip(path);
  } catch (const std::exception& e) {
    gd::throw_chip_error(path, gd::error_code_of(e), e.what());
  }
}

ChipInfo read_chip(const std::string& path) {
  gpiod::chip chip = open_chip(path);
  gpiod::chip_info ci = chip.get_info();
  ChipInfo info{path, ci.name(), ci.label(), {}};
  const std::size_t n = ci.num_lines();
  info.lines.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    gpiod::line_info li = chip.get_line_info(i);
    info.lines.push_back(
        LineInfo{li.name(), li.consumer(), li.used(), li.direction() == gl::direction::OUTPUT});
  }
  return info;
}

gl::bias bias_of(Bias b) {
  switch (b) {
    case Bias::as_is:
      return gl::bias::AS_IS;
    case Bias::disabled:
      return gl::bias::DISABLED;
    case Bias::pull_up:
      return gl::bias::PULL_UP;
    case Bias::pull_down:
      return gl::bias::PULL_DOWN;
  }
  return gl::bias::AS_IS;
}

gl::drive drive_of(Drive d) {
  switch (d) {
    case Drive::push_pull:
      return gl::drive::PUSH_PULL;
    case Drive::open_drain:
      return gl::drive::OPEN_DRAIN;
    case Drive::open_source:
      return gl::drive::OPEN_SOURCE;
  }
  return gl::drive::PUSH_PULL;
}

Level level_of_value(gl::value v) { return level_of(v == gl::value::ACTIVE); }

// One line claimed with one request: the settings (and an output's initial value) reach the kernel
// together, so the line never passes through an intermediate state.
struct Claim {
  gpiod::line_request request;
  std::string what;
};

Claim claim(const ResolvedLine& where, const LineSettings& s, const gpiod::line_settings& ls, bool output) {
  gpiod::chip chip = open_chip(where.chip_path);
  const std::size_t n = chip.get_info().num_lines();
  if (where.offset >= n) gd::throw_offset_out_of_range(where.chip_path, n, where.offset);
  ResolvedLine named = where;
  if (named.line_name.empty()) named.line_name = chip.get_line_info(where.offset).name();
  std::string what = named.describe();
  try {
    // The request owns its own fd; the chip may close when this function returns.
    auto request =
        chip.prepare_request().set_consumer(s.consumer).add_line_settings(where.offset, ls).do_request();
    return Claim{std::move(request), std::move(what)};
  } catch (const std::exception& e) {
    const int err = gd::error_code_of(e);
    std::string holder;
    if (err == EBUSY) {
      try {
        holder = chip.get_line_info(where.offset).consumer();
      } catch (const std::exception&) {
        // The holder is a nicety for the message; the busy error itself is what matters.
      }
    }
    gd::throw_request_error(what, output, s, err, holder, e.what());
  }
}

// Destroying the request releases the line (gpiod::line_request is RAII); the safe-state guard that owns
// this object has already driven it inactive.
class GpiodOutput final : public DigitalOutput {
 public:
  GpiodOutput(Claim c, unsigned offset)
      : request_(std::move(c.request)), what_(std::move(c.what)), offset_(offset) {}

  void set(Level level) override {
    try {
      request_.set_value(offset_, is_active(level) ? gl::value::ACTIVE : gl::value::INACTIVE);
    } catch (const std::exception& e) {
      throw RigError("cannot set " + what_ + " " + to_string(level) + ": " + e.what());
    }
  }
  Level get() const override {
    try {
      return level_of_value(request_.get_value(offset_));
    } catch (const std::exception& e) {
      throw RigError("cannot read " + what_ + ": " + e.what());
    }
  }
  std::string describe() const override { return what_; }

 private:
  // Reading a value is an ioctl that does not change the request, but libgpiod's get_value is non-const.
  mutable gpiod::line_request request_;
  std::string what_;
  unsigned offset_;
};

class GpiodInput final : public DigitalInput {
 public:
  GpiodInput(Claim c, unsigned offset)
      : request_(std::move(c.request)), what_(std::move(c.what)), offset_(offset), buffer_(kBufferEvents) {}

  Level get() override {
    try {
      return level_of_value(request_.get_value(offset_));
    } catch (const std::exception& e) {
      throw RigError("cannot read " + what_ + ": " + e.what());
    }
  }

  std::optional<LineEvent> wait_event(Deadline deadline) override {
    return queue_.next(request_.fd(), deadline, what_, [this](std::deque<LineEvent>& out) {
      std::size_t n = 0;
      try {
        n = request_.read_edge_events(buffer_);
      } catch (const std::exception& e) {
        throw RigError("cannot read edges of " + what_ + ": " + e.what());
      }
      // The kernel applies active-low to edges, so "rising" already means "became active".
      for (unsigned i = 0; i < n; ++i) {
        const gpiod::edge_event& ev = buffer_.get_event(i);
        out.push_back(
            LineEvent{ev.type() == gpiod::edge_event::event_type::RISING_EDGE ? Edge::rising : Edge::falling,
                      from_ns(static_cast<std::int64_t>(ev.timestamp_ns().ns()))});
      }
    });
  }
  std::string describe() const override { return what_; }

 private:
  static constexpr std::size_t kBufferEvents = 64;
  gpiod::line_request request_;
  std::string what_;
  unsigned offset_;
  gpiod::edge_event_buffer buffer_;
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
    gpiod::line_settings ls;
    ls.set_direction(gl::direction::OUTPUT)
        .set_active_low(gd::requested_active_low(s))
        .set_drive(drive_of(s.drive))
        .set_bias(bias_of(s.bias))
        .set_output_value(is_active(s.initial) ? gl::value::ACTIVE : gl::value::INACTIVE);
    Claim c = claim(where, s, ls, true);
    spdlog::debug("requested {} as output ({})", c.what, gd::settings_summary(s, true));
    return std::make_unique<GpiodOutput>(std::move(c), where.offset);
  }

  std::unique_ptr<DigitalInput> request_input(const ResolvedLine& where, const LineSettings& s) override {
    gpiod::line_settings ls;
    // Monotonic is the kernel's default, but bootrig's whole timeline depends on it: say so explicitly.
    ls.set_direction(gl::direction::INPUT)
        .set_edge_detection(gl::edge::BOTH)
        .set_active_low(gd::requested_active_low(s))
        .set_bias(bias_of(s.bias))
        .set_debounce_period(s.debounce)
        .set_event_clock(gl::clock::MONOTONIC);
    Claim c = claim(where, s, ls, false);
    spdlog::debug("requested {} as input with edge events ({})", c.what, gd::settings_summary(s, false));
    return std::make_unique<GpiodInput>(std::move(c), where.offset);
  }
};

}  // namespace

std::string gpiod_api_description() { return gd::describe_api(gpiod::api_version()); }

std::unique_ptr<GpioBackend> make_gpiod_backend() { return std::make_unique<GpiodBackend>(); }

}  // namespace bootrig
