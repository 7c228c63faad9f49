// boot_info encoding and CRC, and what the slots hold.
#include "sim/flash.hpp"

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/esp_image.hpp"
#include "bootrig/firmware/image_builder.hpp"

namespace bootrig::sim {

const char* to_string(SlotId s) { return s == SlotId::factory ? "factory" : "ota_0"; }

std::uint32_t slot_address(SlotId s) {
  return s == SlotId::factory ? kPycomFactoryOffset : kPycomOta0Offset4MB;
}

ImageDescriptor describe_image(std::string bytes) {
  ImageDescriptor d;
  Esp32Image img =
      parse_esp32_image(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  // What the firmware says about itself, read as bootrig reads any image (its banner in rodata).
  d.valid = img.valid() && img.kind == ImageKind::app;
  d.version = img.identity.version;
  d.board = img.board != PycomBoard::unknown ? to_string(img.board) : img.identity.board_name;
  if (!img.identity.git_tag.empty()) d.micropython = img.identity.git_tag;
  if (!img.identity.build_date.empty()) d.build_date = img.identity.build_date;
  d.breaks = img.sim_breaks;
  d.bytes = std::move(bytes);
  return d;
}

ImageDescriptor make_slot_image(const std::string& version, const std::string& board) {
  ImageSpec spec;
  spec.version = version;
  spec.board = parse_board(board).value_or(PycomBoard::fipy);
  std::vector<std::uint8_t> raw = build_esp32_image(spec);
  return describe_image(std::string(raw.begin(), raw.end()));
}

std::uint32_t crc32_le(std::uint32_t crc, const std::uint8_t* data, std::size_t len) {
  crc = ~crc;
  for (std::size_t i = 0; i < len; ++i) {
    crc ^= data[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

namespace {
void put32(std::array<std::uint8_t, 40>& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get32(const std::array<std::uint8_t, 40>& b, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | b[at + static_cast<std::size_t>(i)];
  return v;
}
}  // namespace

std::array<std::uint8_t, 40> BootInfo::encode() const {
  std::array<std::uint8_t, 40> b{};
  put32(b, 0, active_img);
  put32(b, 4, status);
  put32(b, 8, prev_img);
  put32(b, 12, size);
  put32(b, 16, safeboot);
  for (std::size_t i = 0; i < 16; ++i) b[20 + i] = signature[i];
  put32(b, 36, crc);
  return b;
}

BootInfo BootInfo::decode(const std::array<std::uint8_t, 40>& b) {
  BootInfo bi;
  bi.active_img = get32(b, 0);
  bi.status = get32(b, 4);
  bi.prev_img = get32(b, 8);
  bi.size = get32(b, 12);
  bi.safeboot = get32(b, 16);
  for (std::size_t i = 0; i < 16; ++i) bi.signature[i] = b[20 + i];
  bi.crc = get32(b, 36);
  return bi;
}

std::uint32_t BootInfo::compute_crc() const {
  auto raw = encode();
  return crc32_le(0xFFFFFFFFu, raw.data(), 36);
}

BootInfo FlashChip::read_boot_info() {
  std::lock_guard lk(otadata_m);
  return BootInfo::decode(otadata);
}

void FlashChip::write_boot_info(BootInfo bi) {
  bi.crc = bi.compute_crc();
  std::lock_guard lk(otadata_m);
  otadata = bi.encode();
}

}  // namespace bootrig::sim
