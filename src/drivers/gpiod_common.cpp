// Chip discovery, the interruptible edge wait and the error messages both libgpiod drivers share.
#include "drivers/gpiod_common.hpp"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>
#include <stdexcept>
#include <system_error>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"

namespace bootrig::gpiod_detail {

namespace {

// Linux's internal ENOTSUPP: some GPIO drivers leak it to user space for bias/drive they cannot do.
constexpr int kKernelEnotsupp = 524;

std::optional<unsigned long> chip_number(const std::string& file_name) {
  static const std::string prefix = "gpiochip";
  if (file_name.size() <= prefix.size() || file_name.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  std::string digits = file_name.substr(prefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  if (digits.size() > 9) return std::nullopt;
  return std::stoul(digits);
}

std::string reason(int err, const std::string& detail) {
  if (err != 0) return std::strerror(err);
  return detail.empty() ? std::string("unknown error") : detail;
}

}  // namespace

std::vector<std::string> gpiochip_paths(const std::filesystem::path& dev_dir) {
  std::vector<std::pair<unsigned long, std::string>> found;
  std::error_code ec;
  std::filesystem::directory_iterator it(dev_dir, ec);
  if (ec) return {};
  for (const auto& entry : it) {
    if (auto n = chip_number(entry.path().filename().string())) found.emplace_back(*n, entry.path().string());
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> paths;
  paths.reserve(found.size());
  for (auto& f : found) paths.push_back(std::move(f.second));
  return paths;
}

bool wait_readable(int fd, const Deadline& deadline, const std::string& what) {
  for (;;) {
    interrupt::throw_if_requested();
    pollfd fds[2] = {{fd, POLLIN, 0}, {interrupt::fd(), POLLIN, 0}};
    timespec ts{};
    const timespec* timeout = nullptr;
    if (!deadline.is_never()) {
      ts = deadline.remaining_timespec();
      timeout = &ts;
    }
    int n = ::ppoll(fds, 2, timeout, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;  // a signal handler ran; the interrupt fd says whether it matters
      throw RigError("waiting for edges on " + what + " failed: " + std::strerror(errno));
    }
    if (fds[1].revents & POLLIN) throw Interrupted(interrupt::signal_number());
    if (fds[0].revents & POLLIN) return true;
    if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL))
      throw RigError(
          "GPIO " + what +
          " stopped delivering edges (its chip was removed?); check the wiring and 'bootrig lines'");
    if (n == 0 || deadline.expired()) return false;
  }
}

std::optional<LineEvent> EdgeQueue::next(int fd, const Deadline& deadline, const std::string& what,
                                         const Reader& read_more) {
  for (;;) {
    interrupt::throw_if_requested();
    if (!pending_.empty()) {
      LineEvent e = pending_.front();
      pending_.pop_front();
      return e;
    }
    if (!wait_readable(fd, deadline, what)) return std::nullopt;
    read_more(pending_);
  }
}

TimePoint monotonic_event_time(std::int64_t kernel_ns) {
  using namespace std::chrono_literals;
  const std::int64_t mono = to_ns(now());
  if (kernel_ns > mono + std::chrono::duration_cast<nanoseconds>(24h).count()) {
    timespec rt{};
    ::clock_gettime(CLOCK_REALTIME, &rt);
    const std::int64_t offset = to_ns(from_timespec(rt)) - mono;
    static std::once_flag told;
    std::call_once(told, [] {
      spdlog::debug(
          "this kernel stamps GPIO edges with CLOCK_REALTIME (Linux < 5.7); converting to CLOCK_MONOTONIC");
    });
    kernel_ns -= offset;
  }
  return from_ns(kernel_ns);
}

std::string describe_api(const std::string& runtime_version) {
  std::string s =
      std::string("libgpiod ") + BOOTRIG_GPIOD_VERSION + " (v" + std::to_string(BOOTRIG_GPIOD_API) + " API)";
  if (!runtime_version.empty() && runtime_version != BOOTRIG_GPIOD_VERSION)
    s += ", runtime library " + runtime_version;
  return s;
}

int error_code_of(const std::exception& e) {
  if (const auto* se = dynamic_cast<const std::system_error*>(&e)) return se->code().value();
  if (dynamic_cast<const std::invalid_argument*>(&e)) return EINVAL;
  return 0;
}

void throw_chip_error(const std::string& chip_path, int err, const std::string& detail) {
  switch (err) {
    case ENOENT:
      throw RigError("GPIO chip " + chip_path +
                     " does not exist; 'bootrig lines' lists the chips on this machine");
    case EACCES:
    case EPERM:
      throw RigError("cannot open GPIO chip " + chip_path +
                     ": permission denied; add your user to the gpio group or run as root");
    case ENODEV:
    case ENOTTY:
      throw RigError(chip_path + " is not a GPIO chip character device; 'bootrig lines' lists the chips");
    default:
      throw RigError("cannot open GPIO chip " + chip_path + ": " + reason(err, detail));
  }
}

void throw_offset_out_of_range(const std::string& chip_path, std::size_t num_lines, unsigned offset) {
  throw RigError("GPIO chip " + chip_path + " has " + std::to_string(num_lines) + " lines; offset " +
                 std::to_string(offset) + " is out of range ('bootrig lines' lists them)");
}

void throw_request_error(const std::string& line, bool output, const LineSettings& s, int err,
                         const std::string& holder, const std::string& detail) {
  const std::string as = output ? "output" : "input";
  switch (err) {
    case EBUSY:
      throw RigError(line + " is busy: " +
                     (holder.empty() ? std::string("another program or a kernel driver holds it")
                                     : "'" + holder + "' holds it") +
                     "; stop that user or choose another line ('bootrig lines' shows who uses what)");
    case EACCES:
    case EPERM:
      throw RigError("cannot request " + line +
                     ": permission denied; add your user to the gpio group or run as root");
    case EINVAL:
    case EOPNOTSUPP:
    case kKernelEnotsupp:
      throw RigError("cannot request " + line + " as " + as + " with " + settings_summary(s, output) +
                     ": the chip or kernel rejects these settings (" + reason(err, detail) +
                     "); change drive/bias/debounce in the rig file");
    default:
      throw RigError("cannot request " + line + " as " + as + ": " + reason(err, detail));
  }
}

std::string settings_summary(const LineSettings& s, bool output) {
  std::string r = s.active_low ? "active-low" : "active-high";
  if (output) r += std::string(", ") + to_string(s.drive);
  r += std::string(", bias ") + to_string(s.bias);
  if (output) r += std::string(", initial ") + to_string(s.initial);
  if (!output && s.debounce.count() > 0) r += ", debounce " + std::to_string(s.debounce.count()) + " us";
  return r;
}

}  // namespace bootrig::gpiod_detail
