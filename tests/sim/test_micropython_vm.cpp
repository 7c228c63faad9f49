// Tests for the interpreter's life on the chip's thread (src/sim/micropython_vm.cpp): modules side by side in
// one process keep their own interpreter state, and a reset throws an interpreter away mid-run.
#include "sim/micropython_vm.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

TEST(MicroPythonVm, TwoModulesRunSideBySideWithTheirOwnState) {
  SimRig a;
  SimConfig upstream;
  upstream.profile = "upstream";
  SimRig b(upstream);
  ASSERT_TRUE(a.wait_banner());
  ASSERT_TRUE(b.wait_banner());
  EXPECT_EQ(run(a, "x = 'a'\n"), "");
  EXPECT_EQ(run(b, "x = 'b'\n"), "");
  // One busy, one sleeping, at the same time.
  std::thread busy(
      [&] { EXPECT_EQ(run(a, "n = 0\nfor i in range(3000):\n    n += i\nprint(x, n)\n"), "a 4498500\r\n"); });
  EXPECT_EQ(run(b, "import time\ntime.sleep_ms(100)\nprint(x)\n"), "b\r\n");
  busy.join();
  EXPECT_EQ(a.eval_line("x"), "'a'\r\n");
  EXPECT_EQ(b.eval_line("x"), "'b'\r\n");
  auto err = a.exec_raw("undefined\n");
  EXPECT_NE(err.error.find("name 'undefined' is not defined"), std::string::npos) << "Pycom wording";
  err = b.exec_raw("undefined\n");
  EXPECT_NE(err.error.find("name 'undefined' isn't defined"), std::string::npos)
      << "MicroPython 1.25 wording";
}

TEST(MicroPythonVm, AResetInTheMiddleOfCodeStartsAFreshInterpreter) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.skip_unread();
  rig.send_line("big = [bytearray(1000) for _ in range(100)]; print('running'); import time; time.sleep(30)");
  ASSERT_TRUE(rig.read_until("running\r\n"));
  rig.press_reset();
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig, "print('big' in dir())\nimport gc\ngc.collect()\nprint(gc.mem_free() > 2000000)\n"),
            "False\r\nTrue\r\n");
}

}  // namespace
}  // namespace bootrig::test
