// The ESP32 ROM serial loader as seen from the wire: bytes in, reply bytes out, with a flash array and the
// chip's registers behind it; and, once a host has uploaded esptool's flasher stub and started it, a model of
// the stub's protocol (the simulator cannot execute Xtensa code). The simulated module's download mode runs
// on this; tests run RomFlasher and the real esptool against it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bootrig/firmware/archive.hpp"
#include "bootrig/firmware/esp32_registers.hpp"
#include "bootrig/firmware/rom_protocol.hpp"
#include "bootrig/firmware/slip.hpp"

namespace bootrig {

struct RomLoaderConfig {
  std::size_t flash_size = 4u << 20;
  Esp32Identity identity;                      // MAC, JEDEC id, crystal estimate, SPI pads
  std::uint32_t chip_magic = kEsp32ChipMagic;  // what READ_REG of 0x40001000 answers
  // A real ROM answers one SYNC several times (esptool reads the 7 extra replies and drops them).
  unsigned sync_replies = 8;
  // Fault: the first N SYNC packets get no answer, as while the ROM's autobaud has not locked yet.
  unsigned ignore_syncs = 0;
  // Fault: this FLASH_DATA block is acknowledged but never reaches the flash (a lying flash chip):
  // only an MD5 check finds it.
  std::optional<std::uint32_t> drop_block_seq;
  // Fault: this plain FLASH_DATA block is refused once (not written, the ROM still waits for it), but the
  // reply reads as success, as when the line garbles the reply's status byte (replies carry no checksum).
  std::optional<std::uint32_t> refuse_as_ok_seq;
  // Fault: this plain FLASH_DATA block is programmed with one byte changed, once, and acknowledged: a block
  // whose garbled bytes the ROM's XOR checksum did not catch. Only an MD5 check finds it.
  std::optional<std::uint32_t> corrupt_block_seq_once;
};

struct RomLoaderStats {
  std::size_t requests = 0;        // well-formed request packets
  std::size_t ignored = 0;         // packets not answered (before sync, malformed, ignored syncs)
  std::size_t error_replies = 0;   // replies with a non-zero status
  std::size_t blocks_written = 0;  // FLASH_DATA / FLASH_DEFL_DATA blocks programmed
  std::size_t bytes_written = 0;   // bytes programmed into flash (after inflating)
  std::size_t erased_bytes = 0;
  std::size_t stub_starts = 0;  // times the uploaded stub greeted
};

// How the chip leaves the loader on FLASH_END / FLASH_DEFL_END (the word esptool sends is int(not reboot)).
enum class LoaderExit : std::uint8_t {
  reboot,         // 0: a software reset; the ROM samples the strapping pins again
  run_user_code,  // 1 (ROM only): boot from flash without a reset
};

// Behaviour, where the ROM's own is not documented, is the model's choice and stated here:
// - commands before the first answered SYNC get no reply (the ROM has not found the baud rate yet);
// - an opcode the ROM does not have (the stub's 0xD0-0xD3 included) is answered with status 1, error 0x05
//   in a reply whose opcode field is 0x00, not the request's: what esptool's UnsupportedCommandError path
//   reads;
// - wrong length fields and malformed parameters: 0x05; a data checksum mismatch: 0x07; a broken zlib stream:
//   0x0B;
// - FLASH_BEGIN without SPI_ATTACH (or attached with other pads than the eFuse names), past the end of flash,
//   or with a zero block size, FLASH_DATA outside a FLASH_BEGIN or out of sequence: 0x06. Repeating the
//   previous block is accepted (a retry after a lost reply rewrites the same bytes, which NOR flash
//   tolerates);
// - SPI_FLASH_MD5 or READ_FLASH_SLOW past the end of flash, READ_FLASH_SLOW of more than 64 bytes: 0x0A. The
//   ROM answers MD5 as 32 lower-case hex characters; READ_FLASH_SLOW always with a 64-byte buffer;
// - FLASH_BEGIN / FLASH_DEFL_BEGIN erase every 4 KiB sector the region touches (to 0xFF) up front;
//   programming ANDs bytes into flash, as NOR flash only clears bits;
// - CHANGE_BAUDRATE: the ROM divides its crystal estimate (Esp32Identity::rom_xtal_estimate_hz) by the rate
//   asked for, so the UART runs at rate * 40 MHz / estimate: a host must scale the rate it asks for.
// The stub (after MEM_END with an entry point, when the uploaded text and data all arrived): greets with a
// SLIP frame "OHAI", answers with 2 status bytes (error, 0) and its error codes (0xC0 bad length, 0xC1 bad
// checksum, 0xC6 not in flash mode, 0xC7 inflate error, 0xC9 too much data, 0xFF not implemented, under the
// request's opcode), takes write blocks of any size up to 16 KiB and erases as it writes, sets the baud
// rate exactly, and adds ERASE_FLASH, ERASE_REGION and READ_FLASH (4 KiB frames, the host acknowledging each
// with the count received, at most max_in_flight unacknowledged, then the MD5 of the data as 16 raw bytes);
// SPI_FLASH_MD5 answers 16 raw bytes. FLASH_END 0 reboots (as the ROM), 1 stays in the stub.
class RomLoaderModel {
 public:
  explicit RomLoaderModel(RomLoaderConfig config = {});
  ~RomLoaderModel();

  // Bytes from the host, in any pieces; returns the reply bytes (SLIP-framed) to send back, possibly empty.
  // Hooks run at the end of the call, after all replies are composed: the bytes returned must still go out at
  // the old baud rate before the caller applies a change requested through the baud hook.
  std::string feed(std::string_view bytes);

  // Called with the rate the UART now really runs at, after a CHANGE_BAUDRATE was acknowledged.
  void set_baud_hook(std::function<void(unsigned)> hook) { baud_hook_ = std::move(hook); }
  // Called after FLASH_END / FLASH_DEFL_END asked the chip to leave the loader.
  void set_exit_hook(std::function<void(LoaderExit)> hook) { exit_hook_ = std::move(hook); }

  std::span<const std::uint8_t> flash() const { return flash_; }
  std::span<std::uint8_t> flash() { return flash_; }
  bool synced() const { return synced_; }
  bool stub_running() const { return stub_; }
  const RomLoaderStats& stats() const { return stats_; }
  const RomLoaderConfig& config() const { return config_; }
  Esp32Registers& registers() { return regs_; }
  // The UART's rate as the chip sees it (after autobaud at the host's rate, or a CHANGE_BAUDRATE).
  void set_uart_baud(unsigned baud) { regs_.set_uart_baud(baud); }
  // Forget the session (a chip reset into download mode): ROM loader again, unsynced; the flash keeps its
  // contents.
  void reset_session();

 private:
  struct Write;  // a FLASH_BEGIN / FLASH_DEFL_BEGIN in progress
  struct Read;   // the stub's READ_FLASH in progress
  static std::unique_ptr<Write> begin_write(const Bytes& data, bool compressed);
  void handle(const std::string& frame, std::string& out);
  void handle_rom(const RomRequest& req, std::string& out);
  void handle_stub(const RomRequest& req, std::string& out);
  bool common(const RomRequest& req, std::string& out, bool stub);  // commands both speak
  void reply(std::string& out, std::uint8_t op, std::uint32_t value,
             std::span<const std::uint8_t> payload = {}, std::uint8_t error = 0);
  void erase(std::uint32_t offset, std::uint32_t size);
  void program(std::uint32_t at, std::span<const std::uint8_t> data);
  bool attach_ok() const;
  void pump_read(std::string& out);

  RomLoaderConfig config_;
  Esp32Registers regs_;
  std::vector<std::uint8_t> flash_;
  SlipDecoder decoder_;
  RomLoaderStats stats_;
  bool synced_ = false;
  bool stub_ = false;
  bool crashed_ = false;  // jumped into RAM that holds no complete upload: nothing answers until a reset
  unsigned syncs_to_ignore_ = 0;
  std::optional<std::uint32_t> attached_;  // the SPI_ATTACH argument
  std::unique_ptr<Write> write_;
  bool refused_as_ok_ = false;  // refuse_as_ok_seq has been applied
  bool corrupted_once_ = false;  // corrupt_block_seq_once has been applied
  std::unique_ptr<Read> read_;
  struct MemUpload {
    std::uint32_t size = 0, blocks = 0, block_size = 0, next_seq = 0, received = 0;
  };
  std::optional<MemUpload> mem_;
  std::size_t mem_uploads_complete_ = 0;
  std::optional<unsigned> pending_baud_;
  std::optional<LoaderExit> pending_exit_;
  std::function<void(unsigned)> baud_hook_;
  std::function<void(LoaderExit)> exit_hook_;
};

}  // namespace bootrig
