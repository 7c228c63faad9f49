// The simulated module's flash: two application slots and the 40-byte boot_info record.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bootrig/firmware/esp_image.hpp"

namespace bootrig::sim {

// What an application slot holds: the raw ESP32 application image and what parse_esp32_image() read from
// it. version, board, MicroPython tag and build date come from the image itself (the Pycom banner in its
// rodata, as the firmware prints it), never from configuration.
struct ImageDescriptor {
  std::string version = "1.20.2.r4";          // Pycom release, shown in the banner and os.uname()
  std::string board = "FiPy";                 // WiPy, LoPy, LoPy4, SiPy, GPy, FiPy
  std::string micropython = "v1.11-a5aa0b8";  // the MicroPython base, shown in brackets in the banner
  std::string build_date = "2021-01-12";
  std::string bytes;  // the raw image as the slot holds it
  bool valid = true;  // what the bootloader's verification (parse, checksum, SHA-256) says
  // How this build misbehaves once running: read from the image's own rodata (bootrig image make --breaks).
  SimBreakage breaks = SimBreakage::none;
};

// Describes slot contents: parses the bytes as an ESP32 app image (Pycom 4 MB slot size).
ImageDescriptor describe_image(std::string bytes);
// A valid image built for version and board (image_builder), described.
ImageDescriptor make_slot_image(const std::string& version, const std::string& board);

enum class SlotId : std::uint32_t { factory = 0, ota0 = 1 };
const char* to_string(SlotId s);  // "factory", "ota_0"
// Flash address of a slot on the 4 MB parts: 0x10000 factory, 0x1C0000 ota_0.
std::uint32_t slot_address(SlotId s);

// boot_info at the start of otadata (esp32/bootloader/bootloader.h): little-endian u32 fields, a 16-byte
// signature, and a CRC over the first 36 bytes.
struct BootInfo {
  static constexpr std::uint32_t kStatusCheck = 0, kStatusReady = 1, kStatusPatch = 2;
  static constexpr std::uint32_t kImgFactory = 0, kImgOta0 = 1, kImgUpdate2 = 2;
  static constexpr std::uint32_t kSafeBootHw = 1, kSafeBootSw = 2;

  std::uint32_t active_img = kImgFactory;
  std::uint32_t status = kStatusReady;
  std::uint32_t prev_img = kImgFactory;
  std::uint32_t size = 0;
  std::uint32_t safeboot = 0;
  std::array<std::uint8_t, 16> signature{};
  std::uint32_t crc = 0;

  std::uint32_t compute_crc() const;
  // The firmware's validity test: Status not erased (0xFFFFFFFF) and the CRC matches.
  bool valid() const { return status != 0xFFFFFFFFu && crc == compute_crc(); }
  std::array<std::uint8_t, 40> encode() const;
  static BootInfo decode(const std::array<std::uint8_t, 40>& raw);
};

// The ESP32 ROM's crc32_le(crc, buf, len): the caller passes 0xFFFFFFFF as boot_info does.
std::uint32_t crc32_le(std::uint32_t crc, const std::uint8_t* data, std::size_t len);

// The slots and otadata, which survive every reset (the filesystem's blocks are in block_store.hpp).
struct FlashChip {
  std::array<std::optional<ImageDescriptor>, 2> slots;
  std::array<std::uint8_t, 40> otadata{};  // erased (0xFF) until the bootloader writes it
  std::mutex otadata_m;

  BootInfo read_boot_info();
  void write_boot_info(BootInfo bi);  // computes the CRC, as ota_write_boot_info does
};

}  // namespace bootrig::sim
