// The ESP32 ROM serial bootloader protocol as esptool speaks it (esptool/loader.py): opcodes, packet layout,
// the ROM's status bytes and error codes. Pure encoding and decoding; RomFlasher and RomLoaderModel use it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bootrig {

enum class RomCommand : std::uint8_t {
  flash_begin = 0x02,
  flash_data = 0x03,
  flash_end = 0x04,
  mem_begin = 0x05,
  mem_end = 0x06,
  mem_data = 0x07,
  sync = 0x08,
  write_reg = 0x09,
  read_reg = 0x0A,
  spi_set_params = 0x0B,
  spi_attach = 0x0D,
  read_flash_slow = 0x0E,
  change_baudrate = 0x0F,
  flash_defl_begin = 0x10,
  flash_defl_data = 0x11,
  flash_defl_end = 0x12,
  spi_flash_md5 = 0x13,
};
const char* to_string(RomCommand c);  // "FLASH_DATA"
std::string command_name(std::uint8_t op);

// The error byte the ROM puts after a non-zero status byte.
enum class RomErrorCode : std::uint8_t {
  none = 0x00,
  invalid_message = 0x05,    // parameters or length field invalid (also: command not supported)
  failed_to_act = 0x06,      // failed to act on received message
  invalid_crc = 0x07,        // checksum of FLASH_DATA / MEM_DATA payload wrong
  flash_write_error = 0x08,  // read-back after writing a block did not match
  flash_read_error = 0x09,   // SPI read failed
  flash_read_length = 0x0A,  // read request too long
  deflate_error = 0x0B,      // compressed uploads only
};
// "0x07 (invalid CRC in message)"; unknown codes as "0x42 (unknown ROM error)".
std::string describe_rom_error(std::uint8_t code);

inline constexpr std::uint32_t kRomFlashBlockSize = 0x400;  // ESP32ROM.FLASH_WRITE_SIZE
inline constexpr std::uint32_t kFlashSectorSize = 0x1000;
inline constexpr std::uint32_t kChipDetectMagicReg = 0x40001000;
inline constexpr std::uint32_t kEsp32ChipMagic = 0x00F01D83;
inline constexpr std::uint32_t kEsp8266ChipMagic = 0xFFF0C101;
inline constexpr std::uint32_t kEsp32S2ChipMagic = 0x000007C6;
// The ESP32 ROM appends 4 status bytes (status, error, 2 reserved); the flasher stub only 2.
inline constexpr std::size_t kEsp32RomStatusBytes = 4;
// A ROM answers SYNC with a non-zero value (esptool takes 0 as "the stub is already running"); this one is
// bootrig's choice for the model.
inline constexpr std::uint32_t kRomSyncValue = 0x20120707;

using Bytes = std::vector<std::uint8_t>;

struct RomRequest {
  std::uint8_t op = 0;
  std::uint32_t checksum = 0;  // only FLASH_DATA / MEM_DATA use it
  Bytes data;
};

struct RomResponse {
  std::uint8_t op = 0;
  std::uint32_t value = 0;
  Bytes data;  // payload, then the status bytes
};

// 0x00, op, u16 size, u32 checksum, data (not yet SLIP-framed).
Bytes encode_request(const RomRequest& r);
// nullopt unless direction 0x00 and the size field matches.
std::optional<RomRequest> decode_request(std::span<const std::uint8_t> packet);
// 0x01, op, u16 size, u32 value, payload, then status, error and two reserved zero bytes (ESP32 ROM).
Bytes encode_response(std::uint8_t op, std::uint32_t value, std::span<const std::uint8_t> payload,
                      std::uint8_t status = 0, std::uint8_t error = 0);
// nullopt unless direction 0x01 and the size field matches.
std::optional<RomResponse> decode_response(std::span<const std::uint8_t> packet);

// Checksum of a data block, as the ROM computes it: 0xEF XOR every byte.
std::uint32_t rom_checksum(std::span<const std::uint8_t> data);

// Request data for each command, laid out as esptool sends them to the ESP32 ROM.
Bytes sync_data();  // 07 07 12 20 then 32 x 55
Bytes read_reg_data(std::uint32_t address);
Bytes spi_attach_data(std::uint32_t hspi_arg = 0);  // plus the ROM-only is_legacy byte and 3 reserved
Bytes spi_set_params_data(std::uint32_t total_size);
Bytes change_baudrate_data(std::uint32_t new_baud, std::uint32_t old_baud = 0);  // ROM takes 0 as old
Bytes flash_begin_data(std::uint32_t erase_size, std::uint32_t num_blocks, std::uint32_t block_size,
                       std::uint32_t offset);
Bytes flash_data_data(std::span<const std::uint8_t> block, std::uint32_t seq);
Bytes flash_end_data(bool reboot);
Bytes flash_md5_data(std::uint32_t address, std::uint32_t size);

std::string to_string_bytes(std::span<const std::uint8_t> b);
Bytes to_bytes(std::string_view s);

}  // namespace bootrig
