// Cable flashing of a Pycom module through the ESP32 ROM serial loader: download mode through the rig's P2
// and RESET lines, the app into the factory slot, boot_info reset, then a reset and a version check.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "bootrig/core/result.hpp"
#include "bootrig/core/time.hpp"
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
  unsigned baud = 0;  // 0: flash at the rig's baud; else CHANGE_BAUDRATE to it first
  RomTimeouts rom;
  int sync_attempts = 5;                // per reset into download mode
  Duration boot_timeout = seconds(30);  // reset to REPL prompt after the write
  Duration probe_timeout = seconds(5);  // reading what runs before (skipped when it does not answer)
  std::function<void(std::size_t done, std::size_t total)> progress;
};

struct CableFlashReport {
  std::string version, board;  // from the image
  std::uint32_t offset = kCableAppOffset;
  std::size_t bytes = 0;
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

// The whole cable flash. RigError (nothing touched) for an invalid image, an image for another board than
// the one running, or a rig without a bootloader line; device trouble is the failure value. P2 is released
// on every path.
Result<CableFlashReport, FlashFailure> cable_flash(const CableWires& wires, ReplClient& repl,
                                                   std::span<const std::uint8_t> image,
                                                   const std::string& source,
                                                   const CableFlashOptions& options);

}  // namespace bootrig
