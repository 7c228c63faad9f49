// Tests for the escaping of binary data through a REPL's stdin and stdout.
#include "bootrig/repl/binary_stream.hpp"

#include <gtest/gtest.h>

#include "bootrig/repl/checked_channel.hpp"

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
}

TEST(BinaryStream, AFrameCarriesItsOffsetLengthAndDigestAndNeverItsOwnStartInside) {
  const std::string f = upload_frame(8192, "abc");
  EXPECT_EQ(f.substr(0, 2), std::string("\x10S", 2));
  EXPECT_EQ(f.substr(2, 20), "00000081920000300003") << "offset, then the escaped length twice";
  EXPECT_EQ(f.substr(22, 8), channel_digest(std::string("000000819200003") + "abc"));
  EXPECT_EQ(f.substr(30), "abc");
  // The escaped length and the data as they travel; the digest is over the data as the sink gets it.
  const std::string g = upload_frame(0, std::string("\x06", 1));
  EXPECT_EQ(g.substr(2, 20), "00000000000000200002");
  EXPECT_EQ(g.substr(30), std::string("\x10\x16", 2));
  EXPECT_EQ(g.substr(22, 8), channel_digest(std::string("000000000000002") + std::string("\x06", 1)));
  // A board that lost its place looks for "\x10S": escaped data, whatever its bytes, never holds it.
  std::string all;
  for (int i = 0; i < 4; ++i) all += every_byte() + "S\x10S\x10";
  EXPECT_EQ(upload_frame(0, all).find(std::string("\x10S", 2), 2), std::string::npos);
  EXPECT_EQ(upload_frame(0, {}).substr(2, 20), "00000000000000000000") << "the stop frame";
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
