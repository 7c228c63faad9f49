// Tests for terminal_safe: text from rig files and boards reaches the terminal with nothing hidden in it.
#include "bootrig/core/escape.hpp"

#include <gtest/gtest.h>

namespace bootrig {
namespace {

TEST(TerminalSafe, PlainTextAndUtf8StayAsTheyAre) {
  EXPECT_EQ(terminal_safe("FiPy 1.20.2.r4\tok\n"), "FiPy 1.20.2.r4\tok\n");
  EXPECT_EQ(terminal_safe("Prüfstand \xce\xa9 \xe2\x86\x92 \xf0\x9f\x94\xa5"), "Prüfstand Ω → 🔥");
}

TEST(TerminalSafe, EscapeSequencesAndControlBytesBecomeVisible) {
  // Clear screen, retitle the terminal, a bell, carriage return over the line.
  EXPECT_EQ(terminal_safe("a\x1b[2Jb\x1b]0;owned\x07 c\rd\x7f"), "a\\x1b[2Jb\\x1b]0;owned\\x07 c\\rd\\x7f");
  EXPECT_EQ(terminal_safe("one\ntwo", false), "one\\ntwo");
  EXPECT_EQ(terminal_safe(std::string("nul\0here", 8)), "nul\\x00here");
}

TEST(TerminalSafe, BidiOverridesAndC1ControlsAreNamedNotObeyed) {
  // "rig \u202Eexe.txt" would show as "rig txt.exe".
  EXPECT_EQ(terminal_safe("rig \xe2\x80\xae"
                          "exe.txt"),
            "rig \\u{202e}exe.txt");
  EXPECT_EQ(terminal_safe("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u{2066}x\\u{2069}");
  EXPECT_EQ(terminal_safe("zero\xe2\x80\x8bwidth"), "zero\\u{200b}width");
  EXPECT_EQ(terminal_safe("csi\xc2\x9b"
                          "31m"),
            "csi\\u{009b}31m");  // C1 CSI: an escape sequence in one char
}

TEST(TerminalSafe, BytesThatAreNotUtf8AreShownAsBytes) {
  EXPECT_EQ(terminal_safe("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(terminal_safe("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(terminal_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a UTF-16 surrogate
  EXPECT_EQ(terminal_safe("cut \xe2\x82"), "cut \\xe2\\x82");            // truncated sequence
  EXPECT_EQ(terminal_safe("\xf5\x80\x80\x80"), "\\xf5\\x80\\x80\\x80");  // past U+10FFFF
}

}  // namespace
}  // namespace bootrig
