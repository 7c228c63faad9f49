// Tests for the module's block devices (memory, written through to an image file) and the NVS key store.
#include "sim/block_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "bootrig/core/errors.hpp"

namespace bootrig::sim {
namespace {

TEST(BlockStore, ReadsWritesAndErasesWithinTheDevice) {
  BlockStore b(512, 4, 0xFF);
  EXPECT_EQ(b.block_size(), 512u);
  EXPECT_EQ(b.block_count(), 4u);
  std::uint8_t buf[4] = {};
  ASSERT_EQ(b.read(1, 0, buf, 4), 0);
  EXPECT_EQ(buf[0], 0xFF);
  const std::uint8_t data[3] = {1, 2, 3};
  ASSERT_EQ(b.write(1, 510, data, 2), 0);
  ASSERT_EQ(b.read(1, 509, buf, 3), 0);
  EXPECT_EQ(buf[0], 0xFF);
  EXPECT_EQ(buf[1], 1);
  EXPECT_EQ(buf[2], 2);
  EXPECT_EQ(b.write(3, 511, data, 2), -EIO) << "past the end of the device";
  EXPECT_EQ(b.read(4, 0, buf, 1), -EIO);
  ASSERT_EQ(b.erase(1), 0);
  ASSERT_EQ(b.read(1, 510, buf, 1), 0);
  EXPECT_EQ(buf[0], 0xFF);
  EXPECT_EQ(b.erase(4), -EIO);
}

TEST(BlockStore, ImageFileOutlivesTheStoreAndAWrongSizeIsRefused) {
  auto dir = std::filesystem::temp_directory_path() / ("bootrig-blocks-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::uint8_t data[2] = {0x42, 0x43};
  {
    BlockStore b(512, 2, 0xFF, dir / "flash.img");
    ASSERT_EQ(b.write(1, 7, data, 2), 0);
  }
  EXPECT_EQ(std::filesystem::file_size(dir / "flash.img"), 1024u);
  {
    BlockStore b(512, 2, 0xFF, dir / "flash.img");
    std::uint8_t buf[2] = {};
    ASSERT_EQ(b.read(1, 7, buf, 2), 0);
    EXPECT_EQ(buf[0], 0x42);
    EXPECT_EQ(buf[1], 0x43);
  }
  EXPECT_THROW(BlockStore(512, 3, 0xFF, dir / "flash.img"), RigError);
  std::filesystem::remove_all(dir);
}

TEST(Nvs, KeysUpToFifteenCharactersHoldThirtyTwoBitValues) {
  Nvs n;
  EXPECT_EQ(n.set("boots", 7), 0);
  EXPECT_EQ(n.get("boots"), 7u);
  EXPECT_EQ(n.set("boots", 0xFFFFFFFFu), 0);
  EXPECT_EQ(n.get("boots"), 0xFFFFFFFFu);
  EXPECT_EQ(n.set("sixteen_chars_xx", 1), EINVAL);
  EXPECT_EQ(n.set("", 1), EINVAL);
  EXPECT_FALSE(n.get("missing"));
  EXPECT_TRUE(n.erase("boots"));
  EXPECT_FALSE(n.erase("boots"));
  n.set("a", 1);
  n.erase_all();
  EXPECT_FALSE(n.get("a"));
}

}  // namespace
}  // namespace bootrig::sim
