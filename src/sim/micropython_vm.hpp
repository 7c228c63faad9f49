// The seam between the simulated board and the real MicroPython it runs: the chip's services the
// interpreter's port calls (FirmwareApi, implemented by the board) and the interpreter's life on the chip's
// thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "bootrig/core/time.hpp"
#include "sim/block_store.hpp"
#include "sim/flash.hpp"

struct bootrig_mp_vm;

namespace bootrig::sim {

// machine.reset_cause() values (esp32/mods/modmachine.c).
enum class ResetCause : int { power_on = 0, hard = 1, wdt = 2, deepsleep = 3, soft = 4, brownout = 5 };

// Which firmware the module runs: Pycom 1.20 (MicroPython 1.11 base) or current upstream MicroPython.
enum class Profile : std::uint8_t { pycom, upstream };

// pyexec's outcome for a script or REPL input.
enum class ExecOutcome : std::uint8_t { ok, error, forced_exit };

// What the interpreter's port asks of the chip. Any call may unwind with a chip reset (a C++ exception
// through the interpreter's C frames); the waits block the chip's thread, never spin.
class FirmwareApi {
 public:
  virtual ~FirmwareApi() = default;
  // Terminal: the REPL's UART while attached. A byte; -1 when Ctrl-C is pending instead; -2 after `wait`.
  virtual int stdin_rx(std::optional<microseconds> wait) = 0;
  virtual void stdout_write(std::string_view bytes) = 0;
  virtual std::size_t stdin_any() = 0;
  virtual void set_interrupt_char(int c) = 0;   // -1: Ctrl-C is data
  virtual bool interrupt_armed() = 0;           // Ctrl-C raises KeyboardInterrupt now
  virtual void exec_running(bool running) = 0;  // pyexec starts or ends running code
  // Time: ticks since the last hard reset; sleeps end early for Ctrl-C.
  virtual std::int64_t ticks_us() = 0;
  virtual void sleep_us(std::int64_t us) = 0;
  // Called every few bytecode branches: charges the module's CPU time and sleeps when code runs ahead of an
  // ESP32 (a busy loop takes an ESP32's time and costs the host little). Notices resets.
  virtual void vm_hook() = 0;
  virtual std::int64_t rtc_us() = 0;  // microseconds since 1970-01-01
  virtual void set_rtc_us(std::int64_t us) = 0;
  [[noreturn]] virtual void fatal(const std::string& what) = 0;
  virtual const ImageDescriptor& running_image() = 0;
  virtual SlotId running_slot() = 0;
  // Storage: 0 the flash filesystem partition, 1 the SD card; null when the module has none.
  virtual BlockStore* block_store(int dev) = 0;
  virtual bool format_keeps_files() = 0;    // rule-break fault
  virtual std::uint8_t boot_fs_type() = 0;  // the config block's byte: 0 FAT, 1 LittleFS, 0xFF erased (FAT)
  virtual void set_boot_fs_type(std::uint8_t t) = 0;
  // machine
  [[noreturn]] virtual void machine_reset() = 0;
  virtual ResetCause reset_cause() = 0;
  [[noreturn]] virtual void deepsleep(std::int64_t ms) = 0;
  virtual int wake_reason() = 0;
  // machine.unique_id(): the eFuse MAC, the same the ROM loader reports to esptool.
  virtual std::string unique_id() = 0;
  virtual void set_main_script(const std::string& path) = 0;
  virtual int pin_read(const std::string& name) = 0;  // the wire's level, or -1: not wired in the simulator
  virtual void pin_write(const std::string& name, bool high) = 0;
  virtual void wdt_start(milliseconds timeout) = 0;
  virtual void wdt_feed() = 0;
  // pycom
  virtual bool heartbeat() = 0;
  virtual void set_heartbeat(bool on) = 0;
  virtual bool heartbeat_on_boot() = 0;
  virtual void set_heartbeat_on_boot(bool on) = 0;
  virtual bool rgbled(std::uint32_t colour) = 0;  // false while the heartbeat owns the LED
  virtual void dupterm(bool attach) = 0;
  virtual bool dupterm_attached() = 0;
  virtual void uart_write(std::string_view bytes) = 0;  // straight onto UART0 TX
  virtual std::string uart_read(std::size_t max) = 0;   // what UART0 has buffered, without waiting
  virtual BootInfo boot_info() = 0;
  virtual void write_boot_info(const BootInfo& bi) = 0;
  virtual Nvs& nvs() = 0;
  // OTA (esp32/ftp/updater.c): false where the firmware raises OSError.
  virtual std::uint32_t ota_slot() = 0;
  virtual bool ota_start() = 0;
  virtual bool ota_write(std::string_view data) = 0;
  virtual bool ota_finish() = 0;
  virtual bool ota_verify() = 0;
};

// One module's interpreter. Created and used on the chip's thread; MicroPython's global state is swapped per
// chip under a process-wide interpreter lock, so modules run side by side in one process.
class MicroPythonVm {
 public:
  MicroPythonVm(FirmwareApi& host, Profile profile, bool sys_exit_quirk, std::size_t heap_bytes);
  ~MicroPythonVm();
  MicroPythonVm(const MicroPythonVm&) = delete;
  MicroPythonVm& operator=(const MicroPythonVm&) = delete;

  // A fresh interpreter for a (soft) boot: state cleared, /flash mounted (formatted when it holds no
  // filesystem of the configured type) with the firmware's defaults, /sd when the module has a card.
  // `stack_top`: a local of the caller's frame, above every call into the interpreter until stop().
  void start(void* stack_top);
  ExecOutcome exec_file(const std::string& path);      // pyexec_file_if_exists
  ExecOutcome exec_source(const std::string& source);  // in __main__, as a frozen module such as _boot.py
  void repl();                                         // friendly or raw REPL until a soft reset is asked for
  bool raw_mode() const { return raw_ != 0; }
  void stop();  // the end of a soft boot: finalisers close open files

  // From the UART's thread: KeyboardInterrupt in running code, if Ctrl-C is still armed.
  void keyboard_interrupt();

  Profile profile() const { return profile_; }

 private:
  FirmwareApi& host_;
  Profile profile_;
  bootrig_mp_vm* vm_;
  int raw_ = 0;
};

// The friendly REPL's banner line without its line end, e.g.
// "Pycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12; FiPy with ESP32".
std::string banner_line(const ImageDescriptor& image, Profile profile);

}  // namespace bootrig::sim
