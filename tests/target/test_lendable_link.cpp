// Tests for lending the serial port to an external tool: closed while lent, quiet for readers, an error for
// writers, reopened at the baud rate it had, and a waiting reader carries on when it comes back.
#include "bootrig/target/lendable_link.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "bootrig/core/errors.hpp"
#include "support/fake_serial.hpp"

namespace bootrig {
namespace {

// Counts how often the port was opened and keeps the last one for the test to script.
struct Ports {
  std::atomic<int> opened{0};
  std::atomic<unsigned> last_baud{0};
  testing::FakeSerial* last = nullptr;
  LendableLink::Opener opener() {
    return [this](unsigned baud) {
      ++opened;
      last_baud = baud;
      auto p = std::make_unique<testing::FakeSerial>(baud);
      last = p.get();
      return std::unique_ptr<SerialLink>(std::move(p));
    };
  }
};

TEST(LendableLink, OpensAtOnceAndPassesThrough) {
  Ports ports;
  LendableLink link("/dev/ttyUSB0", 115200, ports.opener());
  EXPECT_EQ(ports.opened, 1);
  ports.last->reply("hello");
  auto c = link.read(Deadline::after(seconds(2)));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->bytes, "hello");
  link.write("x", Deadline::after(seconds(1)));
  EXPECT_EQ(ports.last->written(), "x");
  EXPECT_EQ(link.describe(), "fake serial");
}

TEST(LendableLink, WhileLentReadsAreQuietAndWritesAreAnErrorNamingThePort) {
  Ports ports;
  LendableLink link("/dev/ttyUSB0", 115200, ports.opener());
  link.lend();
  EXPECT_TRUE(link.lent());
  EXPECT_FALSE(link.read(Deadline::after(milliseconds(20))));
  try {
    link.write("x", Deadline::after(seconds(1)));
    FAIL() << "expected a RigError";
  } catch (const RigError& e) {
    EXPECT_STREQ(e.what(), "/dev/ttyUSB0: cannot write: the port is lent to an external tool");
  }
  link.discard_input();  // harmless while lent
}

TEST(LendableLink, TakenBackItReopensAtTheBaudSetMeanwhile) {
  Ports ports;
  LendableLink link("/dev/ttyUSB0", 115200, ports.opener());
  link.lend();
  link.set_baud(921600);
  link.take_back();
  EXPECT_FALSE(link.lent());
  EXPECT_EQ(ports.opened, 2);
  EXPECT_EQ(ports.last_baud, 921600u);
  EXPECT_EQ(link.baud(), 921600u);
  link.take_back();  // already back: nothing reopened
  EXPECT_EQ(ports.opened, 2);
}

TEST(LendableLink, AReaderWaitingWhileLentGetsTheBytesAfterTheReturn) {
  Ports ports;
  LendableLink link("/dev/ttyUSB0", 115200, ports.opener());
  link.lend();
  std::optional<SerialChunk> got;
  std::thread reader([&] { got = link.read(Deadline::after(seconds(20))); });
  link.take_back();
  ports.last->reply("after");
  reader.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->bytes, "after");
}

}  // namespace
}  // namespace bootrig
