// Tests for the serial pump: chunks stamped on arrival even when nobody reads, order kept, failures handed on.
#include "bootrig/observe/serial_pump.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/termios_serial.hpp"

namespace bootrig {
namespace {

TEST(SerialPump, StampsBytesWhenTheyArriveNotWhenTheyAreRead) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, SerialSettings{});
  std::atomic<int> sunk{0};
  SerialPump pump(*link, [&](const SerialChunk&) { ++sunk; });
  TimePoint before = now();
  ASSERT_EQ(::write(pty.master_fd, "boot", 4), 4);
  // Nobody reads until the pump has taken the bytes in; the chunk must carry that time, not the read's.
  Deadline d = Deadline::after(seconds(10));
  while (sunk.load() == 0 && !d.expired()) wait_for(milliseconds(5));
  ASSERT_EQ(sunk.load(), 1);
  wait_for(milliseconds(50));
  TimePoint read_at = now();
  auto c = pump.read(Deadline::after(seconds(5)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->bytes, "boot");
  EXPECT_GE(c->time, before);
  EXPECT_LT(c->time, read_at);
  EXPECT_EQ(sunk.load(), 1);
}

TEST(SerialPump, KeepsOrderAndPassesWritesThrough) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, SerialSettings{});
  SerialPump pump(*link, nullptr);
  std::string sent;
  for (int i = 0; i < 50; ++i) {
    std::string s = std::to_string(i) + ",";
    sent += s;
    ASSERT_EQ(::write(pty.master_fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  std::string got;
  while (got.size() < sent.size()) {
    auto c = pump.read(Deadline::after(seconds(5)));
    ASSERT_TRUE(c);
    got += c->bytes;
  }
  EXPECT_EQ(got, sent);
  pump.write("ping", Deadline::after(seconds(5)));
  char buf[8] = {};
  Deadline d = Deadline::after(seconds(5));
  ssize_t n = -1;
  while (n <= 0 && !d.expired()) n = ::read(pty.master_fd, buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "ping");
}

TEST(SerialPump, ReadHonoursItsDeadline) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, SerialSettings{});
  SerialPump pump(*link, nullptr);
  Deadline d = Deadline::after(milliseconds(100));
  EXPECT_FALSE(pump.read(d));
  EXPECT_TRUE(d.expired());
}

class ThrowingLink : public SerialLink {
 public:
  void write(std::string_view, Deadline) override {}
  std::optional<SerialChunk> read(Deadline) override { throw RigError("serial port /dev/ttyX vanished"); }
  void drain(Deadline) override {}
  void discard_input() override {}
  void set_baud(unsigned) override {}
  unsigned baud() const override { return 115200; }
  std::string describe() const override { return "throwing"; }
};

TEST(SerialPump, HandsTheLinkFailureToTheReader) {
  ThrowingLink link;
  SerialPump pump(link, nullptr);
  try {
    pump.read(Deadline::after(seconds(5)));
    FAIL() << "no exception";
  } catch (const RigError& e) {
    EXPECT_STREQ(e.what(), "serial port /dev/ttyX vanished");
  }
}

}  // namespace
}  // namespace bootrig
