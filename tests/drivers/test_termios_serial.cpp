// Tests for the termios driver on real pseudo-terminal pairs from open_pty().
#include "bootrig/drivers/termios_serial.hpp"

#include <poll.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "drivers/termios2_speed.hpp"

namespace bootrig {
namespace {

namespace fs = std::filesystem;

// Writes everything to the (non-blocking) master, waiting for room as needed.
void master_write(int fd, const std::string& bytes) {
  std::size_t done = 0;
  auto deadline = Deadline::after(seconds(10));
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
      continue;
    }
    ASSERT_TRUE(n < 0 && errno == EAGAIN) << std::strerror(errno);
    ASSERT_FALSE(deadline.expired()) << "master write stuck";
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, 100);
  }
}

// Reads from the master until `count` bytes arrived or 10 s passed.
std::string master_read(int fd, std::size_t count) {
  std::string got;
  auto deadline = Deadline::after(seconds(10));
  while (got.size() < count && !deadline.expired()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

// Reads from the link until `count` bytes arrived or 10 s passed.
std::string link_read(SerialLink& link, std::size_t count) {
  std::string got;
  auto deadline = Deadline::after(seconds(10));
  while (got.size() < count) {
    auto chunk = link.read(deadline);
    if (!chunk) break;
    got += chunk->bytes;
  }
  return got;
}

std::string all_byte_values() {
  std::string s;
  for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
  return s;
}

// Waits until the slave's input queue holds `count` bytes: a pty delivers master writes asynchronously.
void wait_for_slave_input(const Pty& pty, int count) {
  auto deadline = Deadline::after(seconds(10));
  int queued = 0;
  while (!deadline.expired()) {
    ASSERT_EQ(::ioctl(pty.hold_fd, FIONREAD, &queued), 0);
    if (queued >= count) return;
    pollfd p{pty.hold_fd, POLLIN, 0};
    ::poll(&p, 1, 10);
  }
  FAIL() << "only " << queued << " of " << count << " bytes reached the slave";
}

// A temporary folder for links that stand in for /dev/serial/by-id/ or the simulator's stable name.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bootrig-serial-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  fs::path operator/(const char* name) const { return path_ / name; }

 private:
  fs::path path_;
};

// Re-points a link atomically, as the simulator does when its pty comes back.
void point_link(const fs::path& link, const std::string& target) {
  fs::path tmp = link.string() + ".new";
  fs::remove(tmp);
  fs::create_symlink(target, tmp);
  fs::rename(tmp, link);
}

// Captures bootrig's log for the duration of a test.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_pattern("%l: %v");
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }
  int count(const std::string& needle) const {
    std::string s = out_.str();
    int n = 0;
    for (auto pos = s.find(needle); pos != std::string::npos; pos = s.find(needle, pos + 1)) ++n;
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

// A read that nothing but an interruption can end: ignoring it would hang until ctest's timeout.
void expect_interruption_ends_read(SerialLink& link) {
  interrupt::clear();
  std::thread t([] {
    std::this_thread::sleep_for(milliseconds(50));
    interrupt::request(SIGINT);
  });
  EXPECT_THROW(link.read(Deadline::never()), Interrupted);
  t.join();
  interrupt::clear();
}

TEST(TermiosSerial, BytesPassBothWaysUnchanged) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, {});
  link->write("print('hi')\r\n", Deadline::after(seconds(5)));
  EXPECT_EQ(master_read(pty.master_fd, 13), "print('hi')\r\n");
  master_write(pty.master_fd, "hi\r\n>>> ");
  EXPECT_EQ(link_read(*link, 8), "hi\r\n>>> ");
}

TEST(TermiosSerial, AllByteValuesAreBinarySafeBothWays) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, {});
  const std::string bytes = all_byte_values();
  // No CR/LF mapping, no echo, no Ctrl-C/Ctrl-D/Ctrl-S handling, no 0xff escaping.
  link->write(bytes, Deadline::after(seconds(5)));
  EXPECT_EQ(master_read(pty.master_fd, bytes.size()), bytes);
  master_write(pty.master_fd, bytes);
  EXPECT_EQ(link_read(*link, bytes.size()), bytes);
  // Nothing came back as echo.
  EXPECT_FALSE(link->read(Deadline::after(milliseconds(50))).has_value());
}

TEST(TermiosSerial, ChunksAreStampedOnArrivalAndInOrder) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, {});
  TimePoint previous = now();
  for (int i = 0; i < 5; ++i) {
    TimePoint before_write = now();
    master_write(pty.master_fd, "chunk" + std::to_string(i));
    auto chunk = link->read(Deadline::after(seconds(10)));
    ASSERT_TRUE(chunk.has_value());
    EXPECT_GE(chunk->time, before_write);
    EXPECT_GE(chunk->time, previous);
    EXPECT_LE(chunk->time, now());
    previous = chunk->time;
    EXPECT_EQ(chunk->bytes + link_read(*link, 6 - chunk->bytes.size()), "chunk" + std::to_string(i));
  }
}

TEST(TermiosSerial, ReadReturnsNothingNoEarlierThanTheDeadline) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, {});
  auto deadline = Deadline::after(milliseconds(100));
  EXPECT_FALSE(link->read(deadline).has_value());
  EXPECT_GE(now(), deadline.when());
  // A deadline already past still returns what is waiting.
  master_write(pty.master_fd, "late");
  wait_for_slave_input(pty, 4);
  auto chunk = link->read(Deadline::at(now() - seconds(1)));
  ASSERT_TRUE(chunk.has_value());
  EXPECT_EQ(chunk->bytes, "late");
}

// The polling reader (SerialSettings::poll_interval, the alternative the benchmarks measure) loses nothing,
// returns nothing before the deadline, and still ends on an interruption.
TEST(TermiosSerial, PollingReaderGetsEverythingAndKeepsItsDeadline) {
  Pty pty = open_pty();
  SerialSettings s;
  s.poll_interval = milliseconds(20);
  auto link = open_termios(pty.slave_path, s);
  master_write(pty.master_fd, "polled bytes");
  EXPECT_EQ(link_read(*link, 12), "polled bytes");
  auto deadline = Deadline::after(milliseconds(70));
  EXPECT_FALSE(link->read(deadline).has_value());
  EXPECT_GE(now(), deadline.when());
  expect_interruption_ends_read(*link);
}

TEST(TermiosSerial, WriteThrowsWhenThePortStaysFullPastTheDeadline) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, {});
  // Nobody reads the master, so the kernel's buffers fill up and the write cannot finish.
  const std::string lots(4 * 1024 * 1024, 'x');
  auto deadline = Deadline::after(milliseconds(200));
  try {
    link->write(lots, deadline);
    FAIL() << "a write into a full port must not succeed";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find(pty.slave_path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bytes before the deadline"), std::string::npos) << e.what();
  }
  EXPECT_GE(now(), deadline.when());
}

TEST(TermiosSerial, WriteWaitsForRoomWithinTheDeadline) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, {});
  const std::string lots(512 * 1024, 'y');
  std::string received;
  std::thread reader([&] { received = master_read(pty.master_fd, lots.size()); });
  link->write(lots, Deadline::after(seconds(30)));
  reader.join();
  EXPECT_EQ(received.size(), lots.size());
  EXPECT_EQ(received, lots);
}

TEST(TermiosSerial, DrainReturnsOnceOutputHasLeft) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, {});
  link->write("drain me", Deadline::after(seconds(5)));
  link->drain(Deadline::after(seconds(5)));
  // After a drain the bytes are with the other side.
  pollfd p{pty.master_fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 5000), 1);
  EXPECT_EQ(master_read(pty.master_fd, 8), "drain me");
}

TEST(TermiosSerial, DiscardInputDropsWhatWasNotRead) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, {});
  master_write(pty.master_fd, "stale boot noise");
  wait_for_slave_input(pty, 16);
  link->discard_input();
  master_write(pty.master_fd, ">>> ");
  EXPECT_EQ(link_read(*link, 4), ">>> ");
}

TEST(TermiosSerial, InterruptionWakesABlockedRead) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, {});
  expect_interruption_ends_read(*link);
  // The link still works afterwards.
  master_write(pty.master_fd, "ok");
  EXPECT_EQ(link_read(*link, 2), "ok");
}

TEST(TermiosSerial, ReconnectsWhenThePtyComesBackBehindTheLink) {
  TempDir dir;
  const fs::path link_path = dir / "uart";
  LogCapture log;

  Pty first = open_pty();
  point_link(link_path, first.slave_path);
  auto link = open_termios(link_path.string(), {});
  master_write(first.master_fd, "before");
  EXPECT_EQ(link_read(*link, 6), "before");

  // The port vanishes (the simulator's fault, or a USB unplug); the link goes first.
  fs::remove(link_path);
  first.close();
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(link->read(Deadline::after(milliseconds(30))).has_value());
  EXPECT_EQ(log.count("went away"), 1) << log.text();

  // It comes back as another pty behind the same link; the link finds it and carries on.
  Pty second = open_pty();
  point_link(link_path, second.slave_path);
  master_write(second.master_fd, "after");
  EXPECT_EQ(link_read(*link, 5), "after");
  EXPECT_EQ(log.count("is back"), 1) << log.text();
  EXPECT_EQ(link->describe(), "pty " + second.slave_path + " via " + link_path.string());
  link->write("again", Deadline::after(seconds(5)));
  EXPECT_EQ(master_read(second.master_fd, 5), "again");
}

TEST(TermiosSerial, WriteAcrossAVanishedLinkThrowsAtTheDeadline) {
  TempDir dir;
  const fs::path link_path = dir / "uart";
  Pty pty = open_pty();
  point_link(link_path, pty.slave_path);
  auto link = open_termios(link_path.string(), {});
  // The order the simulator follows: the link first, so nobody reopens a pty number handed on.
  fs::remove(link_path);
  pty.close();
  auto deadline = Deadline::after(milliseconds(100));
  try {
    link->write("x", deadline);
    FAIL() << "writing to a port that never comes back must fail";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("did not come back"), std::string::npos) << e.what();
  }
  EXPECT_GE(now(), deadline.when());
}

// A USB adapter re-enumerating at a reset is away for a moment: a write with a short deadline of its own
// waits the rig's reappear gap ([serial] reappear_ms) for it, and discarding input while it is away is not an
// error (the port has no input then).
TEST(TermiosSerial, AWriteWaitsTheReappearGapBeyondItsOwnDeadline) {
  TempDir dir;
  const fs::path link_path = dir / "uart";
  Pty first = open_pty();
  point_link(link_path, first.slave_path);
  auto link = open_termios(link_path.string(), {}, seconds(20));
  fs::remove(link_path);
  first.close();
  EXPECT_FALSE(link->read(Deadline::after(milliseconds(30))).has_value());  // the link notices it went away
  EXPECT_NO_THROW(link->discard_input());

  Pty second;
  std::thread back([&] {
    std::this_thread::sleep_for(milliseconds(300));
    second = open_pty();
    point_link(link_path, second.slave_path);
  });
  EXPECT_NO_THROW(link->write("late", Deadline::after(milliseconds(20))));
  back.join();
  EXPECT_EQ(master_read(second.master_fd, 4), "late");
  EXPECT_NO_THROW(link->discard_input());
}

TEST(TermiosSerial, APtyNamedByItsOwnPathIsNotReopenedOnceGone) {
  Pty pty = open_pty();
  const std::string slave = pty.slave_path;
  auto link = open_termios(slave, {});
  pty.close();
  // Another pty (here or in any other program) may get the same number at once; the link must not
  // quietly start talking to it.
  Pty squatter = open_pty();
  try {
    link->read(Deadline::after(seconds(1)));
    FAIL() << "reading a pty whose master closed must fail";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("went away and a pty never comes back"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(link->write("x", Deadline::after(seconds(1))), RigError);
  char c;
  EXPECT_EQ(::read(squatter.master_fd, &c, 1), -1) << "the link wrote into another pty";
}

TEST(TermiosSerial, DescribeNamesThePty) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, {});
  EXPECT_EQ(link->describe(), "pty " + pty.slave_path);
}

TEST(TermiosSerial, SetBaudChangesTheLineSpeed) {
  Pty pty = open_pty();
  auto link = open_termios(pty.slave_path, {});
  EXPECT_EQ(link->baud(), 115200u);
  link->set_baud(9600);
  EXPECT_EQ(link->baud(), 9600u);
  termios t{};
  ASSERT_EQ(::tcgetattr(pty.hold_fd, &t), 0);
  EXPECT_EQ(::cfgetospeed(&t), static_cast<speed_t>(B9600));
  EXPECT_THROW(link->set_baud(0), RigError);
  // A rate without a Bxxx constant goes through termios2/BOTHER. qemu-user (the Pi's architectures emulated,
  // cmake/cross.sh) does not emulate the termios2 ioctls; every kernel bootrig runs on has them.
  if (detail::set_custom_baud(pty.hold_fd, 250000) != 0 && errno == ENOSYS)
    GTEST_SKIP() << "TCSETS2 is not emulated here (qemu-user): the BOTHER path runs in the host builds";
  link->set_baud(250000);
  EXPECT_EQ(link->baud(), 250000u);
}

TEST(TermiosSerial, OpenSetsRawModeAndKeepsDtrOnClose) {
  Pty pty = open_pty();
  SerialSettings s;
  s.baud = 57600;
  s.flow = FlowControl::xonxoff;
  s.dtr = true;  // a pty has no modem lines: asked-for levels are ignored there, not an error
  s.rts = false;
  auto link = open_termios(pty.slave_path, s);
  termios t{};
  ASSERT_EQ(::tcgetattr(pty.hold_fd, &t), 0);
  EXPECT_EQ(t.c_cflag & HUPCL, 0u);
  EXPECT_NE(t.c_cflag & CLOCAL, 0u);
  EXPECT_EQ(t.c_cflag & (CSIZE | PARENB | CSTOPB), static_cast<tcflag_t>(CS8));
  EXPECT_NE(t.c_iflag & IXON, 0u);
  EXPECT_EQ(t.c_lflag & (ECHO | ICANON | ISIG), 0u);
  EXPECT_EQ(::cfgetispeed(&t), static_cast<speed_t>(B57600));
}

TEST(TermiosSerial, MissingPathIsAClearRigError) {
  try {
    open_termios("/dev/bootrig-no-such-port", {});
    FAIL() << "expected a RigError";
  } catch (const RigError& e) {
    EXPECT_STREQ(
        e.what(),
        "serial port /dev/bootrig-no-such-port does not exist; 'bootrig ports' lists the ports present");
  }
}

TEST(TermiosSerial, NonTtyIsAClearRigError) {
  try {
    open_termios("/dev/null", {});
    FAIL() << "expected a RigError";
  } catch (const RigError& e) {
    EXPECT_STREQ(e.what(), "/dev/null is not a serial port; 'bootrig ports' lists the ports present");
  }
}

}  // namespace
}  // namespace bootrig
