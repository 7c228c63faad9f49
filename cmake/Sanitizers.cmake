# Optional sanitizers for the whole build (tests run under them in CI): AddressSanitizer + UndefinedBehavior-
# Sanitizer (BOOTRIG_SANITIZE), or ThreadSanitizer (BOOTRIG_TSAN, for the threaded parts' tests; the two cannot
# be combined). The simulator's MicroPython (C, one thread at a time behind the VM's turn lock) stays
# uninstrumented under TSan: ThreadSanitizer checks the C++ around it, where the threads meet.
if(BOOTRIG_SANITIZE AND BOOTRIG_TSAN)
  message(FATAL_ERROR "BOOTRIG_SANITIZE and BOOTRIG_TSAN cannot be combined; configure one build for each")
endif()
if(BOOTRIG_SANITIZE)
  set(_bootrig_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_compile_options(bootrig_settings INTERFACE ${_bootrig_san})
  target_link_options(bootrig_settings INTERFACE ${_bootrig_san})
  set(BOOTRIG_SANITIZE_TEXT "address, undefined")
elseif(BOOTRIG_TSAN)
  set(_bootrig_tsan -fsanitize=thread -fno-omit-frame-pointer)
  target_compile_options(bootrig_settings INTERFACE ${_bootrig_tsan})
  target_link_options(bootrig_settings INTERFACE ${_bootrig_tsan})
  set(BOOTRIG_SANITIZE_TEXT "thread")
else()
  set(BOOTRIG_SANITIZE_TEXT "off")
endif()
