// MicroPython's build configuration for the simulated module: the features and modules Pycom firmware 1.20
// enables (esp32/mpconfigport.h of pycom-micropython-sigfox, MicroPython 1.11 base), on MicroPython 1.25.
#pragma once

#include <alloca.h>
#include <stdint.h>

// ---- core: as the ESP32 ports build it, in portable C (setjmp NLR and register scan, no native emitters)
#define MICROPY_CONFIG_ROM_LEVEL (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)
#define MICROPY_OBJ_REPR (MICROPY_OBJ_REPR_A)
#define MICROPY_NLR_SETJMP (1)
#define MICROPY_GCREGS_SETJMP (1)
#define MICROPY_ENABLE_GC (1)
#define MICROPY_ENABLE_FINALISER (1)
#define MICROPY_STACK_CHECK (1)
#define MICROPY_STACK_CHECK_MARGIN (2048)
#define MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF (1)
#define MICROPY_EMERGENCY_EXCEPTION_BUF_SIZE (256)
#define MICROPY_ALLOC_PATH_MAX (128)
#define MICROPY_ENABLE_COMPILER (1)
#define MICROPY_PERSISTENT_CODE_LOAD (1)
#define MICROPY_ENABLE_SOURCE_LINE (1)
#define MICROPY_ERROR_REPORTING (MICROPY_ERROR_REPORTING_NORMAL)
#define MICROPY_WARNINGS (0)
#define MICROPY_LONGINT_IMPL (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_FLOAT_IMPL (MICROPY_FLOAT_IMPL_FLOAT)  // single precision, as on the ESP32
#define MICROPY_USE_INTERNAL_ERRNO (1)
#define MICROPY_USE_INTERNAL_PRINTF (0)  // never replace the host's printf
#define MICROPY_KBD_EXCEPTION (1)
#define MICROPY_ENABLE_SCHEDULER (1)
#define MICROPY_SCHEDULER_DEPTH (8)
#define MICROPY_CAN_OVERRIDE_BUILTINS (1)
#define MICROPY_MODULE_BUILTIN_INIT (1)
#define MICROPY_MODULE_FROZEN_MPY (0)
#define MICROPY_MODULE_FROZEN_STR (0)
#define MICROPY_HELPER_REPL (1)
#define MICROPY_REPL_AUTO_INDENT (1)
#define MICROPY_REPL_EMACS_KEYS (0)
#define MICROPY_READLINE_HISTORY_SIZE (8)
#define MICROPY_PY_SYS_PS1_PS2 (0)
#define MICROPY_REPL_INFO (0)
#define MICROPY_OPT_COMPUTED_GOTO (1)
#define MICROPY_COMP_CONST_FOLDING (1)
#define MICROPY_PY_FSTRINGS (1)  // the Pycom profile turns them into the SyntaxError of 1.11 (port.c)
#define MICROPY_PY_ASYNC_AWAIT (1)
#define MICROPY_PY_SYS_SETTRACE (0)
#define MICROPY_PY_BUILTINS_HELP (1)
#define MICROPY_PY_BUILTINS_HELP_TEXT bootrig_mp_help_text  // filled per profile (help.c)
#define MICROPY_PY_BUILTINS_HELP_MODULES (1)
#define MICROPY_PY_BUILTINS_INPUT (1)
#define MICROPY_PY_BUILTINS_COMPLEX (1)
#define MICROPY_PY_BUILTINS_MEMORYVIEW (1)
#define MICROPY_PY_BUILTINS_EXECFILE (1)
#define MICROPY_PY_BUILTINS_NEXT2 (0)  // next(it, default): not in firmware 1.20
#define MICROPY_PY_ALL_SPECIAL_METHODS (1)
#define MICROPY_PY_MICROPYTHON_MEM_INFO (1)
#define MICROPY_PY_SYS_STDFILES (1)
#define MICROPY_PY_SYS_STDIO_BUFFER (1)
#define MICROPY_PY_SYS_PLATFORM "esp32"
#define MICROPY_PY_SYS_EXC_INFO (1)

// ---- modules of Pycom 1.20 (u-names import too); absent: network, sockets, ssl, LoRa/Sigfox radios
#define MICROPY_PY_IO (1)
#define MICROPY_PY_JSON (1)
#define MICROPY_PY_STRUCT (1)
#define MICROPY_PY_BINASCII (1)
#define MICROPY_PY_BINASCII_CRC32 (1)
#define MICROPY_PY_HASHLIB (1)
#define MICROPY_PY_HASHLIB_MD5 (0)  // MD5 and SHA-1 need mbedTLS or axTLS, which the build does not use
#define MICROPY_PY_HASHLIB_SHA1 (0)
#define MICROPY_PY_HASHLIB_SHA256 (1)
#define MICROPY_PY_RE (1)
#define MICROPY_PY_COLLECTIONS (1)
#define MICROPY_PY_HEAPQ (1)
#define MICROPY_PY_RANDOM (1)
#define MICROPY_PY_RANDOM_SEED_INIT_FUNC (bootrig_mp_random_seed())
#define MICROPY_PY_ERRNO (1)
#define MICROPY_PY_SELECT (1)
#define MICROPY_PY_MATH (1)
#define MICROPY_PY_CMATH (1)
#define MICROPY_PY_ARRAY (1)
#define MICROPY_PY_UCTYPES (1)
#define MICROPY_PY_FRAMEBUF (0)
#define MICROPY_PY_DEFLATE (0)   // MicroPython 1.21+
#define MICROPY_PY_PLATFORM (0)  // MicroPython 1.21+
#define MICROPY_PY_VFS (0)       // MicroPython 1.23+
#define MICROPY_PY_ASYNCIO (0)   // not frozen into Pycom 1.20
#define MICROPY_PY_CRYPTOLIB (0)
#define MICROPY_PY_BTREE (0)
#define MICROPY_PY_MARSHAL (0)
#define MICROPY_PY_WEBSOCKET (0)
#define MICROPY_PY_ONEWIRE (0)
#define MICROPY_PY_MACHINE (0)  // the simulator's own machine module with Pycom's API (modmachine.c)
#define MICROPY_PY_THREAD (0)
#define MICROPY_PY_TIME (0)  // Pycom's utime (modtime.c): the RTC starts at 1970 on every hard reset
#define MICROPY_PY_OS (0)    // Pycom's uos (modos.c): fsformat, getfree, dupterm, uname of the running image
#define MICROPY_EPOCH_IS_1970 (1)

// ---- filesystems: FAT (Pycom's default) and LittleFS on the simulated flash and SD card
#define MICROPY_VFS (1)
#define MICROPY_VFS_FAT (1)
#define MICROPY_VFS_LFS2 (1)
#define MICROPY_READER_VFS (0)  // port.c reads source files itself (the Pycom profile checks them first)
#define MICROPY_FATFS_ENABLE_LFN (1)
#define MICROPY_FATFS_LFN_CODE_PAGE 437
#define MICROPY_FATFS_RPATH (2)
#define MICROPY_FATFS_MAX_SS (4096)
#define MICROPY_FATFS_USE_LABEL (1)
#define MICROPY_FATFS_NORTC (0)

// ---- the chip around the interpreter
#define MICROPY_HW_BOARD_NAME "Pycom module"
#define MICROPY_HW_MCU_NAME "ESP32"
#define MICROPY_BANNER_NAME_AND_VERSION \
  "MicroPython v1.25.0 on 2025-04-15"  // replaced by the image's (port.c)
#define MICROPY_MPHALPORT_H "mphalport.h"
#define MICROPY_BOARD_BEFORE_PYTHON_EXEC(input_kind, exec_flags) \
  bootrig_mp_before_exec(source, exec_flags)  // pyexec's parse_compile_execute: the source about to compile
#define MICROPY_VM_HOOK_COUNT (64)
#define MICROPY_VM_HOOK_INIT static __thread unsigned bootrig_vm_hook_divisor = MICROPY_VM_HOOK_COUNT;
#define MICROPY_VM_HOOK_POLL                         \
  if (--bootrig_vm_hook_divisor == 0) {              \
    bootrig_vm_hook_divisor = MICROPY_VM_HOOK_COUNT; \
    bootrig_mp_vm_hook();                            \
  }
#define MICROPY_VM_HOOK_LOOP MICROPY_VM_HOOK_POLL
#define MICROPY_VM_HOOK_RETURN MICROPY_VM_HOOK_POLL

#define MP_STATE_PORT MP_STATE_VM

typedef intptr_t mp_int_t;
typedef uintptr_t mp_uint_t;
typedef long mp_off_t;
#define MP_SSIZE_MAX SSIZE_MAX

void bootrig_mp_vm_hook(void);
void bootrig_mp_before_exec(const void* source, unsigned exec_flags);
unsigned bootrig_mp_random_seed(void);
void bootrig_mp_after_exec(void* ret_val, int* ret);
#define MICROPY_BOARD_AFTER_PYTHON_EXEC(input_kind, exec_flags, ret_val, ret) \
  bootrig_mp_after_exec(ret_val, ret)
