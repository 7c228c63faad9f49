// Tests SHA-256 against FIPS 180 examples and MD5 against the RFC 1321 test suite.
#include "bootrig/firmware/hash.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace bootrig {
namespace {

TEST(Sha256, Fips180Vectors) {
  EXPECT_EQ(to_hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(to_hex(sha256(
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlm"
                "nopqrsmnopqrstnopqrstu")),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

TEST(Sha256, MillionA) {
  Sha256 h;
  std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.update(chunk);
  EXPECT_EQ(to_hex(h.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Md5, Rfc1321TestSuite) {
  EXPECT_EQ(to_hex(md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(to_hex(md5("a")), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(to_hex(md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(to_hex(md5("message digest")), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(to_hex(md5("abcdefghijklmnopqrstuvwxyz")), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(to_hex(md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(to_hex(md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890")),
            "57edf4a22be3c955ac49da2e2107b67a");
}

// Padding edges: lengths around the 56- and 64-byte boundaries, fed whole and in odd pieces.
TEST(Hashes, IncrementalMatchesOneShotAtEveryBoundary) {
  std::vector<std::uint8_t> data(300);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 3);
  for (std::size_t len : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 300}) {
    std::span<const std::uint8_t> s(data.data(), len);
    Sha256 sh;
    Md5 m;
    for (std::size_t i = 0; i < len; i += 13) {
      auto piece = s.subspan(i, std::min<std::size_t>(13, len - i));
      sh.update(piece);
      m.update(piece);
    }
    EXPECT_EQ(sh.finish(), sha256(s)) << "length " << len;
    EXPECT_EQ(m.finish(), md5(s)) << "length " << len;
  }
  // Distinct lengths give distinct digests: padding includes the length.
  EXPECT_NE(sha256(std::span<const std::uint8_t>(data.data(), 55)),
            sha256(std::span<const std::uint8_t>(data.data(), 56)));
}

TEST(Hashes, HexIsLowerCaseTwoDigitsPerByte) {
  std::vector<std::uint8_t> b{0x00, 0x0f, 0xa0, 0xff};
  EXPECT_EQ(to_hex(b), "000fa0ff");
}

}  // namespace
}  // namespace bootrig
