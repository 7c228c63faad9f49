// The simulated Pycom module: ROM, second-stage bootloader with safe-boot windows, the MicroPython task
// with its REPL, heartbeat LED and resets, behind the pins/LED/UART seam of sim_wires.hpp.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "bootrig/rig/rig_config.hpp"
#include "bootrig/sim/sim_module.hpp"
#include "bootrig/sim/sim_wires.hpp"
#include "sim/block_store.hpp"
#include "sim/flash.hpp"
#include "sim/micropython_vm.hpp"
#include "sim/rom_download.hpp"

namespace bootrig::sim {

class PycomBoard final : public ModuleInputs, private FirmwareApi {
 public:
  // Throws RigError for a config the module could not have (e.g. the active slot is empty).
  PycomBoard(const SimConfig& config, const FirmwareTiming& timing, unsigned baud, SimWires& wires);
  ~PycomBoard() override;
  PycomBoard(const PycomBoard&) = delete;
  PycomBoard& operator=(const PycomBoard&) = delete;

  // Starts the chip's threads with the given pin levels; the chip boots once powered and out of reset.
  void start(bool powered, bool en_high, bool p12_high, bool p2_low);
  void stop();

  void pin_changed(ModulePin pin, bool high, TimePoint when) override;
  void uart_rx(std::string_view bytes, TimePoint when) override;

  void set_faults(const SimFaults& f);
  SimFaults faults() const;
  SimStatus status() const;
  void set_download_handler(std::shared_ptr<SimDownloadHandler> h);
  FlashChip& flash() { return flash_; }

 private:
  struct ChipReset {
    ResetCause cause;  // for internal resets (machine.reset(), safe-boot requests)
    bool internal;
  };
  struct Unwind {};  // the simulator is stopping

  // ---- the chip's thread ----
  void cpu_main();
  void run_chip(ResetCause cause);
  void rom(ResetCause cause, bool download);
  void rom_flash_boot_lines();  // what the ROM prints while it loads the bootloader from flash
  LoaderExit download_mode();   // returns when FLASH_END asks the chip to leave the loader
  void set_uart_baud(unsigned baud);
  SlotId bootloader();
  std::uint32_t wait_for_safe_boot(const BootInfo& bi, std::uint32_t* active);
  void app(SlotId slot, ResetCause cause);
  // What a build broken by `image make --breaks` does in its start-up (returns only for the kinds that
  // get past it: hang-after-banner, no-uart).
  void broken_start(SimBreakage b);
  void signal_error();       // after boot.py or main.py failed
  [[noreturn]] void hang();  // the hang_in_boot fault: only a reset ends it
  [[noreturn]] void halt();  // mperror_fatal_error: solid red until reset
  void drain_tx();           // lets what was printed leave the FIFO before the chip stops

  // Waits (on the chip's thread) until the deadline or until `pred` holds, under m_. Unwinds with
  // ChipReset/Unwind when the chip is reset, powered off, its watchdog bites or the simulator stops.
  template <typename Pred>
  bool cpu_wait(std::unique_lock<std::mutex>& lk, Deadline d, Pred pred);
  void cpu_sleep_until(TimePoint t);
  void check_reset_locked() const;
  void tx(std::string_view bytes);          // UART0 TX with line faults and FIFO back-pressure
  void stdout_text(std::string_view text);  // REPL output: cooked line ends, only while attached
  void set_phase(SimPhase p);
  // P12's level at `t` on the chip's own schedule. The bootloader samples the pin at fixed points of its
  // loop; a host thread that wakes late must not see a release that happened after that point.
  bool p12_high_at(TimePoint t);

  // ---- LED ----
  void led_set(LedColour c, TimePoint scheduled);
  void heartbeat_main();
  // `at`: when the firmware switches it, on the chip's schedule (default now).
  void heartbeat_enable(bool on, std::optional<TimePoint> at = std::nullopt);

  // ---- FirmwareApi: what MicroPython's port asks of the chip ----
  int stdin_rx(std::optional<microseconds> wait) override;
  void stdout_write(std::string_view bytes) override;
  std::size_t stdin_any() override;
  void set_interrupt_char(int c) override;
  bool interrupt_armed() override;
  void exec_running(bool running) override;
  std::int64_t ticks_us() override;
  void sleep_us(std::int64_t us) override;
  void vm_hook() override;
  std::int64_t rtc_us() override;
  void set_rtc_us(std::int64_t us) override;
  [[noreturn]] void fatal(const std::string& what) override;
  const ImageDescriptor& running_image() override { return image_; }
  SlotId running_slot() override { return slot_; }
  BlockStore* block_store(int dev) override;
  bool format_keeps_files() override { return faults().format_keeps_files; }
  std::uint8_t boot_fs_type() override { return boot_fs_type_; }
  void set_boot_fs_type(std::uint8_t t) override { boot_fs_type_ = t; }
  [[noreturn]] void machine_reset() override;
  ResetCause reset_cause() override { return reset_cause_; }
  [[noreturn]] void deepsleep(std::int64_t ms) override;
  int wake_reason() override {
    return reset_cause_ == ResetCause::deepsleep ? 2 : 0;
  }  // RTC_WAKE, PWRON_WAKE
  void set_main_script(const std::string& name) override { main_script_ = name; }
  int pin_read(const std::string& name) override;
  void pin_write(const std::string& name, bool high) override;
  void wdt_start(milliseconds timeout) override;
  void wdt_feed() override;
  bool heartbeat() override;
  void set_heartbeat(bool on) override;
  bool heartbeat_on_boot() override;
  void set_heartbeat_on_boot(bool on) override;
  bool rgbled(std::uint32_t colour) override;
  void dupterm(bool attach) override;
  bool dupterm_attached() override;
  void uart_write(std::string_view bytes) override;
  std::string uart_read(std::size_t max) override;
  BootInfo boot_info() override { return flash_.read_boot_info(); }
  void write_boot_info(const BootInfo& bi) override { flash_.write_boot_info(bi); }
  Nvs& nvs() override { return nvs_; }
  std::string unique_id() override;
  std::uint32_t ota_slot() override;
  bool ota_start() override;
  bool ota_write(std::string_view data) override;
  bool ota_finish() override;
  bool ota_verify() override;
  SlotId ota_target();  // the slot the next update goes to: the one boot_info does not name active

  // ---- configuration ----
  SimConfig config_;
  FirmwareTiming timing_;
  unsigned baud_;
  Duration byte_time_;  // UART0's rate now (the ROM loader may change it until the next reset)
  SimWires& wires_;
  Profile profile_;
  FlashChip flash_;
  std::unique_ptr<BlockStore> fs_store_;  // the flash partition under /flash
  std::unique_ptr<BlockStore> sd_store_;  // the SD card, when the rig has one
  Nvs nvs_;
  std::uint8_t boot_fs_type_ = 0xFF;  // the config block's filesystem byte, erased until bootmgr(fs_type=)

  // ---- shared state, under m_ ----
  mutable std::mutex m_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool started_ = false;
  bool powered_ = true, en_high_ = true, p12_high_ = false, p2_low_ = false;
  // P12's recent changes (when, level) and the level before the oldest one kept: p12_high_at().
  std::deque<std::pair<TimePoint, bool>> p12_changes_;
  bool p12_before_changes_ = false;
  // When EN (or power) last came up: the chip's clock starts there, however late its thread wakes.
  std::optional<TimePoint> run_requested_;
  bool p2_latched_ = false;      // P2 at the last rising edge of EN (or power): download mode
  std::uint64_t reset_gen_ = 0;  // bumped by every external reset or power loss
  std::uint64_t chip_gen_ = 0;   // the generation the running chip belongs to
  bool power_lost_ = false;
  std::deque<char> rx_;  // UART0 RX as the REPL reads it
  std::string download_rx_;
  bool rom_download_active_ = false;  // download mode runs the built-in ROM loader (acts on whole frames)
  bool attached_ = true;    // os.dupterm: UART0 is the REPL terminal
  bool executing_ = false;  // pyexec runs code (not the REPL waiting for a line)
  // The UART ISR saw the reset character (Ctrl-F): a safe-boot reset is due, whatever runs (checked with
  // the reset generation on the chip's thread).
  mutable bool reset_char_pending_ = false;
  int kbd_char_ = -1;                  // MicroPython's interrupt character (-1: Ctrl-C is data)
  bool kbd_pending_ = false;           // a Ctrl-C was handed to the interpreter: waits end so that it raises
  std::shared_ptr<MicroPythonVm> vm_;  // this boot's interpreter (the UART's thread delivers Ctrl-C to it)
  std::optional<TimePoint> wdt_deadline_;  // machine.WDT: the chip resets when it passes unfed
  milliseconds wdt_timeout_{0};
  bool uart_ready_ = false;  // the app's UART driver takes bytes (not in ROM/bootloader/reset)
  bool uart_dead_ = false;   // this boot's firmware never drives UART0 (SimBreakage::no_uart)
  SimPhase phase_ = SimPhase::off;
  std::string status_version_, status_slot_;
  bool status_safe_boot_ = false;
  int hard_boots_ = 0, soft_boots_ = 0;
  SimFaults faults_;
  std::mt19937 rng_;
  std::shared_ptr<SimDownloadHandler> download_handler_;
  std::shared_ptr<RomDownload> rom_download_;  // the built-in handler

  // ---- LED and heartbeat ----
  mutable std::mutex led_m_;
  LedColour led_ = 0;
  std::string led_stuck_;  // SimFaults::led_stuck, under led_m_ (led_set may run with m_ held)
  std::mutex hb_m_;
  std::condition_variable hb_cv_;
  bool hb_enabled_ = false;
  bool hb_stop_ = false;
  bool hb_changed_ = false;
  bool hb_on_boot_ = true;  // pycom.heartbeat_on_boot(), kept in the config block of flash
  TimePoint hb_next_{};
  bool hb_next_on_ = true;

  // ---- the chip's thread only ----
  ResetCause reset_cause_ = ResetCause::power_on;
  TimePoint hard_boot_time_{};
  std::int64_t rtc_base_us_ = 0;
  TimePoint rtc_set_at_{};
  ImageDescriptor image_;
  SlotId slot_ = SlotId::factory;
  std::map<std::string, bool> driven_pins_;  // machine.Pin outputs, by name
  std::string main_script_;
  TimePoint vclock_{};
  bool ota_open_ = false;  // between ota_start() and ota_finish(); RAM, gone at any reset
  SlotId ota_slot_ = SlotId::ota0;

  std::thread cpu_;
  std::thread hb_thread_;
};

}  // namespace bootrig::sim
