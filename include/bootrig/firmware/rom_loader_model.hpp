// The ESP32 ROM serial loader as seen from the wire: bytes in, reply bytes out, with a flash array behind it.
// The simulated module's download mode runs on this; tests run RomFlasher against it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bootrig/firmware/rom_protocol.hpp"
#include "bootrig/firmware/slip.hpp"

namespace bootrig {

struct RomLoaderConfig {
  std::size_t flash_size = 4u << 20;
  std::uint32_t chip_magic = kEsp32ChipMagic;  // what READ_REG of 0x40001000 answers
  // A real ROM answers one SYNC several times (esptool reads the 7 extra replies and drops them).
  unsigned sync_replies = 8;
  // Fault: the first N SYNC packets get no answer, as while the ROM's autobaud has not locked yet.
  unsigned ignore_syncs = 0;
  // Fault: this FLASH_DATA block is acknowledged but never reaches the flash (a lying flash chip):
  // only an MD5 check finds it.
  std::optional<std::uint32_t> drop_block_seq;
};

struct RomLoaderStats {
  std::size_t requests = 0;        // well-formed request packets
  std::size_t ignored = 0;         // packets not answered (before sync, malformed, ignored syncs)
  std::size_t error_replies = 0;   // replies with a non-zero status
  std::size_t blocks_written = 0;  // FLASH_DATA blocks programmed
  std::size_t erased_bytes = 0;
};

// Behaviour, where the ROM's own is not documented, is the model's choice and stated here:
// - commands before the first answered SYNC get no reply (the ROM has not found the baud rate yet);
// - an unknown opcode gets status 1, error 0x05, as esptool expects from ROMs for unsupported commands;
// - wrong length fields and malformed parameters: 0x05; a FLASH_DATA checksum mismatch: 0x07;
// - FLASH_BEGIN without SPI_ATTACH, past the end of flash, or with a zero block size, FLASH_DATA outside a
//   FLASH_BEGIN or out of sequence: 0x06. Repeating the previous block is accepted (a retry after a lost
//   reply rewrites the same bytes, which NOR flash tolerates);
// - SPI_FLASH_MD5 past the end of flash: 0x0A. The ROM answers MD5 as 32 lower-case hex characters;
// - FLASH_BEGIN erases every 4 KiB sector the region touches (to 0xFF); programming ANDs bytes into flash, as
//   NOR flash only clears bits.
class RomLoaderModel {
 public:
  explicit RomLoaderModel(RomLoaderConfig config = {});

  // Bytes from the host, in any pieces; returns the reply bytes (SLIP-framed) to send back, possibly empty.
  // Hooks run at the end of the call, after all replies are composed: the bytes returned must still go out at
  // the old baud rate before the caller applies a change requested through the baud hook.
  std::string feed(std::string_view bytes);

  // Called with the new rate after a CHANGE_BAUDRATE was acknowledged.
  void set_baud_hook(std::function<void(unsigned)> hook) { baud_hook_ = std::move(hook); }
  // Called after FLASH_END: true when the host asked the chip to run the app (reboot), false to stay.
  void set_flash_end_hook(std::function<void(bool reboot)> hook) { flash_end_hook_ = std::move(hook); }

  std::span<const std::uint8_t> flash() const { return flash_; }
  std::span<std::uint8_t> flash() { return flash_; }
  bool synced() const { return synced_; }
  const RomLoaderStats& stats() const { return stats_; }
  const RomLoaderConfig& config() const { return config_; }
  // Forget the session (a chip reset into download mode); the flash keeps its contents.
  void reset_session();

 private:
  void handle(const std::string& frame, std::string& out);
  void reply(std::string& out, std::uint8_t op, std::uint32_t value,
             std::span<const std::uint8_t> payload = {}, RomErrorCode error = RomErrorCode::none);
  void erase(std::uint32_t offset, std::uint32_t size);

  RomLoaderConfig config_;
  std::vector<std::uint8_t> flash_;
  SlipDecoder decoder_;
  RomLoaderStats stats_;
  bool synced_ = false;
  unsigned syncs_to_ignore_ = 0;
  bool spi_attached_ = false;
  struct Flashing {
    std::uint32_t offset = 0;
    std::uint32_t num_blocks = 0;
    std::uint32_t block_size = 0;
    std::uint32_t next_seq = 0;
  };
  std::optional<Flashing> flashing_;
  std::optional<unsigned> pending_baud_;
  std::optional<bool> pending_flash_end_;
  std::function<void(unsigned)> baud_hook_;
  std::function<void(bool)> flash_end_hook_;
};

}  // namespace bootrig
