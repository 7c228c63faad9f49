# Optional AddressSanitizer + UndefinedBehaviorSanitizer for the whole build (tests run under it in CI).
if(BOOTRIG_SANITIZE)
  set(_bootrig_san -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_compile_options(bootrig_settings INTERFACE ${_bootrig_san})
  target_link_options(bootrig_settings INTERFACE ${_bootrig_san})
  set(BOOTRIG_SANITIZE_TEXT "address, undefined")
else()
  set(BOOTRIG_SANITIZE_TEXT "off")
endif()
