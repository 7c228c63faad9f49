// Tests for umachine (src/sim/micropython/modmachine.c) on the simulated module: the watchdog and deep sleep
// reset it with their causes, Pin reads the wires the rig drives, Timer alarms run their handlers.
#include <gtest/gtest.h>

#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

TEST(Machine, AWatchdogThatIsNotFedResetsTheModuleWithTheWdtCause) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.skip_unread();
  rig.send_line("from machine import WDT; w = WDT(timeout=300); w.feed(); print('armed')");
  ASSERT_TRUE(rig.read_until("armed\r\n"));
  // Idle at the prompt nobody feeds it: the timer group's watchdog resets the chip.
  ASSERT_TRUE(rig.read_until("rst:0x7 (TG0WDT_SYS_RESET)", seconds(10))) << rig.transcript();
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig, "import machine\nprint(machine.reset_cause() == machine.WDT_RESET)\n"), "True\r\n");
}

TEST(Machine, AFedWatchdogLetsTheProgramRun) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(run(rig,
                "from machine import WDT\nimport time\nw = WDT(timeout=200)\nfor i in range(6):\n"
                "    time.sleep_ms(100)\n    w.feed()\nprint('fed', i)\n"),
            "fed 5\r\n");
  rig.press_reset();  // a hard reset stops the watchdog
  ASSERT_TRUE(rig.read_until(kBannerEnd));
}

TEST(Machine, DeepSleepEndsInABootWithTheDeepSleepCauseAndKeepsTheRtc) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.skip_unread();
  rig.send_line("import machine; machine.RTC().init((2030, 1, 2, 3, 4, 5, 0, 0)); machine.deepsleep(200)");
  ASSERT_TRUE(rig.read_until("rst:0x5 (DEEPSLEEP_RESET)", seconds(10))) << rig.transcript();
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig,
                "import machine\nprint(machine.reset_cause() == machine.DEEPSLEEP_RESET,"
                " machine.wake_reason()[0] == machine.RTC_WAKE, machine.RTC().now()[:3])\n"),
            "True True (2030, 1, 2)\r\n");
}

TEST(Machine, PinP12ReadsTheSafeBootWireTheRigDrives) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(run(rig, "from machine import Pin\np = Pin('P12', mode=Pin.IN)\nprint(p.value())\n"), "0\r\n");
  rig.safeboot().set(Level::active);
  EXPECT_EQ(run(rig, "print(p(), Pin('P2', mode=Pin.IN).value())\n"), "1 1\r\n");
  rig.safeboot().set(Level::inactive);
  EXPECT_EQ(run(rig, "print(p())\n"), "0\r\n");
  auto bad = rig.exec_raw("Pin('P99')\n");
  EXPECT_NE(bad.error.find("ValueError"), std::string::npos) << bad.error;
}

TEST(Machine, TimerAlarmsRunTheirHandlersWhileTheReplIsIdle) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.skip_unread();
  rig.send_line("from machine import Timer; a = Timer.Alarm(lambda al: print('tick'), ms=50, periodic=True)");
  ASSERT_TRUE(rig.read_until("tick\r\n", seconds(5))) << rig.transcript();
  ASSERT_TRUE(rig.read_until("tick\r\n", seconds(5))) << "periodic";
  rig.send_line("a.cancel()");
  ASSERT_TRUE(rig.read_until(">>> "));
}

}  // namespace
}  // namespace bootrig::test
