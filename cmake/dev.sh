#!/usr/bin/env bash
# The two commands of README.md: `cmake/dev.sh demo` and `cmake/dev.sh test`. Each installs what it needs first.
#   demo: builds bootrig and runs `bootrig run safeboot-window2` on the built-in simulated module.
#   test: builds and tests the libgpiod v1 build (warnings as errors), the libgpiod v2 build (libgpiod 2.x from
#         bookworm-backports, unpacked into the build tree) and an ASan+UBSan build; fails if any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${BOOTRIG_JOBS:-$(nproc)}

configure_and_build() {  # dir, extra cmake args...
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -G Ninja -DBOOTRIG_WERROR=ON -DBOOTRIG_MICROPYTHON_DIR="$root/build/micropython" "$@" \
    >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; return 1; }
  grep -A8 "bootrig .* configuration" "$dir.configure.log" | sed 's/^-- //'
  # The simulator's interpreter (MicroPython, C) first, timed: what it adds to the build.
  local t0=$SECONDS
  cmake --build "$dir" -j "$jobs" --target bootrig_micropython
  echo "== MicroPython library built in $((SECONDS - t0)) s ($dir)"
  cmake --build "$dir" -j "$jobs"
}

run_tests() {  # dir, label
  echo "== tests: $2"
  (cd "$1" && ctest -j "$jobs" --output-on-failure --timeout 600)
}

cmd=${1:-}
case "$cmd" in
  demo)
    bash cmake/install-deps.sh
    mkdir -p build
    bash cmake/fetch-micropython.sh build/micropython
    configure_and_build build/demo -DBOOTRIG_BUILD_TESTS=OFF -DBOOTRIG_BUILD_BENCH=OFF
    # The simulated rig by name, so that a rig file lying around (./bootrig.toml) never sends the demo to hardware.
    exec build/demo/bootrig --rig rigs/sim.toml run safeboot-window2
    ;;
  test)
    bash cmake/install-deps.sh
    mkdir -p build
    t0=$SECONDS
    bash cmake/fetch-micropython.sh build/micropython
    echo "== MicroPython 1.25 sources ready in $((SECONDS - t0)) s (build/micropython)"
    configure_and_build build/test-v1
    run_tests build/test-v1 "libgpiod v1 API ($(pkg-config --modversion libgpiodcxx))"

    bash cmake/fetch-libgpiod2.sh build/gpiod2
    configure_and_build build/test-v2 -DBOOTRIG_GPIOD_ROOT="$root/build/gpiod2/root" -DBOOTRIG_BUILD_BENCH=OFF
    run_tests build/test-v2 "libgpiod v2 API (from build/gpiod2)"

    configure_and_build build/test-asan -DBOOTRIG_SANITIZE=ON -DBOOTRIG_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
      run_tests build/test-asan "ASan + UBSan"
    echo "== all three builds passed"
    ;;
  *)
    echo "usage: cmake/dev.sh demo|test" >&2
    exit 2
    ;;
esac
