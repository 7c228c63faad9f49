// Tests SLIP encoding and the incremental decoder with frames split at every possible point.
#include "bootrig/firmware/slip.hpp"

#include <gtest/gtest.h>

namespace bootrig {
namespace {

using namespace std::string_literals;

TEST(Slip, EncodeEscapesEndAndEscapeBytes) {
  EXPECT_EQ(slip_encode("\x01\xC0\x02\xDB\x03"s), "\xC0\x01\xDB\xDC\x02\xDB\xDD\x03\xC0"s);
  EXPECT_EQ(slip_encode(""), "\xC0\xC0"s);
}

TEST(Slip, DecodesWhatItEncodesSplitAnywhere) {
  const std::string a = "\x00\x08\x24\x00\xC0\xDB\xDC\xDD payload"s;
  const std::string b = "second \xC0\xC0 frame"s;
  const std::string wire = slip_encode(a) + slip_encode(b);
  for (std::size_t cut1 = 0; cut1 <= wire.size(); ++cut1) {
    for (std::size_t cut2 = cut1; cut2 <= wire.size(); cut2 += 3) {
      SlipDecoder d;
      std::vector<std::string> got;
      for (auto piece : {wire.substr(0, cut1), wire.substr(cut1, cut2 - cut1), wire.substr(cut2)}) {
        for (auto& f : d.feed(piece)) got.push_back(f);
      }
      ASSERT_EQ(got.size(), 2u) << "cuts " << cut1 << "," << cut2;
      EXPECT_EQ(got[0], a);
      EXPECT_EQ(got[1], b);
    }
  }
}

TEST(Slip, ByteAtATime) {
  const std::string wire = slip_encode("abc") + slip_encode("\xC0"s);
  SlipDecoder d;
  std::vector<std::string> got;
  for (char c : wire) {
    for (auto& f : d.feed(std::string(1, c))) got.push_back(f);
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "abc");
  EXPECT_EQ(got[1], "\xC0"s);
}

TEST(Slip, NoiseBetweenFramesIsCountedAndDropped) {
  SlipDecoder d;
  auto frames = d.feed("ets Jun  8 2016 boot:0x3\r\n"s + slip_encode("one") + "junk"s + slip_encode("two"));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], "one");
  EXPECT_EQ(frames[1], "two");
  EXPECT_EQ(d.noise_bytes(), 26u + 4u);
}

TEST(Slip, DoubledStartByteIsOneStart) {
  SlipDecoder d;
  auto frames = d.feed("\xC0\xC0\xC0hello\xC0"s);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], "hello");
}

TEST(Slip, BadEscapeDropsTheFrameOnly) {
  SlipDecoder d;
  auto frames = d.feed(
      "\xC0"
      "ab\xDB\x01"
      "cd\xC0"s +
      slip_encode("ok"));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], "ok");
  EXPECT_EQ(d.bad_frames(), 1u);
}

TEST(Slip, OverlongFrameIsDropped) {
  SlipDecoder d;
  d.set_max_frame(8);
  auto frames = d.feed(slip_encode("0123456789") + slip_encode("short"));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], "short");
  EXPECT_EQ(d.bad_frames(), 1u);
}

}  // namespace
}  // namespace bootrig
