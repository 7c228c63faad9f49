# Cross toolchain for a Raspberry Pi architecture: Debian's cross compilers against a sysroot made from Debian's
# archive by cmake/cross/sysroot.sh. Pass -DBOOTRIG_CROSS_ARCH=arm64|armhf and -DBOOTRIG_SYSROOT=DIR.
# Tests and the man page generator run the target's binaries through qemu-user (CMAKE_CROSSCOMPILING_EMULATOR).

# try_compile projects read this file again: hand them the two settings.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES BOOTRIG_CROSS_ARCH BOOTRIG_SYSROOT)

if(BOOTRIG_CROSS_ARCH STREQUAL "arm64")
  set(CMAKE_SYSTEM_PROCESSOR aarch64)
  set(_triplet aarch64-linux-gnu)
  set(_qemu qemu-aarch64-static)
elseif(BOOTRIG_CROSS_ARCH STREQUAL "armhf")
  set(CMAKE_SYSTEM_PROCESSOR armv7l)
  set(_triplet arm-linux-gnueabihf)
  set(_qemu qemu-arm-static)
  # GCC notes on every std::map iterator that its passing changed in GCC 7.1: Debian 12 builds everything
  # with GCC 12, so no object of the old ABI is ever linked in.
  set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
else()
  message(FATAL_ERROR "BOOTRIG_CROSS_ARCH='${BOOTRIG_CROSS_ARCH}': use arm64 or armhf (cmake/cross.sh sets it)")
endif()
if(NOT IS_DIRECTORY "${BOOTRIG_SYSROOT}/usr/lib/${_triplet}")
  message(FATAL_ERROR "BOOTRIG_SYSROOT='${BOOTRIG_SYSROOT}' is no ${BOOTRIG_CROSS_ARCH} sysroot; make one with cmake/cross/sysroot.sh")
endif()

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_LIBRARY_ARCHITECTURE ${_triplet})
set(CMAKE_C_COMPILER ${_triplet}-gcc-12)
set(CMAKE_CXX_COMPILER ${_triplet}-g++-12)
set(CMAKE_SYSROOT "${BOOTRIG_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${BOOTRIG_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# pkg-config reads only the sysroot's .pc files and prefixes their paths with it.
set(ENV{PKG_CONFIG_LIBDIR} "${BOOTRIG_SYSROOT}/usr/lib/${_triplet}/pkgconfig:${BOOTRIG_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${BOOTRIG_SYSROOT}")
set(ENV{PKG_CONFIG_PATH} "")

find_program(BOOTRIG_QEMU_USER ${_qemu})
if(BOOTRIG_QEMU_USER)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${BOOTRIG_QEMU_USER};-L;${BOOTRIG_SYSROOT}")
endif()
