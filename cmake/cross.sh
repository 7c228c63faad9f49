#!/usr/bin/env bash
# bootrig for the Raspberry Pi's architectures: cross builds with Debian 12's cross compilers against sysroots
# made from Debian's archive, tests under qemu-user, Debian packages installed and run in clean chroots.
#
# usage: cmake/cross.sh build ARCH [--tests all|arch|none] [--gpiod 1|2]
#            ARCH (arm64, armhf) against libgpiod 1.6 (bookworm, the v1 API; default) or 2.x (bookworm-backports,
#            the v2 API of Raspberry Pi OS trixie): sysroot (build/sysroot-ARCH[-gpiod2], cached), cross build
#            (build/cross-ARCH[-gpiod2], with
#            ccache), its tests under qemu-user (all, the subset that differs by architecture, or none: then
#            they are not even built), its package, installed and run in a clean root of ARCH.
#        cmake/cross.sh package BUILD
#            a configured build's Debian package (cpack) into build/packages.
#        cmake/cross.sh install-test DEB...
#            each package installed in a clean chroot of its architecture and run (cmake/cross/install-test.sh).
#        cmake/cross.sh matrix
#            the full matrix (docs/install.md): armhf (libgpiod 1.6) and arm64 (libgpiod 2.x) with every test,
#            packages for both and for amd64
#            (from build/test-v1, built here if missing), each installed and run.
# Exit: 0 passed; 1 failed; 77 this machine cannot run foreign binaries (SKIPPED, never passed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${BOOTRIG_JOBS:-$(nproc)}

# The tests whose code depends on the architecture (docs/testing.md): byte layouts, checksums and hashes
# (images, bundles, the ROM protocol and its flasher, the real esptool against the simulated ROM), the REPL's
# byte handling, times (clock, deadlines, the boot-log and LED decoders, the timeline and reports), rig
# numbers, the embedded MicroPython (a C interpreter with its own word size and GC stack scan), the CLI
# starting bootrig as a child, and one scenario of each kind end to end on the simulated module.
arch_suites='Slip|RomProtocol|RomFlasher|EspImage|ImageCli|Tar|Gzip|FirmwareFile|FirmwareRecord|Hashes|Sha256'
arch_suites+='|Md5|BootInfo|Nvs|BlockStore|SimDownload|CableFlash|EsptoolOnSim|ReplRaw|ReplFriendly|ReplData'
arch_suites+='|ReplPrompt|ChannelDigest|ChannelSmall|ChannelNoise|PyException|Escape|Time|Deadline|WaitUntil|BootLog'
arch_suites+='|LedDecoder|Timeline|Json|JUnit|Measurement|RigFile|RigFileErrors|MicroPythonVm|Machine|FirmwareModules'
arch_suites+='|Corpus|Pycom|PycomBoard|SimModule|NormalBoot|SafeBootWindow2|HardResetPin|CmdRun'
arch_tests="(^|/)($arch_suites)\\."

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
ensure_tools() {  # the cross compilers, qemu-user, mmdebstrap
  local need=() p
  for p in g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user-static mmdebstrap arch-test; do
    dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || need+=("$p")
  done
  [ ${#need[@]} -eq 0 ] && return 0
  echo "cross: installing ${need[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" > /dev/null
}

launcher=()
if command -v ccache > /dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
  export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-include_file_mtime,include_file_ctime,time_macros}
fi

# Optimised as the host's builds, without debug information: the package is stripped anyway, and -g costs
# about a quarter of the compile time and most of the cache.
build_arch() {  # ARCH TESTS GPIOD_API
  local arch=$1 tests=$2 api=${3:-1} suffix="" t0=$SECONDS
  [ "$api" = 2 ] && suffix=-gpiod2
  local sysroot="$root/build/sysroot-$arch$suffix" dir="$root/build/cross-$arch$suffix"
  bash cmake/cross/binfmt.sh "$arch" || return $?
  bash cmake/cross/sysroot.sh "$arch" "$sysroot" "$api"
  echo "== cross $arch: sysroot ready ($((SECONDS - t0)) s)"
  local with_tests=ON subset=""
  [ "$tests" = none ] && with_tests=OFF
  # Only the test files that hold those suites are compiled (with tests/support): a third of the tests' code.
  [ "$tests" = arch ] &&
    subset=$(cd tests && grep -lE "^(TEST|TEST_F|TEST_P)\(($arch_suites)," -r . --include='*.cpp' | sed 's|^\./||' |
      sort | paste -sd';')
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_TOOLCHAIN_FILE="$root/cmake/cross/toolchain.cmake" \
    -DBOOTRIG_CROSS_ARCH="$arch" -DBOOTRIG_SYSROOT="$sysroot" -DBOOTRIG_WERROR=ON -DBOOTRIG_BUILD_BENCH=OFF \
    -DBOOTRIG_BUILD_TESTS="$with_tests" -DBOOTRIG_TEST_SUBSET="$subset" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 -DBOOTRIG_MICROPYTHON_DIR="$root/build/micropython" \
    "${launcher[@]}" > "$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; return 1; }
  grep -A8 "bootrig .* configuration" "$dir.configure.log" | sed 's/^-- //'
  t0=$SECONDS
  cmake --build "$dir" -j "$jobs"
  echo "== cross $arch: built in $((SECONDS - t0)) s"
  if [ "$tests" != none ]; then
    local filter=()
    [ "$tests" = arch ] && filter=(-R "$arch_tests")
    t0=$SECONDS
    # Children the tests start (bootrig itself) run through binfmt's qemu, which finds the target's loader and
    # libraries under QEMU_LD_PREFIX.
    # Two tests a core, as on the host: even emulated they mostly wait on the simulated firmware (armhf's arch
    # tests at 875ba35: 105 s, 148 % of a core, four at a time; 159 s two at a time).
    (cd "$dir" && QEMU_LD_PREFIX="$sysroot" ctest -j "$((2 * jobs))" --output-on-failure --timeout 900 "${filter[@]}") \
      | tee "$dir.ctest.log"
    echo "== cross $arch: tests ($tests) under qemu-user in $((SECONDS - t0)) s"
  fi
  package "$dir"
}

package() {  # BUILD: its .deb into build/packages
  local dir out="$root/build/packages"
  dir=$(cd "$1" && pwd)
  mkdir -p "$out"
  cmake --build "$dir" -j "$jobs" --target bootrig bootrig_cli_docs
  (cd "$dir" && cpack -G DEB -B "$dir/cpack" > "$dir.cpack.log" 2>&1) || { cat "$dir.cpack.log"; return 1; }
  grep 'package Depends' "$dir.cpack.log" | sed 's/^-- //'
  local deb
  deb=$(ls -t "$dir"/cpack/bootrig_*.deb | head -n 1)
  cp "$deb" "$out/"
  echo "== package: build/packages/$(basename "$deb") ($(du -h "$deb" | cut -f1))"
}

install_test() {  # DEB...
  local deb arch archs=()
  for deb in "$@"; do
    arch=$(dpkg-deb -f "$deb" Architecture)
    [ "$arch" = "$(dpkg --print-architecture)" ] || archs+=("$arch")
  done
  [ ${#archs[@]} -eq 0 ] || bash cmake/cross/binfmt.sh "${archs[@]}" || return $?
  for deb in "$@"; do bash cmake/cross/install-test.sh "$deb" "$root/build/install-test"; done
}

cmd=${1:-}
shift || true
case "$cmd" in
  build)
    arch=${1:?usage: cmake/cross.sh build ARCH [--tests all|arch|none] [--gpiod 1|2]}
    shift
    tests=all api=1
    while [ $# -gt 0 ]; do
      case "$1" in
        --tests) tests=${2:?--tests all|arch|none}; shift 2 ;;
        --gpiod) api=${2:?--gpiod 1|2}; shift 2 ;;
        *) echo "cross.sh build: unknown option '$1' (--tests all|arch|none, --gpiod 1|2)" >&2; exit 2 ;;
      esac
    done
    ensure_tools
    build_arch "$arch" "$tests" "$api"
    install_test "$root/build/packages/bootrig_"*"_$arch.deb"
    ;;
  package)
    package "${1:?usage: cmake/cross.sh package BUILD}"
    ;;
  install-test)
    ensure_tools
    install_test "$@"
    ;;
  matrix)
    ensure_tools
    bash cmake/install-deps.sh
    bash cmake/fetch-esptool.sh build/esptool
    bash cmake/fetch-micropython.sh build/micropython
    # Raspberry Pi OS bookworm 32-bit (libgpiod 1.6) and trixie 64-bit (libgpiod 2.x): both APIs on arm.
    build_arch armhf all 1
    build_arch arm64 all 2
    if [ ! -x build/test-v1/bootrig ]; then
      cmake -S . -B build/test-v1 -G Ninja -DBOOTRIG_WERROR=ON -DCMAKE_UNITY_BUILD=ON \
        -DBOOTRIG_MICROPYTHON_DIR="$root/build/micropython" "${launcher[@]}" > /dev/null
    fi
    package build/test-v1
    install_test build/packages/bootrig_*_{amd64,arm64,armhf}.deb
    ;;
  *)
    sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
