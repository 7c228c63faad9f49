# The simulated module's interpreter: MicroPython 1.25 from Debian 13's source package (fetched into the build
# tree by cmake/fetch-micropython.sh, never committed), embedded natively with the port in src/sim/micropython.
# One static C library, compiled once per build configuration.
enable_language(C)

set(BOOTRIG_MICROPYTHON_DIR "${PROJECT_SOURCE_DIR}/build/micropython" CACHE PATH
    "Where cmake/fetch-micropython.sh keeps MicroPython's sources (fetched at configure time when missing)")
set(_mp_top "${BOOTRIG_MICROPYTHON_DIR}/micropython-1.25.0")
set(BOOTRIG_MICROPYTHON_SOURCE "${_mp_top}")
if(NOT EXISTS "${BOOTRIG_MICROPYTHON_DIR}/.complete")
  message(STATUS "Fetching MicroPython 1.25 sources into ${BOOTRIG_MICROPYTHON_DIR}")
  execute_process(COMMAND bash "${PROJECT_SOURCE_DIR}/cmake/fetch-micropython.sh" "${BOOTRIG_MICROPYTHON_DIR}"
                  RESULT_VARIABLE _mp_fetch)
  if(NOT _mp_fetch EQUAL 0)
    message(FATAL_ERROR "cmake/fetch-micropython.sh failed (see above): the simulator needs MicroPython's sources")
  endif()
endif()
# pyboard.py and mpremote, which the tests run against `bootrig sim`.
set(BOOTRIG_MICROPYTHON_TOOLS "${_mp_top}/tools")
find_program(BOOTRIG_MAKE NAMES make gmake REQUIRED)
find_package(Python3 REQUIRED COMPONENTS Interpreter)

set(_mp_port "${PROJECT_SOURCE_DIR}/src/sim/micropython")
file(GLOB _mp_py CONFIGURE_DEPENDS "${_mp_top}/py/*.c")
file(GLOB _mp_port_sources CONFIGURE_DEPENDS "${_mp_port}/*.c")
set(_mp_sources
  ${_mp_py}
  ${_mp_top}/extmod/modbinascii.c ${_mp_top}/extmod/modhashlib.c ${_mp_top}/extmod/modheapq.c
  ${_mp_top}/extmod/modjson.c ${_mp_top}/extmod/modrandom.c ${_mp_top}/extmod/modre.c ${_mp_top}/extmod/modselect.c
  ${_mp_top}/extmod/moductypes.c
  ${_mp_top}/extmod/vfs.c ${_mp_top}/extmod/vfs_blockdev.c ${_mp_top}/extmod/vfs_fat.c
  ${_mp_top}/extmod/vfs_fat_diskio.c ${_mp_top}/extmod/vfs_fat_file.c ${_mp_top}/extmod/vfs_lfs.c
  ${_mp_top}/shared/runtime/pyexec.c ${_mp_top}/shared/readline/readline.c
  ${_mp_top}/shared/runtime/gchelper_generic.c ${_mp_top}/shared/runtime/sys_stdio_mphal.c
  ${_mp_top}/shared/timeutils/timeutils.c
  ${_mp_port_sources})
set(_mp_lib_sources
  ${_mp_top}/lib/oofatfs/ff.c ${_mp_top}/lib/oofatfs/ffunicode.c
  ${_mp_top}/lib/littlefs/lfs2.c ${_mp_top}/lib/littlefs/lfs2_util.c)

# Generated headers, with MicroPython's own scripts. The version comes from the release, not from git (the
# sources sit inside bootrig's work tree, whose git history is not MicroPython's).
set(_mp_build "${CMAKE_CURRENT_BINARY_DIR}/micropython")
set(_mp_genhdr
  ${_mp_build}/genhdr/qstrdefs.generated.h ${_mp_build}/genhdr/moduledefs.h
  ${_mp_build}/genhdr/root_pointers.h ${_mp_build}/genhdr/mpversion.h)
set(_mp_defines LFS2_NO_MALLOC LFS2_NO_DEBUG LFS2_NO_WARN LFS2_NO_ERROR LFS2_NO_ASSERT)
string(REPLACE ";" " " _mp_qstr_sources "${_mp_sources}")
list(TRANSFORM _mp_defines PREPEND "-D" OUTPUT_VARIABLE _mp_make_defines)
# FatFs names its configuration file in a macro; make hands it to a shell, hence the escaped quotes there.
string(REPLACE ";" " " _mp_defines_text "${_mp_make_defines} -DFFCONF_H=\\\"lib/oofatfs/ffconf.h\\\"")
add_custom_command(
  OUTPUT ${_mp_genhdr}
  COMMAND ${CMAKE_COMMAND} -E env MICROPY_GIT_TAG=v1.25.0 MICROPY_GIT_HASH=debian-1.25.0+ds-1 SOURCE_DATE_EPOCH=1744675200
          ${BOOTRIG_MAKE} -s -C "${_mp_port}" -f "${PROJECT_SOURCE_DIR}/cmake/micropython-genhdr.mk"
          "MICROPYTHON_TOP=${_mp_top}" "BUILD=${_mp_build}" "CC=${CMAKE_C_COMPILER}" "PYTHON=${Python3_EXECUTABLE}"
          "BOOTRIG_QSTR_SOURCES=${_mp_qstr_sources}" "BOOTRIG_CFLAGS=${_mp_defines_text}" genhdr
  DEPENDS ${_mp_sources} "${_mp_port}/mpconfigport.h" "${PROJECT_SOURCE_DIR}/cmake/micropython-genhdr.mk"
  COMMENT "Generating MicroPython's qstr, module and root-pointer headers"
  VERBATIM)

add_library(bootrig_micropython STATIC ${_mp_sources} ${_mp_lib_sources} ${_mp_genhdr})
# MicroPython's sources are not written to share one translation unit (two WORD typedefs,
# the help text declared two ways), so this target never joins a unity build.
set_target_properties(bootrig_micropython PROPERTIES C_STANDARD 99 C_EXTENSIONS ON UNITY_BUILD OFF)
target_include_directories(bootrig_micropython
  PRIVATE "${_mp_port}" "${_mp_top}" "${_mp_build}")
target_compile_definitions(bootrig_micropython PRIVATE ${_mp_defines} FFCONF_H="lib/oofatfs/ffconf.h")
target_compile_options(bootrig_micropython PRIVATE
  # A chip reset unwinds the interpreter's C frames with a C++ exception (the interpreter is thrown away after).
  -fexceptions
  -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers)
# The Pycom profile's error wording wraps MicroPython's message constructors (src/sim/micropython/errtext.c).
set_source_files_properties("${_mp_top}/py/objexcept.c" PROPERTIES COMPILE_DEFINITIONS
  "mp_obj_new_exception_msg=bootrig_orig_exception_msg;mp_obj_new_exception_msg_varg=bootrig_orig_exception_msg_varg;mp_obj_new_exception_msg_vlist=bootrig_orig_exception_msg_vlist")
set_source_files_properties("${_mp_top}/shared/readline/readline.c" PROPERTIES
  COMPILE_OPTIONS "-include;${_mp_port}/readline_tls.h")
if(BOOTRIG_SANITIZE)
  target_compile_options(bootrig_micropython PRIVATE ${_bootrig_san} -fno-sanitize=nonnull-attribute)
endif()
target_link_libraries(bootrig_micropython PUBLIC m)
