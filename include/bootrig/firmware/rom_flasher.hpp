// Flashes an ESP32 through its ROM serial loader, as esptool does without the stub: sync, chip check, the
// flash chip's id (RDID through the SPI controller's registers), SPI attach with the eFuse's pad
// configuration, a baud change scaled by the ROM's own crystal estimate, compressed (zlib, FLASH_DEFL_*) or
// plain writes in 0x400-byte blocks, and an MD5 read-back check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <span>
#include <string>
#include <variant>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/time.hpp"
#include "bootrig/firmware/hash.hpp"
#include "bootrig/firmware/rom_loader_model.hpp"
#include "bootrig/firmware/rom_protocol.hpp"
#include "bootrig/firmware/slip.hpp"
#include "bootrig/hw/serial.hpp"

namespace bootrig {

// esptool's defaults (loader.py); tests shorten them.
struct RomTimeouts {
  Duration command = seconds(3);            // DEFAULT_TIMEOUT
  Duration sync = milliseconds(100);        // SYNC_TIMEOUT
  Duration sync_pause = milliseconds(50);   // between sync attempts
  Duration erase_per_mb = seconds(40);      // ERASE_REGION_TIMEOUT_PER_MB: the ROM erases at FLASH_BEGIN
  Duration md5_per_mb = seconds(8);         // MD5_TIMEOUT_PER_MB
  Duration baud_settle = milliseconds(50);  // after CHANGE_BAUDRATE, before talking at the new rate
  // A plain block of 256 bytes or less (a noisy line's fallback): its line time at 115200 baud (25 ms) and a
  // page program (0.7 ms typical, 3 ms at most on the flash chips of Pycom modules) and a USB adapter's
  // latency timer (16 ms on FTDI's), with room for a loaded host. A lost frame then costs 0.2 s instead of
  // esptool's 3 s: at one byte in a hundred dropped the fault matrix's 74 KiB write took 1.3 s a block at
  // 0.5 s, most of it waiting for replies that could not come.
  Duration small_block = milliseconds(200);
};

enum class RomFailure : std::uint8_t {
  no_reply,      // nothing (or nothing matching) before the deadline
  rom_error,     // the ROM answered with a non-zero status; code says why
  bad_reply,     // a reply too short to hold its status bytes or payload
  unsupported,   // the ROM does not know the command
  wrong_chip,    // chip-detect register is not the ESP32's
  md5_mismatch,  // flash read back differs from what was written
};
const char* to_string(RomFailure f);

struct RomError {
  RomFailure kind = RomFailure::no_reply;
  RomCommand command = RomCommand::sync;
  std::uint8_t code = 0;  // ROM error byte for rom_error
  std::string message;    // one line: "FLASH_DATA (block 3 of 16): ROM error 0x07 (invalid CRC in message)"
};

// A value or the reason there is none: expected device failures are values, not exceptions.
template <class T>
class RomResult {
 public:
  RomResult(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  RomResult(RomError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const T& value() const { return std::get<0>(v_); }
  const RomError& error() const { return std::get<1>(v_); }
  // For callers where a failure ends the command: RigError("context: message").
  const T& value_or_throw(const std::string& context) const {
    if (!ok()) throw RigError(context + ": " + error().message);
    return value();
  }

 private:
  std::variant<T, RomError> v_;
};
using RomStatus = RomResult<std::monostate>;

enum class RomChip : std::uint8_t { esp32, esp8266, esp32s2, unknown };
const char* to_string(RomChip c);

struct FlashWriteReport {
  std::uint32_t offset = 0;
  std::size_t bytes = 0;
  std::size_t wire_bytes = 0;  // data bytes sent: the compressed stream, or the padded blocks
  bool compressed = false;  // false also when a noisy line made the write fall back to plain blocks
  std::uint32_t blocks = 0;
  std::uint32_t block_size = 0;  // smaller than 1 KiB when the line garbled too many tries of larger blocks
  std::size_t block_retries = 0;
  // Of a write whose MD5 differed: the 4 KiB sectors whose own MD5 differed and were written again.
  std::size_t sectors_rewritten = 0;
  Md5Digest md5{};
};

// (bytes written so far, total bytes): called after each acknowledged block.
using FlashProgress = std::function<void(std::size_t done, std::size_t total)>;

class RomFlasher {
 public:
  explicit RomFlasher(SerialLink& link, RomTimeouts timeouts = {});

  // SYNC until one is answered: up to attempts tries, each waiting timeouts.sync, pausing between (esptool
  // makes 5 tries per reset and 7 resets; resetting into download mode is the boot strategy's job).
  RomStatus sync(int attempts = 5);
  RomResult<std::uint32_t> read_reg(std::uint32_t address);
  RomStatus write_reg(std::uint32_t address, std::uint32_t value);
  // READ_REG of the chip-detect magic register.
  RomResult<RomChip> detect_chip();
  // SPI_ATTACH with this pad configuration (0: the default pads).
  RomStatus spi_attach(std::uint32_t pads = 0);
  // The pad configuration the eFuse names (what the bootloader attaches with), read through READ_REG.
  RomResult<std::uint32_t> efuse_spi_pads();
  RomStatus spi_set_params(std::uint32_t flash_size);
  // The flash chip's JEDEC id (manufacturer in the low byte), by RDID through the SPI controller's user
  // command, as esptool's flash_id(); the size it names is 1 << (id >> 16 & 0xFF).
  RomResult<std::uint32_t> flash_id();
  // The ROM's crystal estimate in Hz (RTC calibration and eFuse), which it divides by when setting a rate.
  RomResult<double> rom_crystal_estimate();
  // Asks the ROM for `baud`, scaled by its crystal estimate against the crystal it really has (40 or 26 MHz,
  // as esptool does for the ESP32), then switches the link and drops what arrived meanwhile.
  RomStatus change_baudrate(unsigned baud);
  // Erases and opens a write of size bytes at offset; returns the number of blocks to send.
  RomResult<std::uint32_t> flash_begin(std::uint32_t size, std::uint32_t offset);
  // One block; a short block is padded with 0xFF to the block size as esptool does. Retried on a noisy line.
  RomStatus flash_data(std::span<const std::uint8_t> block, std::uint32_t seq);
  // The same for a compressed write: FLASH_DEFL_BEGIN (erases size bytes) for compressed_size bytes of
  // zlib stream, then its blocks (not padded).
  RomResult<std::uint32_t> flash_defl_begin(std::uint32_t size, std::uint32_t compressed_size,
                                            std::uint32_t offset);
  RomStatus flash_defl_data(std::span<const std::uint8_t> block, std::uint32_t seq);
  // Leaves the loader: reboot (0) or run the app in flash (1). Not needed to stay in the loader: a RESET
  // pulse with P2 released restarts the chip cleanly.
  RomStatus flash_end(LoaderExit how);
  RomResult<Md5Digest> flash_md5(std::uint32_t address, std::uint32_t size);

  // sync, ESP32 check, the flash chip's size (RDID), SPI attach with the eFuse's pads and the flash
  // parameters: ready for write_flash. Returns the flash size in bytes.
  RomResult<std::uint32_t> connect(int sync_attempts = 5);
  // The region erased and written (compressed: FLASH_DEFL_BEGIN/DATA with the zlib stream; else
  // FLASH_BEGIN/DATA with padded blocks), then its MD5 compared with the data; the whole write is done again
  // (3 times in all) when the MD5 differs or a block never got through (a noisy line); when the MD5 differs,
  // the sectors whose own MD5 differs are first written again alone (most of the write landed). A line that spoils
  // most tries of a block has the write begun again with blocks a quarter the size (down to 64 bytes),
  // uncompressed (a plain block can be repeated when its acknowledgement was lost; a compressed one cannot).
  RomResult<FlashWriteReport> write_flash(std::uint32_t offset, std::span<const std::uint8_t> data,
                                          const FlashProgress& progress = {}, bool compress = true);

  std::size_t block_retries() const { return block_retries_; }
  std::size_t sync_attempts_made() const { return sync_attempts_; }

 private:
  struct Reply {
    std::uint32_t value = 0;
    Bytes payload;
  };
  RomResult<Reply> command(RomCommand op, const Bytes& data, std::uint32_t checksum, Duration timeout,
                           std::size_t payload_len = 0, const std::string& what = "");
  // A command that changes nothing when repeated, repeated while its reply is lost or garbled.
  RomResult<FlashWriteReport> write_flash_once(std::uint32_t offset, std::span<const std::uint8_t> data,
                                               const FlashProgress& progress, bool compress);
  // After a write whose MD5 differs: each 4 KiB sector's MD5, and a plain write of those that differ.
  RomResult<FlashWriteReport> rewrite_differing_sectors(std::uint32_t offset, std::span<const std::uint8_t> data);
  RomResult<Reply> repeated(RomCommand op, const Bytes& data, Duration timeout, std::size_t payload_len,
                            const std::string& what);
  std::optional<std::string> next_frame(Deadline deadline);
  // One data block (FLASH_DATA or FLASH_DEFL_DATA), retried where another try can help. Above the smallest
  // block size it gives up early, with shrink_wanted_ set, when the line spoils most tries of this size.
  RomStatus send_block(RomCommand op, std::span<const std::uint8_t> block, std::uint32_t seq);
  // FLASH_BEGIN or FLASH_DEFL_BEGIN, repeated while its reply is lost or garbled (repeating one starts the
  // same write again).
  RomResult<Reply> begin_command(RomCommand op, const Bytes& data, Duration timeout, const std::string& what);
  // After a try that got no reply: whether the ROM answers a register read (two tries; a line that ate a
  // frame also eats the one after it).
  bool rom_still_answers();
  RomError error(RomFailure kind, RomCommand op, std::string detail, std::uint8_t code = 0) const;

  SerialLink& link_;
  RomTimeouts timeouts_;
  SlipDecoder decoder_;
  std::deque<std::string> frames_;
  std::uint32_t block_size_ = kRomFlashBlockSize;
  bool shrink_wanted_ = false;  // the last block gave up at this size: the write is begun again smaller
  bool plain_only_ = false;     // a write had to shrink its blocks: the session's later writes go plain
  bool out_of_step_ = false;    // the last plain block was refused as out of sequence, time after time
  std::uint32_t begun_blocks_ = 0;  // of the last FLASH_BEGIN, for messages
  std::uint32_t begun_offset_ = 0;
  std::size_t block_retries_ = 0;
  std::size_t sync_attempts_ = 0;
};

}  // namespace bootrig
