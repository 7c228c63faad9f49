// The simulated module's firmware, step by step as esp32/bootloader and esp32/mptask.c run it, on real time.
#include "sim/pycom_board.hpp"

#include <algorithm>
#include <cerrno>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/esp_image.hpp"

namespace bootrig::sim {

namespace {

constexpr LedColour kSafeBootColour = 0x2C1200;  // BOOTMGR_SAFEBOOT_COLOR
constexpr LedColour kHeartbeatColour = 0x000050;
constexpr LedColour kStuckOnColour = 0x202020;  // the led_stuck = "on" fault: lit whatever is written
constexpr LedColour kFatalColour = 0x500000;
constexpr std::size_t kTxFifo = 128;     // the ESP32 UART's hardware FIFO
constexpr std::size_t kRxBuffer = 4096;  // UART0's RX ring buffer in the firmware
// The filesystem partition under /flash: 1 MiB of 4 KiB flash sectors; an SD card of 4 MiB in 512-byte
// blocks.
constexpr std::uint32_t kFsBlockSize = 4096, kFsBlockCount = 256;
constexpr std::uint32_t kSdBlockSize = 512, kSdBlockCount = 8192;
// MicroPython's heap: modules with 4 MB of PSRAM give it 2.5 MiB (mptask.c, GC_POOL_SIZE_BYTES_PSRAM); the
// first WiPy, LoPy and SiPy have none and get 67 KiB.
constexpr std::size_t kHeapPsram = (2048 + 512) * 1024, kHeapInternal = 67 * 1024;
// MicroPython's VM hook runs every 64 branches: about as long as an ESP32 at 160 MHz takes for them.
// (An estimate: about 12 us per loop iteration of simple statements on Pycom firmware at 160 MHz.)
constexpr std::int64_t kHookModuleUs = 64 * 12;
// Frozen _boot.py of each firmware, run in __main__ on every (soft) boot, safe boot included: Pycom's
// attaches the REPL to UART0.
constexpr char kPycomBootPy[] = "import os\nfrom machine import UART\nos.dupterm(UART(0, 115200))\n";
constexpr char kUpstreamBootPy[] = "import gc\nimport os\ngc.collect()\n";

const char* kBoards[] = {"WiPy", "LoPy", "LoPy4", "SiPy", "GPy", "FiPy"};

}  // namespace

PycomBoard::PycomBoard(const SimConfig& config, const FirmwareTiming& timing, unsigned baud, SimWires& wires)
    : config_(config),
      timing_(timing),
      baud_(baud),
      wires_(wires),
      faults_(config.faults),
      rng_(config.fault_seed),
      led_stuck_(config.faults.led_stuck) {
  if (config_.profile == "pycom")
    profile_ = Profile::pycom;
  else if (config_.profile == "upstream")
    profile_ = Profile::upstream;
  else
    throw RigError("sim.profile '" + config_.profile + "' is unknown; use \"pycom\" or \"upstream\"");
  if (std::none_of(std::begin(kBoards), std::end(kBoards), [&](const char* b) { return config_.board == b; }))
    throw RigError("sim.board '" + config_.board +
                   "' is not a Pycom module; use WiPy, LoPy, LoPy4, SiPy, GPy or FiPy");
  if (baud_ == 0) throw RigError("simulated UART: baud rate 0 is not a speed");
  byte_time_ = std::chrono::duration_cast<Duration>(nanoseconds(10'000'000'000LL / baud_));
  if (config_.factory_version.empty())
    throw RigError("sim.factory_version is empty: the factory slot needs an image");

  // The slots hold real application images; what runs is read back from them.
  try {
    flash_.slots[0] = make_slot_image(config_.factory_version, config_.board);
    if (!config_.ota0_version.empty()) flash_.slots[1] = make_slot_image(config_.ota0_version, config_.board);
  } catch (const std::invalid_argument& e) {
    throw RigError(std::string("sim: cannot build the slot images: ") + e.what() +
                   " (sim.factory_version / sim.ota0_version)");
  }
  BootInfo bi;
  if (config_.active_slot == "factory") {
    bi.active_img = BootInfo::kImgFactory;
  } else if (config_.active_slot == "ota_0") {
    if (!flash_.slots[1])
      throw RigError("sim.active_slot is \"ota_0\" but sim.ota0_version is empty: give ota_0 an image");
    bi.active_img = BootInfo::kImgOta0;
  } else {
    throw RigError("sim.active_slot '" + config_.active_slot + "' is unknown; use \"factory\" or \"ota_0\"");
  }
  // OTA ping-pongs between the two slots, so "previous" is the other one when it holds an image.
  std::uint32_t other = bi.active_img == BootInfo::kImgFactory ? BootInfo::kImgOta0 : BootInfo::kImgFactory;
  bi.prev_img = flash_.slots[other] ? other : bi.active_img;
  bi.status = BootInfo::kStatusReady;
  bi.signature.fill(0xFF);
  flash_.write_boot_info(bi);

  rom_download_ = std::make_shared<RomDownload>(flash_, esp32_identity(config_));
  download_handler_ = rom_download_;

  fs_store_ = std::make_unique<BlockStore>(
      kFsBlockSize, kFsBlockCount, 0xFF,
      config_.flash_dir.empty() ? std::filesystem::path() : config_.flash_dir / "flash.img");
  if (config_.sd_card) sd_store_ = std::make_unique<BlockStore>(kSdBlockSize, kSdBlockCount, 0x00);
}

PycomBoard::~PycomBoard() { stop(); }

void PycomBoard::start(bool powered, bool en_high, bool p12_high, bool p2_low) {
  std::lock_guard lk(m_);
  if (started_) return;
  started_ = true;
  stopping_ = false;
  powered_ = powered;
  en_high_ = en_high;
  p12_high_ = p12_high;
  p12_changes_.clear();
  p12_before_changes_ = p12_high;
  p2_low_ = p2_low;
  p2_latched_ = p2_low;
  phase_ = !powered ? SimPhase::off : !en_high ? SimPhase::in_reset : SimPhase::rom;
  hb_stop_ = false;
  cpu_ = std::thread([this] { cpu_main(); });
  hb_thread_ = std::thread([this] { heartbeat_main(); });
}

void PycomBoard::stop() {
  {
    std::lock_guard lk(m_);
    if (!started_) return;
    stopping_ = true;
    cv_.notify_all();
  }
  {
    std::lock_guard lk(hb_m_);
    hb_stop_ = true;
    hb_cv_.notify_all();
  }
  if (cpu_.joinable()) cpu_.join();
  if (hb_thread_.joinable()) hb_thread_.join();
  std::lock_guard lk(m_);
  started_ = false;
}

// ---------------------------------------------------------------------------------------------------
// Wires in

void PycomBoard::pin_changed(ModulePin pin, bool high, TimePoint when) {
  std::lock_guard lk(m_);
  switch (pin) {
    case ModulePin::p12:
      p12_high_ = high;
      p12_changes_.emplace_back(when, high);
      if (p12_changes_.size() > 64) {
        p12_before_changes_ = p12_changes_.front().second;
        p12_changes_.pop_front();
      }
      break;
    case ModulePin::p2:
      p2_low_ = !high;
      break;
    case ModulePin::en:
      if (en_high_ == high) break;
      en_high_ = high;
      if (high) run_requested_ = when;
      // The strapping pins are latched on EN's rising edge, whenever the CPU gets to read them.
      if (high) p2_latched_ = p2_low_;
      if (!high) {
        // The chip stops at once: timers, UART and CPU. The WS2812 keeps the colour it was last sent.
        ++reset_gen_;
        uart_ready_ = false;
        {
          std::lock_guard hl(hb_m_);
          hb_enabled_ = false;
          hb_changed_ = true;
          hb_cv_.notify_all();
        }
        phase_ = powered_ ? SimPhase::in_reset : SimPhase::off;
      }
      break;
    case ModulePin::power:
      if (powered_ == high) break;
      powered_ = high;
      if (high) run_requested_ = when;
      if (high) p2_latched_ = p2_low_;
      if (!high) {
        ++reset_gen_;
        uart_ready_ = false;
        {
          std::lock_guard hl(hb_m_);
          hb_enabled_ = false;
          hb_changed_ = true;
          hb_cv_.notify_all();
        }
        led_set(0, when);
        phase_ = SimPhase::off;
      }
      break;
  }
  cv_.notify_all();
}

void PycomBoard::uart_rx(std::string_view bytes, TimePoint when) {
  (void)when;
  std::shared_ptr<MicroPythonVm> interrupt;
  {
    std::lock_guard lk(m_);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    bool frame_mark = false;  // a SLIP frame delimiter reached the ROM loader
    for (char c : bytes) {
      if (faults_.drop_rate > 0 && u(rng_) < faults_.drop_rate) continue;
      bool garbled = false;
      if (faults_.garbage_rate > 0 && u(rng_) < faults_.garbage_rate) {
        c = static_cast<char>(rng_() & 0xFF);
        garbled = true;
      }
      // Before the app installs its UART driver (and in reset) nothing takes bytes off the line.
      if (!uart_ready_) continue;
      if (phase_ == SimPhase::download) {
        download_rx_ += c;
        frame_mark = frame_mark || c == '\xC0';
        continue;
      }
      if (!attached_) continue;
      // The UART ISR (machuart.c UARTRxCallback) on the REPL's UART: the reset character asks for a safe-boot
      // reset whatever runs, so no Ctrl-F byte ever reaches code or the line editor. Bytes the garbage fault
      // made up are left out: the fault models noise for the REPL client, not a way to reset the module.
      if (profile_ == Profile::pycom && c == 0x06 && !garbled) {
        if (!reset_char_pending_) {
          BootInfo bi = flash_.read_boot_info();
          bi.safeboot = BootInfo::kSafeBootSw;
          flash_.write_boot_info(bi);
        }
        reset_char_pending_ = true;
        continue;
      }
      // The UART ISR: while code runs, the interrupt character becomes KeyboardInterrupt instead of input.
      if (kbd_char_ >= 0 && static_cast<unsigned char>(c) == kbd_char_) {
        interrupt = vm_;
        continue;
      }
      if (rx_.size() < kRxBuffer) rx_.push_back(c);
    }
    // The ROM loader acts on whole SLIP frames: waking the chip for every slice of a 1 KiB block in between
    // would only cost the host (thousands of wake-ups a second at 921600), not change what it answers.
    if (phase_ != SimPhase::download || frame_mark || !rom_download_active_) cv_.notify_all();
  }
  if (!interrupt) return;
  // mp_sched_keyboard_interrupt, as the ISR calls it (taking the interpreter lock, never under m_); then the
  // chip's waits end so that the pending exception is raised.
  interrupt->keyboard_interrupt();
  std::lock_guard lk(m_);
  kbd_pending_ = true;
  cv_.notify_all();
}

// ---------------------------------------------------------------------------------------------------
// Controls

void PycomBoard::set_faults(const SimFaults& f) {
  {
    std::lock_guard lk(m_);
    faults_ = f;
  }
  std::lock_guard ll(led_m_);
  led_stuck_ = f.led_stuck;
}

SimFaults PycomBoard::faults() const {
  std::lock_guard lk(m_);
  return faults_;
}

void PycomBoard::set_download_handler(std::shared_ptr<SimDownloadHandler> h) {
  std::lock_guard lk(m_);
  download_handler_ = std::move(h);
}

SimStatus PycomBoard::status() const {
  SimStatus s;
  {
    std::lock_guard lk(m_);
    s.powered = powered_;
    s.in_reset = !en_high_;
    s.p12_high = p12_high_;
    s.p2_low = p2_low_;
    s.phase = phase_;
    s.running_slot = status_slot_;
    s.running_version = status_version_;
    s.safe_boot = status_safe_boot_;
    s.repl_attached = attached_;
    s.hard_boots = hard_boots_;
    s.soft_boots = soft_boots_;
  }
  std::lock_guard lk(led_m_);
  s.led = led_;
  return s;
}

// ---------------------------------------------------------------------------------------------------
// The chip's thread: waits, output

void PycomBoard::check_reset_locked() const {
  if (stopping_) throw Unwind{};
  if (reset_gen_ != chip_gen_) throw ChipReset{ResetCause::power_on, false};
  if (wdt_deadline_ && now() >= *wdt_deadline_) throw ChipReset{ResetCause::wdt, true};
  if (reset_char_pending_) {
    // servers_reset_and_safe_boot(): the flag was set when the byte came; now the chip resets.
    reset_char_pending_ = false;
    throw ChipReset{ResetCause::wdt, true};
  }
}

template <typename Pred>
bool PycomBoard::cpu_wait(std::unique_lock<std::mutex>& lk, Deadline d, Pred pred) {
  for (;;) {
    check_reset_locked();
    if (pred()) return true;
    if (d.expired()) return false;
    if (wdt_deadline_ && (d.is_never() || *wdt_deadline_ < d.when()))
      cv_.wait_until(lk, *wdt_deadline_);
    else if (d.is_never())
      cv_.wait(lk);
    else
      cv_.wait_until(lk, d.when());
  }
}

void PycomBoard::cpu_sleep_until(TimePoint t) {
  std::unique_lock lk(m_);
  cpu_wait(lk, Deadline::at(t), [] { return false; });
}

bool PycomBoard::p12_high_at(TimePoint t) {
  std::lock_guard lk(m_);
  check_reset_locked();
  bool level = p12_before_changes_;
  for (const auto& [when, high] : p12_changes_) {
    if (when > t) break;
    level = high;
  }
  return level;
}

void PycomBoard::set_phase(SimPhase p) {
  std::lock_guard lk(m_);
  if (reset_gen_ == chip_gen_ && !stopping_) phase_ = p;
}

void PycomBoard::tx(std::string_view bytes) {
  std::string out;
  {
    std::lock_guard lk(m_);
    check_reset_locked();
    if (uart_dead_) return;
    out.reserve(bytes.size());
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (char c : bytes) {
      if (faults_.drop_rate > 0 && u(rng_) < faults_.drop_rate) continue;
      if (faults_.garbage_rate > 0 && u(rng_) < faults_.garbage_rate) c = static_cast<char>(rng_() & 0xFF);
      out += c;
    }
  }
  wires_.uart_tx(out);
  // Like the UART driver: the writer waits while more than the FIFO's worth is still on its way.
  for (;;) {
    std::size_t pending = wires_.uart_tx_pending();
    if (pending <= kTxFifo) break;
    std::unique_lock lk(m_);
    cpu_wait(lk, Deadline::after(byte_time_ * static_cast<std::int64_t>(pending - kTxFifo)),
             [] { return false; });
  }
}

void PycomBoard::stdout_text(std::string_view text) {
  {
    std::lock_guard lk(m_);
    if (!attached_) return;
  }
  // mp_hal_stdout_tx_strn_cooked
  std::string cooked;
  cooked.reserve(text.size() + 8);
  for (char c : text) {
    if (c == '\n')
      cooked += "\r\n";
    else
      cooked += c;
  }
  tx(cooked);
}

// ---------------------------------------------------------------------------------------------------
// The chip's thread: boot

void PycomBoard::cpu_main() {
  ResetCause cause = ResetCause::power_on;
  for (;;) {
    {
      std::unique_lock lk(m_);
      cv_.wait(lk, [&] { return stopping_ || (powered_ && en_high_); });
      if (stopping_) return;
      chip_gen_ = reset_gen_;
      // An external reset or power-up starts the chip when the wire changed; an internal one
      // (machine.reset(), a brown-out) now.
      hard_boot_time_ = run_requested_.value_or(now());
      run_requested_.reset();
      ++hard_boots_;
      soft_boots_ = 0;
      rx_.clear();
      download_rx_.clear();
      attached_ = true;
      executing_ = false;
      kbd_pending_ = false;
      reset_char_pending_ = false;
      kbd_char_ = -1;
      wdt_deadline_.reset();
      uart_ready_ = false;
      uart_dead_ = false;
      status_slot_.clear();
      status_version_.clear();
      status_safe_boot_ = false;
      phase_ = SimPhase::rom;
    }
    try {
      run_chip(cause);
      cause = ResetCause::power_on;
    } catch (const ChipReset& r) {
      cause = r.internal ? r.cause : ResetCause::power_on;
    } catch (const Unwind&) {
      return;
    }
    // The chip stopped: its timers and UART FIFO with it, and everything in RAM.
    {
      std::lock_guard hl(hb_m_);
      hb_enabled_ = false;
      hb_changed_ = true;
      hb_cv_.notify_all();
    }
    wires_.uart_tx_discard();
    driven_pins_.clear();
    // The interpreter's RAM is gone. Dropped outside m_: freeing it takes the interpreter lock.
    std::shared_ptr<MicroPythonVm> gone;
    {
      std::lock_guard lk(m_);
      gone.swap(vm_);
    }
    gone.reset();
    std::lock_guard lk(m_);
    uart_ready_ = false;
    if (!powered_)
      phase_ = SimPhase::off;
    else if (!en_high_)
      phase_ = SimPhase::in_reset;
  }
}

void PycomBoard::run_chip(ResetCause cause) {
  wires_.hard_reset_started();
  bool download;
  {
    std::lock_guard lk(m_);
    download = p2_latched_;  // strapping pins are latched when the chip comes out of reset
  }
  rom(cause, download);
  while (download) {
    const LoaderExit exit = download_mode();  // returns only when FLASH_END asked the chip to leave
    // Nothing takes UART bytes again until the app's driver (or the ROM loader again) does.
    {
      std::lock_guard lk(m_);
      uart_ready_ = false;
      download_rx_.clear();
    }
    hard_boot_time_ = now();
    if (exit == LoaderExit::run_user_code) {
      // The ROM goes on as if the strapping pins had said "boot from flash": no reset, no new reset line.
      rom_flash_boot_lines();
      cpu_sleep_until(hard_boot_time_ + timing_.rom_boot);
      break;
    }
    // A software reset: the ROM samples the strapping pins again (P2 still held: download mode again).
    {
      std::lock_guard lk(m_);
      download = p2_low_;
    }
    cause = ResetCause::soft;
    rom(cause, download);
  }
  SlotId slot = bootloader();
  app(slot, cause);
}

void PycomBoard::rom(ResetCause cause, bool download) {
  set_phase(SimPhase::rom);
  std::string rst = cause == ResetCause::wdt         ? "rst:0x7 (TG0WDT_SYS_RESET)"
                    : cause == ResetCause::deepsleep ? "rst:0x5 (DEEPSLEEP_RESET)"
                    : cause == ResetCause::brownout  ? "rst:0xf (RTCWDT_BROWN_OUT_RESET)"
                    : cause == ResetCause::soft      ? "rst:0xc (SW_CPU_RESET)"
                                                     : "rst:0x1 (POWERON_RESET)";
  std::string text = "ets Jun  8 2016 00:22:57\r\n\r\n" + rst;
  if (download) {
    // The ROM loader listens from the moment it says so.
    set_phase(SimPhase::download);
    {
      std::lock_guard lk(m_);
      uart_ready_ = true;
    }
    tx(text + ",boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n");
    return;
  }
  tx(text + ",boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n");
  rom_flash_boot_lines();
  cpu_sleep_until(hard_boot_time_ + timing_.rom_boot);
}

std::string PycomBoard::unique_id() {
  const auto& mac = rom_download_->loader().config().identity.mac;
  return std::string(reinterpret_cast<const char*>(mac.data()), mac.size());
}

void PycomBoard::rom_flash_boot_lines() {
  tx("configsip: 0, SPIWP:0xee\r\n"
     "clk_drv:0x00,q_drv:0x00,d_drv:0x00,cs0_drv:0x00,hd_drv:0x00,wp_drv:0x00\r\n"
     "mode:DIO, clock div:1\r\n"
     "load:0x3fff8028,len:8\r\n"
     "load:0x3fff8030,len:1728\r\n"
     "load:0x4009f000,len:14584\r\n"
     "entry 0x4009f6c4\r\n");
}

LoaderExit PycomBoard::download_mode() {
  std::shared_ptr<SimDownloadHandler> handler;
  {
    std::lock_guard lk(m_);
    handler = download_handler_;
  }
  RomDownload* rom = handler.get() == rom_download_.get() ? rom_download_.get() : nullptr;
  if (rom)
    rom->begin(static_cast<unsigned>(10'000'000'000LL / std::max<std::int64_t>(1, byte_time_.count())));
  else if (handler)
    handler->begin();
  // Leaving download mode by any path (reset, power loss, brown-out, FLASH_END): the flash as written is
  // what the bootloader reads next, and UART0 is back at the firmware's rate.
  struct Leave {
    PycomBoard& b;
    SimDownloadHandler* h;
    ~Leave() {
      if (h) h->end();
      if (b.byte_time_ != std::chrono::duration_cast<Duration>(nanoseconds(10'000'000'000LL / b.baud_)))
        b.set_uart_baud(b.baud_);
    }
  } leave{*this, handler.get()};
  for (;;) {
    std::string got;
    {
      std::unique_lock lk(m_);
      rom_download_active_ = rom != nullptr;
      cpu_wait(lk, Deadline::never(),
               [&] { return rom ? download_rx_.find('\xC0') != std::string::npos : !download_rx_.empty(); });
      got.swap(download_rx_);
    }
    if (!handler) continue;
    if (!rom) {
      handler->received(got, [this](std::string_view b) { tx(b); });
      continue;
    }
    std::string out;
    rom->received(got, [&](std::string_view b) { out.append(b); });
    std::uint64_t limit = 0;
    {
      std::lock_guard lk(m_);
      limit = faults_.brownout_after_bytes;
      if (limit > 0 && rom->bytes_programmed() >= limit) faults_.brownout_after_bytes = 0;  // fires once
    }
    if (limit > 0 && rom->bytes_programmed() >= limit) {
      // The supply sags while the flash is programmed: the block that reached the count is in flash, its
      // reply never leaves, and the chip resets with what the slot holds by then.
      throw ChipReset{ResetCause::brownout, true};
    }
    tx(out);
    if (auto baud = rom->take_baud()) {
      // The acknowledgement still goes out at the old rate; then the UART switches.
      for (;;) {
        std::size_t pending = wires_.uart_tx_pending();
        if (pending == 0) break;
        std::unique_lock lk(m_);
        cpu_wait(lk, Deadline::after(byte_time_ * static_cast<std::int64_t>(pending)), [] { return false; });
      }
      set_uart_baud(*baud);
    }
    if (auto exit = rom->take_exit()) {
      // Let the FLASH_END reply leave before the CPU restarts.
      Deadline d = Deadline::after(byte_time_ * static_cast<std::int64_t>(wires_.uart_tx_pending() + 16) +
                                   milliseconds(5));
      std::unique_lock lk(m_);
      cpu_wait(lk, d, [&] { return wires_.uart_tx_pending() == 0; });
      return *exit;
    }
  }
}

void PycomBoard::set_uart_baud(unsigned baud) {
  if (baud == 0) return;
  byte_time_ = std::chrono::duration_cast<Duration>(nanoseconds(10'000'000'000LL / baud));
  wires_.uart_set_baud(baud);
}

SlotId PycomBoard::bootloader() {
  set_phase(SimPhase::bootloader);
  led_set(0, hard_boot_time_ + timing_.rom_boot);  // mperror_init0: the bootloader takes over the LED
  SimFaults f = faults();
  BootInfo bi = flash_.read_boot_info();
  std::uint32_t active;
  if (!bi.valid()) {
    // find_active_image: an unreadable record is rewritten and the factory image loaded, no pin check.
    bi = BootInfo{};
    bi.signature.fill(0xFF);
    flash_.write_boot_info(bi);
    active = BootInfo::kImgFactory;
  } else {
    if (bi.active_img != BootInfo::kImgFactory && bi.status == BootInfo::kStatusCheck) {
      if (bi.active_img == BootInfo::kImgUpdate2) bi.active_img = BootInfo::kImgFactory;
      // bootloader_utility_load_image: parse, checksum and SHA-256 of what the slot holds now.
      const auto& img = flash_.slots[bi.active_img == BootInfo::kImgOta0 ? 1 : 0];
      if (!img || !describe_image(img->bytes).valid) {
        if (!faults_.rollback_silent)
          tx("Cannot load Firmware img in the active partition! .. Defaulting back to previous partition\r\n");
        bi.active_img = bi.prev_img;
        bi.prev_img = BootInfo::kImgFactory;
      }
      bi.status = BootInfo::kStatusReady;
      flash_.write_boot_info(bi);
    }
    active = bi.active_img;
    std::uint32_t sb = wait_for_safe_boot(bi, &active);
    if (sb != bi.safeboot) {
      if (bi.safeboot == BootInfo::kSafeBootSw)
        bi.safeboot = BootInfo::kSafeBootHw;
      else if (!(f.safeboot_persists && sb == 0))
        bi.safeboot = sb;
      flash_.write_boot_info(bi);
    }
  }
  SlotId slot = active == BootInfo::kImgOta0 ? SlotId::ota0 : SlotId::factory;
  const auto& chosen = flash_.slots[static_cast<std::size_t>(slot)];
  if (!chosen || !chosen->valid) halt();  // nothing bootable
  return slot;
}

std::uint32_t PycomBoard::wait_for_safe_boot(const BootInfo& bi, std::uint32_t* active) {
  // bootmgr.c: P12 read at start and once more after the re-check delay. Every point of this loop is on the
  // chip's own schedule from the bootloader's start, so the pin is sampled and the LED switched when the
  // firmware would, even when this host thread wakes late.
  TimePoint t = hard_boot_time_ + timing_.rom_boot;
  if (!p12_high_at(t)) return 0;
  t += timing_.safeboot_recheck;
  cpu_sleep_until(t);
  if (!p12_high_at(t)) return 0;

  bool toggle = true;  // static in the firmware: the LED phase carries on from window to window
  // LED faults: a firmware whose blink runs slower or faster (every iteration, so the window's length
  // too), and window 1's second blink never lit.
  const SimFaults f = faults();
  auto scaled = [&](milliseconds p) { return p * (100 + f.led_period_percent) / 100; };
  // wait_while_blinking: the pin is read only at the start of each iteration, so a release is noticed up
  // to one period late; the schedule is absolute so that edges do not drift.
  auto blink = [&](int iterations, milliseconds nominal, bool force, bool window1 = false) {
    const milliseconds period = scaled(nominal);
    // release_seen_late: a check still counts the pin held when it was one iteration earlier.
    auto held = [&] { return p12_high_at(t) || (f.release_seen_late && p12_high_at(t - period)); };
    for (int count = 0; (force || held()) && count < iterations; ++count) {
      bool dark = window1 && f.led_missing_blink && count == 2;
      if (!dark) led_set(toggle ? kSafeBootColour : 0, t);
      toggle = !toggle;
      t += period;
      cpu_sleep_until(t);
    }
    return held();
  };
  set_phase(SimPhase::safeboot_window1);
  if (blink(timing_.window1_iterations, timing_.window1_toggle, false, true)) {
    if (!faults().window2_keeps_image) *active = bi.prev_img;
    set_phase(SimPhase::safeboot_window2);
    if (blink(timing_.window2_iterations, timing_.window2_toggle, false)) {
      *active = BootInfo::kImgFactory;
      set_phase(SimPhase::safeboot_factory);
      int n = timing_.final_toggle.count() > 0
                  ? static_cast<int>(timing_.final_duration / timing_.final_toggle)
                  : 0;
      blink(n, timing_.final_toggle, true);
    }
  }
  led_set(0, t);
  set_phase(SimPhase::bootloader);
  return BootInfo::kSafeBootHw;
}

void PycomBoard::app(SlotId slot, ResetCause cause) {
  slot_ = slot;
  ota_open_ = false;
  image_ = *flash_.slots[static_cast<std::size_t>(slot)];
  {
    std::lock_guard lk(m_);
    status_slot_ = to_string(slot);
    status_version_ = image_.version;
  }
  reset_cause_ = cause;
  if (cause != ResetCause::deepsleep) {
    rtc_base_us_ = 0;  // rtc_init0 on every boot that is not a wake from deep sleep
    rtc_set_at_ = now();
  }
  set_phase(SimPhase::app_start);

  SimFaults f = faults();
  Duration delay = timing_.app_start + f.boot_delay;
  if (f.boot_jitter.count() > 0) {
    std::lock_guard lk(m_);
    std::uniform_int_distribution<std::int64_t> j(0, f.boot_jitter.count());
    delay += milliseconds(j(rng_));
  }
  cpu_sleep_until(now() + delay);
  broken_start(image_.breaks);

  bool psram = image_.board != "WiPy" && image_.board != "LoPy" && image_.board != "SiPy";
  auto vm = std::make_shared<MicroPythonVm>(static_cast<FirmwareApi&>(*this), profile_,
                                            config_.sys_exit_quirk, psram ? kHeapPsram : kHeapInternal);
  {
    std::lock_guard lk(m_);
    vm_ = vm;
    uart_ready_ = !uart_dead_;
  }

  int stack_top = 0;  // the interpreter's GC scans the C stack up to here
  bool fresh = true;
  for (;;) {  // soft_reset:
    f = faults();
    bool restart = fresh || !f.soft_reset_keeps_names;
    fresh = false;
    main_script_.clear();
    {
      std::lock_guard lk(m_);
      attached_ = true;  // frozen _boot.py: the REPL on UART0, also in safe boot
      kbd_char_ = -1;
      kbd_pending_ = false;
    }
    heartbeat_enable(heartbeat_on_boot());  // mperror_init0 re-initialises the LED on every boot
    // mptask reads the flag on every soft boot too: it lasts until the bootloader clears it.
    bool safeboot = flash_.read_boot_info().safeboot != 0;
    {
      std::lock_guard lk(m_);
      status_safe_boot_ = safeboot;
    }
    if (image_.breaks == SimBreakage::hang_after_banner) {
      // The build prints its banner and stops before the prompt; the heartbeat's timer runs on.
      stdout_text(pycom_banner(image_.version, image_.micropython, image_.build_date, image_.board) + "\n");
      hang();
    }
    // mptask_init_sflash_filesystem: mounted (formatted when empty), missing defaults recreated.
    if (restart) vm->start(&stack_top);
    vm->exec_source(profile_ == Profile::pycom ? kPycomBootPy : kUpstreamBootPy);

    bool soft_reset = false;
    bool scripts = !safeboot || f.scripts_in_safeboot;
    if (scripts) {
      set_phase(SimPhase::boot_py);
      if (f.uart_disabled) dupterm(false);  // as if boot.py had called os.dupterm(None)
      if (f.hang_in_boot) hang();           // as if boot.py were stuck with Ctrl-C disabled
      ExecOutcome r = vm->exec_file("boot.py");
      soft_reset = r == ExecOutcome::forced_exit;
      if (r == ExecOutcome::error) signal_error();
      if (!soft_reset && !vm->raw_mode()) {
        set_phase(SimPhase::main_py);
        r = vm->exec_file(main_script_.empty() ? "main.py" : main_script_);
        soft_reset = r == ExecOutcome::forced_exit;
        if (r == ExecOutcome::error) signal_error();
      }
    }
    if (!soft_reset) {
      cpu_sleep_until(now() + timing_.banner_delay);
      set_phase(vm->raw_mode() ? SimPhase::raw_repl : SimPhase::repl);
      vm->repl();
    }
    // soft_reset_exit
    if (!faults().soft_reset_keeps_names) vm->stop();
    stdout_text(profile_ == Profile::pycom ? "PYB: soft reboot\n" : "MPY: soft reboot\n");
    cpu_sleep_until(now() + milliseconds(5));
    reset_cause_ = ResetCause::soft;
    std::lock_guard lk(m_);
    ++soft_boots_;
  }
}

void PycomBoard::broken_start(SimBreakage b) {
  switch (b) {
    case SimBreakage::none:
    case SimBreakage::hang_after_banner:  // after the heartbeat starts: app()
      return;
    case SimBreakage::no_uart: {
      // Its UART driver never comes up: nothing leaves UART0 and nothing is taken off it from here on.
      std::lock_guard lk(m_);
      uart_dead_ = true;
      return;
    }
    case SimBreakage::hang_before_repl:
      hang();  // before mperror_init0: the LED stays dark
    case SimBreakage::reboot_loop:
      // esp_restart() from the start-up code: a software CPU reset, no message.
      drain_tx();
      throw ChipReset{ResetCause::soft, true};
    case SimBreakage::panic_at_boot:
      // ESP-IDF 3.x's panic handler (panic.c): the cause, the register dump, the backtrace, then a software
      // reset through the ROM. EXCCAUSE 28 is LoadProhibited (a NULL pointer read).
      tx("Guru Meditation Error: Core  0 panic'ed (LoadProhibited). Exception was unhandled.\r\n"
         "Core 0 register dump:\r\n"
         "PC      : 0x400d3c5e  PS      : 0x00060f30  A0      : 0x800d1a2c  A1      : 0x3ffbb2a0  \r\n"
         "A2      : 0x00000000  A3      : 0x3ffbb2f0  A4      : 0x00000001  A5      : 0x00000000  \r\n"
         "A6      : 0x3ffb8f10  A7      : 0x00000000  A8      : 0x800d3c58  A9      : 0x3ffbb280  \r\n"
         "A10     : 0x00000000  A11     : 0x3ffbb2f0  A12     : 0x00000000  A13     : 0x3ffb9e60  \r\n"
         "A14     : 0x00000000  A15     : 0x00000000  SAR     : 0x00000004  EXCCAUSE: 0x0000001c  \r\n"
         "EXCVADDR: 0x00000000  LBEG    : 0x4000c2e0  LEND    : 0x4000c2f6  LCOUNT  : 0xffffffff  \r\n"
         "\r\n"
         "Backtrace: 0x400d3c5e:0x3ffbb2a0 0x400d1a29:0x3ffbb2c0 0x4008f3b5:0x3ffbb2f0\r\n"
         "\r\n"
         "Rebooting...\r\n");
      drain_tx();
      throw ChipReset{ResetCause::soft, true};
  }
}

void PycomBoard::signal_error() {
  // mperror_signal_error (esp32/util/mperror.c) means to blink red every error_toggle for error_duration,
  // but flips its flag with `toggle = ~toggle` on a bool, which leaves it true: every step writes "off".
  // What the module shows is therefore the heartbeat pausing, the LED dark, for error_duration.
  bool hb = heartbeat();
  TimePoint t = now();
  heartbeat_enable(false, t);
  int steps =
      timing_.error_toggle.count() > 0 ? static_cast<int>(timing_.error_duration / timing_.error_toggle) : 0;
  for (int i = 0; i < steps; ++i) {
    led_set(0, t);
    t += timing_.error_toggle;
    cpu_sleep_until(t);
  }
  heartbeat_enable(hb, t);  // the pause ends on the firmware's schedule, however late this thread woke
}

void PycomBoard::hang() {
  std::unique_lock lk(m_);
  cpu_wait(lk, Deadline::never(), [] { return false; });
  throw ChipReset{ResetCause::power_on, false};  // not reached: only a reset ends the wait
}

void PycomBoard::halt() {
  // mperror_fatal_error: solid red until the next reset.
  set_phase(SimPhase::halted);
  led_set(kFatalColour, now());
  hang();
}

void PycomBoard::drain_tx() {
  // Let what was printed leave the FIFO first, so a marker printed right before a reset arrives.
  // (The wire hands bytes over in slices of about a millisecond, hence the margin.)
  Deadline d = Deadline::after(byte_time_ * static_cast<std::int64_t>(wires_.uart_tx_pending() + 16) +
                               milliseconds(5));
  while (wires_.uart_tx_pending() > 0 && !d.expired()) {
    std::unique_lock lk(m_);
    cpu_wait(lk, Deadline::after(std::max<Duration>(byte_time_ * 4, microseconds(200))).min(d),
             [] { return false; });
  }
}

// ---------------------------------------------------------------------------------------------------
// FirmwareApi: MicroPython's port on the chip

int PycomBoard::stdin_rx(std::optional<microseconds> wait) {
  std::unique_lock lk(m_);
  // The REPL waiting for a line (not code reading sys.stdin) is what the phase reports.
  if (!executing_ && reset_gen_ == chip_gen_ && vm_)
    phase_ = vm_->raw_mode() ? SimPhase::raw_repl : SimPhase::repl;
  bool got = cpu_wait(lk, wait ? Deadline::after(*wait) : Deadline::never(),
                      [&] { return kbd_pending_ || (attached_ && !rx_.empty()); });
  if (kbd_pending_) {
    kbd_pending_ = false;
    return -1;
  }
  if (!got) return -2;
  char c = rx_.front();
  rx_.pop_front();
  vclock_ = now();
  return static_cast<unsigned char>(c);
}

void PycomBoard::stdout_write(std::string_view bytes) {
  {
    std::lock_guard lk(m_);
    if (!attached_) return;
  }
  tx(bytes);
}

std::size_t PycomBoard::stdin_any() {
  std::lock_guard lk(m_);
  return attached_ ? rx_.size() : 0;
}

void PycomBoard::set_interrupt_char(int c) {
  std::lock_guard lk(m_);
  kbd_char_ = c;
  if (c < 0) kbd_pending_ = false;
}

bool PycomBoard::interrupt_armed() {
  std::lock_guard lk(m_);
  return kbd_char_ >= 0;
}

void PycomBoard::exec_running(bool running) {
  std::lock_guard lk(m_);
  executing_ = running;
  if (running) vclock_ = now();
}

std::int64_t PycomBoard::ticks_us() {
  return std::chrono::duration_cast<microseconds>(now() - hard_boot_time_).count();
}

void PycomBoard::sleep_us(std::int64_t us) {
  std::unique_lock lk(m_);
  cpu_wait(lk, Deadline::after(microseconds(us)), [this] { return kbd_pending_; });
  kbd_pending_ = false;
  vclock_ = now();
}

void PycomBoard::vm_hook() {
  // Code runs at roughly ESP32 speed: once it is ahead of real time the chip's thread sleeps, so that a busy
  // loop costs the host almost nothing. Ctrl-C ends the sleep (the pending exception then raises).
  TimePoint n = now();
  if (vclock_ < n - milliseconds(5)) vclock_ = n;
  vclock_ += microseconds(kHookModuleUs);
  std::unique_lock lk(m_);
  if (vclock_ > n + milliseconds(2)) {
    cpu_wait(lk, Deadline::at(vclock_), [this] { return kbd_pending_; });
  } else {
    check_reset_locked();
  }
  kbd_pending_ = false;
}

std::int64_t PycomBoard::rtc_us() {
  return rtc_base_us_ + std::chrono::duration_cast<microseconds>(now() - rtc_set_at_).count();
}

void PycomBoard::set_rtc_us(std::int64_t us) {
  rtc_base_us_ = us;
  rtc_set_at_ = now();
}

void PycomBoard::fatal(const std::string& what) {
  tx("FATAL ERROR: " + what + "\r\n");
  drain_tx();
  halt();
}

BlockStore* PycomBoard::block_store(int dev) {
  return dev == 0 ? fs_store_.get() : dev == 1 ? sd_store_.get() : nullptr;
}

void PycomBoard::machine_reset() {
  drain_tx();
  throw ChipReset{ResetCause::wdt, true};
}

void PycomBoard::deepsleep(std::int64_t ms) {
  // The chip powers down: timers, UART and LED driver stop; the RTC runs on. Its timer (or RESET) wakes it
  // with a full boot and the deep-sleep cause.
  drain_tx();
  {
    std::lock_guard lk(m_);
    uart_ready_ = false;
    if (reset_gen_ == chip_gen_) phase_ = SimPhase::deep_sleep;
  }
  heartbeat_enable(false);
  std::unique_lock lk(m_);
  wdt_deadline_.reset();
  cpu_wait(lk, ms > 0 ? Deadline::after(milliseconds(ms)) : Deadline::never(), [] { return false; });
  throw ChipReset{ResetCause::deepsleep, true};
}

int PycomBoard::pin_read(const std::string& name) {
  std::lock_guard lk(m_);
  check_reset_locked();
  if (name == "P12") return p12_high_ ? 1 : 0;  // GPIO21: the safe-boot wire the rig drives
  if (name == "P2") return p2_low_ ? 0 : 1;     // GPIO0: the bootloader strap, pulled up
  auto it = driven_pins_.find(name);
  return it != driven_pins_.end() ? (it->second ? 1 : 0) : -1;
}

void PycomBoard::pin_write(const std::string& name, bool high) { driven_pins_[name] = high; }

void PycomBoard::wdt_start(milliseconds timeout) {
  std::lock_guard lk(m_);
  wdt_timeout_ = timeout;
  wdt_deadline_ = now() + timeout;
  cv_.notify_all();
}

void PycomBoard::wdt_feed() {
  std::lock_guard lk(m_);
  if (wdt_deadline_) wdt_deadline_ = now() + wdt_timeout_;
}

bool PycomBoard::heartbeat() {
  std::lock_guard lk(hb_m_);
  return hb_enabled_;
}

void PycomBoard::set_heartbeat(bool on) { heartbeat_enable(on); }

bool PycomBoard::heartbeat_on_boot() {
  std::lock_guard lk(hb_m_);
  return hb_on_boot_;
}

void PycomBoard::set_heartbeat_on_boot(bool on) {
  std::lock_guard lk(hb_m_);
  hb_on_boot_ = on;
}

bool PycomBoard::rgbled(std::uint32_t colour) {
  std::lock_guard lk(hb_m_);
  if (hb_enabled_) return false;
  led_set(colour, now());
  return true;
}

void PycomBoard::dupterm(bool attach) {
  std::lock_guard lk(m_);
  attached_ = attach;
  cv_.notify_all();
}

bool PycomBoard::dupterm_attached() {
  std::lock_guard lk(m_);
  return attached_;
}

void PycomBoard::uart_write(std::string_view bytes) { tx(bytes); }

std::string PycomBoard::uart_read(std::size_t max) {
  std::lock_guard lk(m_);
  std::string out;
  while (!rx_.empty() && out.size() < max) {
    out += rx_.front();
    rx_.pop_front();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// OTA (esp32/ftp/updater.c)

SlotId PycomBoard::ota_target() {
  BootInfo bi = flash_.read_boot_info();
  return bi.active_img == BootInfo::kImgOta0 ? SlotId::factory : SlotId::ota0;
}

std::uint32_t PycomBoard::ota_slot() { return slot_address(ota_target()); }

bool PycomBoard::ota_start() {
  // updater_start: the slot that is not active is erased before anything is written to it.
  ota_slot_ = ota_target();
  ImageDescriptor erased = describe_image({});
  flash_.slots[static_cast<std::size_t>(ota_slot_)] = erased;
  ota_open_ = true;
  return true;
}

bool PycomBoard::ota_write(std::string_view data) {
  if (!ota_open_) return false;
  auto& slot = *flash_.slots[static_cast<std::size_t>(ota_slot_)];
  if (slot.bytes.size() + data.size() > kPycomSlotSize4MB) return false;
  std::uint64_t limit = 0;
  {
    std::lock_guard lk(m_);
    limit = faults_.brownout_after_bytes;
  }
  if (limit > 0 && slot.bytes.size() + data.size() >= limit) {
    // The supply sags while the flash is written: what reached the flash stays, half an image.
    std::size_t keep = limit > slot.bytes.size() ? static_cast<std::size_t>(limit - slot.bytes.size()) : 0;
    slot.bytes.append(data.substr(0, std::min(keep, data.size())));
    slot = describe_image(std::move(slot.bytes));
    {
      std::lock_guard lk(m_);
      faults_.brownout_after_bytes = 0;  // one brown-out, then the supply recovers
    }
    ota_open_ = false;
    throw ChipReset{ResetCause::brownout, true};
  }
  slot.bytes.append(data);
  return true;
}

bool PycomBoard::ota_finish() {
  if (!ota_open_) return false;
  ota_open_ = false;
  auto& slot = *flash_.slots[static_cast<std::size_t>(ota_slot_)];
  slot = describe_image(std::move(slot.bytes));
  // updater_finish: the bootloader verifies the new image on the next boot (Status CHECK).
  BootInfo bi = flash_.read_boot_info();
  bi.prev_img = bi.active_img;
  // An update into the factory slot is recorded as IMG_ACT_UPDATE2, which the bootloader maps to factory.
  bi.active_img = ota_slot_ == SlotId::ota0 ? BootInfo::kImgOta0 : BootInfo::kImgUpdate2;
  bi.status = BootInfo::kStatusCheck;
  bi.size = static_cast<std::uint32_t>(slot.bytes.size());
  flash_.write_boot_info(bi);
  return true;
}

bool PycomBoard::ota_verify() {
  const auto& slot = flash_.slots[static_cast<std::size_t>(ota_slot_)];
  return slot && describe_image(slot->bytes).valid;
}

// ---------------------------------------------------------------------------------------------------
// LED

void PycomBoard::led_set(LedColour c, TimePoint scheduled) {
  std::lock_guard lk(led_m_);
  // A stuck LED (a dead driver, a short) shows one state whatever the firmware writes.
  if (led_stuck_ == "on") c = kStuckOnColour;
  if (led_stuck_ == "off") c = 0;
  if (c == led_) return;
  led_ = c;
  wires_.led(c, scheduled);
}

void PycomBoard::heartbeat_enable(bool on, std::optional<TimePoint> at) {
  std::lock_guard lk(hb_m_);
  if (on == hb_enabled_) return;
  hb_enabled_ = on;
  hb_changed_ = true;
  if (on) {
    hb_next_ = at.value_or(now());
    hb_next_on_ = true;
  } else {
    // The firmware's heartbeat runs on a timer: a change due before the switch-off happened then, however
    // late the heartbeat thread would have woken (on a loaded host a failing boot.py could otherwise switch
    // the heartbeat off before its first blink was ever shown).
    const TimePoint off_at = at.value_or(now());
    while (hb_next_ <= off_at) {
      led_set(hb_next_on_ ? kHeartbeatColour : 0, hb_next_);
      hb_next_ += hb_next_on_ ? Duration(timing_.heartbeat_on) : Duration(timing_.heartbeat_off);
      hb_next_on_ = !hb_next_on_;
    }
    led_set(0, off_at);
  }
  hb_cv_.notify_all();
}

void PycomBoard::heartbeat_main() {
  std::unique_lock lk(hb_m_);
  while (!hb_stop_) {
    hb_changed_ = false;
    if (!hb_enabled_) {
      hb_cv_.wait(lk, [&] { return hb_stop_ || hb_changed_; });
      continue;
    }
    TimePoint due = hb_next_;
    if (hb_cv_.wait_until(lk, due, [&] { return hb_stop_ || hb_changed_; })) continue;
    bool on = hb_next_on_;
    led_set(on ? kHeartbeatColour : 0, due);
    hb_next_ = due + (on ? Duration(timing_.heartbeat_on) : Duration(timing_.heartbeat_off));
    hb_next_on_ = !on;
  }
}

}  // namespace bootrig::sim
