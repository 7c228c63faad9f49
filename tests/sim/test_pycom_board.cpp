// Behaviour-table tests (docs/simulator.md) for boot, safe boot, resets, LED and faults, driven only through
// the simulated module's wires and UART, as a rig drives a board.
#include "sim/pycom_board.hpp"

#include <gtest/gtest.h>

#include "sim/flash.hpp"
#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

void drain_led(SimRig& rig) {
  while (rig.next_led_edge(milliseconds(0))) {
  }
}

// LED edges of a safe-boot sequence after a reset. A reset can land while the heartbeat is lit (the
// WS2812 keeps its colour through the reset until the bootloader clears it); that falling edge is not
// part of the pattern and is skipped.
std::vector<LedEdge> safeboot_edges(SimRig& rig, std::size_t n, Duration timeout = seconds(10)) {
  std::vector<LedEdge> out;
  Deadline d = Deadline::after(timeout);
  while (out.size() < n) {
    auto e = rig.next_led_edge(d.remaining());
    if (!e) break;
    if (out.empty() && e->edge == Edge::falling) continue;
    out.push_back(*e);
  }
  return out;
}

// Holds P12, resets, waits for `edges` blink edges, releases P12, and returns the boot's UART text up to the
// prompt.
std::string safe_boot_releasing_after(SimRig& rig, std::size_t edges) {
  drain_led(rig);
  rig.skip_unread();
  rig.safeboot().set(Level::active);
  rig.press_reset();
  auto seen = safeboot_edges(rig, edges);
  EXPECT_EQ(seen.size(), edges);
  rig.safeboot().set(Level::inactive);
  auto text = rig.read_until(kBannerEnd);
  EXPECT_TRUE(text) << rig.transcript();
  return text.value_or("");
}

std::string banner_version(const std::string& text) {
  auto at = text.rfind("Pycom MicroPython ");
  if (at == std::string::npos) return {};
  at += 18;
  return text.substr(at, text.find(' ', at) - at);
}

// ---- UART lines and boot order ----

TEST(PycomBoard, U1_R1_PowerUpPrintsRomLinesThenBanner) {
  SimRig rig;
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  auto rom = text->find("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n");
  auto banner = text->find("Pycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32\r\n");
  ASSERT_NE(rom, std::string::npos);
  ASSERT_NE(banner, std::string::npos);
  EXPECT_LT(rom, banner);
  EXPECT_EQ(run(rig, "import machine\nprint(machine.reset_cause())\n"), "0\r\n");
}

TEST(PycomBoard, U2_BootloaderLogIsSilent) {
  SimRig rig;
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  auto entry = text->find("entry 0x");
  auto banner = text->find("Pycom MicroPython");
  ASSERT_NE(entry, std::string::npos);
  // Between the ROM's last line and the banner, nothing: no "I (123) boot:" log lines.
  EXPECT_EQ(text->substr(text->find("\r\n", entry) + 2, banner - text->find("\r\n", entry) - 2), "");
  EXPECT_EQ(text->find("I ("), std::string::npos);
}

TEST(PycomBoard, P3_R1_ResetPinGivesPowerOnReset) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.press_reset();
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"), std::string::npos);
  EXPECT_EQ(run(rig, "import machine\nprint(machine.reset_cause() == machine.PWRON_RESET)\n"), "True\r\n");
}

TEST(PycomBoard, U1_R2_MachineResetIsAWatchdogReset) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send_line("import machine; machine.reset()");
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text) << rig.transcript();
  EXPECT_NE(text->find("rst:0x7 (TG0WDT_SYS_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)"), std::string::npos);
  EXPECT_EQ(run(rig, "import machine\nprint(machine.reset_cause(), machine.WDT_RESET, machine.HARD_RESET)\n"),
            "2 2 1\r\n");
}

TEST(PycomBoard, R5_ResetCauseConstants) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(run(rig,
                "import machine as m\nprint(m.PWRON_RESET, m.HARD_RESET, m.WDT_RESET, m.DEEPSLEEP_RESET, "
                "m.SOFT_RESET, m.BROWN_OUT_RESET)\n"),
            "0 1 2 3 4 5\r\n");
}

TEST(PycomBoard, U3_MissingDefaultsAreRecreatedOnEveryBoot) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(run(rig,
                "import os\nprint(sorted(os.listdir('/flash')))\nprint(repr(open('/flash/boot.py').read()))\n"
                "print(repr(open('/flash/main.py').read()))\n"),
            "['boot.py', 'cert', 'lib', 'main.py', 'sys']\r\n'# boot.py -- run on boot-up\\r\\n'\r\n"
            "'# main.py -- put your code here!\\r\\n'\r\n");
  run(rig, "import os\nos.remove('/flash/boot.py')\nos.remove('/flash/main.py')\nos.rmdir('/flash/cert')\n");
  rig.send("\x04");  // soft reset at the empty prompt
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig, "import os\nprint(sorted(os.listdir('/flash')))\n"),
            "['boot.py', 'cert', 'lib', 'main.py', 'sys']\r\n");
  run(rig, "import os\nos.remove('/flash/main.py')\n");
  rig.press_reset();
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig, "import os\nprint('main.py' in os.listdir('/flash'))\n"), "True\r\n");
}

TEST(PycomBoard, U3_BootPyThenMainPyThenBanner) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  rig.press_reset();
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  auto boot = text->find(std::string(kBootMarker) + "\r\n");
  auto main = text->find(std::string(kMainMarker) + "\r\n");
  auto banner = text->find("Pycom MicroPython");
  ASSERT_NE(boot, std::string::npos);
  ASSERT_NE(main, std::string::npos);
  EXPECT_LT(boot, main);
  EXPECT_LT(main, banner);
  EXPECT_EQ(run(rig, "import os\nprint(sorted(os.listdir('/flash')))\n"),
            "['boot.py', 'bootrig_boot.txt', 'bootrig_main.txt', 'cert', 'lib', 'main.py', 'sys']\r\n");
}

TEST(PycomBoard, U4_BootPyExceptionPrintsTracebackAndMainStillRuns) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  write_file(rig, "/flash/boot.py", "print('before')\nundefined_name\n");
  write_file(rig, "/flash/main.py", evidence_script(kMainMarker, "bootrig_main.txt"));
  rig.press_reset();
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(
      text->find("before\r\nTraceback (most recent call last):\r\n  File \"boot.py\", line 2, in <module>\r\n"
                 "NameError: name 'undefined_name' is not defined\r\n" +
                 std::string(kMainMarker)),
      std::string::npos)
      << *text;
}

TEST(PycomBoard, U4_AFailingScriptPausesTheHeartbeat) {
  // A heartbeat that stays dark for a minute after each blink: any blink within seconds of the failure can
  // only be the heartbeat restarting after mperror_signal_error's pause. Its blinks last 5 s, so that the
  // failure always falls inside the first one, however slow the host.
  SimConfig c = fast_sim();
  c.timing.heartbeat_off = milliseconds(60000);
  c.timing.heartbeat_on = milliseconds(5000);
  const FirmwareTiming& t = c.timing;
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  write_file(rig, "/flash/boot.py", "raise ValueError('boom')\n");
  write_file(rig, "/flash/main.py", evidence_script(kMainMarker, "bootrig_main.txt"));
  drain_led(rig);
  rig.module().clear_led_history();
  rig.press_reset();
  // mperror_signal_error runs on the MicroPython task: main.py starts only after the pause.
  ASSERT_TRUE(rig.read_until("ValueError: boom\r\n"));
  ASSERT_TRUE(rig.read_until(kMainMarker));
  // The photodiode's edges carry the firmware's own times: the app's first blink, then (boot.py failed)
  // the LED held dark for error_duration, then the heartbeat again. No red: see docs/simulator.md.
  // (The reset may first put out an LED still lit by the previous boot's long blink: that edge is not
  // this boot's.)
  auto e = rig.led_edges(3, seconds(10));
  if (!e.empty() && e[0].edge == Edge::falling) {
    auto more = rig.led_edges(1, seconds(10));
    e.erase(e.begin());
    e.insert(e.end(), more.begin(), more.end());
  }
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].edge, Edge::rising);
  EXPECT_EQ(e[1].edge, Edge::falling);
  EXPECT_EQ(e[2].edge, Edge::rising);
  // The first blink starts with the app and (5 s long here, so even an interpreter under qemu-user or on a
  // loaded host fails boot.py within it) is cut short by the failure; the pause is error_duration to the
  // millisecond on the firmware's own schedule.
  EXPECT_LT(e[1].time - e[0].time, t.heartbeat_on);
  EXPECT_EQ(e[2].time - e[1].time, t.error_duration);
  for (const auto& change : rig.module().led_history()) EXPECT_NE(change.colour, 0x500000u);
}

TEST(PycomBoard, U5_BannerAndUnameCarryTheRunningImage) {
  SimConfig c;
  c.board = "LoPy4";
  c.factory_version = "1.20.2.r7";
  SimRig rig(c);
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("Pycom MicroPython 1.20.2.r7 [v1.11-a5aa0b8] on 2021-01-12; LoPy4 with ESP32\r\n"
                       "Type \"help()\" for more information.\r\n>>> "),
            std::string::npos);
  EXPECT_EQ(run(rig, "import os\nprint(os.uname())\n"),
            "(sysname='LoPy4', nodename='LoPy4', release='1.20.2.r7', version='v1.11-a5aa0b8 on 2021-01-12', "
            "machine='LoPy4 with ESP32')\r\n");
}

// ---- safe boot ----

TEST(SafeBoot, S1_P12LowIsANormalBootWithoutBlinking) {
  SimRig rig(ota_active());
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  drain_led(rig);
  rig.press_reset();
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find(kBootMarker), std::string::npos);
  // The only LED activity is the heartbeat, which starts with the app: no blink pattern of 100 ms periods.
  auto edges = rig.led_edges(3, milliseconds(300));
  for (std::size_t i = 1; i < edges.size(); ++i)
    EXPECT_FALSE(edges[i].edge == Edge::rising && edges[i].time - edges[i - 1].time < milliseconds(300));
}

TEST(SafeBoot, S1_ReleasedBeforeTheRecheckIsANormalBoot) {
  SimConfig c = fast_sim(ota_active());
  c.timing.safeboot_recheck = milliseconds(3000);  // room to release between the two reads
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  drain_led(rig);
  rig.safeboot().set(Level::active);
  rig.press_reset();
  ASSERT_TRUE(rig.read_until("entry 0x"));  // ROM done: the bootloader reads P12 within milliseconds
  wait_for(milliseconds(1000));             // well inside the 3 s re-check wait
  rig.safeboot().set(Level::inactive);
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find(kBootMarker), std::string::npos) << "scripts run: the re-check saw P12 low";
  EXPECT_EQ(banner_version(*text), "1.20.2.r6");
  EXPECT_EQ(run(rig, "import pycom\nprint(pycom.bootmgr()[2])\n"), "SafeBoot: False\r\n");
}

TEST(SafeBoot, S2_Window1Blinks500msPeriodDimOrangeStartingOn) {
  SimRig rig(ota_active(), fast_timing(), kFastBaud, false);
  rig.safeboot().set(Level::active);  // held from power-up
  rig.start();
  auto e = safeboot_edges(rig, 6);
  ASSERT_EQ(e.size(), 6u);
  for (std::size_t i = 0; i < e.size(); ++i) EXPECT_EQ(e[i].edge, i % 2 == 0 ? Edge::rising : Edge::falling);
  for (std::size_t i = 1; i < e.size(); ++i) EXPECT_EQ(e[i].time - e[i - 1].time, rig.timing().window1_toggle);
  bool orange = false;
  for (const auto& c : rig.module().led_history()) orange |= c.colour == 0x2C1200;
  EXPECT_TRUE(orange);
}

TEST(SafeBoot, S3_Window2BlinksFasterAndChoosesThePreviousImage) {
  SimRig rig(ota_active());
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  drain_led(rig);
  rig.skip_unread();
  rig.safeboot().set(Level::active);
  rig.press_reset();
  // Window 1 is exactly six toggles; the seventh edge is the first of window 2.
  auto e = safeboot_edges(rig, 9);
  ASSERT_EQ(e.size(), 9u);
  rig.safeboot().set(Level::inactive);
  EXPECT_EQ(e[6].time - e[5].time, rig.timing().window1_toggle);
  EXPECT_EQ(e[7].time - e[6].time, rig.timing().window2_toggle);  // 50 ms toggles after 100 ms ones
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_EQ(banner_version(*text), "1.20.2.r4") << "previous image (factory slot)";
  EXPECT_EQ(text->find(kBootMarker), std::string::npos);
  EXPECT_EQ(text->find(kMainMarker), std::string::npos);
}

TEST(SafeBoot, S4_HeldPastWindow2BootsFactoryAfterAForced1500msBlink) {
  SimRig rig(factory_active_prev_ota(), fast_timing(), kFastBaud, false);
  rig.safeboot().set(Level::active);
  rig.start();
  // 6 (window 1) + 12 (window 2) toggles, then the forced phase: released right at its start, it still
  // runs its 15 toggles, and the LED is turned off at the end.
  auto e = safeboot_edges(rig, 19);
  ASSERT_EQ(e.size(), 19u);
  rig.safeboot().set(Level::inactive);
  auto rest = rig.led_edges(15, seconds(5));
  ASSERT_EQ(rest.size(), 15u);
  EXPECT_EQ(rest.back().edge, Edge::falling);
  EXPECT_EQ(rest.back().time - e.back().time, 15 * rig.timing().final_toggle);  // whatever the pin did
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_EQ(banner_version(*text), "1.20.2.r6") << "factory slot";
}

TEST(SafeBoot, S5_S7_ReleaseInWindow1KeepsTheImageAndSkipsScripts) {
  SimRig rig(ota_active());
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  auto text = safe_boot_releasing_after(rig, 2);
  EXPECT_EQ(banner_version(text), "1.20.2.r6");
  EXPECT_EQ(text.find(kBootMarker), std::string::npos);
  EXPECT_EQ(text.find(kMainMarker), std::string::npos);
  EXPECT_EQ(
      run(rig, "import os, pycom\nprint('bootrig_boot.txt' in os.listdir('/flash'), pycom.bootmgr()[2])\n"),
      "False SafeBoot: True\r\n");
}

TEST(SafeBoot, S5_LedIsOffWhenTheAppStarts) {
  SimRig rig(ota_active());
  ASSERT_TRUE(rig.wait_banner());
  ASSERT_FALSE(safe_boot_releasing_after(rig, 3).empty());
  // Released after an "on" edge: the bootloader turns the LED off before handing over.
  bool off_before_heartbeat = false;
  auto h = rig.module().led_history();
  for (std::size_t i = 1; i < h.size(); ++i)
    if (h[i].colour == 0x000050 && h[i - 1].colour == 0) off_before_heartbeat = true;
  EXPECT_TRUE(off_before_heartbeat);
}

TEST(SafeBoot, S6_ReleaseIsNoticedOnlyAtTheNextIteration) {
  SimRig rig(ota_active());
  ASSERT_TRUE(rig.wait_banner());
  drain_led(rig);
  rig.safeboot().set(Level::active);
  rig.press_reset();
  auto e = safeboot_edges(rig, 1);
  ASSERT_EQ(e.size(), 1u);
  ASSERT_EQ(e[0].edge, Edge::rising);
  rig.safeboot().set(Level::inactive);  // released just after the LED came on
  auto off = rig.next_led_edge(seconds(5));
  ASSERT_TRUE(off);
  EXPECT_EQ(off->edge, Edge::falling);
  // The pin is read at the start of the next 100 ms iteration, not at once.
  EXPECT_EQ(off->time - e[0].time, rig.timing().window1_toggle);
}

TEST(SafeBoot, S7_ReleaseInWindow2BootsThePreviousImage) {
  SimRig rig(factory_active_prev_ota());
  ASSERT_TRUE(rig.wait_banner());
  auto text = safe_boot_releasing_after(rig, 7);
  EXPECT_EQ(banner_version(text), "1.20.2.r4") << "ota_0 holds the previous image here";
  EXPECT_EQ(run(rig, "import pycom\nprint(pycom.bootmgr())\n"),
            "('Factory', 'LittleFS', 'SafeBoot: True', 'Status: Ready')\r\n")
      << "the choice is not written back: boot_info still names the factory slot";
}

TEST(SafeBoot, S8_ImageChoiceIsNotPersistent) {
  SimRig rig(ota_active());
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  auto text = safe_boot_releasing_after(rig, 8);
  EXPECT_EQ(banner_version(text), "1.20.2.r4");
  rig.press_reset();  // P12 low now
  auto next = rig.read_until(kBannerEnd);
  ASSERT_TRUE(next);
  EXPECT_EQ(banner_version(*next), "1.20.2.r6");
  EXPECT_NE(next->find(kBootMarker), std::string::npos);
  EXPECT_EQ(run(rig, "import pycom\nprint(pycom.bootmgr())\n"),
            "('ota_0', 'LittleFS', 'SafeBoot: False', 'Status: Ready')\r\n");
}

// ---- software safe boot, boot_info ----

TEST(SafeBoot, I4_BootmgrSafebootGivesExactlyOneSafeBoot) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  rig.send_line("import pycom; pycom.bootmgr(safeboot=True, reset=True)");
  auto first = rig.read_until(kBannerEnd);
  ASSERT_TRUE(first);
  EXPECT_NE(first->find("rst:0x7 (TG0WDT_SYS_RESET)"), std::string::npos);
  EXPECT_EQ(first->find(kBootMarker), std::string::npos) << "the software safe boot skips the scripts";
  rig.press_reset();
  auto second = rig.read_until(kBannerEnd);
  ASSERT_TRUE(second);
  EXPECT_NE(second->find(kBootMarker), std::string::npos) << "and only once";
}

TEST(SafeBoot, I4_BootmgrWithoutResetOnlySetsTheFlag) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(run(rig, "import pycom\npycom.bootmgr(safeboot=True)\nprint(pycom.bootmgr()[2])\n"),
            "SafeBoot: True\r\n");
  auto r = rig.exec_raw("import pycom\npycom.bootmgr(safeboot=True)\n");
  EXPECT_NE(r.error.find("ValueError: Error safeboot must be True or False!"), std::string::npos);
}

TEST(SafeBoot, I4_CtrlFOnABlankLineSafeBoots) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  rig.skip_unread();
  rig.send("\x06");
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("rst:0x7 (TG0WDT_SYS_RESET)"), std::string::npos);
  EXPECT_EQ(text->find(kBootMarker), std::string::npos);
  EXPECT_EQ(run(rig, "import pycom\nprint(pycom.bootmgr()[2])\n"), "SafeBoot: True\r\n");
}

TEST(SafeBoot, I4_CtrlFWhileCodeRunsSafeBootsToo) {
  // machuart.c's receive callback acts on the reset character whatever runs: a Ctrl-F byte in the middle of a
  // running program (or of data a program reads from stdin) resets the module into safe boot.
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  rig.skip_unread();
  rig.send_line("import time; time.sleep(30)");
  rig.send("\x06");
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("rst:0x7 (TG0WDT_SYS_RESET)"), std::string::npos);
  EXPECT_EQ(text->find(kBootMarker), std::string::npos) << "a safe boot: boot.py skipped";
}

TEST(SafeBoot, I4_CtrlFIsDataOnTheUpstreamProfile) {
  SimConfig c;
  c.profile = "upstream";
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  rig.skip_unread();
  rig.send_line("import time; time.sleep(0.2)");
  rig.send("\x06");
  rig.read_quiet(milliseconds(500));
  EXPECT_EQ(rig.module().status().hard_boots, 1) << "no reset";
}

TEST(SafeBoot, I3_BootmgrTupleNamesTheActiveSlot) {
  SimRig rig(ota_active());
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(run(rig, "import pycom\nprint(pycom.bootmgr())\n"),
            "('ota_0', 'LittleFS', 'SafeBoot: False', 'Status: Ready')\r\n");
}

TEST(SafeBoot, I5_SwitchingToAnEmptySlotRollsBack) {
  SimRig rig;  // ota_0 holds nothing
  ASSERT_TRUE(rig.wait_banner());
  rig.send_line("import pycom; pycom.bootmgr(boot_partition=pycom.OTA_0)");
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find(
                "Cannot load Firmware img in the active partition! .. Defaulting back to previous partition"),
            std::string::npos);
  EXPECT_EQ(banner_version(*text), "1.20.2.r4");
  EXPECT_EQ(run(rig, "import pycom\nprint(pycom.bootmgr())\n"),
            "('Factory', 'LittleFS', 'SafeBoot: False', 'Status: Ready')\r\n");
}

TEST(BootInfo, I2_EncodesFieldsLittleEndianWithCrc) {
  sim::BootInfo bi;
  bi.active_img = 1;
  bi.status = sim::BootInfo::kStatusCheck;
  bi.prev_img = 0;
  bi.size = 0x123456;
  bi.safeboot = 1;
  bi.signature.fill(0xFF);
  bi.crc = bi.compute_crc();
  auto raw = bi.encode();
  EXPECT_EQ(raw[0], 1);
  EXPECT_EQ(raw[4], 0);
  EXPECT_EQ(raw[12], 0x56);
  EXPECT_EQ(raw[13], 0x34);
  EXPECT_EQ(raw[14], 0x12);
  EXPECT_EQ(raw[16], 1);
  EXPECT_EQ(raw[20], 0xFF);
  auto back = sim::BootInfo::decode(raw);
  EXPECT_TRUE(back.valid());
  EXPECT_EQ(back.size, 0x123456u);
  raw[13] ^= 1;
  EXPECT_FALSE(sim::BootInfo::decode(raw).valid());
  sim::BootInfo erased = sim::BootInfo::decode(std::array<std::uint8_t, 40>{});
  erased.status = 0xFFFFFFFFu;
  erased.crc = erased.compute_crc();
  EXPECT_FALSE(erased.valid()) << "Status 0xFFFFFFFF is invalid even with a matching CRC";
  // The ROM's crc32_le(crc, ...) inverts on the way in and out: seeded with 0 it is the zlib CRC-32, and
  // boot_info seeds it with 0xFFFFFFFF.
  const std::uint8_t check[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  EXPECT_EQ(sim::crc32_le(0, check, sizeof check), 0xCBF43926u);
  EXPECT_EQ(sim::crc32_le(0xFFFFFFFFu, check, sizeof check), 0xD202D277u);
}

// ---- heartbeat and LED ----

TEST(Heartbeat, U7_BlinksShortlyOnceAPeriodInDimBlue) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  drain_led(rig);
  auto e = rig.led_edges(5, seconds(5));
  ASSERT_EQ(e.size(), 5u);
  std::size_t r = e[0].edge == Edge::rising ? 0 : 1;
  // The photodiode's edges carry the firmware's times, so a loaded host does not bend the pattern.
  EXPECT_EQ(e[r + 1].edge, Edge::falling);
  EXPECT_EQ(e[r + 1].time - e[r].time, rig.timing().heartbeat_on);
  EXPECT_EQ(e[r + 2].time - e[r].time, rig.timing().heartbeat_on + rig.timing().heartbeat_off);
  for (std::size_t i = 1; i < e.size(); ++i) EXPECT_GT(e[i].time, e[i - 1].time) << "monotonic timestamps";
  for (const auto& c : rig.module().led_history()) EXPECT_TRUE(c.colour == 0 || c.colour == 0x000050);
}

TEST(Heartbeat, U7_HeartbeatOffStopsItAndRgbledNeedsItOff) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  auto r = rig.exec_raw("import pycom\npycom.rgbled(0xff0000)\n");
  EXPECT_NE(r.error.find("OSError: the requested operation is not possible"), std::string::npos);
  EXPECT_EQ(run(rig, "import pycom\npycom.heartbeat(False)\nprint(pycom.heartbeat())\n"), "False\r\n");
  drain_led(rig);
  EXPECT_FALSE(rig.next_led_edge(milliseconds(1000))) << "no heartbeat any more";
  EXPECT_EQ(rig.led().get(), Level::inactive);
  run(rig, "import pycom\npycom.rgbled(0x001000)\n");
  auto e = rig.next_led_edge(seconds(2));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->edge, Edge::rising);
  EXPECT_EQ(rig.module().led(), 0x001000u);
}

// ---- soft reset ----

TEST(SoftReset, R3_CtrlDClearsNamesRerunsScriptsKeepsTheRtc) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  ASSERT_TRUE(rig.eval_line("marker = 42"));
  ASSERT_TRUE(rig.eval_line("import machine; machine.RTC().init((2024, 5, 6, 7, 8, 9, 0, 0))"));
  rig.skip_unread();
  rig.send("\x04");
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("PYB: soft reboot\r\n"), std::string::npos);
  EXPECT_NE(text->find(kBootMarker), std::string::npos);
  EXPECT_NE(text->find(kMainMarker), std::string::npos);
  EXPECT_EQ(text->find("rst:"), std::string::npos) << "no ROM lines on a soft reset";
  auto v = rig.eval_line("marker");
  ASSERT_TRUE(v);
  EXPECT_NE(v->find("NameError: name 'marker' is not defined"), std::string::npos);
  EXPECT_EQ(run(rig, "import machine\nprint(machine.reset_cause(), machine.RTC().now()[0:3])\n"),
            "4 (2024, 5, 6)\r\n");
  // A hard reset re-initialises the RTC.
  rig.press_reset();
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(run(rig, "import machine\nprint(machine.RTC().now()[0:3])\n"), "(1970, 1, 1)\r\n");
}

TEST(SoftReset, R3_SafeBootFlagLastsAcrossSoftResets) {
  SimRig rig(ota_active());
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  ASSERT_FALSE(safe_boot_releasing_after(rig, 2).empty());
  rig.send("\x04");
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("PYB: soft reboot"), std::string::npos);
  EXPECT_EQ(text->find(kBootMarker), std::string::npos) << "still a safe boot after Ctrl-D";
}

TEST(SoftReset, R3_CtrlDInRawReplSoftResetsAndStaysRaw) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  rig.send("\r\x01");
  ASSERT_TRUE(rig.read_until("raw REPL; CTRL-B to exit\r\n>"));
  rig.send("\x04");
  auto text = rig.read_until("raw REPL; CTRL-B to exit\r\n>");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->substr(0, 4), "OK\r\n");
  EXPECT_NE(text->find("PYB: soft reboot\r\n"), std::string::npos);
  EXPECT_NE(text->find(kBootMarker), std::string::npos);
  // pyexec_mode_kind survives the soft reset: main.py only runs in the friendly REPL (firmware mptask.c).
  EXPECT_EQ(text->find(kMainMarker), std::string::npos);
  EXPECT_EQ(text->find("Pycom MicroPython"), std::string::npos);
}

TEST(SoftReset, R4_SysExitSoftResetsAsTheDocumentSays) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send_line("import sys; sys.exit()");
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("PYB: soft reboot\r\n"), std::string::npos);
}

TEST(SoftReset, R4_SysExitQuirkOfFirmware120) {
  SimConfig c;
  c.sys_exit_quirk = true;
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  auto out = rig.eval_line("import sys; sys.exit()");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "") << "at the REPL it just returns";
  write_file(rig, "/flash/main.py", "import sys\nprint('main start')\nsys.exit()\nprint('not reached')\n");
  rig.send("\x04");
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("main start\r\nPycom MicroPython"), std::string::npos) << *text;
  EXPECT_EQ(text->find("not reached"), std::string::npos);
  EXPECT_EQ(text->find("PYB: soft reboot", text->find("main start")), std::string::npos);
}

TEST(SoftReset, R6_UpstreamProfilePrintsMpySoftReboot) {
  SimConfig c;
  c.profile = "upstream";
  SimRig rig(c);
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("MicroPython v1.20.2.r4 on 2021-01-12; FiPy with ESP32\r\n"), std::string::npos);
  rig.send("\x04");
  auto again = rig.read_until(kBannerEnd);
  ASSERT_TRUE(again);
  EXPECT_NE(again->find("MPY: soft reboot\r\n"), std::string::npos);
}

// ---- download mode ----

// Answers "got:" once, then echoes every byte: the UART hands bytes over as they arrive, so on a loaded host
// "\xc0sync" can reach the handler in several pieces, and the echo must read the same however it was split.
class EchoLoader final : public SimDownloadHandler {
 public:
  void received(std::string_view bytes, const std::function<void(std::string_view)>& reply) override {
    reply(greeted_ ? std::string(bytes) : "got:" + std::string(bytes));
    greeted_ = true;
  }

 private:
  bool greeted_ = false;
};

TEST(DownloadMode, U1_P2HeldLowThroughResetEntersTheRomLoader) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.module().set_download_handler(std::make_shared<EchoLoader>());
  rig.bootloader().set(Level::active);
  rig.press_reset();
  auto text = rig.read_until("waiting for download\r\n");
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\n"
                       "waiting for download\r\n"),
            std::string::npos);
  rig.send("\xc0sync");
  EXPECT_TRUE(rig.read_until("got:\xc0sync")) << rig.transcript();
  EXPECT_FALSE(rig.read_until(">>> ", milliseconds(300))) << "no app in download mode";
  rig.bootloader().set(Level::inactive);
  rig.press_reset();
  EXPECT_TRUE(rig.read_until(kBannerEnd));
}

// ---- power ----

TEST(Power, R1_PowerCycleIsAFullBoot) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.power().set(Level::inactive);
  EXPECT_FALSE(rig.read_until(">>>", milliseconds(200)));
  EXPECT_EQ(rig.led().get(), Level::inactive);
  rig.skip_unread();
  rig.power().set(Level::active);
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("rst:0x1 (POWERON_RESET)"), std::string::npos);
}

// ---- faults ----

TEST(Faults, LedMissingBlinkLeavesAGapInWindow1) {
  SimConfig c = fast_sim(ota_active());
  c.faults.led_missing_blink = true;
  SimRig rig(c, fast_timing(), kFastBaud, false);
  rig.safeboot().set(Level::active);  // held from power-up
  rig.start();
  auto e = safeboot_edges(rig, 4);
  ASSERT_EQ(e.size(), 4u);
  // on, off, (the second blink stays dark), on, off: the gap is three toggles long.
  EXPECT_EQ(e[1].time - e[0].time, c.timing.window1_toggle);
  EXPECT_EQ(e[2].time - e[1].time, 3 * c.timing.window1_toggle);
  EXPECT_EQ(e[2].edge, Edge::rising);
}

TEST(Faults, LedPeriodPercentStretchesTheBlink) {
  SimConfig c = fast_sim(ota_active());
  c.faults.led_period_percent = 50;
  SimRig rig(c, fast_timing(), kFastBaud, false);
  rig.safeboot().set(Level::active);
  rig.start();
  auto e = safeboot_edges(rig, 3);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[1].time - e[0].time, c.timing.window1_toggle * 3 / 2);
}

TEST(Faults, LedStuckOffShowsNothing) {
  SimConfig c = fast_sim(ota_active());
  c.faults.led_stuck = "off";
  SimRig rig(c, fast_timing(), kFastBaud, false);
  rig.safeboot().set(Level::active);
  rig.start();
  EXPECT_TRUE(safeboot_edges(rig, 1, milliseconds(800)).empty());
}

TEST(Faults, HangInBootNeverReachesThePromptUntilSafeBoot) {
  SimConfig c;
  c.faults.hang_in_boot = true;
  SimRig rig(c);
  EXPECT_FALSE(rig.read_until(">>> ", milliseconds(800)));
  rig.send("\x03\x03");
  EXPECT_FALSE(rig.read_until(">>> ", milliseconds(500))) << "Ctrl-C does not break this hang";
  auto text = safe_boot_releasing_after(rig, 2);
  EXPECT_NE(text.find("Pycom MicroPython"), std::string::npos);
}

TEST(Faults, UartDisabledIsSilentAfterTheRomUntilSafeBoot) {
  SimConfig c;
  c.faults.uart_disabled = true;
  SimRig rig(c);
  ASSERT_TRUE(rig.read_until("entry 0x"));
  EXPECT_FALSE(rig.read_until("Pycom MicroPython", milliseconds(800)));
  rig.send("\r");
  EXPECT_FALSE(rig.read_until(">>> ", milliseconds(300)));
  auto text = safe_boot_releasing_after(rig, 2);
  EXPECT_NE(text.find("Pycom MicroPython"), std::string::npos);
}

TEST(Faults, GarbageAndDropsCorruptTheLine) {
  SimConfig noisy;
  noisy.faults.garbage_rate = 0.2;
  SimRig rig(noisy);
  std::string text = rig.read_quiet(milliseconds(300), seconds(3));
  EXPECT_GT(text.size(), 200u);
  EXPECT_EQ(text.find("Type \"help()\" for more information."), std::string::npos);
  SimConfig lossy;
  lossy.faults.drop_rate = 0.5;
  SimRig rig2(lossy);
  std::string text2 = rig2.read_quiet(milliseconds(300), seconds(3));
  EXPECT_GT(text2.size(), 50u);
  EXPECT_LT(text2.size(), 400u) << "about half of ~480 bytes of ROM lines and banner";
}

TEST(Faults, SlowBootDelaysTheBanner) {
  SimConfig c;
  c.faults.boot_delay = milliseconds(1200);
  SimRig rig(c);
  ASSERT_TRUE(rig.read_until("entry 0x"));
  TimePoint rom = now();
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_GE(now() - rom, milliseconds(1200));
}

TEST(Faults, JitteryBootStaysWithinItsBound) {
  SimConfig c;
  c.faults.boot_jitter = milliseconds(400);
  SimRig rig(c);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(rig.read_until("entry 0x"));
    TimePoint rom = now();
    ASSERT_TRUE(rig.read_until(kBannerEnd));
    EXPECT_LE(now() - rom, milliseconds(400) + seconds(3));
    rig.press_reset();
  }
}

TEST(Faults, PortVanishesAtResetAndComesBack) {
  SimConfig c;
  c.faults.port_vanishes = true;
  c.faults.port_gone = milliseconds(200);
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner()) << "the port appears with start(): the first boot is seen";
  rig.press_reset();
  // The rig's link reopens through the symlink once the new pty is there; what was sent meanwhile is lost.
  ASSERT_TRUE(rig.interrupt_to_prompt(seconds(10))) << rig.transcript();
  EXPECT_EQ(run(rig, "print(6 * 7)\n"), "42\r\n");
  EXPECT_EQ(rig.transcript().find("rst:0x1", rig.transcript().find("rst:0x1") + 1), std::string::npos)
      << "the second boot's ROM lines went out while the port was away";
}

TEST(Faults, RuleBreakScriptsRunInSafeBoot) {
  SimConfig c = ota_active();
  c.faults.scripts_in_safeboot = true;
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  auto text = safe_boot_releasing_after(rig, 2);
  EXPECT_NE(text.find(kBootMarker), std::string::npos);
}

TEST(Faults, RuleBreakWindow2KeepsTheImage) {
  SimConfig c = ota_active();
  c.faults.window2_keeps_image = true;
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  EXPECT_EQ(banner_version(safe_boot_releasing_after(rig, 8)), "1.20.2.r6");
}

TEST(Faults, RuleBreakSafeBootPersists) {
  SimConfig c = ota_active();
  c.faults.safeboot_persists = true;
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  install_evidence_scripts(rig);
  ASSERT_FALSE(safe_boot_releasing_after(rig, 2).empty());
  rig.press_reset();
  auto text = rig.read_until(kBannerEnd);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->find(kBootMarker), std::string::npos) << "scripts still skipped after a normal reset";
}

TEST(Faults, RuleBreakSoftResetKeepsNames) {
  SimConfig c;
  c.faults.soft_reset_keeps_names = true;
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  ASSERT_TRUE(rig.eval_line("marker = 42"));
  rig.send("\x04");
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(rig.eval_line("marker"), "42\r\n");
}

TEST(Faults, RuleBreakFormatKeepsFiles) {
  SimConfig c;
  c.faults.format_keeps_files = true;
  SimRig rig(c);
  ASSERT_TRUE(rig.wait_banner());
  write_file(rig, "/flash/user.txt", "x");
  EXPECT_EQ(run(rig, "import os\nos.fsformat('/flash')\nprint('user.txt' in os.listdir('/flash'))\n"),
            "True\r\n");
}

TEST(Faults, SetAtRunTimeThroughTheModule) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  SimFaults f = rig.module().faults();
  EXPECT_EQ(set_sim_fault(f, "soft_reset_keeps_names", "true"), "");
  rig.module().set_faults(f);
  ASSERT_TRUE(rig.eval_line("kept = 1"));
  rig.send("\x04");
  ASSERT_TRUE(rig.read_until(kBannerEnd));
  EXPECT_EQ(rig.eval_line("kept"), "1\r\n");
}

}  // namespace
}  // namespace bootrig::test
