// MicroPython on the chip's thread: the process-wide interpreter lock, and the port's calls into the board
// (bootrig_host_*), each forwarded to the FirmwareApi of the chip the calling thread runs.
#include "sim/micropython_vm.hpp"

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>

#include "bootrig/core/errors.hpp"
#include "sim/micropython/bootrig_mp.h"

namespace bootrig::sim {

namespace {

// The interpreter's C stack budget: far below the chip thread's 8 MiB, so that deep recursion ends in
// MicroPython's RuntimeError, never in a host crash (sanitizer builds use more stack per frame).
constexpr std::size_t kStackLimit = 1024 * 1024;

// MicroPython keeps one global state: chips take turns inside the interpreter, first come first served, and
// each one's state is swapped in when it gets the lock.
class InterpreterLock {
 public:
  void lock(bootrig_mp_vm* vm) {
    std::unique_lock lk(m_);
    std::uint64_t ticket = next_++;
    cv_.wait(lk, [&] { return serving_ == ticket; });
    lk.unlock();
    bootrig_mp_swap_in(vm);
  }
  void unlock() {
    std::lock_guard lk(m_);
    ++serving_;
    cv_.notify_all();
  }
  bool contended() {
    std::lock_guard lk(m_);
    return next_ > serving_ + 1;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::uint64_t next_ = 0, serving_ = 0;
};

InterpreterLock& interpreter_lock() {
  static InterpreterLock lock;
  return lock;
}

struct ThreadChip {
  FirmwareApi* host = nullptr;
  bootrig_mp_vm* vm = nullptr;
  Profile profile = Profile::pycom;
};
thread_local ThreadChip t_chip;

FirmwareApi& host() { return *t_chip.host; }

// Holds the interpreter lock for one call into the interpreter; released again however the call ends.
class Held {
 public:
  explicit Held(bootrig_mp_vm* vm) { interpreter_lock().lock(vm); }
  ~Held() { interpreter_lock().unlock(); }
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;
};

// Lets other chips into the interpreter while this one blocks; takes the lock back on the way out, also when
// a reset unwinds (the Held above then releases it).
class Released {
 public:
  Released() { interpreter_lock().unlock(); }
  ~Released() { interpreter_lock().lock(t_chip.vm); }
  Released(const Released&) = delete;
  Released& operator=(const Released&) = delete;
};

}  // namespace

// -------------------------------------------------------------------------------------------------------------
// MicroPythonVm

MicroPythonVm::MicroPythonVm(FirmwareApi& host, Profile profile, bool sys_exit_quirk, std::size_t heap_bytes)
    : host_(host), profile_(profile) {
  vm_ = bootrig_mp_vm_new(heap_bytes,
                          profile == Profile::pycom ? BOOTRIG_MP_PROFILE_PYCOM : BOOTRIG_MP_PROFILE_UPSTREAM,
                          sys_exit_quirk ? 1 : 0);
  if (!vm_)
    throw RigError("sim: cannot allocate the MicroPython heap (" + std::to_string(heap_bytes) + " bytes)");
  t_chip = ThreadChip{&host_, vm_, profile};
  bootrig_mp_vm_enter(vm_);
}

MicroPythonVm::~MicroPythonVm() {
  {
    Held held(vm_);
    bootrig_mp_vm_free(vm_);
  }
  if (t_chip.vm == vm_) t_chip = ThreadChip{};
}

void MicroPythonVm::start(void* stack_top) {
  Held held(vm_);
  bootrig_mp_init(stack_top, kStackLimit);
  int lfs = host_.boot_fs_type() == 1 ? BOOTRIG_MP_FS_LFS : BOOTRIG_MP_FS_FAT;
  if (bootrig_mp_mount(lfs, host_.block_store(1) != nullptr) != 0)
    host_.fatal("failed to create /flash");  // mptask.c: __fatal_error
}

ExecOutcome MicroPythonVm::exec_file(const std::string& path) {
  Held held(vm_);
  int r = bootrig_mp_exec_file(path.c_str());
  return (r & BOOTRIG_MP_FORCED_EXIT) ? ExecOutcome::forced_exit : r ? ExecOutcome::ok : ExecOutcome::error;
}

ExecOutcome MicroPythonVm::exec_source(const std::string& source) {
  Held held(vm_);
  int r = bootrig_mp_exec_str(source.c_str());
  return (r & BOOTRIG_MP_FORCED_EXIT) ? ExecOutcome::forced_exit : r ? ExecOutcome::ok : ExecOutcome::error;
}

void MicroPythonVm::repl() {
  Held held(vm_);
  bootrig_mp_repl(&raw_);
}

void MicroPythonVm::stop() {
  Held held(vm_);
  bootrig_mp_deinit();
}

void MicroPythonVm::keyboard_interrupt() {
  Held held(vm_);
  // Under the lock the chip cannot be between arming and disarming Ctrl-C: a late byte raises nothing.
  if (host_.interrupt_armed()) bootrig_mp_keyboard_interrupt();
}

std::string banner_line(const ImageDescriptor& image, Profile profile) {
  if (profile == Profile::pycom)
    return "Pycom MicroPython " + image.version + " [" + image.micropython + "] on " + image.build_date +
           "; " + image.board + " with ESP32";
  return "MicroPython v" + image.version + " on " + image.build_date + "; " + image.board + " with ESP32";
}

}  // namespace bootrig::sim

// -------------------------------------------------------------------------------------------------------------
// The port's calls into the board (bootrig_mp.h), on the thread of the chip that runs.

using bootrig::sim::BootInfo;
using bootrig::sim::host;
using bootrig::sim::Profile;
using bootrig::sim::t_chip;

extern "C" {

int bootrig_host_stdin_rx(int64_t wait_us) {
  bootrig::sim::Released released;
  std::optional<bootrig::microseconds> wait;
  if (wait_us >= 0) wait = bootrig::microseconds(wait_us);
  return host().stdin_rx(wait);
}

void bootrig_host_stdout(const char* s, size_t n) {
  bootrig::sim::Released released;  // the UART's FIFO may make the writer wait
  host().stdout_write(std::string_view(s, n));
}

size_t bootrig_host_stdin_any(void) { return host().stdin_any(); }
void bootrig_host_set_interrupt_char(int c) { host().set_interrupt_char(c); }
void bootrig_host_exec(int running) { host().exec_running(running != 0); }
uint64_t bootrig_host_ticks_us(void) { return static_cast<uint64_t>(host().ticks_us()); }

void bootrig_host_sleep_us(uint64_t us) {
  bootrig::sim::Released released;
  host().sleep_us(static_cast<std::int64_t>(std::min<uint64_t>(us, INT64_MAX)));
}

void bootrig_host_vm_hook(void) {
  // Pacing may sleep: other chips get the interpreter meanwhile (and whenever one waits for it).
  bootrig::sim::Released released;
  host().vm_hook();
}

int64_t bootrig_host_rtc_us(void) { return host().rtc_us(); }
void bootrig_host_set_rtc_us(int64_t us) { host().set_rtc_us(us); }

void bootrig_host_fatal(const char* what) {
  bootrig::sim::Released released;
  host().fatal(what);
  __builtin_unreachable();  // a virtual [[noreturn]] call is not known as one here
}

const char* bootrig_host_info(int what) {
  thread_local std::string text;
  const auto& img = host().running_image();
  bool pycom = t_chip.profile == Profile::pycom;
  switch (what) {
    case BOOTRIG_INFO_BANNER: {
      std::string line = bootrig::sim::banner_line(img, t_chip.profile);
      text = line.substr(0, line.rfind("; "));
      break;
    }
    case BOOTRIG_INFO_MACHINE:
      text = img.board + " with ESP32";
      break;
    case BOOTRIG_INFO_BOARD:
      text = img.board;
      break;
    case BOOTRIG_INFO_RELEASE:
      text = img.version;
      break;
    case BOOTRIG_INFO_VERSION:
      text = pycom ? img.micropython + " on " + img.build_date : "v" + img.version + " on " + img.build_date;
      break;
    default:
      text.clear();
  }
  return text.c_str();
}

int bootrig_host_block_count(int dev, uint32_t* count, uint32_t* size) {
  bootrig::sim::BlockStore* b = host().block_store(dev);
  if (!b) return -ENODEV;
  *count = b->block_count();
  *size = b->block_size();
  return 0;
}

int bootrig_host_block_read(int dev, uint32_t block, uint32_t offset, uint8_t* buf, size_t len) {
  bootrig::sim::BlockStore* b = host().block_store(dev);
  return b ? b->read(block, offset, buf, len) : -ENODEV;
}

int bootrig_host_block_write(int dev, uint32_t block, uint32_t offset, const uint8_t* buf, size_t len) {
  bootrig::sim::BlockStore* b = host().block_store(dev);
  return b ? b->write(block, offset, buf, len) : -ENODEV;
}

int bootrig_host_block_erase(int dev, uint32_t block) {
  bootrig::sim::BlockStore* b = host().block_store(dev);
  return b ? b->erase(block) : -ENODEV;
}

int bootrig_host_fs_format_keeps_files(void) { return host().format_keeps_files() ? 1 : 0; }

void bootrig_host_machine_reset(void) {
  bootrig::sim::Released released;
  host().machine_reset();
  __builtin_unreachable();
}

int bootrig_host_reset_cause(void) { return static_cast<int>(host().reset_cause()); }

void bootrig_host_deepsleep(uint64_t ms) {
  bootrig::sim::Released released;
  host().deepsleep(static_cast<std::int64_t>(std::min<uint64_t>(ms, INT64_MAX / 1000)));
  __builtin_unreachable();
}

int bootrig_host_wake_reason(void) { return host().wake_reason(); }
size_t bootrig_host_unique_id(unsigned char* out, size_t max) {
  std::string id = host().unique_id();
  std::size_t n = std::min(id.size(), max);
  std::memcpy(out, id.data(), n);
  return n;
}
void bootrig_host_set_main(const char* path) { host().set_main_script(path); }
int bootrig_host_pin_read(const char* name) { return host().pin_read(name); }
void bootrig_host_pin_write(const char* name, int level) { host().pin_write(name, level != 0); }
void bootrig_host_wdt_start(uint64_t timeout_ms) {
  host().wdt_start(
      bootrig::milliseconds(static_cast<std::int64_t>(std::min<uint64_t>(timeout_ms, INT32_MAX))));
}
void bootrig_host_wdt_feed(void) { host().wdt_feed(); }

int bootrig_host_heartbeat(int set) {
  if (set >= 0) host().set_heartbeat(set != 0);
  return host().heartbeat() ? 1 : 0;
}

int bootrig_host_heartbeat_on_boot(int set) {
  if (set >= 0) host().set_heartbeat_on_boot(set != 0);
  return host().heartbeat_on_boot() ? 1 : 0;
}

int bootrig_host_rgbled(uint32_t colour) { return host().rgbled(colour) ? 1 : 0; }
void bootrig_host_dupterm(int attach) { host().dupterm(attach != 0); }
int bootrig_host_dupterm_attached(void) { return host().dupterm_attached() ? 1 : 0; }

void bootrig_host_uart_write(const uint8_t* buf, size_t len) {
  bootrig::sim::Released released;
  host().uart_write(std::string_view(reinterpret_cast<const char*>(buf), len));
}

size_t bootrig_host_uart_read(uint8_t* buf, size_t max) {
  std::string got = host().uart_read(max);
  std::memcpy(buf, got.data(), got.size());
  return got.size();
}

// modpycom_bootmgr: the query's four strings, or a change (a partition change resets at once; a safe-boot or
// filesystem change only with reset=True). Returns 0, or 1 with the ValueError's text in `out`.
int bootrig_host_bootmgr(int partition, int fs_type, int safeboot, int reset, char* out, size_t out_len) {
  auto say = [&](const std::string& s) { std::snprintf(out, out_len, "%s", s.c_str()); };
  BootInfo bi = host().boot_info();
  if (partition == 255 && fs_type == 255 && safeboot == 255) {
    // The firmware says FAT only for a config byte of 0: an erased config block (0xFF) reads "LittleFS"
    // although /flash is then FAT (mptask.c mounts LittleFS only for 1).
    say(std::string(bi.active_img == BootInfo::kImgOta0 ? "ota_0" : "Factory") + "\n" +
        (host().boot_fs_type() == 0 ? "FAT" : "LittleFS") + "\n" +
        (bi.safeboot == 0 ? "SafeBoot: False" : "SafeBoot: True") + "\n" +
        (bi.status == BootInfo::kStatusCheck   ? "Status: Check"
         : bi.status == BootInfo::kStatusPatch ? "Status: Patch"
                                               : "Status: Ready"));
    return 0;
  }
  out[0] = '\0';
  bool update_part = false, update_safeboot = false, update_fs = false;
  if (partition != 255) {
    if (partition < 0 || partition > 1) {
      say("Error invalid boot partition!");
      return 1;
    }
    if (bi.active_img != static_cast<std::uint32_t>(partition)) {
      bi.prev_img = bi.active_img;
      bi.active_img = static_cast<std::uint32_t>(partition);
      bi.status = BootInfo::kStatusCheck;
      update_part = true;
    }
  }
  if (safeboot != 255) {
    if (safeboot < 0 || safeboot > 1 || (safeboot ? bi.safeboot != 0 : bi.safeboot == 0)) {
      say("Error safeboot must be True or False!");
      return 1;
    }
    bi.safeboot = safeboot ? BootInfo::kSafeBootSw : 0;
    update_safeboot = true;
  }
  if (fs_type != 255) {
    if (fs_type < 0 || fs_type > 1) {
      say("Error invalid filesystem type!");
      return 1;
    }
    update_fs = host().boot_fs_type() != fs_type;
    host().set_boot_fs_type(static_cast<std::uint8_t>(fs_type));
  }
  if (update_part || update_safeboot) {
    host().write_boot_info(bi);
    if (update_part) bootrig_host_machine_reset();
  }
  if ((update_fs || update_safeboot) && reset) bootrig_host_machine_reset();
  return 0;
}

int bootrig_host_nvs_set(const char* key, uint32_t value) { return host().nvs().set(key, value); }
int bootrig_host_nvs_get(const char* key, uint32_t* value) {
  auto v = host().nvs().get(key);
  if (!v) return -1;
  *value = *v;
  return 0;
}
int bootrig_host_nvs_erase(const char* key) { return host().nvs().erase(key) ? 0 : -1; }
void bootrig_host_nvs_erase_all(void) { host().nvs().erase_all(); }

uint32_t bootrig_host_ota_slot(void) { return host().ota_slot(); }
int bootrig_host_ota_start(void) { return host().ota_start() ? 1 : 0; }
int bootrig_host_ota_write(const uint8_t* buf, size_t len) {
  bootrig::sim::Released released;  // a brown-out fault resets from here
  return host().ota_write(std::string_view(reinterpret_cast<const char*>(buf), len)) ? 1 : 0;
}
int bootrig_host_ota_finish(void) { return host().ota_finish() ? 1 : 0; }
int bootrig_host_ota_verify(void) { return host().ota_verify() ? 1 : 0; }

void bootrig_host_random(uint8_t* buf, size_t len) {
  // The ESP32's hardware random number generator: not reproducible, as on the module.
  thread_local std::mt19937 rng{std::random_device{}()};
  for (size_t i = 0; i < len; ++i) buf[i] = static_cast<uint8_t>(rng() & 0xFF);
}

}  // extern "C"
