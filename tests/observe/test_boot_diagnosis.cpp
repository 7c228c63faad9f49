// Tests for naming a failed boot: panic loops with their count and period, reboot loops, hangs before and
// after the banner, a silent UART told apart from a hang by the LED, and a healthy boot.
#include "bootrig/observe/boot_diagnosis.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bootrig {
namespace {

constexpr char kDiagRom1[] =
    "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
    "configsip: 0, SPIWP:0xee\r\nmode:DIO, clock div:1\r\nentry 0x4009f6c4\r\n";
constexpr char kDiagRomSw[] =
    "ets Jun  8 2016 00:22:57\r\n\r\nrst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
    "configsip: 0, SPIWP:0xee\r\nmode:DIO, clock div:1\r\nentry 0x4009f6c4\r\n";
constexpr char kDiagPanic[] =
    "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.\r\n"
    "Core 0 register dump:\r\nPC      : 0x400d3c5e  PS      : 0x00060f30  \r\n\r\n"
    "Backtrace: 0x400d3c5e:0x3ffbb2a0 0x400d1a29:0x3ffbb2c0\r\n\r\nRebooting...\r\n";
constexpr char kDiagBanner[] =
    "Pycom MicroPython 1.20.2.r7 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32\r\n";

// A boot fed piece by piece at the given times (ms after t0): the reader's events and its byte count.
struct DiagFed {
  std::vector<BootEvent> events;
  std::uint64_t bytes = 0;
};
DiagFed diag_feed(const std::vector<std::pair<int, std::string>>& pieces) {
  BootLogReader r;
  DiagFed f;
  for (const auto& [ms, text] : pieces) {
    auto ev = r.feed(text, TimePoint{} + milliseconds(ms));
    f.events.insert(f.events.end(), ev.begin(), ev.end());
  }
  f.bytes = r.bytes_seen();
  return f;
}

TimePoint diag_at(int ms) { return TimePoint{} + milliseconds(ms); }

LedSummary diag_led(std::vector<LedPattern> patterns) {
  std::vector<LedMeasurement> history;
  int t = 0;
  for (auto p : patterns) {
    LedMeasurement m;
    m.pattern = p;
    m.start = diag_at(t);
    t += 1000;
    m.end = diag_at(t);
    history.push_back(m);
  }
  LedMeasurement current;
  current.start = diag_at(t);
  return summarize_led(history, current, diag_at(0), diag_at(6000));
}

TEST(BootDiagnosis, APanicLoopIsNamedWithItsReasonCountAndPeriod) {
  std::vector<std::pair<int, std::string>> boot = {{0, kDiagRom1}, {500, kDiagPanic}};
  for (int k = 1; k <= 4; ++k) {
    boot.emplace_back(k * 520, kDiagRomSw);
    boot.emplace_back(k * 520 + 500, kDiagPanic);
  }
  DiagFed f = diag_feed(boot);
  BootDiagnosis d = diagnose_boot(f.events, f.bytes, diag_at(0), diag_at(3000), diag_led({LedPattern::dark}));
  EXPECT_EQ(d.failure, BootFailure::panic_loop);
  EXPECT_EQ(d.panic_reason, "LoadProhibited");
  EXPECT_EQ(d.panics, 5);
  EXPECT_EQ(d.resets, 5);
  EXPECT_EQ(d.self_resets, 4);
  ASSERT_TRUE(d.period);
  EXPECT_EQ(*d.period, milliseconds(520));
  EXPECT_EQ(d.backtrace_line, "Backtrace: 0x400d3c5e:0x3ffbb2a0 0x400d1a29:0x3ffbb2c0");
  EXPECT_EQ(d.describe().rfind(
                "panics at boot: LoadProhibited, reboots every 0.52 s (5 panics, 5 ROM reset lines", 0),
            0u)
      << d.describe();
  EXPECT_NE(d.describe().find("the heartbeat never starts (LED: dark)"), std::string::npos) << d.describe();
  EXPECT_EQ(d.to_json()["failure"], "panic-loop");
  EXPECT_EQ(d.to_json()["panic_reason"], "LoadProhibited");
}

TEST(BootDiagnosis, SoftwareResetsWithoutAPanicAreARebootLoop) {
  DiagFed f = diag_feed({{0, kDiagRom1}, {400, kDiagRomSw}, {800, kDiagRomSw}, {1200, kDiagRomSw}});
  BootDiagnosis d = diagnose_boot(f.events, f.bytes, diag_at(0), diag_at(1500), LedSummary{});
  EXPECT_EQ(d.failure, BootFailure::reboot_loop);
  EXPECT_EQ(d.self_resets, 3);
  ASSERT_TRUE(d.period);
  EXPECT_EQ(*d.period, milliseconds(400));
  EXPECT_NE(d.describe().find("reboots by itself without a panic message, reboots every 0.40 s"),
            std::string::npos)
      << d.describe();
}

TEST(BootDiagnosis, ABannerWithoutAPromptIsAHangAfterTheBanner) {
  DiagFed f = diag_feed({{0, kDiagRom1}, {500, kDiagBanner}});
  BootDiagnosis d = diagnose_boot(f.events, f.bytes, diag_at(0), diag_at(6000),
                                  diag_led({LedPattern::dark, LedPattern::heartbeat}));
  EXPECT_EQ(d.failure, BootFailure::hang_after_banner);
  EXPECT_NE(d.describe().find("hangs after its banner (1.20.2.r7)"), std::string::npos) << d.describe();
  EXPECT_NE(d.describe().find("the heartbeat LED runs"), std::string::npos) << d.describe();
}

TEST(BootDiagnosis, SilenceAfterTheRomIsToldApartByTheLed) {
  DiagFed f = diag_feed({{0, kDiagRom1}});
  // The heartbeat runs: the firmware is alive and its UART is not.
  EXPECT_EQ(diagnose_boot(f.events, f.bytes, diag_at(0), diag_at(6000),
                          diag_led({LedPattern::dark, LedPattern::heartbeat}))
                .failure,
            BootFailure::silent_uart);
  // The LED stays dark: the firmware stopped in its start-up.
  BootDiagnosis hang =
      diagnose_boot(f.events, f.bytes, diag_at(0), diag_at(6000), diag_led({LedPattern::dark}));
  EXPECT_EQ(hang.failure, BootFailure::hang_before_banner);
  EXPECT_NE(hang.describe().find("nothing on the UART after the ROM's lines"), std::string::npos)
      << hang.describe();
  // No photodiode: both remain possible, and the description says so.
  BootDiagnosis blind = diagnose_boot(f.events, f.bytes, diag_at(0), diag_at(6000), LedSummary{});
  EXPECT_EQ(blind.failure, BootFailure::silent_after_rom);
  EXPECT_NE(blind.describe().find("no photodiode"), std::string::npos);
}

TEST(BootDiagnosis, OutputAfterTheRomWithoutABannerIsAHangBeforeIt) {
  DiagFed f = diag_feed({{0, kDiagRom1}, {300, "I (312) wifi: wifi firmware version: 3.0\r\n"}});
  EXPECT_EQ(diagnose_boot(f.events, f.bytes, diag_at(0), diag_at(6000), LedSummary{}).failure,
            BootFailure::hang_before_banner);
}

TEST(BootDiagnosis, NothingAtAllIsSilentAndAPromptIsHealthy) {
  EXPECT_EQ(diagnose_boot({}, 0, diag_at(0), diag_at(6000), LedSummary{}).failure, BootFailure::silent);
  DiagFed f = diag_feed({{0, kDiagRom1}, {500, kDiagBanner}, {520, ">>> "}});
  BootDiagnosis ok = diagnose_boot(f.events, f.bytes, diag_at(0), diag_at(600), LedSummary{});
  EXPECT_EQ(ok.failure, BootFailure::none);
  EXPECT_FALSE(ok.failed());
}

TEST(BootDiagnosis, OnlyTheLastBootAfterAResetCountsForBannerAndPrompt) {
  // A prompt from before the chip reset itself says nothing about the boot after it.
  DiagFed f = diag_feed({{0, kDiagRom1}, {500, kDiagBanner}, {520, ">>> "}, {1000, kDiagRomSw}});
  EXPECT_EQ(diagnose_boot(f.events, f.bytes, diag_at(0), diag_at(6000), LedSummary{}).failure,
            BootFailure::silent_after_rom);
}

TEST(BootDiagnosis, LedSummaryKeepsOnlyTheWatchedSpans) {
  std::vector<LedMeasurement> h(2);
  h[0].pattern = LedPattern::heartbeat;
  h[0].start = diag_at(-9000);
  h[0].end = diag_at(-100);
  h[1].pattern = LedPattern::dark;
  h[1].start = diag_at(-100);
  h[1].end = diag_at(5000);
  LedMeasurement cur;
  cur.pattern = LedPattern::unknown;
  cur.start = diag_at(5000);
  LedSummary s = summarize_led(h, cur, diag_at(0), diag_at(6000));
  EXPECT_FALSE(s.heartbeat);  // the heartbeat of the boot before the reset
  EXPECT_EQ(s.patterns, "dark");
}

}  // namespace
}  // namespace bootrig
