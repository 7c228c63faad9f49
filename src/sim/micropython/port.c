// The simulated module's MicroPython port (after MicroPython's ports/embed): the interpreter's life on the
// chip's thread, the HAL (terminal, time, source files) and what the Pycom profile changes about compiling.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extmod/vfs.h"
#include "lib/oofatfs/ff.h"
#include "port.h"
#include "py/builtin.h"
#include "py/compile.h"
#include "py/gc.h"
#include "py/lexer.h"
#include "py/mperrno.h"
#include "py/mphal.h"
#include "py/mpstate.h"
#include "py/reader.h"
#include "py/runtime.h"
#include "py/stackctrl.h"
#include "py/stream.h"
#include "shared/readline/readline.h"
#include "shared/runtime/gchelper.h"
#include "shared/runtime/pyexec.h"

__thread double bootrig_readline_storage[32];

// MicroPython keeps its state in one global (mp_state_ctx), which static tables point into. Each simulated
// chip has its own copy here; the interpreter lock (held by the caller of every bootrig_mp_* call) swaps the
// copy of the chip that takes it into the global.
struct bootrig_mp_vm {
  mp_state_ctx_t state;  // while another chip's state is resident
  uint8_t* heap;
  size_t heap_size;
  int profile;
  int sys_exit_quirk;
};

static bootrig_mp_vm* resident;             // whose state the global holds (changed under the lock only)
static __thread bootrig_mp_vm* current_vm;  // the chip this thread runs
// The raw REPL's line as pyexec collects it (for the Pycom profile's missing raw-paste, below), a byte held
// back for the next read, and whether pyexec is running code.
static __thread int raw_line_len, raw_line_first, pending_char = -1, executing;

void bootrig_mp_swap_in(bootrig_mp_vm* vm) {
  if (resident == vm) return;
  if (resident) memcpy(&resident->state, &mp_state_ctx, sizeof mp_state_ctx);
  memcpy(&mp_state_ctx, &vm->state, sizeof mp_state_ctx);
  resident = vm;
}

int bootrig_mp_profile(void) { return current_vm ? current_vm->profile : BOOTRIG_MP_PROFILE_UPSTREAM; }

// ---------------------------------------------------------------------------------------------------------
// Life cycle

bootrig_mp_vm* bootrig_mp_vm_new(size_t heap_bytes, int profile, int sys_exit_quirk) {
  bootrig_mp_vm* vm = calloc(1, sizeof *vm);
  if (!vm) return NULL;
  vm->heap = malloc(heap_bytes);
  if (!vm->heap) {
    free(vm);
    return NULL;
  }
  vm->heap_size = heap_bytes;
  vm->profile = profile;
  vm->sys_exit_quirk = sys_exit_quirk;
  return vm;
}

void bootrig_mp_vm_free(bootrig_mp_vm* vm) {
  if (!vm) return;
  if (current_vm == vm) current_vm = NULL;
  if (resident == vm) resident = NULL;
  free(vm->heap);
  free(vm);
}

void bootrig_mp_vm_enter(bootrig_mp_vm* vm) { current_vm = vm; }

void bootrig_mp_init(void* stack_top, size_t stack_limit) {
  // Whatever the last boot left (it may have been cut off anywhere by a reset) is forgotten.
  memset(&mp_state_ctx, 0, sizeof mp_state_ctx);
  mp_stack_set_top(stack_top);
  mp_stack_set_limit(stack_limit);
  gc_init(current_vm->heap, current_vm->heap + current_vm->heap_size);
  mp_init();
  readline_init0();
  raw_line_len = 0;
  pending_char = -1;
  executing = 0;
  bootrig_mp_set_help_text(current_vm->profile);
  // Pycom's sys.path: the current folder, /flash and /flash/lib.
  mp_obj_list_append(mp_sys_path, MP_OBJ_NEW_QSTR(qstr_from_str("/flash")));
  mp_obj_list_append(mp_sys_path, MP_OBJ_NEW_QSTR(qstr_from_str("/flash/lib")));
}

void bootrig_mp_deinit(void) {
  gc_sweep_all();  // finalisers: open files are closed and their data committed
  mp_deinit();
}

int bootrig_mp_exec_file(const char* path) { return pyexec_file_if_exists(path); }

int bootrig_mp_exec_str(const char* source) {
  vstr_t v;
  vstr_init(&v, strlen(source) + 1);
  vstr_add_str(&v, source);
  int r = pyexec_vstr(&v, false);
  vstr_clear(&v);
  return r;
}

int bootrig_mp_repl(int* raw) {
  for (;;) {
    pyexec_mode_kind = *raw ? PYEXEC_MODE_RAW_REPL : PYEXEC_MODE_FRIENDLY_REPL;
    int ret = *raw ? pyexec_raw_repl() : pyexec_friendly_repl();
    if (ret & PYEXEC_FORCED_EXIT) return ret;
    // 0 from either loop is Ctrl-A (friendly to raw) or Ctrl-B (raw to friendly). The mode is kept here, per
    // chip, and not read back from pyexec's global.
    *raw = !*raw;
  }
}

void bootrig_mp_keyboard_interrupt(void) { mp_sched_keyboard_interrupt(); }

void bootrig_mp_after_exec(void* ret_val, int* ret) {
  executing = 0;
  bootrig_host_exec(0);
  // Firmware 1.20 (pyexec_system_exit == 0): SystemExit is reported as a failure, not a soft reset.
  if (ret_val && current_vm->sys_exit_quirk &&
      mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(((mp_obj_base_t*)ret_val)->type),
                              MP_OBJ_FROM_PTR(&mp_type_SystemExit)))
    *ret = 0;
}

// ---------------------------------------------------------------------------------------------------------
// GC, fatal errors

void gc_collect(void) {
  gc_collect_start();
  gc_helper_collect_regs_and_stack();
  gc_collect_end();
}

void nlr_jump_fail(void* val) {
  (void)val;
  bootrig_host_fatal("nlr_jump_fail: an exception escaped every handler");
}

// ---------------------------------------------------------------------------------------------------------
// HAL: terminal

// Firmware 1.20's raw REPL (MicroPython 1.11) has no raw-paste: "\x05A\x01" is two bytes of code and a
// Ctrl-A, which restarts the raw REPL. MicroPython 1.25's pyexec would answer the request instead, so the
// Pycom profile hands it Ctrl-C (clear the line) before that Ctrl-A: the same restart, byte for byte.

static int pycom_raw_repl_filter(int c) {
  if (bootrig_mp_profile() != BOOTRIG_MP_PROFILE_PYCOM || pyexec_mode_kind != PYEXEC_MODE_RAW_REPL ||
      executing)
    return c;
  if (c == CHAR_CTRL_A && raw_line_len == 2 && raw_line_first == CHAR_CTRL_E) {
    raw_line_len = 0;
    pending_char = CHAR_CTRL_A;
    return CHAR_CTRL_C;
  }
  if (c == CHAR_CTRL_A || c == CHAR_CTRL_B || c == CHAR_CTRL_C || c == CHAR_CTRL_D) {
    raw_line_len = 0;
  } else if (raw_line_len++ == 0) {
    raw_line_first = c;
  }
  return c;
}

int bootrig_mp_stdin_rx(void) {
  if (pending_char >= 0) {
    int c = pending_char;
    pending_char = -1;
    return c;
  }
  for (;;) {
    int64_t wait = bootrig_mp_alarm_wait_us();
    if (wait == 0) {
      bootrig_mp_alarm_fire();
      return -1;
    }
    int c = bootrig_host_stdin_rx(wait);
    if (c >= 0) return pycom_raw_repl_filter(c);
    if (c == -1) return c;
  }
}

int mp_hal_stdin_rx_chr(void) {
  for (;;) {
    int c = bootrig_mp_stdin_rx();
    if (c >= 0) return c;
    mp_handle_pending(true);  // Ctrl-C (KeyboardInterrupt) or callbacks that became due
  }
}

mp_uint_t mp_hal_stdout_tx_strn(const char* str, size_t len) {
  bootrig_host_stdout(str, len);
  return len;
}

void mp_hal_stdout_tx_strn_cooked(const char* str, size_t len) {
  const char* end = str + len;
  while (str < end) {
    const char* nl = memchr(str, '\n', (size_t)(end - str));
    if (!nl) {
      bootrig_host_stdout(str, (size_t)(end - str));
      break;
    }
    bootrig_host_stdout(str, (size_t)(nl - str));
    bootrig_host_stdout("\r\n", 2);
    str = nl + 1;
  }
}

void mp_hal_stdout_tx_str(const char* str) {
  // pyexec prints its banner from compile-time strings; the module's comes from the image it runs.
  if (strcmp(str, MICROPY_BANNER_NAME_AND_VERSION) == 0) {
    str = bootrig_host_info(BOOTRIG_INFO_BANNER);
  } else if (strcmp(str, "; " MICROPY_BANNER_MACHINE) == 0) {
    bootrig_host_stdout("; ", 2);
    str = bootrig_host_info(BOOTRIG_INFO_MACHINE);
  }
  bootrig_host_stdout(str, strlen(str));
}

void mp_hal_set_interrupt_char(int c) { bootrig_host_set_interrupt_char(c); }

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
  uintptr_t ret = 0;
  if ((poll_flags & MP_STREAM_POLL_RD) && bootrig_host_stdin_any()) ret |= MP_STREAM_POLL_RD;
  if (poll_flags & MP_STREAM_POLL_WR) ret |= MP_STREAM_POLL_WR;
  return ret;
}

// ---------------------------------------------------------------------------------------------------------
// HAL: time. Sleeps block the chip's thread (no busy wait) and end early for Ctrl-C and due timer callbacks.

void bootrig_mp_sleep_until(uint64_t end) {
  for (;;) {
    uint64_t now = bootrig_host_ticks_us();
    if (now >= end) return;
    int64_t wait = bootrig_mp_alarm_wait_us();
    if (wait == 0) {
      bootrig_mp_alarm_fire();
      return;
    }
    uint64_t left = end - now;
    if (wait > 0 && (uint64_t)wait < left) left = (uint64_t)wait;
    bootrig_host_sleep_us(left);
    if (left == end - now) return;
  }
}

void mp_hal_delay_us(mp_uint_t us) {
  uint64_t end = bootrig_host_ticks_us() + us;
  for (;;) {
    uint64_t now = bootrig_host_ticks_us();
    if (now >= end) break;
    bootrig_mp_sleep_until(end);
    mp_handle_pending(true);
  }
}

void mp_hal_delay_ms(mp_uint_t ms) { mp_hal_delay_us(ms * 1000); }

uint64_t mp_hal_time_ns(void) { return (uint64_t)bootrig_host_rtc_us() * 1000u; }

void bootrig_mp_vm_hook(void) { bootrig_host_vm_hook(); }

unsigned bootrig_mp_random_seed(void) {
  unsigned seed;
  bootrig_host_random((uint8_t*)&seed, sizeof seed);
  return seed;
}

// ---------------------------------------------------------------------------------------------------------
// Source text. Firmware 1.20's lexer (MicroPython 1.11) has no f-strings: `f'x'` is the name f followed by a
// string, a SyntaxError. The Pycom profile gives every f-string prefix that meaning by separating it from its
// quote before the text is compiled, so the error (and where it is reported) is the firmware's.

static int is_word_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c >= 0x80;
}

static int is_string_prefix(const char* w, size_t n) {
  if (n == 0 || n > 2) return 0;
  for (size_t i = 0; i < n; ++i)
    if (!strchr("rRbBfFuU", w[i])) return 0;
  return 1;
}

// Returns the number of f-string prefixes found; when `out` is given, the text with each one separated.
static size_t separate_fstring_prefixes(const char* src, size_t len, vstr_t* out) {
  size_t found = 0, i = 0;
  while (i < len) {
    unsigned char c = (unsigned char)src[i];
    if (c == '#') {
      size_t j = i;
      while (j < len && src[j] != '\n') ++j;
      if (out) vstr_add_strn(out, src + i, j - i);
      i = j;
    } else if (is_word_char(c)) {
      size_t j = i;
      while (j < len && is_word_char((unsigned char)src[j])) ++j;
      if (out) vstr_add_strn(out, src + i, j - i);
      if (j < len && (src[j] == '\'' || src[j] == '"') && !(c >= '0' && c <= '9') &&
          is_string_prefix(src + i, j - i) && (memchr(src + i, 'f', j - i) || memchr(src + i, 'F', j - i))) {
        ++found;
        if (out) vstr_add_byte(out, ' ');
      }
      i = j;
    } else if (c == '\'' || c == '"') {
      size_t q = (i + 2 < len && src[i + 1] == (char)c && src[i + 2] == (char)c) ? 3 : 1;
      size_t j = i + q;
      while (j < len) {
        if (src[j] == '\\') {
          j += 2;
          continue;
        }
        if (src[j] == (char)c &&
            (q == 1 || (j + 2 < len && src[j + 1] == (char)c && src[j + 2] == (char)c))) {
          j += q;
          break;
        }
        if (q == 1 && src[j] == '\n') break;  // unterminated: the lexer reports it
        ++j;
      }
      if (j > len) j = len;
      if (out) vstr_add_strn(out, src + i, j - i);
      i = j;
    } else {
      if (out) vstr_add_byte(out, (byte)c);
      ++i;
    }
  }
  return found;
}

static void pycom_source(vstr_t* v) {
  if (bootrig_mp_profile() != BOOTRIG_MP_PROFILE_PYCOM) return;
  if (separate_fstring_prefixes(v->buf, v->len, NULL) == 0) return;
  vstr_t out;
  vstr_init(&out, v->len + 8);
  separate_fstring_prefixes(v->buf, v->len, &out);
  vstr_clear(v);
  *v = out;
}

// pyexec's flag for a source held in a vstr (shared/runtime/pyexec.c, EXEC_FLAG_SOURCE_IS_VSTR).
#define BOOTRIG_EXEC_FLAG_SOURCE_IS_VSTR (1 << 4)

void bootrig_mp_before_exec(const void* source, unsigned exec_flags) {
  executing = 1;
  bootrig_host_exec(1);
  if (exec_flags & BOOTRIG_EXEC_FLAG_SOURCE_IS_VSTR) pycom_source((vstr_t*)source);
}

mp_lexer_t* mp_lexer_new_from_file(qstr filename) {
  mp_reader_t reader;
  mp_reader_new_file(&reader, filename);
  return mp_lexer_new(filename, reader);
}

// Source files (scripts and imported modules) are read whole, then compiled from memory.
void mp_reader_new_file(mp_reader_t* reader, qstr filename) {
  mp_obj_t args[2] = {MP_OBJ_NEW_QSTR(filename), MP_OBJ_NEW_QSTR(MP_QSTR_rb)};
  mp_obj_t file = mp_vfs_open(MP_ARRAY_SIZE(args), args, (mp_map_t*)&mp_const_empty_map);
  vstr_t v;
  vstr_init(&v, 256);
  for (;;) {
    int err = 0;
    char* buf = vstr_add_len(&v, 256);
    mp_uint_t n = mp_stream_rw(file, buf, 256, &err, MP_STREAM_RW_READ | MP_STREAM_RW_ONCE);
    v.len -= 256 - (err ? 0 : n);
    if (err) {
      mp_stream_close(file);
      mp_raise_OSError(err);
    }
    if (n == 0) break;
  }
  mp_stream_close(file);
  pycom_source(&v);
  mp_reader_new_mem(reader, (const byte*)v.buf, v.len, v.alloc);
}

// ---------------------------------------------------------------------------------------------------------
// FAT timestamps

void bootrig_civil_from_days(int64_t z, int* y, int* m, int* d);

// FatFs stamps files with the RTC's local time (FAT dates start in 1980; earlier times read as 1980-01-01).
DWORD get_fattime(void) {
  int64_t secs = bootrig_host_rtc_us() / 1000000;
  int64_t days = secs / 86400, rem = secs % 86400;
  int y, m, d;
  bootrig_civil_from_days(days, &y, &m, &d);
  if (y < 1980) return (0u << 25) | (1u << 21) | (1u << 16);
  return ((DWORD)(y - 1980) << 25) | ((DWORD)m << 21) | ((DWORD)d << 16) | ((DWORD)(rem / 3600) << 11) |
         ((DWORD)(rem / 60 % 60) << 5) | (DWORD)(rem % 60 / 2);
}
