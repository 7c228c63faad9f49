// Packet encoding for the ESP32 ROM loader; field layouts follow esptool/loader.py.
#include "bootrig/firmware/rom_protocol.hpp"

#include <array>

#include "bootrig/firmware/esp_image.hpp"
#include "firmware/byte_order.hpp"

namespace bootrig {

const char* to_string(RomCommand c) {
  switch (c) {
    case RomCommand::flash_begin:
      return "FLASH_BEGIN";
    case RomCommand::flash_data:
      return "FLASH_DATA";
    case RomCommand::flash_end:
      return "FLASH_END";
    case RomCommand::mem_begin:
      return "MEM_BEGIN";
    case RomCommand::mem_end:
      return "MEM_END";
    case RomCommand::mem_data:
      return "MEM_DATA";
    case RomCommand::sync:
      return "SYNC";
    case RomCommand::write_reg:
      return "WRITE_REG";
    case RomCommand::read_reg:
      return "READ_REG";
    case RomCommand::spi_set_params:
      return "SPI_SET_PARAMS";
    case RomCommand::spi_attach:
      return "SPI_ATTACH";
    case RomCommand::read_flash_slow:
      return "READ_FLASH_SLOW";
    case RomCommand::change_baudrate:
      return "CHANGE_BAUDRATE";
    case RomCommand::flash_defl_begin:
      return "FLASH_DEFL_BEGIN";
    case RomCommand::flash_defl_data:
      return "FLASH_DEFL_DATA";
    case RomCommand::flash_defl_end:
      return "FLASH_DEFL_END";
    case RomCommand::spi_flash_md5:
      return "SPI_FLASH_MD5";
  }
  return "?";
}

std::string command_name(std::uint8_t op) {
  const char* n = to_string(static_cast<RomCommand>(op));
  if (n[0] != '?') return n;
  return "command " + hex8(op);
}

std::string describe_rom_error(std::uint8_t code) {
  const char* what = "unknown ROM error";
  switch (static_cast<RomErrorCode>(code)) {
    case RomErrorCode::none:
      what = "no error";
      break;
    case RomErrorCode::invalid_message:
      what = "received message is invalid";
      break;
    case RomErrorCode::failed_to_act:
      what = "failed to act on received message";
      break;
    case RomErrorCode::invalid_crc:
      what = "invalid CRC in message";
      break;
    case RomErrorCode::flash_write_error:
      what = "flash write error";
      break;
    case RomErrorCode::flash_read_error:
      what = "flash read error";
      break;
    case RomErrorCode::flash_read_length:
      what = "flash read length error";
      break;
    case RomErrorCode::deflate_error:
      what = "deflate error";
      break;
  }
  return hex8(code) + " (" + what + ")";
}

Bytes encode_request(const RomRequest& r) {
  Bytes p;
  p.reserve(8 + r.data.size());
  p.push_back(0x00);
  p.push_back(r.op);
  le::append16(p, static_cast<std::uint16_t>(r.data.size()));
  le::append32(p, r.checksum);
  p.insert(p.end(), r.data.begin(), r.data.end());
  return p;
}

std::optional<RomRequest> decode_request(std::span<const std::uint8_t> packet) {
  if (packet.size() < 8 || packet[0] != 0x00) return std::nullopt;
  const std::uint16_t size = le::load16(packet.data() + 2);
  if (size != packet.size() - 8) return std::nullopt;
  RomRequest r;
  r.op = packet[1];
  r.checksum = le::load32(packet.data() + 4);
  r.data.assign(packet.begin() + 8, packet.end());
  return r;
}

Bytes encode_response(std::uint8_t op, std::uint32_t value, std::span<const std::uint8_t> payload,
                      std::uint8_t status, std::uint8_t error) {
  Bytes p;
  p.push_back(0x01);
  p.push_back(op);
  le::append16(p, static_cast<std::uint16_t>(payload.size() + kEsp32RomStatusBytes));
  le::append32(p, value);
  p.insert(p.end(), payload.begin(), payload.end());
  p.push_back(status);
  p.push_back(error);
  p.push_back(0);
  p.push_back(0);
  return p;
}

std::optional<RomResponse> decode_response(std::span<const std::uint8_t> packet) {
  if (packet.size() < 8 || packet[0] != 0x01) return std::nullopt;
  const std::uint16_t size = le::load16(packet.data() + 2);
  if (size != packet.size() - 8) return std::nullopt;
  RomResponse r;
  r.op = packet[1];
  r.value = le::load32(packet.data() + 4);
  r.data.assign(packet.begin() + 8, packet.end());
  return r;
}

std::uint32_t rom_checksum(std::span<const std::uint8_t> data) {
  return esp_checksum(data, kEspChecksumSeed);
}

Bytes sync_data() {
  Bytes d{0x07, 0x07, 0x12, 0x20};
  d.insert(d.end(), 32, 0x55);
  return d;
}

Bytes read_reg_data(std::uint32_t address) {
  Bytes d;
  le::append32(d, address);
  return d;
}

Bytes spi_attach_data(std::uint32_t hspi_arg) {
  Bytes d;
  le::append32(d, hspi_arg);
  d.insert(d.end(), {0, 0, 0, 0});  // is_legacy = 0, reserved
  return d;
}

Bytes spi_set_params_data(std::uint32_t total_size) {
  Bytes d;
  le::append32(d, 0);  // fl_id
  le::append32(d, total_size);
  le::append32(d, 64 * 1024);  // block size
  le::append32(d, 4 * 1024);   // sector size
  le::append32(d, 256);        // page size
  le::append32(d, 0xFFFF);     // status mask
  return d;
}

Bytes change_baudrate_data(std::uint32_t new_baud, std::uint32_t old_baud) {
  Bytes d;
  le::append32(d, new_baud);
  le::append32(d, old_baud);
  return d;
}

Bytes flash_begin_data(std::uint32_t erase_size, std::uint32_t num_blocks, std::uint32_t block_size,
                       std::uint32_t offset) {
  Bytes d;
  le::append32(d, erase_size);
  le::append32(d, num_blocks);
  le::append32(d, block_size);
  le::append32(d, offset);
  return d;
}

Bytes flash_data_data(std::span<const std::uint8_t> block, std::uint32_t seq) {
  Bytes d;
  d.reserve(16 + block.size());
  le::append32(d, static_cast<std::uint32_t>(block.size()));
  le::append32(d, seq);
  le::append32(d, 0);
  le::append32(d, 0);
  d.insert(d.end(), block.begin(), block.end());
  return d;
}

Bytes flash_end_data(bool reboot) {
  Bytes d;
  le::append32(d, reboot ? 0 : 1);  // esptool sends int(not reboot)
  return d;
}

Bytes flash_md5_data(std::uint32_t address, std::uint32_t size) {
  Bytes d;
  le::append32(d, address);
  le::append32(d, size);
  le::append32(d, 0);
  le::append32(d, 0);
  return d;
}

std::string to_string_bytes(std::span<const std::uint8_t> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

Bytes to_bytes(std::string_view s) {
  return Bytes(reinterpret_cast<const std::uint8_t*>(s.data()),
               reinterpret_cast<const std::uint8_t*>(s.data()) + s.size());
}

}  // namespace bootrig
