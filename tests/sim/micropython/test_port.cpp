// Behaviour-table tests for the REPL protocols of MicroPython's pyexec as the port runs them (friendly, paste,
// raw, and raw-paste only in the upstream profile), byte for byte on the UART.
#include "sim/micropython_vm.hpp"

#include <gtest/gtest.h>

#include <random>

#include "sim/sim_test_util.hpp"

namespace bootrig::test {
namespace {

SimConfig upstream() {
  SimConfig c;
  c.profile = "upstream";
  return c;
}

TEST(Repl, P1_EchoesInputAndAsksForContinuationLines) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send("for i in range(2):\r");
  // Echo, then the continuation prompt with MicroPython's auto-indent.
  ASSERT_TRUE(rig.read_until("for i in range(2):\r\n...     "));
  rig.send("print(i)\r");
  ASSERT_TRUE(rig.read_until("print(i)\r\n...     "));
  // Blank lines close the block; auto-indent fills the first of them, so it takes three Enters.
  rig.send("\r\r\r");
  auto out = rig.read_until(">>> ");
  ASSERT_TRUE(out);
  EXPECT_NE(out->find("0\r\n1\r\n>>> "), std::string::npos) << *out;
}

TEST(Repl, P1_BackspaceErasesOnTheTerminal) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send("1+2x\x7f\r");
  auto out = rig.read_until(">>> ");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "1+2x\b\x1b[K\r\n3\r\n>>> ");
}

TEST(Repl, P1_CtrlCOnATypedLineCancelsIt) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send("print('no')\x03");
  auto out = rig.read_until(">>> ");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "print('no')\r\n>>> ");
}

TEST(Repl, P1_CtrlCRaisesKeyboardInterruptInARunningLoop) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send("while True: pass\r\r");
  ASSERT_TRUE(rig.read_until("while True: pass\r\n... \r\n"));
  EXPECT_FALSE(rig.read_until(">>> ", milliseconds(200))) << "the loop runs";
  rig.send("\x03");
  auto out = rig.read_until(">>> ");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out,
            "Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in "
            "<module>\r\nKeyboardInterrupt: \r\n>>> ");
}

TEST(Repl, P1_CtrlCInterruptsABusyLoopAndASleep) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send("\x05");  // paste mode, so that the block needs no Enter dance
  ASSERT_TRUE(rig.read_until("=== "));
  rig.send("n = 0\rwhile True:\r    n += 1\r\x04");
  EXPECT_FALSE(rig.read_until(">>> ", milliseconds(200)));
  rig.send("\x03");
  auto out = rig.read_until(">>> ");
  ASSERT_TRUE(out);
  EXPECT_NE(out->find("KeyboardInterrupt: \r\n"), std::string::npos);
  // Interrupted in the loop: at its test (line 2) or its body (line 3), wherever the Ctrl-C landed.
  EXPECT_TRUE(out->find("line 2, in <module>") != std::string::npos ||
              out->find("line 3, in <module>") != std::string::npos)
      << *out;
  auto n = rig.eval_line("n > 10");
  EXPECT_EQ(n, "True\r\n");
  rig.send("import time; time.sleep(30)\r");
  EXPECT_FALSE(rig.read_until(">>> ", milliseconds(200)));
  rig.send("\x03");
  out = rig.read_until(">>> ");
  ASSERT_TRUE(out);
  EXPECT_NE(out->find("KeyboardInterrupt: "), std::string::npos);
}

TEST(Repl, P1_KbdIntrDisabledLoopIgnoresCtrlC) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send("\r\x01");
  ASSERT_TRUE(rig.read_until("raw REPL; CTRL-B to exit\r\n>"));
  rig.send("import micropython\nmicropython.kbd_intr(-1)\nprint('ARMED')\nwhile True:\n    pass\n\x04");
  // "OK" only says the code arrived; a slow machine may not have run kbd_intr(-1) yet.
  ASSERT_TRUE(rig.read_until("ARMED"));
  rig.send("\x03\x03");
  EXPECT_FALSE(rig.read_until("\x04", milliseconds(500))) << "Ctrl-C is ordinary input now";
  rig.press_reset();
  EXPECT_TRUE(rig.read_until(kBannerEnd));
}

TEST(Repl, P1_CtrlBReprintsTheBanner) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send("\x02");
  auto out = rig.read_until(">>> ");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out,
            "\r\nPycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32\r\n"
            "Type \"help()\" for more information.\r\n>>> ");
}

TEST(Repl, P1_CtrlDOnANonEmptyLineIsIgnored) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send("1\x04+1\r");
  auto out = rig.read_until(">>> ");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "1+1\r\n2\r\n>>> ");
}

TEST(Repl, P1_PasteModeRunsTheWholeBlock) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send("\x05");
  ASSERT_TRUE(rig.read_until("\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== "));
  rig.send("x = 20\rif x:\r    print(x + 1)\r\x04");
  auto out = rig.read_until(">>> ");
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "x = 20\r\n=== if x:\r\n===     print(x + 1)\r\n=== \r\n21\r\n>>> ");
}

TEST(Repl, P2_RawReplExactBytes) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send("\x01");
  auto banner = rig.read_until(">");
  ASSERT_TRUE(banner);
  EXPECT_EQ(*banner, "\r\nraw REPL; CTRL-B to exit\r\n>");
  rig.send("print('hi')\x04");
  auto ok = rig.read_until(">");
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, "OKhi\r\n\x04\x04>");
  rig.send("1/0\x04");
  auto err = rig.read_until("\x04>");
  ASSERT_TRUE(err);
  EXPECT_EQ(*err,
            "OK\x04Traceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\n"
            "ZeroDivisionError: division by zero\r\n\x04>");
  rig.send("print('dropped')\x03print('kept')\x04");  // Ctrl-C clears the raw line
  auto kept = rig.read_until(">");
  ASSERT_TRUE(kept);
  EXPECT_EQ(*kept, "OKkept\r\n\x04\x04>");
  rig.send("\x02");
  auto back = rig.read_until(">>> ");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->substr(0, 2), "\r\n");
  EXPECT_NE(back->find("Type \"help()\""), std::string::npos);
}

TEST(Repl, P3_RawPasteIsAbsentInThePycomProfile) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send("\r\x01");
  ASSERT_TRUE(rig.read_until("raw REPL; CTRL-B to exit\r\n>"));
  rig.send(
      "\x05"
      "A\x01");
  auto out = rig.read_until(">");
  ASSERT_TRUE(out);
  // Firmware 1.20 answers by restarting the raw REPL: hosts read "ra" where "R\x01" would be.
  EXPECT_EQ(*out, "raw REPL; CTRL-B to exit\r\n>");
  rig.send("print(3)\x04");
  EXPECT_EQ(rig.read_until(">"), "OK3\r\n\x04\x04>");
}

// The host side of raw-paste, as mpremote's raw_paste_write does it.
std::string raw_paste(SimRig& rig, const std::string& code) {
  rig.send(
      "\x05"
      "A\x01");
  auto hdr = rig.read_until("R\x01");
  EXPECT_TRUE(hdr);
  std::string win;
  while (win.size() < 2) {
    auto more = rig.read_quiet(milliseconds(20), milliseconds(200));
    win += more;
  }
  std::size_t window = static_cast<unsigned char>(win[0]) | (static_cast<unsigned char>(win[1]) << 8);
  EXPECT_EQ(window, 128u);
  std::size_t remain = window;
  std::string pending = win.substr(2);  // bytes already read past the header: grants
  std::size_t i = 0;
  auto take_grants = [&](const std::string& s) {
    for (char c : s) {
      EXPECT_EQ(c, '\x01') << "only window grants may arrive while pasting";
      remain += window;
    }
  };
  take_grants(pending);
  while (i < code.size()) {
    if (remain == 0) {
      auto g = rig.read_until("\x01", seconds(5));
      EXPECT_TRUE(g);
      if (!g) return {};
      take_grants(*g);
      continue;
    }
    std::size_t n = std::min(remain, code.size() - i);
    rig.send(code.substr(i, n));
    i += n;
    remain -= n;
  }
  rig.send("\x04");
  auto rest = rig.read_until("\x04>", seconds(10));
  EXPECT_TRUE(rest);
  return rest.value_or("");
}

TEST(Repl, P3_RawPasteWithWindowFlowControlInTheUpstreamProfile) {
  SimRig rig(upstream());
  ASSERT_TRUE(rig.wait_banner());
  rig.send("\r\x01");
  ASSERT_TRUE(rig.read_until("raw REPL; CTRL-B to exit\r\n>"));
  std::string code = "total = 0\n";
  for (int k = 0; k < 40; ++k)
    code += "total += " + std::to_string(k) + "  # padding to pass several windows\n";
  code += "print('sum', total)\n";
  ASSERT_GT(code.size(), 1000u);
  std::string out = raw_paste(rig, code);
  // Grants may still trail the data; after the \x04 acknowledgement come output, \x04, error, \x04, '>'.
  auto ack = out.find('\x04');
  ASSERT_NE(ack, std::string::npos);
  EXPECT_EQ(out.substr(ack), "\x04sum 780\r\n\x04\x04>");
}

TEST(Repl, P3_UpstreamRawPasteRejectsOtherCommands) {
  SimRig rig(upstream());
  ASSERT_TRUE(rig.wait_banner());
  rig.send("\r\x01");
  ASSERT_TRUE(rig.read_until("raw REPL; CTRL-B to exit\r\n>"));
  rig.send(
      "\x05"
      "B\x01");
  EXPECT_EQ(rig.read_until(">"), std::string("R\x00>", 3));
}

TEST(Repl, P2_UpstreamRawSoftResetPrintsMpySoftReboot) {
  SimRig rig(upstream());
  ASSERT_TRUE(rig.wait_banner());
  rig.send("\r\x01");
  ASSERT_TRUE(rig.read_until("raw REPL; CTRL-B to exit\r\n>"));
  rig.send("\x04");
  auto out = rig.read_until("raw REPL; CTRL-B to exit\r\n>");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->substr(0, 22), "OK\r\nMPY: soft reboot\r\n");
}

TEST(Repl, DuptermNoneLeavesTheUart) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  rig.send("import os; os.dupterm(None)\r");
  ASSERT_TRUE(rig.read_until("os.dupterm(None)\r\n"));
  rig.send("print('still here')\r");
  EXPECT_FALSE(rig.read_until("still here", milliseconds(500)));
  rig.press_reset();
  EXPECT_TRUE(rig.read_until(kBannerEnd)) << "_boot.py attaches the REPL again on the next boot";
}

TEST(Repl, BinarySafeBytesLiteralsThroughTheRawRepl) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  std::string lit = "b'";
  for (int b = 0; b < 256; ++b) {
    char x[8];
    std::snprintf(x, sizeof x, "\\x%02x", b);
    lit += x;
  }
  lit += "'";
  EXPECT_EQ(run(rig, "data = " + lit +
                         "\nwith open('/flash/blob.bin', 'wb') as f:\n    f.write(data)\n"
                         "with open('/flash/blob.bin', 'rb') as f:\n    back = f.read()\n"
                         "print(len(back), back == data, back[0], back[255], back[10:13])\n"),
            "256 True 0 255 b'\\n\\x0b\\x0c'\r\n");
}

TEST(Repl, ScriptsAsScenariosWriteThem) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  write_file(rig, "/flash/main.py", "import machine\nprint('resetting')\nmachine.reset()\n");
  write_file(rig, "/flash/boot.py", evidence_script(kBootMarker, "bootrig_boot.txt"));
  rig.send("\x04");
  auto text = rig.read_until("rst:0x7 (TG0WDT_SYS_RESET)");
  ASSERT_TRUE(text) << rig.transcript();
  EXPECT_NE(text->find(kBootMarker), std::string::npos) << *text;
  EXPECT_NE(text->find("resetting\r\n"), std::string::npos);
}

TEST(Repl, JunkOnTheLineNeverCrashesOrHangsIt) {
  SimRig rig;
  ASSERT_TRUE(rig.wait_banner());
  std::mt19937 rng(7);
  std::string junk;
  for (int i = 0; i < 3000; ++i) {
    char c = static_cast<char>(rng() & 0xFF);
    if (c == 0x06 || c == 0x04) c = 'x';  // no safe-boot or soft-reset requests: they would be obeyed
    junk += c;
  }
  rig.send(junk);
  rig.send("\x01" + junk.substr(0, 500) + "\x04\x02");
  ASSERT_TRUE(rig.interrupt_to_prompt(seconds(15))) << "the REPL still answers";
  EXPECT_EQ(rig.eval_line("print(6 * 7)"), "42\r\n");
}

TEST(Repl, BaudRatePacesTheLine) {
  SimRig rig(SimConfig{}, fast_timing(), 9600);
  ASSERT_TRUE(rig.wait_banner(seconds(20)));
  // 1000 characters plus line ends leave at 960 bytes a second at best: more than a second on the line.
  rig.send("print('x' * 1000)\r");
  ASSERT_TRUE(rig.read_until("print('x' * 1000)\r\n"));
  TimePoint start = now();
  auto out = rig.read_until(">>> ", seconds(20));
  ASSERT_TRUE(out);
  EXPECT_GE(now() - start, milliseconds(1000));
  // And the other way: 960 bytes of code take a second to reach the module.
  std::string code = "x = 0\n";
  while (code.size() < 960) code += "x += 1\n";
  rig.send("\x01");
  ASSERT_TRUE(rig.read_until("raw REPL; CTRL-B to exit\r\n>", seconds(5)));
  start = now();
  rig.send(code + "\x04");
  ASSERT_TRUE(rig.read_until("OK", seconds(20)));
  EXPECT_GE(now() - start, milliseconds(950));
}

}  // namespace
}  // namespace bootrig::test

namespace bootrig::test {
namespace {

// The firmware compiles a whole script before running it: a syntax error anywhere runs none of it, and the
// Pycom profile's syntax is MicroPython 1.11's (no f-strings).
TEST(Repl, AScriptWithASyntaxErrorAnywhereRunsNoneOfIt) {
  for (const char* profile : {"pycom", "upstream"}) {
    SimConfig c;
    c.profile = profile;
    SimRig rig(c);
    ASSERT_TRUE(rig.wait_banner());
    std::string late_error = std::string(profile) == "pycom" ? "print(f'{1}')\n" : "print(1 +)\n";
    write_file(rig, "/flash/main.py", "print('first line ran')\n" + late_error);
    rig.skip_unread();
    rig.press_reset();
    ASSERT_TRUE(rig.read_until(kBannerEnd)) << rig.transcript();
    EXPECT_EQ(rig.transcript().find("first line ran"), std::string::npos) << profile;
    EXPECT_NE(rig.transcript().find("  File \"main.py\", line 2\r\nSyntaxError: invalid syntax\r\n"),
              std::string::npos)
        << profile << ": " << rig.transcript();
  }
}

}  // namespace
}  // namespace bootrig::test
