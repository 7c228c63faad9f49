// Tests the ustar reader/writer and gzip round trips, including archives made by the system's tar.
#include "bootrig/firmware/archive.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/firmware_file.hpp"

namespace bootrig {
namespace {

std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

TEST(Tar, WriteThenReadRoundTrips) {
  std::vector<TarEntry> in{{"a.txt", bytes_of("hello")},
                           {"empty", {}},
                           {"block.bin", std::vector<std::uint8_t>(512, 0xAB)},
                           {"odd.bin", std::vector<std::uint8_t>(1000, 0x01)}};
  auto tar = write_tar(in);
  EXPECT_EQ(tar.size() % 512, 0u);
  auto out = read_tar(tar, "t.tar");
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].name, in[i].name);
    EXPECT_EQ(out[i].data, in[i].data);
  }
}

TEST(Tar, BadHeaderChecksumIsARigErrorNamingTheFile) {
  auto tar = write_tar({{"x", bytes_of("data")}, {"y", bytes_of("more")}});
  tar[1024 + 10] ^= 0x01;  // the second header's name
  try {
    read_tar(tar, "bundle.tar");
    FAIL() << "expected RigError";
  } catch (const RigError& e) {
    EXPECT_NE(std::string(e.what()).find("bundle.tar"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos);
  }
}

TEST(Tar, NotATarOrCutShort) {
  EXPECT_THROW(read_tar(std::vector<std::uint8_t>(1024, 'x'), "junk"), RigError);
  EXPECT_THROW(read_tar({}, "empty"), RigError);
  auto tar = write_tar({{"big", std::vector<std::uint8_t>(5000, 1)}});
  tar.resize(2048);
  EXPECT_THROW(read_tar(tar, "cut"), RigError);
}

TEST(Gzip, RoundTripAndCorruption) {
  std::vector<std::uint8_t> data(100000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>((i * i) >> 3);
  auto gz = gzip(data);
  EXPECT_TRUE(is_gzip(gz));
  EXPECT_LT(gz.size(), data.size());
  EXPECT_EQ(gunzip(gz, "d.gz"), data);
  auto cut = gz;
  cut.resize(cut.size() / 2);
  EXPECT_THROW(gunzip(cut, "cut.gz"), RigError);
  auto bad = gz;
  bad[gz.size() / 2] ^= 0xFF;
  bad[gz.size() / 2 + 1] ^= 0xFF;
  EXPECT_THROW(gunzip(bad, "bad.gz"), RigError);
  EXPECT_THROW(gunzip(gz, "small.gz", 1000), RigError);
}

// The system's GNU tar writes the format real Pycom bundles use (makepkg.sh runs tar -czf).
TEST(Tar, ReadsWhatGnuTarWrites) {
  if (std::system("command -v tar >/dev/null 2>&1") != 0) GTEST_SKIP() << "no tar command on this machine";
  auto dir = std::filesystem::temp_directory_path() / ("bootrig-tar-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "pkg");
  {
    std::ofstream(dir / "pkg" / "script2") << "{\"version\": \"2.0\"}";
    std::ofstream f(dir / "pkg" / "wipy.bin", std::ios::binary);
    for (int i = 0; i < 3000; ++i) f.put(static_cast<char>(i));
  }
  auto archive = dir / "b.tar.gz";
  std::string cmd = "tar -czf " + archive.string() + " -C " + (dir / "pkg").string() + " script2 wipy.bin";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto raw = read_binary_file(archive.string());
  auto entries = read_tar(gunzip(raw, "b.tar.gz"), "b.tar.gz");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].name, "script2");
  EXPECT_EQ(entries[1].name, "wipy.bin");
  EXPECT_EQ(entries[1].data.size(), 3000u);
  EXPECT_EQ(entries[1].data[258], 2);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bootrig
