// Tests for what both libgpiod drivers share: chip discovery, the interruptible edge wait, error messages.
#include "drivers/gpiod_common.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"

namespace bootrig::gpiod_detail {
namespace {

namespace fs = std::filesystem;

// A pipe stands in for a line request's fd: readable when "the kernel" has events.
class Pipe {
 public:
  Pipe() {
    if (::pipe(fds_) != 0) throw std::system_error(errno, std::system_category(), "pipe");
  }
  ~Pipe() {
    close_write();
    ::close(fds_[0]);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int read_fd() const { return fds_[0]; }
  void put(const std::string& s) {
    ASSERT_EQ(::write(fds_[1], s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  void drain() {
    char buf[256];
    [[maybe_unused]] auto n = ::read(fds_[0], buf, sizeof buf);
  }
  void close_write() {
    if (fds_[1] >= 0) ::close(fds_[1]);
    fds_[1] = -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bootrig-gpiod-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::system_error(errno, std::system_category(), "mkdtemp");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void touch(const std::string& name) const { std::ofstream(path_ / name).put('x'); }

 private:
  fs::path path_;
};

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const RigError& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(GpiochipPaths, OnlyGpiochipDevicesSortedByNumber) {
  TempDir dev;
  for (const char* n : {"gpiochip10", "gpiochip2", "gpiochip0", "gpiochip", "gpiochipX", "gpiomem", "ttyS0"})
    dev.touch(n);
  auto paths = gpiochip_paths(dev.path());
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(paths[0], (dev.path() / "gpiochip0").string());
  EXPECT_EQ(paths[1], (dev.path() / "gpiochip2").string());
  EXPECT_EQ(paths[2], (dev.path() / "gpiochip10").string());
}

TEST(GpiochipPaths, MissingDirectoryIsEmptyNotAnError) {
  TempDir dev;
  EXPECT_TRUE(gpiochip_paths(dev.path() / "absent").empty());
  EXPECT_TRUE(gpiochip_paths(dev.path()).empty());
}

TEST(WaitReadable, TimesOutWhenNothingArrives) {
  interrupt::clear();
  Pipe p;
  auto d = Deadline::after(milliseconds(30));
  EXPECT_FALSE(wait_readable(p.read_fd(), d, "test line"));
  EXPECT_GE(now(), d.when());
}

TEST(WaitReadable, ReadyDataWinsEvenWithAnExpiredDeadline) {
  interrupt::clear();
  Pipe p;
  p.put("e");
  EXPECT_TRUE(wait_readable(p.read_fd(), Deadline::at(now() - seconds(1)), "test line"));
}

TEST(WaitReadable, WakesWhenDataArrivesFromAnotherThread) {
  interrupt::clear();
  Pipe p;
  std::thread t([&] {
    std::this_thread::sleep_for(milliseconds(20));
    p.put("e");
  });
  // A generous deadline: the assertion is that the data, not the deadline, ended the wait.
  EXPECT_TRUE(wait_readable(p.read_fd(), Deadline::after(seconds(30)), "test line"));
  t.join();
}

TEST(WaitReadable, InterruptEndsANeverEndingWait) {
  interrupt::clear();
  Pipe p;
  std::thread t([] {
    std::this_thread::sleep_for(milliseconds(20));
    interrupt::request(SIGINT);
  });
  EXPECT_THROW(wait_readable(p.read_fd(), Deadline::never(), "test line"), Interrupted);
  t.join();
  interrupt::clear();
}

TEST(WaitReadable, HangUpIsARigErrorNamingTheLine) {
  interrupt::clear();
  Pipe p;
  p.close_write();  // POLLHUP without data, as when a GPIO chip disappears
  EXPECT_EQ(message_of([&] {
              wait_readable(p.read_fd(), Deadline::after(seconds(30)), "GPIO17 (/dev/gpiochip0 offset 17)");
            }),
            "GPIO GPIO17 (/dev/gpiochip0 offset 17) stopped delivering edges (its chip was removed?); check "
            "the wiring "
            "and 'bootrig lines'");
}

LineEvent ev(Edge e, std::int64_t ns) { return LineEvent{e, from_ns(ns)}; }

TEST(EdgeQueue, HandsOutABatchOneEventAtATimeInOrder) {
  interrupt::clear();
  Pipe p;
  p.put("x");
  int reads = 0;
  EdgeQueue q;
  auto reader = [&](std::deque<LineEvent>& out) {
    ++reads;
    p.drain();
    out.push_back(ev(Edge::rising, 100));
    out.push_back(ev(Edge::falling, 200));
    out.push_back(ev(Edge::rising, 300));
  };
  const Edge expected[] = {Edge::rising, Edge::falling, Edge::rising};
  for (int i = 0; i < 3; ++i) {
    auto e = q.next(p.read_fd(), Deadline::after(seconds(30)), "test line", reader);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->edge, expected[i]);
    EXPECT_EQ(to_ns(e->time), 100 * (i + 1));
  }
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(q.pending(), 0u);
  EXPECT_FALSE(q.next(p.read_fd(), Deadline::after(milliseconds(20)), "test line", reader).has_value());
  EXPECT_EQ(reads, 1);
}

TEST(EdgeQueue, BufferedEventsSurviveAnExpiredDeadline) {
  interrupt::clear();
  Pipe p;
  p.put("x");
  EdgeQueue q;
  auto reader = [&](std::deque<LineEvent>& out) {
    p.drain();
    out.push_back(ev(Edge::rising, 1));
    out.push_back(ev(Edge::falling, 2));
  };
  ASSERT_TRUE(q.next(p.read_fd(), Deadline::after(seconds(30)), "test line", reader).has_value());
  auto second = q.next(p.read_fd(), Deadline::at(now() - seconds(1)), "test line", reader);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->edge, Edge::falling);
}

TEST(EdgeQueue, InterruptionWinsOverBufferedEvents) {
  interrupt::clear();
  Pipe p;
  p.put("x");
  EdgeQueue q;
  auto reader = [&](std::deque<LineEvent>& out) {
    p.drain();
    out.push_back(ev(Edge::rising, 1));
    out.push_back(ev(Edge::falling, 2));
  };
  ASSERT_TRUE(q.next(p.read_fd(), Deadline::after(seconds(30)), "test line", reader).has_value());
  interrupt::request(SIGTERM);
  EXPECT_THROW(q.next(p.read_fd(), Deadline::after(seconds(30)), "test line", reader), Interrupted);
  interrupt::clear();
}

TEST(MonotonicEventTime, MonotonicStampsPassThrough) {
  const std::int64_t ns = to_ns(now()) - 1'000'000;
  EXPECT_EQ(to_ns(monotonic_event_time(ns)), ns);
  EXPECT_EQ(to_ns(monotonic_event_time(0)), 0);
}

TEST(MonotonicEventTime, RealtimeStampsOfOldKernelsAreMovedOntoTheMonotonicClock) {
  timespec rt{};
  ::clock_gettime(CLOCK_REALTIME, &rt);
  const TimePoint before = now();
  const TimePoint t = monotonic_event_time(to_ns(from_timespec(rt)));
  // Generous bounds: the conversion is right to within the time between the two clock reads.
  EXPECT_GT(t, before - seconds(5));
  EXPECT_LT(t, now() + seconds(5));
}

TEST(DescribeApi, NamesVersionAndApi) {
  const std::string base =
      std::string("libgpiod ") + BOOTRIG_GPIOD_VERSION + " (v" + std::to_string(BOOTRIG_GPIOD_API) + " API)";
  EXPECT_EQ(describe_api(""), base);
  EXPECT_EQ(describe_api(BOOTRIG_GPIOD_VERSION), base);
  EXPECT_EQ(describe_api("9.9.9"), base + ", runtime library 9.9.9");
}

TEST(ErrorCodeOf, ReadsErrnoFromLibgpiodExceptions) {
  EXPECT_EQ(error_code_of(std::system_error(EBUSY, std::system_category(), "error requesting GPIO lines")),
            EBUSY);
  EXPECT_EQ(error_code_of(std::invalid_argument("bad settings")), EINVAL);
  EXPECT_EQ(error_code_of(std::runtime_error("other")), 0);
}

TEST(ChipErrors, OneLineWithTheFix) {
  EXPECT_EQ(message_of([] { throw_chip_error("/dev/gpiochip9", ENOENT, ""); }),
            "GPIO chip /dev/gpiochip9 does not exist; 'bootrig lines' lists the chips on this machine");
  EXPECT_EQ(message_of([] { throw_chip_error("/dev/gpiochip0", EACCES, ""); }),
            "cannot open GPIO chip /dev/gpiochip0: permission denied; add your user to the gpio group or run "
            "as root");
  EXPECT_EQ(message_of([] { throw_chip_error("/dev/null", ENOTTY, ""); }),
            "/dev/null is not a GPIO chip character device; 'bootrig lines' lists the chips");
  EXPECT_EQ(message_of([] { throw_chip_error("/dev/gpiochip0", EIO, "x"); }),
            "cannot open GPIO chip /dev/gpiochip0: Input/output error");
  EXPECT_EQ(message_of([] { throw_chip_error("/dev/gpiochip0", 0, "library said no"); }),
            "cannot open GPIO chip /dev/gpiochip0: library said no");
}

TEST(RequestErrors, BusyNamesTheHolder) {
  LineSettings s;
  EXPECT_EQ(
      message_of(
          [&] { throw_request_error("GPIO17 (/dev/gpiochip0 offset 17)", true, s, EBUSY, "gpioset", ""); }),
      "GPIO17 (/dev/gpiochip0 offset 17) is busy: 'gpioset' holds it; stop that user or choose another line "
      "('bootrig lines' shows who uses what)");
  EXPECT_EQ(
      message_of([&] { throw_request_error("GPIO17 (/dev/gpiochip0 offset 17)", true, s, EBUSY, "", ""); }),
      "GPIO17 (/dev/gpiochip0 offset 17) is busy: another program or a kernel driver holds it; stop that "
      "user "
      "or choose another line ('bootrig lines' shows who uses what)");
}

TEST(RequestErrors, PermissionAndRejectedSettings) {
  LineSettings s;
  s.drive = Drive::open_source;
  s.bias = Bias::pull_up;
  EXPECT_EQ(message_of([&] { throw_request_error("L", true, s, EPERM, "", ""); }),
            "cannot request L: permission denied; add your user to the gpio group or run as root");
  EXPECT_EQ(
      message_of([&] { throw_request_error("L", true, s, EINVAL, "", ""); }),
      "cannot request L as output with active-high, open-source, bias pull-up, initial inactive: the chip or "
      "kernel rejects these settings (Invalid argument); change drive/bias/debounce in the rig file");
  // 524 is the kernel's internal ENOTSUPP, which some GPIO drivers leak; strerror has no text for it.
  const std::string rejected = message_of([&] { throw_request_error("L", false, s, 524, "", ""); });
  EXPECT_NE(
      rejected.find("cannot request L as input with active-high, bias pull-up: the chip or kernel rejects"),
      std::string::npos)
      << rejected;
  EXPECT_EQ(message_of([&] { throw_request_error("L", false, s, EIO, "", ""); }),
            "cannot request L as input: Input/output error");
}

TEST(RequestErrors, OffsetOutOfRange) {
  EXPECT_EQ(message_of([] { throw_offset_out_of_range("/dev/gpiochip0", 54, 60); }),
            "GPIO chip /dev/gpiochip0 has 54 lines; offset 60 is out of range ('bootrig lines' lists them)");
}

TEST(SettingsSummary, OutputsAndInputs) {
  LineSettings s;
  EXPECT_EQ(settings_summary(s, true), "active-high, push-pull, bias as-is, initial inactive");
  EXPECT_EQ(settings_summary(s, false), "active-high, bias as-is");
  s.active_low = true;
  s.drive = Drive::open_drain;
  s.bias = Bias::pull_down;
  s.initial = Level::active;
  s.debounce = microseconds(500);
  EXPECT_EQ(settings_summary(s, true), "active-low, open-drain, bias pull-down, initial active");
  EXPECT_EQ(settings_summary(s, false), "active-low, bias pull-down, debounce 500 us");
}

}  // namespace
}  // namespace bootrig::gpiod_detail
