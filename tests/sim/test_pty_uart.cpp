// Tests for the simulated UART's pacing: bytes arrive complete, in order, never faster than the line.
#include "sim/pty_uart.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "bootrig/drivers/termios_serial.hpp"

namespace bootrig::test {
namespace {

constexpr unsigned kBaud = 921600;
const Duration kByteTime = nanoseconds(10'000'000'000LL / kBaud);

// What the board side of the UART received, with the time of each delivery.
struct Received {
  std::mutex m;
  std::condition_variable cv;
  std::string bytes;
  std::vector<TimePoint> stamps;

  void add(std::string_view b, TimePoint when) {
    std::lock_guard lk(m);
    bytes.append(b.data(), b.size());
    stamps.push_back(when);
    cv.notify_all();
  }
  bool wait_for_size(std::size_t n, Duration limit) {
    std::unique_lock lk(m);
    return cv.wait_for(lk, limit, [&] { return bytes.size() >= n; });
  }
};

std::filesystem::path temp_link(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("bootrig-pty-uart-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::create_directories(dir);
  return dir / "tty";
}

std::string pattern(std::size_t n, char seed) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<char>('a' + (seed + i) % 26);
  return s;
}

TEST(PtyUart, BytesWrittenWhileEarlierOnesAreOnTheLineFollowThemInOrder) {
  Received got;
  auto link = temp_link("rx");
  sim::PtyUart uart(kBaud, link, [&](std::string_view b, TimePoint t) { got.add(b, t); });
  uart.start();
  SerialSettings s;
  s.baud = kBaud;
  auto port = open_termios(link.string(), s);
  // Three windows' worth written back to back, as a raw-paste host does once grants come in: the later
  // writes land while the first bytes are still being paced out.
  std::string all;
  TimePoint first_write = now();
  for (char seed : {'a', 'n', 'z'}) {
    std::string part = pattern(128, seed);
    port->write(part, Deadline::after(seconds(5)));
    all += part;
  }
  ASSERT_TRUE(got.wait_for_size(all.size(), seconds(10)));
  uart.stop();
  std::lock_guard lk(got.m);
  EXPECT_EQ(got.bytes, all);
  for (std::size_t i = 1; i < got.stamps.size(); ++i) EXPECT_GE(got.stamps[i], got.stamps[i - 1]);
  // Never faster than the line: the last byte cannot have arrived before all of them took their time.
  EXPECT_GE(got.stamps.back() - first_write, kByteTime * static_cast<std::int64_t>(all.size()));
  std::filesystem::remove_all(link.parent_path());
}

TEST(PtyUart, SentBytesReachTheRigCompleteAndInOrder) {
  auto link = temp_link("tx");
  sim::PtyUart uart(kBaud, link, [](std::string_view, TimePoint) {});
  uart.start();
  SerialSettings s;
  s.baud = kBaud;
  auto port = open_termios(link.string(), s);
  // A lone byte on an idle line (a raw-paste grant), then a burst.
  std::string want = "\x01" + pattern(1000, 'c');
  TimePoint first_send = now();
  uart.send(want.substr(0, 1));
  std::string rx;
  while (rx.size() < 1) {
    auto c = port->read(Deadline::after(seconds(5)));
    ASSERT_TRUE(c.has_value()) << "the lone byte never arrived";
    rx += c->bytes;
  }
  uart.send(want.substr(1));
  while (rx.size() < want.size()) {
    auto c = port->read(Deadline::after(seconds(5)));
    ASSERT_TRUE(c.has_value()) << "stopped after " << rx.size() << " bytes";
    rx += c->bytes;
  }
  EXPECT_EQ(rx, want);
  EXPECT_EQ(uart.pending(), 0u);
  EXPECT_GE(now() - first_send, kByteTime * static_cast<std::int64_t>(want.size()));
  uart.stop();
  std::filesystem::remove_all(link.parent_path());
}

}  // namespace
}  // namespace bootrig::test
