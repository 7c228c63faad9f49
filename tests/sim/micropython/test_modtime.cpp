// Tests for utime (src/sim/micropython/modtime.c): ticks, sleeps that block without spinning and end on
// Ctrl-C, module time for busy code, and the RTC's wall time.
#include <gtest/gtest.h>

#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

TEST(FirmwareModules, TimeAndTicks) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(
      run(rig,
          "import time\nt0 = time.ticks_ms()\ntime.sleep_ms(120)\nd = time.ticks_diff(time.ticks_ms(), t0)\n"
          "print(d >= 120, d < 5000)\n"),
      "True True\r\n");
}

TEST(FirmwareModules, BusyLoopsTakeModuleTimeNotHostTime) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  // 20000 loop iterations: at ~12 us each on an ESP32 that is about 0.24 s.
  EXPECT_EQ(run(rig,
                "import time\nt0 = time.ticks_ms()\nn = 0\nfor i in range(20000):\n    n += i\n"
                "print(n, time.ticks_diff(time.ticks_ms(), t0) >= 200)\n"),
            "199990000 True\r\n");
}

TEST(Time, CtrlCEndsALongSleepAtOnce) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send_line("import time; print('sleeping'); time.sleep(600)");
  ASSERT_TRUE(rig.read_until("sleeping\r\n"));
  rig.send("\x03");
  auto out = rig.read_until(">>> ", seconds(10));
  ASSERT_TRUE(out) << rig.transcript();
  EXPECT_NE(out->find("KeyboardInterrupt"), std::string::npos) << *out;
}

TEST(Time, LocaltimeFromTheRtcStartsIn1970AndFollowsRtcInit) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(run(rig, "import time\nprint(time.localtime()[:3], time.gmtime(86400 * 365)[:3])\n"),
            "(1970, 1, 1) (1971, 1, 1)\r\n");
  EXPECT_EQ(run(rig,
                "import machine, time\nmachine.RTC().init((2024, 2, 29, 23, 59, 58, 0, 0))\n"
                "t = time.time()\nprint(time.localtime(t)[:6], time.mktime(time.localtime(t)) == t)\n"),
            "(2024, 2, 29, 23, 59, 58) True\r\n");
}

}  // namespace
}  // namespace bootrig::test
