// Tests for the simulated module's rig-side wires: GPIO objects, the LED input, the UART link, fault names.
#include "bootrig/sim/sim_module.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <thread>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

TEST(SimModule, OutputsDescribeTheirPinAndKeepTheirLevel) {
  SimModule m(fast_sim(), kFastBaud);
  auto p12 = m.make_output(LineRole::safeboot, Level::active);
  EXPECT_EQ(p12->describe(), "safeboot (simulated P12)");
  EXPECT_EQ(p12->get(), Level::active);
  EXPECT_EQ(m.line(LineRole::safeboot), Level::active);
  p12->set(Level::inactive);
  EXPECT_EQ(m.line(LineRole::safeboot), Level::inactive);
  EXPECT_THROW(m.make_output(LineRole::led), RigError);
}

TEST(SimModule, ResetHeldBeforeStartKeepsTheModuleQuiet) {
  SimRig rig(SimConfig{}, fast_timing(), kFastBaud, false);
  rig.reset().set(Level::active);
  rig.start();
  EXPECT_FALSE(rig.read_until("ets", milliseconds(300)));
  EXPECT_EQ(rig.module().status().phase, SimPhase::in_reset);
  rig.reset().set(Level::inactive);
  EXPECT_TRUE(rig.wait_banner());
  EXPECT_EQ(rig.module().status().phase, SimPhase::repl);
}

TEST(SimModule, ADestroyedOutputReleasesItsPin) {
  SimModule m(fast_sim(), kFastBaud);
  auto hold = m.make_output(LineRole::reset, Level::active);
  m.start();
  EXPECT_TRUE(m.status().in_reset);
  hold.reset();
  EXPECT_FALSE(m.status().in_reset);
  Deadline d = Deadline::after(seconds(5));
  while (m.status().phase != SimPhase::repl && !d.expired()) wait_for(milliseconds(10));
  EXPECT_EQ(m.status().phase, SimPhase::repl);
  EXPECT_EQ(m.status().running_version, "1.20.2.r4");
  m.stop();
}

TEST(SimModule, LedInputSeesEdgesFromItsCreationAndTimesOut) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  run(rig, "import pycom\npycom.heartbeat(False)\n");
  auto led = rig.module().make_led_input();
  EXPECT_EQ(led->describe(), "led (simulated photodiode on the RGB LED)");
  EXPECT_FALSE(led->wait_event(Deadline::after(milliseconds(50))));
  TimePoint before = now();
  run(rig, "import pycom\npycom.rgbled(0x100000)\n");
  auto e = led->wait_event(Deadline::after(seconds(2)));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->edge, Edge::rising);
  EXPECT_GE(e->time, before);
  EXPECT_LE(e->time, now());
  EXPECT_EQ(led->get(), Level::active);
}

TEST(SimModule, InterruptionWakesALedWaitAtOnce) {
  SimModule dark(fast_sim(), kFastBaud);  // never started: the LED stays dark
  interrupt::clear();
  auto led = dark.make_led_input();
  std::thread t([] {
    std::this_thread::sleep_for(milliseconds(50));
    interrupt::request(SIGINT);
  });
  EXPECT_THROW(led->wait_event(Deadline::never()), Interrupted);
  t.join();
  interrupt::clear();
}

TEST(SimModule, UartPathIsALinkToThePty) {
  SimRig rig;
  std::filesystem::path p = rig.module().uart_path();
  EXPECT_TRUE(std::filesystem::is_symlink(p));
  EXPECT_EQ(std::filesystem::read_symlink(p).string(), rig.module().uart_device());
  EXPECT_EQ(rig.module().uart_device().rfind("/dev/pts/", 0), 0u);
  EXPECT_EQ(std::filesystem::status(p.parent_path()).permissions() & std::filesystem::perms::others_all,
            std::filesystem::perms::none);
}

TEST(SimModule, ImpossibleArrangementsAreRigErrors) {
  SimConfig c;
  c.active_slot = "ota_0";
  EXPECT_THROW(SimModule(c, kFastBaud), RigError);
  c = SimConfig{};
  c.board = "Fipy";
  EXPECT_THROW(SimModule(c, kFastBaud), RigError);
  c = SimConfig{};
  c.profile = "circuitpython";
  EXPECT_THROW(SimModule(c, kFastBaud), RigError);
}

TEST(SimModule, FaultNamesRoundTrip) {
  SimFaults f;
  ASSERT_FALSE(sim_fault_fields().empty());
  for (const auto& field : sim_fault_fields()) {
    std::string type = field.type;
    std::string value = type == "bool"      ? "true"
                        : type == "ratio"   ? "0.25"
                        : type == "choice"  ? (std::string(field.name).rfind("wire_", 0) == 0 ? "inverted" : "on")
                        : type == "percent" ? "-20"
                                            : "150";
    EXPECT_EQ(set_sim_fault(f, field.name, value), "") << field.name;
    EXPECT_EQ(get_sim_fault(f, field.name), value) << field.name;
  }
  EXPECT_TRUE(f.hang_in_boot);
  EXPECT_DOUBLE_EQ(f.drop_rate, 0.25);
  EXPECT_EQ(f.boot_delay, milliseconds(150));
  EXPECT_NE(set_sim_fault(f, "drop_rate", "2"), "");
  EXPECT_NE(set_sim_fault(f, "hang_in_boot", "maybe"), "");
  EXPECT_NE(set_sim_fault(f, "boot_delay", "-5"), "");
  EXPECT_NE(set_sim_fault(f, "no_such_fault", "1").find("faults: hang_in_boot"), std::string::npos);
}

TEST(SimModule, StatusNamesPhaseSlotAndBoots) {
  SimRig rig(ota_active());
  ASSERT_TRUE(rig.wait_banner());
  SimStatus s = rig.module().status();
  EXPECT_TRUE(s.powered);
  EXPECT_EQ(s.phase, SimPhase::repl);
  EXPECT_EQ(s.running_slot, "ota_0");
  EXPECT_EQ(s.running_version, "1.20.2.r6");
  EXPECT_EQ(s.hard_boots, 1);
  rig.send("\x04");
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(rig.module().status().soft_boots, 1);
  EXPECT_STREQ(to_string(SimPhase::safeboot_window2), "safeboot-window2");
}

}  // namespace
}  // namespace bootrig::test
