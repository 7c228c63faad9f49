// SHA-256 (FIPS 180-4) and MD5 (RFC 1321): the two digests ESP32 images and the ROM loader use.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace bootrig {

using Sha256Digest = std::array<std::uint8_t, 32>;
using Md5Digest = std::array<std::uint8_t, 16>;

// Incremental SHA-256: update() any number of times, then finish() once.
class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::uint8_t> data);
  void update(std::string_view data);
  Sha256Digest finish();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t used_ = 0;
  std::uint64_t total_ = 0;
};

// Incremental MD5; the ROM loader's SPI_FLASH_MD5 answer is compared against it.
class Md5 {
 public:
  Md5();
  void update(std::span<const std::uint8_t> data);
  void update(std::string_view data);
  Md5Digest finish();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 4> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t used_ = 0;
  std::uint64_t total_ = 0;
};

Sha256Digest sha256(std::span<const std::uint8_t> data);
Sha256Digest sha256(std::string_view data);
Md5Digest md5(std::span<const std::uint8_t> data);
Md5Digest md5(std::string_view data);

// Lower-case hex, two digits a byte.
std::string to_hex(std::span<const std::uint8_t> bytes);

}  // namespace bootrig
