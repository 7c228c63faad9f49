// OTA update of a Pycom module over its REPL (pycom.ota_start/ota_write/ota_verify/ota_finish), with the
// image validated before anything is written and the running version confirmed after the reset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "bootrig/core/result.hpp"
#include "bootrig/core/time.hpp"
#include "bootrig/firmware/esp_image.hpp"
#include "bootrig/repl/repl_client.hpp"

namespace bootrig {

// What the board says it runs (os.uname() and pycom.ota_slot()).
struct RunningFirmware {
  std::string version;         // os.uname()[2], "1.20.2.r4"
  std::string board;           // first word of os.uname()[4], "FiPy"
  std::uint32_t ota_slot = 0;  // pycom.ota_slot(): where the next update goes
  std::string bootmgr;         // repr of pycom.bootmgr(), e.g. "('Factory', 'LittleFS', ...)"
};

struct OtaOptions {
  std::size_t block_bytes = 4096;  // per pycom.ota_write(), as the firmware recommends
  Duration step_timeout = seconds(15);
  Duration boot_timeout = seconds(30);
  // Called after each block with bytes written so far and the image size.
  std::function<void(std::size_t done, std::size_t total)> progress;
  // Pulses the rig's RESET line (a hard reset is what loads the new image). Required.
  std::function<void()> hard_reset;
};

struct OtaReport {
  std::string version;  // from the image
  std::string board;
  RunningFirmware before, after;
  std::size_t bytes = 0, blocks = 0;
  std::size_t wire_bytes = 0;  // code bytes sent for the writes (bytes literals expand binary data)
  TimePoint start{}, writes_done{}, end{};
  Duration write_time() const { return writes_done - start; }
};

struct OtaFailure {
  std::string step;  // "ota_write", "reset", ...
  std::string what;  // one line
};

// Reads what runs; nullopt-like failure when the REPL does not answer.
Result<RunningFirmware, OtaFailure> read_running_firmware(ReplClient& repl, Deadline deadline);

// Throws RigError (naming `source`) when the image is corrupt, built for another board than `board`
// (empty: not checked) or does not fit a slot. Returns the parsed image otherwise.
Esp32Image validate_ota_image(std::span<const std::uint8_t> image, const std::string& board,
                              const std::string& source);

// The whole update. RigError for an image that must not be sent (nothing is written then); device
// trouble (no answer, OSError, verify false, wrong version after the reset) is the failure value.
Result<OtaReport, OtaFailure> ota_update(ReplClient& repl, std::span<const std::uint8_t> image,
                                         const std::string& source, const OtaOptions& options);

}  // namespace bootrig
