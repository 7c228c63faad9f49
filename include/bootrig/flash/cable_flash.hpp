// Cable flashing of a Pycom module through the ESP32 ROM serial loader: download mode through the rig's P2
// and RESET lines, the app into the factory slot (or a bundle's files where its script puts them), boot_info
// reset, then a reset and a version check; and reading a flash region's MD5 the same way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bootrig/core/result.hpp"
#include "bootrig/core/time.hpp"
#include "bootrig/firmware/firmware_file.hpp"
#include "bootrig/firmware/rom_flasher.hpp"
#include "bootrig/flash/ota.hpp"
#include "bootrig/hw/gpio.hpp"
#include "bootrig/hw/serial.hpp"
#include "bootrig/repl/repl_client.hpp"

namespace bootrig {

// Where the vendor's tool puts an application and the boot_info record it erases (4 MB parts).
inline constexpr std::uint32_t kCableAppOffset = 0x10000;
inline constexpr std::uint32_t kOtadataOffset = 0x1BE000;
inline constexpr std::uint32_t kOtadataSectorSize = 0x1000;

// A failed flash step: which step and one line saying what happened and what state the board is in.
using FlashFailure = OtaFailure;

struct CableFlashOptions {
  unsigned baud = 0;  // 0: flash at the rig's baud; else CHANGE_BAUDRATE to it first (crystal-compensated)
  RomTimeouts rom;
  int sync_attempts = 5;       // per reset into download mode
  int reset_rounds = 4;        // resets into download mode before giving up (esptool: 7 connection attempts)
  bool compress = true;        // zlib stream through FLASH_DEFL_*, as esptool does by default
  bool allow_foreign = false;  // flash an app that is not a Pycom MicroPython build
  const LoadedFirmware* bundle = nullptr;  // a bundle: write its files as its script says, not the app alone
  Duration boot_timeout = seconds(30);     // reset to REPL prompt after the write
  Duration probe_timeout = seconds(5);     // reading what runs before (skipped when it does not answer)
  std::function<void(std::size_t done, std::size_t total)> progress;
};

struct CableFlashReport {
  std::string version, board;  // from the image
  std::uint32_t offset = kCableAppOffset;
  std::size_t bytes = 0;       // the app image
  std::size_t wire_bytes = 0;  // data bytes that crossed for all writes (compressed stream or padded blocks)
  bool compressed = false;
  std::uint32_t flash_size = 0;           // what the flash chip's JEDEC id says
  std::vector<std::string> written;       // "bootloader.bin at 0x1000", ..., "otadata erased at 0x1be000"
  unsigned baud = 0;                      // the rate the blocks went at
  std::optional<RunningFirmware> before;  // nullopt when the board did not answer before the flash
  RunningFirmware after;
  TimePoint start{}, writes_done{}, end{};
  TimePoint writes_start{};  // download mode reached (after the probe and the reset into the ROM)
  Duration write_time() const { return writes_done - writes_start; }
};

struct CableWires {
  DigitalOutput& reset;
  DigitalOutput* bootloader;  // P2 (G23 on the expansion board); active = held low; nullptr: not wired
  SerialLink& serial;
  Duration reset_pulse;
};

// The whole cable flash. RigError (nothing touched) for an invalid image, one that is not a Pycom build
// (unless allow_foreign), an image for another board than the one running, a rig without a bootloader line,
// or (once the ROM answered, before anything is written) a bundle whose partition table does not fit the
// module's flash; device trouble is the failure value, which says whether anything was written. After any
// failure the module is reset out of download mode (P2 released, a RESET pulse).
Result<CableFlashReport, FlashFailure> cable_flash(const CableWires& wires, ReplClient& repl,
                                                   std::span<const std::uint8_t> image,
                                                   const std::string& source,
                                                   const CableFlashOptions& options);

// The MD5 of length bytes of flash at offset, read through download mode: P2 held through a RESET pulse,
// sync, SPI_ATTACH with the eFuse's pads, SPI_FLASH_MD5, then a RESET pulse with P2 released so that the
// module boots its app (not waited for). Nothing is written. RigError for a rig without a bootloader line;
// device trouble is the failure value (the module is reset out of download mode then too).
Result<Md5Digest, FlashFailure> read_flash_md5(const CableWires& wires, std::uint32_t offset,
                                               std::uint32_t length, const CableFlashOptions& options = {});

// Several regions in one visit to download mode (one reset), with the flash chip's size (RDID): what the
// firmware-identity check asks of a module whose P2 is wired. `length_of(flash_size)` may depend on it (the
// ota_0 slot's address does). Same wiring, errors and exit as read_flash_md5.
struct FlashRegion {
  std::string name;  // "factory", "ota_0"
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};
struct FlashDigests {
  std::uint32_t flash_size = 0;
  std::vector<Md5Digest> md5;  // one per region, in order
};
Result<FlashDigests, FlashFailure> read_flash_digests(
    const CableWires& wires, const std::function<std::vector<FlashRegion>(std::uint32_t flash_size)>& regions,
    const CableFlashOptions& options = {});

}  // namespace bootrig
