// Tests for deadlines and the interruptible wait.
#include "bootrig/core/time.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "bootrig/core/interrupt.hpp"

namespace bootrig {
namespace {

TEST(Deadline, NeverNeverExpires) {
  auto d = Deadline::never();
  EXPECT_TRUE(d.is_never());
  EXPECT_FALSE(d.expired());
  EXPECT_EQ(d.remaining(), Duration::max());
}

TEST(Deadline, RemainingNeverNegative) {
  auto d = Deadline::at(now() - seconds(1));
  EXPECT_TRUE(d.expired());
  EXPECT_EQ(d.remaining(), Duration::zero());
  auto ts = d.remaining_timespec();
  EXPECT_EQ(ts.tv_sec, 0);
  EXPECT_EQ(ts.tv_nsec, 0);
}

TEST(Deadline, MinPicksTheEarlier) {
  auto a = Deadline::after(seconds(1));
  auto b = Deadline::after(seconds(5));
  EXPECT_EQ(a.min(b).when(), a.when());
  EXPECT_EQ(b.min(a).when(), a.when());
  EXPECT_EQ(Deadline::never().min(a).when(), a.when());
  EXPECT_EQ(a.min(Deadline::never()).when(), a.when());
}

TEST(Deadline, TimespecRoundTrip) {
  timespec ts{12, 345'678'901};
  EXPECT_EQ(to_ns(from_timespec(ts)), 12'345'678'901);
}

TEST(WaitUntil, ReturnsNoEarlierThanTheDeadline) {
  auto d = Deadline::after(milliseconds(20));
  wait_until(d);
  EXPECT_GE(now(), d.when());
}

TEST(WaitUntil, InterruptWakesAWaitAtOnce) {
  interrupt::clear();
  std::thread t([] {
    std::this_thread::sleep_for(milliseconds(20));
    interrupt::request(SIGINT);
  });
  // A never-ending wait that only the interruption can end: if it were ignored the test would hang
  // (and ctest's timeout would report it).
  EXPECT_THROW(wait_until(Deadline::never()), Interrupted);
  t.join();
  EXPECT_EQ(interrupt::signal_number(), SIGINT);
  interrupt::clear();
  EXPECT_FALSE(interrupt::requested());
}

}  // namespace
}  // namespace bootrig
