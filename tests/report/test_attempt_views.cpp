// Tests for serial.txt and signals.vcd made from an attempt's timeline.
#include "bootrig/report/attempt_views.hpp"

#include <gtest/gtest.h>

#include "bootrig/core/escape.hpp"

#include "support/run_folder_check.hpp"
#include "support/scenario_rig.hpp"

namespace bootrig {
namespace {

nlohmann::json serial_event(std::int64_t t, const char* dir, const std::string& bytes) {
  return {{"t", t}, {"kind", "serial"}, {"dir", dir}, {"n", bytes.size()}, {"data", escape_bytes(bytes)}};
}

TEST(AttemptViews, SerialTextIsOneLinePerLineWithTimeDirectionAndControlBytesMadeVisible) {
  const std::int64_t s = 1'000'000'000;
  std::vector<nlohmann::json> ev = {
      {{"t", 10 * s}, {"kind", "note"}, {"text", "rig"}},
      serial_event(10 * s + 412'000'000, "rx", "ets Jun  8 2016\r\nrst:0x1 (POWERON"),
      serial_event(10 * s + 413'000'000, "rx", "_RESET)\r\n\x1b[2J\ttab\r\n>>> "),
      serial_event(11 * s, "tx", "\x03import os\r"),
      serial_event(11 * s + 5'000'000, "rx", "import os\r\n"),
  };
  std::string text = to_serial_text(serial_lines(ev), 10 * s);
  EXPECT_EQ(text.substr(text.find('\n') + 1),
            "    0.412 rx  ets Jun  8 2016\n"
            "    0.412 rx  rst:0x1 (POWERON_RESET)\n"
            "    0.413 rx  \\x1b[2J\\ttab\n"
            "    0.413 rx  >>>  [no line end]\n"
            "    1.000 tx  \\x03import os\n"
            "    1.005 rx  import os\n");
  EXPECT_EQ(visible_serial_text("caf\xC3\xA9 \xFF \xC2\x9B"), "caf\xC3\xA9 \\xff \\xc2\\x9b");
  // Overlong forms and surrogates are not UTF-8 either (a strict reader refuses the whole file).
  EXPECT_EQ(visible_serial_text("\xC0\x80 \xED\xA0\x80"), "\\xc0\\x80 \\xed\\xa0\\x80");
}

TEST(AttemptViews, VcdHasTheLinesLedAndSerialOnTheMonotonicClockInMicroseconds) {
  const std::int64_t s = 1'000'000'000;
  std::vector<nlohmann::json> ev = {
      {{"t", 5 * s}, {"kind", "note"}, {"led_level", 0}, {"text", "LED dark when watching began"}},
      {{"t", 5 * s + 1'000'000}, {"kind", "output"}, {"line", "safeboot"}, {"level", 1}},
      {{"t", 5 * s + 2'000'000}, {"kind", "output"}, {"line", "reset"}, {"level", 1}},
      {{"t", 5 * s + 52'000'000}, {"kind", "output"}, {"line", "reset"}, {"level", 0}},
      {{"t", 5 * s + 200'000'000}, {"kind", "led_edge"}, {"line", "led"}, {"edge", "rising"}},
      // 10 bytes at 100000 baud: 1 ms on the wire before the read returned them.
      serial_event(5 * s + 300'000'000, "rx", "hello bo\r\n"),
  };
  RigView rig;
  rig.baud = 100000;
  std::string v = to_vcd(ev, rig);
  EXPECT_NE(v.find("$timescale 1 us $end"), std::string::npos);
  EXPECT_NE(v.find("#5000000\n$dumpvars\n0!\n0\"\nx$\n0%\n0&\n0'\n$end\n"), std::string::npos) << v;
  EXPECT_NE(v.find("#5001000\n1!\n"), std::string::npos) << v;
  EXPECT_NE(v.find("#5052000\n0\"\n"), std::string::npos) << v;
  EXPECT_NE(v.find("#5200000\n1%\n"), std::string::npos) << v;
  EXPECT_NE(v.find("#5299000\n1&\n"), std::string::npos) << v;
  EXPECT_NE(v.find("#5300000\n0&\nshello_bo (\n"), std::string::npos) << v;
  EXPECT_EQ(v.substr(v.size() - 9), "#5300001\n");
}

TEST(AttemptViews, WrittenBesideTheEventsAndReadBackBySigrok) {
  auto dir = testing::fresh_run_dir("views");
  {
    Timeline tl(dir);
    TimePoint t0 = now();
    tl.note("rig", t0);
    tl.output_change("reset", Level::active, t0 + milliseconds(5), t0 + milliseconds(5));
    tl.output_change("reset", Level::inactive, t0 + milliseconds(55), t0 + milliseconds(55));
    tl.serial(SerialDirection::rx, "pty", t0 + milliseconds(80), "boot\r\n");
  }
  write_attempt_views(dir, RigView{});
  EXPECT_NE(testing::slurp_file(dir / "serial.txt").find("rx  boot\n"), std::string::npos);
  auto r = testing::run_command("sigrok-cli -I vcd -i '" + (dir / "signals.vcd").string() +
                                "' -O vcd 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << "sigrok-cli (cmake/install-deps.sh installs it)";
  // sigrok counts from the first timestamp: RESET went up 5 ms in and came down 50 ms later.
  EXPECT_NE(r.out.find("#5000 1\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("#55000 0\""), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bootrig
