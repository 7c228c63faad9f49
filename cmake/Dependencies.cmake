# Finds bootrig's dependencies, all from Debian packages, and decides which libgpiod API to build for.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 2.1 REQUIRED)
find_package(tomlplusplus 3 REQUIRED)
pkg_check_modules(libserialport REQUIRED IMPORTED_TARGET libserialport)
# Firmware bundles (.tar.gz) from Pycom: gzip via zlib (Debian zlib1g-dev).
pkg_check_modules(zlib REQUIRED IMPORTED_TARGET zlib)
# A station's records (src/report/records.cpp): Debian libsqlite3-dev.
find_package(SQLite3 REQUIRED)

# libgpiod's C++ bindings: the system's, or the ones under BOOTRIG_GPIOD_ROOT (the test command unpacks
# libgpiod 2.x from bookworm-backports there). The version in libgpiodcxx.pc picks the driver.
if(BOOTRIG_GPIOD_ROOT)
  file(GLOB _gpiod_pc "${BOOTRIG_GPIOD_ROOT}/usr/lib/*/pkgconfig/libgpiodcxx.pc"
                      "${BOOTRIG_GPIOD_ROOT}/usr/lib/pkgconfig/libgpiodcxx.pc")
  if(NOT _gpiod_pc)
    message(FATAL_ERROR "BOOTRIG_GPIOD_ROOT=${BOOTRIG_GPIOD_ROOT} holds no libgpiodcxx.pc; run cmake/fetch-libgpiod2.sh into it")
  endif()
  list(GET _gpiod_pc 0 _gpiod_pc)
  file(STRINGS "${_gpiod_pc}" _gpiod_version_line REGEX "^Version:")
  string(REGEX REPLACE "^Version:[ \t]*" "" BOOTRIG_GPIOD_VERSION "${_gpiod_version_line}")
  get_filename_component(_gpiod_libdir "${_gpiod_pc}" DIRECTORY)
  get_filename_component(_gpiod_libdir "${_gpiod_libdir}" DIRECTORY)
  find_library(_gpiodcxx_lib gpiodcxx PATHS "${_gpiod_libdir}" NO_DEFAULT_PATH REQUIRED)
  find_library(_gpiod_lib gpiod PATHS "${_gpiod_libdir}" NO_DEFAULT_PATH REQUIRED)
  # Two targets: the libraries alone (bootrig_core links them) and, on top, the headers (only the driver
  # compiles against them, so that no other file's command line names this root: cmake/dev.sh's v2 build then
  # takes every other object from the v1 build's ccache).
  add_library(bootrig::gpiodcxx_libs INTERFACE IMPORTED)
  target_link_libraries(bootrig::gpiodcxx_libs INTERFACE "${_gpiodcxx_lib}" "${_gpiod_lib}")
  # libgpiodcxx needs libgpiod.so.3 from this same private folder. A RUNPATH (the linker's default) only
  # serves the executable's own dependencies, so the loader would not find it; an RPATH serves theirs too.
  target_link_options(bootrig::gpiodcxx_libs INTERFACE "LINKER:--disable-new-dtags")
  add_library(bootrig::gpiodcxx INTERFACE IMPORTED)
  # BEFORE so that this root's gpiod.hpp wins over a system copy of the other API.
  target_include_directories(bootrig::gpiodcxx BEFORE INTERFACE "${BOOTRIG_GPIOD_ROOT}/usr/include")
  target_link_libraries(bootrig::gpiodcxx INTERFACE bootrig::gpiodcxx_libs)
  set(BOOTRIG_GPIOD_FROM "${BOOTRIG_GPIOD_ROOT}")
else()
  pkg_check_modules(libgpiodcxx REQUIRED IMPORTED_TARGET libgpiodcxx)
  # The C library as well: the v1 driver asks it for its runtime version (gpiod_version_string()).
  pkg_check_modules(libgpiod REQUIRED IMPORTED_TARGET libgpiod)
  set(BOOTRIG_GPIOD_VERSION "${libgpiodcxx_VERSION}")
  add_library(bootrig::gpiodcxx INTERFACE IMPORTED)
  target_link_libraries(bootrig::gpiodcxx INTERFACE PkgConfig::libgpiodcxx PkgConfig::libgpiod)
  # The system's headers are where every file looks anyway: nothing to keep apart.
  add_library(bootrig::gpiodcxx_libs ALIAS bootrig::gpiodcxx)
  if(CMAKE_SYSROOT)
    set(BOOTRIG_GPIOD_FROM "sysroot ${CMAKE_SYSROOT} (pkg-config)")
  else()
    set(BOOTRIG_GPIOD_FROM "system (pkg-config)")
  endif()
endif()

if(BOOTRIG_GPIOD_VERSION VERSION_GREATER_EQUAL 2)
  set(BOOTRIG_GPIOD_API 2)
elseif(BOOTRIG_GPIOD_VERSION VERSION_GREATER_EQUAL 1.5)
  set(BOOTRIG_GPIOD_API 1)
else()
  message(FATAL_ERROR "libgpiod ${BOOTRIG_GPIOD_VERSION} is too old: bootrig needs 1.5+ (v1 API) or 2.x")
endif()
