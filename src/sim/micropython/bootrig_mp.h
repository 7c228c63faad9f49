// The seam between MicroPython (C, this folder) and the simulated chip around it (C++, src/sim): the calls
// the board makes into the interpreter, and the services the interpreter's port asks of the board.
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- the interpreter. Every call but _new and _enter is made holding the process's interpreter lock, which
//      swaps the calling chip's state in (bootrig_mp_swap_in); chips run side by side, one at a time inside
//      the interpreter. ----

typedef struct bootrig_mp_vm bootrig_mp_vm;  // one interpreter: its heap and its state

enum { BOOTRIG_MP_PROFILE_PYCOM = 0, BOOTRIG_MP_PROFILE_UPSTREAM = 1 };
enum { BOOTRIG_MP_FS_FAT = 0, BOOTRIG_MP_FS_LFS = 1 };
// pyexec's results: 1 ran, 0 raised (traceback printed), BOOTRIG_MP_FORCED_EXIT: a soft reset was asked for
enum { BOOTRIG_MP_FORCED_EXIT = 0x100 };

// sys_exit_quirk: SystemExit is a failure (firmware 1.20), not a soft reset (the user document).
bootrig_mp_vm* bootrig_mp_vm_new(size_t heap_bytes, int profile, int sys_exit_quirk);
void bootrig_mp_vm_free(bootrig_mp_vm* vm);
// Makes `vm` this thread's interpreter (the chip's thread, once).
void bootrig_mp_vm_enter(bootrig_mp_vm* vm);
// Makes `vm`'s state the interpreter's (the lock holder calls it after taking the lock).
void bootrig_mp_swap_in(bootrig_mp_vm* vm);
// A fresh interpreter (what a hard or soft boot starts with); stack_top is the address of a local in the
// caller's frame, the top of what the GC scans.
void bootrig_mp_init(void* stack_top, size_t stack_limit);
// Mounts /flash (formatting it first when it holds no filesystem of the configured type), and /sd when the
// board has a card; recreates the firmware's default files. Returns 0 or an errno value.
int bootrig_mp_mount(int flash_fs_type, int have_sd);
int bootrig_mp_exec_file(const char* path);   // pyexec_file_if_exists
int bootrig_mp_exec_str(const char* source);  // pyexec_vstr: source in __main__, as a frozen module runs
// The friendly or raw REPL until it asks for a soft reset (BOOTRIG_MP_FORCED_EXIT); *raw keeps the mode
// across calls, as pyexec_mode_kind does across soft resets.
int bootrig_mp_repl(int* raw);
// The end of a soft boot: finalisers run (open files are closed), the interpreter is torn down.
void bootrig_mp_deinit(void);
// From the UART's thread, holding the lock with the chip's state swapped in: KeyboardInterrupt in the code
// it runs (mp_sched_keyboard_interrupt, as the UART's interrupt handler does).
void bootrig_mp_keyboard_interrupt(void);

// ---- the board's services, implemented in C++ for the VM the calling thread entered. Any of them may
//      unwind the C stack (a chip reset or power loss) with a C++ exception: MicroPython is built with
//      -fexceptions and its state is thrown away afterwards. ----

// Terminal (the REPL's UART while attached).
// A byte; -1 when Ctrl-C is pending instead; -2 when wait_us (< 0: forever) passed without either.
int bootrig_host_stdin_rx(int64_t wait_us);
void bootrig_host_stdout(const char* s, size_t n);
size_t bootrig_host_stdin_any(void);
void bootrig_host_set_interrupt_char(int c);
void bootrig_host_exec(int running);  // pyexec starts (1) or ends (0) compiling and running code
// Time: microseconds since the last hard reset, and an interruptible sleep (returns early on Ctrl-C).
uint64_t bootrig_host_ticks_us(void);
void bootrig_host_sleep_us(uint64_t us);
// An unrecoverable interpreter error: the chip panics and resets. Does not return.
__attribute__((noreturn)) void bootrig_host_fatal(const char* what);
void bootrig_host_vm_hook(void);    // every MICROPY_VM_HOOK_COUNT branches: pacing, resets
int64_t bootrig_host_rtc_us(void);  // microseconds since 1970
void bootrig_host_set_rtc_us(int64_t us);
// Strings the running image and board provide (NUL-terminated, valid until the next hard reset).
const char* bootrig_host_info(int what);
enum {
  BOOTRIG_INFO_BANNER = 0,   // "Pycom MicroPython 1.20.2.r4 [v1.11-a5aa0b8] on 2021-01-12"
  BOOTRIG_INFO_MACHINE = 1,  // "FiPy with ESP32"
  BOOTRIG_INFO_BOARD = 2,    // "FiPy"
  BOOTRIG_INFO_RELEASE = 3,  // "1.20.2.r4"
  BOOTRIG_INFO_VERSION = 4,  // "v1.11-a5aa0b8 on 2021-01-12"
  BOOTRIG_INFO_SLOT = 5,     // "Factory" or "ota_0"
};
// Storage: block devices (0 = the internal flash's filesystem partition, 1 = the SD card).
int bootrig_host_block_count(int dev, uint32_t* count, uint32_t* size);  // 0, or -ENODEV
int bootrig_host_block_read(int dev, uint32_t block, uint32_t offset, uint8_t* buf, size_t len);
int bootrig_host_block_write(int dev, uint32_t block, uint32_t offset, const uint8_t* buf, size_t len);
int bootrig_host_block_erase(int dev, uint32_t block);
int bootrig_host_fs_format_keeps_files(void);  // the format_keeps_files rule-break fault
// machine and pycom.
__attribute__((noreturn)) void bootrig_host_machine_reset(void);
int bootrig_host_reset_cause(void);
// A reset with the deep-sleep cause after `ms` (0: until the RESET pin).
__attribute__((noreturn)) void bootrig_host_deepsleep(uint64_t ms);
int bootrig_host_wake_reason(void);
// machine.unique_id() into `out` (at most `max` bytes); returns its length.
size_t bootrig_host_unique_id(unsigned char* out, size_t max);
void bootrig_host_set_main(const char* path);
int bootrig_host_pin_read(const char* name);  // 0/1, or -1 for a pin the module does not have
void bootrig_host_pin_write(const char* name, int level);
void bootrig_host_wdt_start(uint64_t timeout_ms);
void bootrig_host_wdt_feed(void);
int bootrig_host_heartbeat(int set);  // set < 0: read; returns the state
int bootrig_host_heartbeat_on_boot(int set);
int bootrig_host_rgbled(uint32_t colour);  // 0: the heartbeat owns the LED
void bootrig_host_dupterm(int attach);
int bootrig_host_dupterm_attached(void);
void bootrig_host_uart_write(const uint8_t* buf, size_t len);
size_t bootrig_host_uart_read(uint8_t* buf, size_t max);
int bootrig_host_bootmgr(int partition, int fs_type, int safeboot, int reset, char* out, size_t out_len);
int bootrig_host_nvs_set(const char* key, uint32_t value);   // 0 or an errno value
int bootrig_host_nvs_get(const char* key, uint32_t* value);  // 0, or -1 when the key is not set
int bootrig_host_nvs_erase(const char* key);                 // 0, or -1 when the key is not set
void bootrig_host_nvs_erase_all(void);
uint32_t bootrig_host_ota_slot(void);
int bootrig_host_ota_start(void);
int bootrig_host_ota_write(const uint8_t* buf, size_t len);
int bootrig_host_ota_finish(void);
int bootrig_host_ota_verify(void);
void bootrig_host_random(uint8_t* buf, size_t len);

#ifdef __cplusplus
}
#endif
