// Tests for the escaping of binary data through a REPL's stdin and stdout.
#include "bootrig/repl/binary_stream.hpp"

#include <gtest/gtest.h>

namespace bootrig {
namespace {

std::string every_byte() {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  return s;
}

TEST(BinaryStream, StdinEscapingHidesCtrlFAndKeepsEverythingElse) {
  const std::string e = escape_for_stdin(every_byte());
  EXPECT_EQ(e.find('\x06'), std::string::npos) << "Pycom resets on Ctrl-F whatever runs";
  EXPECT_EQ(e.size(), 258u) << "two bytes grow by one each";
  EXPECT_EQ(escape_for_stdin(std::string("\x10\x06", 2)), std::string("\x10\x20\x10\x16", 4));
  EXPECT_EQ(stdin_block("abc"), "00003abc");
  EXPECT_EQ(stdin_block(std::string("\x06", 1)), std::string("00002\x10\x16", 7));
}

TEST(BinaryStream, StdoutUnescapingUndoesTheBoardsEscapesAcrossReads) {
  // What the board's replace() calls make of 0x10 and 0x04.
  std::string wire =
      "a\x10\x20"
      "b\x10\x14"
      "c";
  std::string out;
  StdoutUnescaper u;
  ASSERT_TRUE(u.feed(wire.substr(0, 2), out));
  EXPECT_TRUE(u.pending()) << "a pair split across two reads";
  ASSERT_TRUE(u.feed(wire.substr(2), out));
  EXPECT_EQ(out, std::string("a\x10"
                             "b\x04"
                             "c"));
  EXPECT_FALSE(u.pending());
}

TEST(BinaryStream, AChangedEscapeIsCaught) {
  std::string out;
  StdoutUnescaper u;
  EXPECT_FALSE(u.feed(std::string("\x10\x41", 2), out));
}

TEST(BinaryStream, ByteSumWrapsAt32Bits) {
  EXPECT_EQ(byte_sum(every_byte()), 32640u);
  EXPECT_EQ(byte_sum("\x01", 0xFFFFFFFFu), 0u);
}

}  // namespace
}  // namespace bootrig
