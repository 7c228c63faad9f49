// The Python modules of the simulated firmware (os, sys, machine, pycom, time, micropython, gc) and open().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/flash.hpp"
#include "sim/python/interp.hpp"
#include "sim/vfs.hpp"

namespace bootrig::sim {

// machine.reset_cause() values (esp32/mods/modmachine.c).
enum class ResetCause : int { power_on = 0, hard = 1, wdt = 2, deepsleep = 3, soft = 4, brownout = 5 };

// What the modules call into: the chip around the interpreter. Implemented by the board.
class FirmwareApi {
 public:
  virtual ~FirmwareApi() = default;
  virtual void sleep_us(std::int64_t us) = 0;  // Ctrl-C raises KeyboardInterrupt; a reset unwinds
  virtual std::int64_t ticks_us() = 0;         // since the last hard reset
  [[noreturn]] virtual void machine_reset() = 0;
  virtual ResetCause reset_cause() = 0;
  virtual Vfs& vfs() = 0;
  virtual void fsformat(const std::string& mount) = 0;  // raises OSError for an unknown mount
  virtual bool heartbeat() = 0;
  virtual void set_heartbeat(bool on) = 0;
  virtual bool heartbeat_on_boot() = 0;
  virtual void set_heartbeat_on_boot(bool on) = 0;
  virtual bool rgbled(std::uint32_t colour) = 0;  // false while the heartbeat owns the LED
  virtual BootInfo boot_info() = 0;
  virtual void write_boot_info(const BootInfo& bi) = 0;
  virtual void set_kbd_intr(int ch) = 0;
  virtual void dupterm(bool attach) = 0;
  virtual bool dupterm_attached() = 0;
  virtual void uart_write(std::string_view bytes) = 0;  // straight onto UART0 TX
  virtual std::string uart_read(std::size_t max) = 0;   // non-blocking; what UART0 has buffered
  virtual std::size_t uart_any() = 0;
  // sys.stdin: blocks until `n` bytes came in on UART0 RX (the REPL terminal). While kbd_intr is -1 a
  // 0x03 is data; otherwise it raises KeyboardInterrupt (bytes taken before it are lost). A reset unwinds.
  virtual std::string stdin_read(std::size_t n) = 0;
  virtual const ImageDescriptor& running_image() = 0;
  virtual std::string unique_id() = 0;  // machine.unique_id(): the base MAC from eFuse, 6 bytes
  virtual SlotId running_slot() = 0;
  virtual std::int64_t rtc_us() = 0;  // microseconds since 1970-01-01
  virtual void set_rtc_us(std::int64_t us) = 0;
  virtual void set_main_script(const std::string& name) = 0;
  // OTA (esp32/ftp/updater.c): each returns false where the firmware raises OSError.
  virtual std::uint32_t ota_slot() = 0;  // flash address the next update is written to
  virtual bool ota_start() = 0;
  virtual bool ota_write(std::string_view data) = 0;  // appends; a brown-out fault unwinds from here
  virtual bool ota_finish() = 0;
  virtual bool ota_verify() = 0;
};

// Registers the modules and the open()/help() builtins; modules are rebuilt on import after each soft reset.
void install_firmware_modules(py::Interp& interp, FirmwareApi& fw);

// The banner line without its line end, e.g.
// "Pycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32".
std::string banner_line(const ImageDescriptor& image, py::Dialect dialect);

// Days since 1970-01-01 to a civil date, and back (for the RTC and time.localtime()).
void civil_from_days(std::int64_t days, int* y, int* m, int* d);
std::int64_t days_from_civil(int y, int m, int d);

}  // namespace bootrig::sim
