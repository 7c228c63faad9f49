// The module's non-volatile stores besides the app slots: block devices under the filesystems (the flash
// partition of /flash, an SD card) and the NVS key store of pycom.nvs_*. They outlive every reset.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bootrig::sim {

// A block device in memory, optionally written through to an image file so that the volume outlives the
// process (and can be looked at with mtools or a loop mount).
class BlockStore {
 public:
  // Throws RigError when the image file cannot be created, read or has another size.
  BlockStore(std::uint32_t block_size, std::uint32_t block_count, std::uint8_t erased,
             std::filesystem::path image = {});
  ~BlockStore();
  BlockStore(const BlockStore&) = delete;
  BlockStore& operator=(const BlockStore&) = delete;

  std::uint32_t block_size() const { return block_size_; }
  std::uint32_t block_count() const { return block_count_; }
  // 0, or -EIO for a range outside the device (MicroPython's block protocol).
  int read(std::uint32_t block, std::uint32_t offset, std::uint8_t* buf, std::size_t len) const;
  int write(std::uint32_t block, std::uint32_t offset, const std::uint8_t* buf, std::size_t len);
  int erase(std::uint32_t block);
  const std::filesystem::path& image() const { return image_; }

 private:
  bool in_range(std::uint32_t block, std::uint32_t offset, std::size_t len) const;
  void write_through(std::size_t at, std::size_t len);

  std::uint32_t block_size_, block_count_;
  std::uint8_t erased_;
  std::vector<std::uint8_t> data_;
  std::filesystem::path image_;
  int fd_ = -1;
};

// NVS (esp32/mods/modpycom.c, nvs_*_u32): 32-bit values by key, kept across resets and firmware updates.
class Nvs {
 public:
  static constexpr std::size_t kMaxKey = 15;  // NVS_KEY_NAME_MAX_SIZE - 1
  // 0, EINVAL for a key that is empty or too long, ENOSPC when the partition is full.
  int set(const std::string& key, std::uint32_t value);
  std::optional<std::uint32_t> get(const std::string& key) const;
  bool erase(const std::string& key);
  void erase_all();

 private:
  static constexpr std::size_t kMaxEntries = 500;  // the 16 KiB nvs partition's room for u32 entries
  mutable std::mutex m_;
  std::map<std::string, std::uint32_t> values_;
};

}  // namespace bootrig::sim
