#!/usr/bin/env bash
# The two commands of README.md: `cmake/dev.sh demo` and `cmake/dev.sh test`. Each installs what it needs first.
#   demo: builds bootrig and runs `bootrig run safeboot-window2` on the built-in simulated module.
#   test: builds and tests the libgpiod v1 build (warnings as errors), the libgpiod v2 build (libgpiod 2.x from
#         bookworm-backports, unpacked into the build tree) and an ASan+UBSan build, then runs the kernel tier
#         (tests/kernel/run-tier.sh: both drivers on a gpio-sim chip and a 16550 UART in Debian's kernel under
#         qemu); fails if any test fails. A machine where qemu cannot run reports the tier SKIPPED, never
#         passed; BOOTRIG_REQUIRE_KERNEL_TIER=1 (CI) makes that a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${BOOTRIG_JOBS:-$(nproc)}

configure_and_build() {  # dir, extra cmake args...
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -G Ninja -DBOOTRIG_WERROR=ON "$@" >"$dir.configure.log" 2>&1 \
    || { cat "$dir.configure.log"; return 1; }
  grep -A7 "bootrig .* configuration" "$dir.configure.log" | sed 's/^-- //'
  cmake --build "$dir" -j "$jobs"
}

# Counted for the closing line. ctest counts a skipped test (one that needs gpio-sim or a real UART, which
# the kernel tier runs) among the passed ones; here it is counted as skipped.
passed=0
skipped=0
run_tests() {  # dir, label
  echo "== tests: $2"
  (cd "$1" && ctest -j "$jobs" --output-on-failure --timeout 600) | tee "$1.ctest.log"
  local n s
  n=$(sed -n 's/.* tests passed, 0 tests failed out of \([0-9]*\)$/\1/p' "$1.ctest.log" | tail -n 1)
  s=$(grep -c '(Skipped)$' "$1.ctest.log" || true)
  passed=$((passed + ${n:-0} - s))
  skipped=$((skipped + s))
}

cmd=${1:-}
case "$cmd" in
  demo)
    bash cmake/install-deps.sh
    mkdir -p build
    configure_and_build build/demo -DBOOTRIG_BUILD_TESTS=OFF -DBOOTRIG_BUILD_BENCH=OFF
    # The simulated rig by name, so that a rig file lying around (./bootrig.toml) never sends the demo to hardware.
    exec build/demo/bootrig --rig rigs/sim.toml run safeboot-window2
    ;;
  test)
    bash cmake/install-deps.sh
    mkdir -p build
    configure_and_build build/test-v1
    run_tests build/test-v1 "libgpiod v1 API ($(pkg-config --modversion libgpiodcxx))"

    bash cmake/fetch-libgpiod2.sh build/gpiod2
    configure_and_build build/test-v2 -DBOOTRIG_GPIOD_ROOT="$root/build/gpiod2/root" -DBOOTRIG_BUILD_BENCH=OFF
    run_tests build/test-v2 "libgpiod v2 API (from build/gpiod2)"

    configure_and_build build/test-asan -DBOOTRIG_SANITIZE=ON -DBOOTRIG_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
      run_tests build/test-asan "ASan + UBSan"
    echo "== all three builds passed"

    # The kernel tier: a separate stage on the plain v1 and v2 builds (ASan binaries crawl under TCG).
    echo "== kernel tier: libgpiod v1 and v2 drivers on gpio-sim, libserialport on a 16550, in Debian's kernel under qemu"
    tier_start=$(date +%s)
    set +e
    bash tests/kernel/run-tier.sh --v1 build/test-v1 --v2 build/test-v2 | tee build/kernel-tier.log
    tier_rc=${PIPESTATUS[0]}
    set -e
    echo "== kernel tier took $(($(date +%s) - tier_start)) s"
    tier_passed=$(sed -n 's/^kernel tier: \([0-9]*\) passed, [0-9]* failed$/\1/p' build/kernel-tier.log)
    case "$tier_rc" in
      0) passed=$((passed + ${tier_passed:-0})) ;;
      77)
        echo "== KERNEL TIER SKIPPED: the drivers were NOT tested against the kernel on this machine (see above)"
        [ "${BOOTRIG_REQUIRE_KERNEL_TIER:-0}" = 1 ] && exit 1
        echo "tests: $passed passed, 0 failed, $((skipped + 1)) skipped"
        exit 0
        ;;
      *) exit 1 ;;
    esac
    echo "== the skipped tests are the host builds' gpio-sim and UART tests, which the kernel tier ran"
    echo "tests: $passed passed, 0 failed, $skipped skipped"
    ;;
  *)
    echo "usage: cmake/dev.sh demo|test" >&2
    exit 2
    ;;
esac
