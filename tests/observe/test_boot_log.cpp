// Tests for the boot-log reader on captures of the module's serial output, whole and in pieces.
#include "bootrig/observe/boot_log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "bootrig/observe/timeline.hpp"

namespace bootrig {
namespace {

std::string capture(const std::string& name) {
  std::ifstream in(std::string(BOOTRIG_SOURCE_DIR) + "/tests/data/boot_logs/" + name, std::ios::binary);
  EXPECT_TRUE(in) << "missing capture " << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Feeds in pieces of the given sizes (cycled), one millisecond apart.
std::vector<BootEvent> read_in_pieces(const std::string& bytes, const std::vector<std::size_t>& sizes,
                                      TimePoint t0 = TimePoint{}) {
  BootLogReader r;
  std::vector<BootEvent> all;
  std::size_t off = 0, k = 0;
  TimePoint t = t0;
  while (off < bytes.size()) {
    std::size_t n = std::min(sizes[k++ % sizes.size()], bytes.size() - off);
    auto ev = r.feed(std::string_view(bytes).substr(off, n), t);
    all.insert(all.end(), ev.begin(), ev.end());
    off += n;
    t += milliseconds(1);
  }
  return all;
}

std::vector<BootEventKind> kinds(const std::vector<BootEvent>& ev) {
  std::vector<BootEventKind> k;
  for (const auto& e : ev) k.push_back(e.kind);
  return k;
}

TEST(BootLog, PowerOnCapture) {
  auto ev = read_in_pieces(capture("pycom_poweron.log"), {4096});
  ASSERT_EQ(kinds(ev), (std::vector<BootEventKind>{BootEventKind::rom_reset, BootEventKind::rom_entry,
                                                   BootEventKind::banner, BootEventKind::help_hint,
                                                   BootEventKind::prompt}));
  ev.erase(ev.begin() + 1);  // the ROM's entry line (checked below, in BootLog.Panic*): the rest by index
  ASSERT_TRUE(ev[0].rom);
  EXPECT_EQ(ev[0].rom->cause, 1);
  EXPECT_EQ(ev[0].rom->cause_name, "POWERON_RESET");
  EXPECT_EQ(ev[0].rom->boot_mode, 0x13);
  EXPECT_EQ(ev[0].rom->boot_mode_name, "SPI_FAST_FLASH_BOOT");
  ASSERT_TRUE(ev[1].banner);
  EXPECT_TRUE(ev[1].banner->pycom);
  EXPECT_EQ(ev[1].banner->version, "1.20.2.r4");
  EXPECT_EQ(ev[1].banner->git_tag, "v1.11-a5aa0b8");
  EXPECT_EQ(ev[1].banner->build_date, "2021-01-12");
  EXPECT_EQ(ev[1].banner->board, "FiPy");
  EXPECT_EQ(ev[1].banner->mcu, "ESP32");
  EXPECT_EQ(ev[3].text, ">>> ");
}

TEST(BootLog, WatchdogResetWithBootPyTraceback) {
  auto ev = read_in_pieces(capture("pycom_wdt_boot_traceback.log"), {4096});
  ASSERT_EQ(kinds(ev), (std::vector<BootEventKind>{BootEventKind::rom_reset, BootEventKind::rom_entry,
                                                   BootEventKind::traceback, BootEventKind::banner,
                                                   BootEventKind::help_hint, BootEventKind::prompt}));
  ev.erase(ev.begin() + 1);
  EXPECT_EQ(ev[0].rom->cause, 7);
  EXPECT_EQ(ev[0].rom->cause_name, "TG0WDT_SYS_RESET");
  ASSERT_TRUE(ev[1].exception);
  const auto& ex = *ev[1].exception;
  EXPECT_EQ(ex.type, "OSError");
  EXPECT_EQ(ex.message, "[Errno 113] EHOSTUNREACH");
  ASSERT_EQ(ex.traceback.size(), 2u);
  EXPECT_EQ(ex.traceback[0], (TracebackFrame{"boot.py", 7, "<module>"}));
  EXPECT_EQ(ex.traceback[1], (TracebackFrame{"/flash/lib/netcfg.py", 23, "connect"}));
}

TEST(BootLog, DownloadMode) {
  auto ev = read_in_pieces(capture("pycom_download_mode.log"), {4096});
  ASSERT_EQ(kinds(ev), (std::vector<BootEventKind>{BootEventKind::rom_reset, BootEventKind::download_wait}));
  EXPECT_EQ(ev[0].rom->boot_mode, 3);
  EXPECT_EQ(ev[0].rom->boot_mode_name, "DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2)");
}

TEST(BootLog, OtaFinishThenRollback) {
  auto ev = read_in_pieces(capture("pycom_ota_rollback.log"), {4096});
  ASSERT_EQ(kinds(ev), (std::vector<BootEventKind>{BootEventKind::prompt, BootEventKind::ota,
                                                   BootEventKind::prompt, BootEventKind::rom_reset,
                                                   BootEventKind::rom_entry, BootEventKind::rollback,
                                                   BootEventKind::banner, BootEventKind::help_hint,
                                                   BootEventKind::prompt}));
  EXPECT_EQ(ev[1].ota, OtaMessage::full_image);
  EXPECT_EQ(ev[3].rom->cause_name, "TG0WDT_SYS_RESET");
}

TEST(BootLog, SoftRebootBothFlavours) {
  auto pyb = read_in_pieces(capture("pycom_soft_reboot.log"), {4096});
  ASSERT_FALSE(pyb.empty());
  EXPECT_EQ(pyb[0].kind, BootEventKind::soft_reboot);
  EXPECT_EQ(pyb[0].soft_reboot_prefix, "PYB");
  auto mpy = read_in_pieces(capture("upstream_soft_reboot.log"), {4096});
  ASSERT_EQ(kinds(mpy), (std::vector<BootEventKind>{BootEventKind::soft_reboot, BootEventKind::banner,
                                                    BootEventKind::help_hint, BootEventKind::prompt}));
  EXPECT_EQ(mpy[0].soft_reboot_prefix, "MPY");
  EXPECT_FALSE(mpy[1].banner->pycom);
  EXPECT_EQ(mpy[1].banner->version, "v1.22.0");
  EXPECT_EQ(mpy[1].banner->git_tag, "");
  EXPECT_EQ(mpy[1].banner->board, "Generic ESP32 module");
}

TEST(BootLog, RawReplFramingDoesNotHideATraceback) {
  auto ev = read_in_pieces(capture("raw_repl_session.log"), {4096});
  ASSERT_EQ(kinds(ev), (std::vector<BootEventKind>{BootEventKind::raw_repl, BootEventKind::traceback,
                                                   BootEventKind::banner, BootEventKind::help_hint,
                                                   BootEventKind::prompt}));
  EXPECT_EQ(ev[1].exception->type, "ZeroDivisionError");
}

TEST(BootLog, EveryCaptureReadsTheSameInAnyPieces) {
  for (const char* name : {"pycom_poweron.log", "pycom_wdt_boot_traceback.log", "pycom_download_mode.log",
                           "pycom_ota_rollback.log", "pycom_soft_reboot.log", "upstream_soft_reboot.log",
                           "raw_repl_session.log"}) {
    std::string bytes = capture(name);
    auto whole = read_in_pieces(bytes, {1 << 20});
    std::mt19937 rng(42);
    std::vector<std::vector<std::size_t>> splits = {{1}, {2}, {3, 1, 7}, {13}};
    std::vector<std::size_t> random;
    for (int i = 0; i < 64; ++i) random.push_back(std::uniform_int_distribution<std::size_t>(1, 40)(rng));
    splits.push_back(random);
    for (const auto& sizes : splits) {
      auto pieces = read_in_pieces(bytes, sizes);
      ASSERT_EQ(pieces.size(), whole.size()) << name;
      for (std::size_t i = 0; i < whole.size(); ++i) {
        EXPECT_EQ(pieces[i].kind, whole[i].kind) << name;
        EXPECT_EQ(pieces[i].text, whole[i].text) << name;
        EXPECT_EQ(pieces[i].offset, whole[i].offset) << name;
        EXPECT_EQ(pieces[i].end_offset, whole[i].end_offset) << name;
      }
    }
  }
}

TEST(BootLog, TimestampsAreTheArrivalOfFirstAndLastByte) {
  std::string bytes = capture("pycom_poweron.log");
  TimePoint t0 = now();
  auto ev = read_in_pieces(bytes, {1}, t0);  // one byte per millisecond
  for (const auto& e : ev) {
    EXPECT_EQ(e.first_byte, t0 + milliseconds(static_cast<long>(e.offset))) << to_string(e.kind);
    EXPECT_EQ(e.time, t0 + milliseconds(static_cast<long>(e.end_offset - 1))) << to_string(e.kind);
    EXPECT_EQ(bytes.substr(e.offset, 4), e.text.substr(0, 4));
  }
}

TEST(BootLog, PromptIsReportedOncePerLineEvenWithEcho) {
  BootLogReader r;
  TimePoint t{};
  auto a = r.feed(">>> ", t);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].kind, BootEventKind::prompt);
  EXPECT_TRUE(r.feed("print(1)\r\n1\r\n", t).empty());
  auto b = r.feed(">>> x\r\n", t);  // a prompt and its echo arriving together
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].kind, BootEventKind::prompt);
}

TEST(BootLog, NearMissesAreNotEvents) {
  BootLogReader r;
  auto ev = r.feed(
      "rst:0xZZ (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
      "rst:0x1 (POWERON_RESET) boot:0x13\r\n"
      // No reset cause the ROM prints is that large (the fuzzer's find: 8 hex digits overflowed an int).
      "rst:0xaaaaaaaa (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
      "rst:0x1 (POWERON_RESET),boot:0xffffffff (SPI_FAST_FLASH_BOOT)\r\n"
      "MicroPython rocks\r\n"
      "MicroPython v1.22.0 on 2023-1-27; Generic ESP32 module with ESP32\r\n"
      "print('MPY: soft reboot')\r\n"
      "Pyb: soft reboot\r\n"
      "waiting for download now\r\n"
      "  Traceback (most recent call last):\r\n",
      TimePoint{});
  EXPECT_TRUE(ev.empty()) << to_string(ev.front().kind) << ": " << ev.front().text;
  // A bare "soft reboot" (some ports) and a banner without " with MCU" still count.
  auto ok = r.feed("soft reboot\r\nMicroPython v1.9.4 on 2018-05-11; linux version\r\n", TimePoint{});
  ASSERT_EQ(kinds(ok), (std::vector<BootEventKind>{BootEventKind::soft_reboot, BootEventKind::banner}));
  EXPECT_EQ(ok[0].soft_reboot_prefix, "");
  EXPECT_EQ(ok[1].banner->board, "linux version");
  EXPECT_EQ(ok[1].banner->mcu, "");
}

TEST(BootLog, EndlessLineStaysBounded) {
  BootLogReader r;
  std::string junk(100000, 'x');
  EXPECT_TRUE(r.feed(junk, TimePoint{}).empty());
  auto ev = r.feed("\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n", TimePoint{});
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].offset, 100002u);
  EXPECT_EQ(r.bytes_seen(), 100000u + 59u);
}

TEST(BootLogRecorder, RecordsOnTheTimelineAndWakesAWaiter) {
  auto dir = std::filesystem::path(::testing::TempDir()) / ("bootlog_recorder_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  Timeline tl(dir);
  BootLogRecorder rec(&tl);
  std::string bytes = capture("pycom_poweron.log");
  std::thread feeder([&] {
    std::this_thread::sleep_for(milliseconds(20));
    for (std::size_t off = 0; off < bytes.size(); off += 16) rec.feed({now(), bytes.substr(off, 16)});
  });
  auto banner = rec.wait_for([](const BootEvent& e) { return e.kind == BootEventKind::banner; }, 0,
                             Deadline::after(seconds(10)));
  feeder.join();
  ASSERT_TRUE(banner);
  EXPECT_EQ(banner->banner->board, "FiPy");
  EXPECT_EQ(rec.size(), 5u);  // the ROM's reset and entry lines, the banner, the help line, the prompt
  EXPECT_EQ(rec.events_since(2).size(), 3u);
  EXPECT_FALSE(rec.wait_for([](const BootEvent& e) { return e.kind == BootEventKind::rollback; }, 0,
                            Deadline::after(milliseconds(50))));
  auto events = read_events(tl.events_path());
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0]["kind"], "boot");
  EXPECT_EQ(events[0]["event"], "rom_reset");
  EXPECT_EQ(events[0]["cause_name"], "POWERON_RESET");
  EXPECT_EQ(events[2]["version"], "1.20.2.r4");
}

// ESP-IDF 3.x's panic handler as a Pycom module prints it, then the ROM restarting the chip.
constexpr char kPanicBoot[] =
    "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
    "configsip: 0, SPIWP:0xee\r\nmode:DIO, clock div:1\r\nload:0x3fff8028,len:8\r\nentry 0x4009f6c4\r\n"
    "Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.\r\n"
    "Core 0 register dump:\r\n"
    "PC      : 0x400d3c5e  PS      : 0x00060f30  A0      : 0x800d1a2c  A1      : 0x3ffbb2a0  \r\n"
    "EXCVADDR: 0x00000000  LBEG    : 0x4000c2e0  LEND    : 0x4000c2f6  LCOUNT  : 0xffffffff  \r\n\r\n"
    "Backtrace: 0x400d3c5e:0x3ffbb2a0 0x400d1a29:0x3ffbb2c0\r\n\r\nRebooting...\r\n"
    "ets Jun  8 2016 00:22:57\r\n\r\nrst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n";

TEST(BootLog, APanicItsBacktraceAndTheRebootAreEvents) {
  for (std::size_t piece : {std::size_t{3}, std::size_t{64}, std::size_t{4096}}) {
    auto ev = read_in_pieces(kPanicBoot, {piece});
    ASSERT_EQ(kinds(ev), (std::vector<BootEventKind>{BootEventKind::rom_reset, BootEventKind::rom_entry,
                                                     BootEventKind::panic, BootEventKind::backtrace,
                                                     BootEventKind::rebooting, BootEventKind::rom_reset}))
        << piece;
    ASSERT_TRUE(ev[2].panic);
    EXPECT_EQ(ev[2].panic->core, 0);
    EXPECT_EQ(ev[2].panic->reason, "LoadProhibited");
    EXPECT_EQ(ev[3].text, "Backtrace: 0x400d3c5e:0x3ffbb2a0 0x400d1a29:0x3ffbb2c0");
    ASSERT_TRUE(ev[5].rom);
    EXPECT_EQ(ev[5].rom->cause, 0xc);
    EXPECT_EQ(ev[5].rom->cause_name, "SW_CPU_RESET");
    EXPECT_EQ(to_json(ev[2])["reason"], "LoadProhibited");
  }
}

TEST(BootLog, PanicReasonsWithSpacesAndOneDigitPaddingParse) {
  auto ev =
      read_in_pieces("Guru Meditation Error: Core 1 panic'ed (Interrupt wdt timeout on CPU1)\r\n", {4096});
  ASSERT_EQ(ev.size(), 1u);
  ASSERT_TRUE(ev[0].panic);
  EXPECT_EQ(ev[0].panic->core, 1);
  EXPECT_EQ(ev[0].panic->reason, "Interrupt wdt timeout on CPU1");
  EXPECT_TRUE(read_in_pieces("Guru Meditation Error: Core x panic'ed (Nope)\r\n", {4096}).empty());
}

}  // namespace
}  // namespace bootrig
