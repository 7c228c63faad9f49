# Compiler settings shared by every bootrig target, as one INTERFACE target.
add_library(bootrig_settings INTERFACE)
# -Wnull-dereference is left out: g++ 12 reports false positives inside libstdc++ when CLI11 is inlined.
target_compile_options(bootrig_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Wunused
  -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2)
if(BOOTRIG_WERROR)
  target_compile_options(bootrig_settings INTERFACE -Werror)
  set(BOOTRIG_WERROR_TEXT "on, as errors")
else()
  set(BOOTRIG_WERROR_TEXT "on")
endif()
if(CMAKE_UNITY_BUILD)
  # A unity build includes each .cpp into a generated one, so g++ sees a class of one file holding a type from
  # that file's anonymous namespace as if it came from a header. In one translation unit that is harmless; the
  # ordinary (non-unity) build still checks it.
  target_compile_options(bootrig_settings INTERFACE -Wno-subobject-linkage)
endif()
