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
#include "bootrig/repl/checked_channel.hpp"
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
  // Send the image as raw binary through sys.stdin when the board has sys.stdin.buffer (one checked frame
  // in flight, each acknowledged with a running count and sum, resent when refused or lost); false, or a board without it, sends every
  // block as a pycom.ota_write(b'...') bytes literal (about 2.9 wire bytes per image byte). Pycom's UART
  // callback treats 0x06 (Ctrl-F) as a safe-boot reset even while code runs, so 0x06 (and the escape byte
  // 0x10) go escaped. Not yet tried on a real board.
  bool binary_transfer = true;
  Duration step_timeout = seconds(15);
  Duration boot_timeout = seconds(30);
  bool allow_foreign = false;  // flash an app that is not a Pycom MicroPython build (bootrig flash --force)
  // Called after each block with bytes written so far and the image size.
  std::function<void(std::size_t done, std::size_t total)> progress;
  // Every exchange of the update (reads, ota_start/verify/finish, the transfer loop's definition) goes
  // through this checked channel; unset, the update uses one of its own on `repl`.
  CheckedChannel* channel = nullptr;
  // Pulses the rig's RESET line (a hard reset is what loads the new image). Required.
  std::function<void()> hard_reset;
};

struct OtaReport {
  std::string version;  // from the image
  std::string board;
  RunningFirmware before, after;
  std::size_t bytes = 0, blocks = 0;
  std::size_t wire_bytes = 0;  // bytes sent for the writes (bytes literals expand binary data)
  std::size_t frames = 0, resent = 0;  // binary transfer: frames sent, and of those sent again (the line)
  std::string transfer;        // "binary" (sys.stdin) or "bytes-literal"
  TimePoint start{}, writes_start{}, writes_done{}, end{};
  // The image transfer alone (after the probe and pycom.ota_start(), up to the last acknowledged block).
  Duration write_time() const { return writes_done - writes_start; }
};

struct OtaFailure {
  std::string step;  // "ota_write", "reset", ...
  std::string what;  // one line
};

// Reads what runs through the checked channel (retried while the line garbles); a failure when the REPL does
// not answer or the line defeats every attempt. The ReplClient form uses a channel of its own.
Result<RunningFirmware, OtaFailure> read_running_firmware(CheckedChannel& channel, Deadline deadline);
Result<RunningFirmware, OtaFailure> read_running_firmware(ReplClient& repl, Deadline deadline);

// Throws RigError (naming `source`) when the image is corrupt, not an app (a bootloader), not a Pycom
// MicroPython build (unless allow_foreign), built for another board than `board` (empty: not checked) or
// does not fit a slot. Returns the parsed image otherwise.
Esp32Image validate_ota_image(std::span<const std::uint8_t> image, const std::string& board,
                              const std::string& source, bool allow_foreign = false);

// The whole update. Every exchange goes through the checked channel; the binary transfer runs a loop on the
// board with Ctrl-C disabled (micropython.kbd_intr(-1)) that takes the image in checked frames, each resent
// until the board acknowledges it intact (upload_through_stdin), and the SHA-256 of all the board wrote
// must be the image's before pycom.ota_verify() and ota_finish(). When the transfer fails for good the
// client sends stop frames until the loop has ended and then looks for a prompt; should the host die
// mid-transfer instead, only a RESET frees the board. RigError for an image that must not be sent (nothing
// is written then); device trouble (no answer, OSError, a line that defeats every retry, verify false,
// wrong version after the reset) is the failure value.
Result<OtaReport, OtaFailure> ota_update(ReplClient& repl, std::span<const std::uint8_t> image,
                                         const std::string& source, const OtaOptions& options);

// The writing part of the update alone: pycom.ota_start(), the image (binary or bytes literals, as above)
// and the SHA-256 of what the board wrote compared with the image's; `rep` gets the transfer's figures. No
// validation of the image and no ota_verify(), ota_finish() or reset: for writing an image the bootloader
// itself must refuse (ota-rollback-invalid), at the speed of a real update.
Result<bool, OtaFailure> ota_write_image(ReplClient& repl, CheckedChannel& channel,
                                         std::span<const std::uint8_t> image, const OtaOptions& options,
                                         OtaReport& rep);

}  // namespace bootrig
