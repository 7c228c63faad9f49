#!/usr/bin/env bash
# The commands of README.md: `cmake/dev.sh demo`, `cmake/dev.sh test` and `cmake/dev.sh bench`. Each installs what it
# needs first.
#   bench: an optimised build (build/bench-release), then every benchmark in one go; rewrites BENCHMARKS.md.
#   demo: builds bootrig and runs `bootrig run safeboot-window2` on the built-in simulated module.
#   test: the whole test suite, in stages whose times are printed at the end:
#         - amd64 + libgpiod v1 (warnings as errors, benchmarks compiled): every unit and simulator test;
#         - amd64 + libgpiod v2 (libgpiod 2.x from bookworm-backports, unpacked into the build tree): the tests
#           that differ by libgpiod API (drivers, rigs, CLI);
#         - amd64 ASan+UBSan: every unit and simulator test under the sanitizers;
#         - amd64 ThreadSanitizer: the tests of the threaded parts (serial pump, edge events, signal watcher,
#           the simulator's chip and UART threads, its control socket), built alone;
#         - fuzz: the parsers' libFuzzer targets (Debian's clang 14, tests/fuzz), built with ASan+UBSan and
#           run $BOOTRIG_FUZZ_SECONDS (15) seconds each from their seed corpora;
#         - the kernel tier (tests/kernel/run-tier.sh): both libgpiod drivers on a gpio-sim chip and the
#           libserialport driver on a 16550 UART in Debian's kernel under qemu, with the plain v1 and v2 builds.
#           A machine where qemu cannot run reports the tier SKIPPED, never passed; BOOTRIG_REQUIRE_KERNEL_TIER=1
#           (CI) makes that a failure.
#         - the Pi's architectures (cmake/cross.sh): armhf against libgpiod 1.6 (Raspberry Pi OS bookworm) and
#           arm64 against libgpiod 2.x (the v2 API of Raspberry Pi OS trixie), each cross-built with the tests
#           that differ by architecture run under qemu-user; Debian packages for armhf, arm64 and amd64, each
#           installed in a clean root of its architecture and run. Where binfmt_misc cannot run them it is
#           SKIPPED, never passed; BOOTRIG_REQUIRE_QEMU_USER=1 (CI) makes that a failure.
# The test builds are unity builds (about a fifth of the compile time) and go through ccache when it is
# installed (cmake/install-deps.sh installs it), with its cache outside the clone ($CCACHE_DIR, default
# ~/.cache/ccache) so that a later run on the same machine reuses it.
#         The tests run Debian 13's esptool (unpacked into build/esptool) against the simulated module.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${BOOTRIG_JOBS:-$(nproc)}

stage_names=()
stage_secs=()
stage_start=0
stage_name=""
begin_stage() {
  stage_name=$1
  stage_start=$(date +%s)
  echo "== stage: $stage_name"
}
end_stage() {
  local took=$(($(date +%s) - stage_start))
  stage_names+=("$stage_name")
  stage_secs+=("$took")
  echo "== stage done: $stage_name ($((took / 60)) min $((took % 60)) s)"
}
print_stage_times() {
  local total=0 i
  echo "== stage times"
  for i in "${!stage_names[@]}"; do
    printf '   %-62s %4d s\n' "${stage_names[$i]}" "${stage_secs[$i]}"
    total=$((total + stage_secs[i]))
  done
  printf '   %-62s %4d s (%d min %d s)\n' "total" "$total" $((total / 60)) $((total % 60))
}

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  # Paths below the clone are hashed relative to it, so two clones share cached objects.
  export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
  export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-include_file_mtime,include_file_ctime,time_macros}
fi

configure_and_build() {  # dir, extra cmake args...
  local dir=$1; shift
  mkdir -p "$(dirname "$dir")"
  cmake -S "$root" -B "$dir" -G Ninja -DBOOTRIG_WERROR=ON -DBOOTRIG_MICROPYTHON_DIR="$root/build/micropython" \
    "${launcher[@]}" "$@" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; return 1; }
  grep -A8 "bootrig .* configuration" "$dir.configure.log" | sed 's/^-- //'
  # The simulator's interpreter (MicroPython, C) first, timed: what it adds to the build.
  local t0=$SECONDS
  cmake --build "$dir" -j "$jobs" --target bootrig_micropython
  echo "== MicroPython library built in $((SECONDS - t0)) s ($dir)"
  cmake --build "$dir" -j "$jobs"
}

# Counted for the closing line. ctest counts a skipped test (one that needs gpio-sim or a real UART, which
# the kernel tier runs) among the passed ones; here it is counted as skipped.
passed=0
skipped=0
# Two tests a core: most of them wait on the simulated module's firmware timings (a boot, a safe-boot window)
# and use a fifth of a core or less (the whole v1 suite: 3.4 CPU minutes in 9.3 minutes on two cores). The
# tests must pass on a loaded machine anyway; this is the load they run under here.
test_jobs=${BOOTRIG_TEST_JOBS:-$((2 * jobs))}
run_tests() {  # dir, label, extra ctest args...
  local dir=$1 label=$2
  shift 2
  echo "== tests: $label ($test_jobs at a time)"
  (cd "$dir" && ctest -j "$test_jobs" --output-on-failure --timeout 600 "$@") | tee "$dir.ctest.log"
  count_tests "$dir.ctest.log"
}
count_tests() {  # a ctest log
  local n s
  n=$(sed -n 's/.* tests passed, 0 tests failed out of \([0-9]*\)$/\1/p' "$1" | tail -n 1)
  s=$(grep -c '(Skipped)$' "$1" || true)
  passed=$((passed + ${n:-0} - s))
  skipped=$((skipped + s))
}

cmd=${1:-}
case "$cmd" in
  demo)
    bash cmake/install-deps.sh
    bash cmake/fetch-micropython.sh build/micropython
    configure_and_build build/demo -DBOOTRIG_BUILD_TESTS=OFF -DBOOTRIG_BUILD_BENCH=OFF
    # The simulated rig by name, so that a rig file lying around (./bootrig.toml) never sends the demo to hardware.
    exec build/demo/bootrig --rig rigs/sim.toml run safeboot-window2
    ;;
  test)
    trap print_stage_times EXIT
    unity=(-DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16)
    begin_stage "install Debian packages; fetch esptool and MicroPython sources"
    bash cmake/install-deps.sh
    # The real esptool the tests run against the simulated module (Debian 13's package, unpacked here), and
    # MicroPython's sources (Debian 13's source package): the simulated module's interpreter, pyboard.py, mpremote.
    bash cmake/fetch-esptool.sh build/esptool
    bash cmake/fetch-micropython.sh build/micropython
    end_stage

    begin_stage "amd64, libgpiod v1 ($(pkg-config --modversion libgpiodcxx)): build"
    configure_and_build build/test-v1 "${unity[@]}"
    end_stage
    begin_stage "amd64, libgpiod v1: all tests"
    run_tests build/test-v1 "libgpiod v1 API ($(pkg-config --modversion libgpiodcxx))"
    end_stage

    begin_stage "amd64, libgpiod v2: fetch libgpiod 2.x, build"
    bash cmake/fetch-libgpiod2.sh build/gpiod2
    configure_and_build build/test-v2 "${unity[@]}" -DBOOTRIG_GPIOD_ROOT="$root/build/gpiod2/root" \
      -DBOOTRIG_BUILD_BENCH=OFF
    end_stage
    begin_stage "amd64, libgpiod v2: the tests that differ by libgpiod API"
    # The rest of the suite runs the same code in both builds; the kernel tier runs this build's driver for real.
    run_tests build/test-v2 "libgpiod v2 API (from build/gpiod2)" \
      -R '^(Gpio|Gpiochip|WaitReadable|EdgeQueue|MonotonicEventTime|DescribeApi|ErrorCodeOf|ChipErrors|RequestErrors|SettingsSummary|ResolveLine|FindChip|Lines|CmdCheck|CmdPorts|RigFile|Target|Cli)'
    end_stage

    begin_stage "amd64 ASan+UBSan: build"
    configure_and_build build/test-asan "${unity[@]}" -DBOOTRIG_SANITIZE=ON -DBOOTRIG_BUILD_BENCH=OFF \
      -DCMAKE_BUILD_TYPE=Debug
    end_stage
    begin_stage "amd64 ASan+UBSan: all tests"
    # KillPoints.All (sixty stops of bootrig processes, about four minutes) and FaultMatrix.Reduced (every
    # simulator fault once, about two minutes under the sanitizers) run in the v1 stage only, to fit CI's time:
    # the SIGINT and SIGTERM paths run under the sanitizers in CmdRunInterrupted.*, the noisy line in
    # ChannelNoise.* and RomFlasher.*, the faults in their scenarios' own tests.
    # Two tests a core here too: under the sanitizers the suite still mostly waits on the simulated firmware
    # (measured at 875ba35: 370 s wall, 129 % of a core, at four at a time; 831 s at two).
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
      run_tests build/test-asan "ASan + UBSan" -E '^(KillPoints|FaultMatrix)\.'
    end_stage

    begin_stage "amd64 ThreadSanitizer: build the threaded parts' tests"
    # Only the tests of the threaded parts (tests/CMakeLists.txt BOOTRIG_TSAN_TEST_SOURCES) and the library
    # they need; MicroPython stays uninstrumented (cmake/Sanitizers.cmake), so its objects come from ccache.
    configure_and_build build/test-tsan "${unity[@]}" -DBOOTRIG_TSAN=ON -DBOOTRIG_BUILD_BENCH=OFF
    end_stage
    begin_stage "amd64 ThreadSanitizer: the threaded parts' tests"
    # die_after_fork=0: the signal tests fork and start the watcher thread in the child, as bootrig's own
    # process does once; a data race or lock-order report fails the test (exit code 66).
    TSAN_OPTIONS=die_after_fork=0:second_deadlock_stack=1 \
      run_tests build/test-tsan "ThreadSanitizer (serial pump, edge events, signal watcher, simulator threads)"
    end_stage

    fuzz_secs=${BOOTRIG_FUZZ_SECONDS:-15}
    begin_stage "fuzz (clang 14, libFuzzer + ASan + UBSan): build, ${fuzz_secs} s per target"
    # The parsers fed arbitrary bytes from their seed corpora (tests/fuzz); the corpus replay already ran
    # in the stages above. A crash fails CI with the input kept under build/fuzz/artifacts/.
    BOOTRIG_JOBS=$jobs bash tests/fuzz/run.sh build/fuzz "$fuzz_secs"
    end_stage

    begin_stage "kernel tier (qemu): libgpiod v1 and v2 on gpio-sim, libserialport on a 16550"
    set +e
    bash tests/kernel/run-tier.sh --v1 build/test-v1 --v2 build/test-v2 | tee build/kernel-tier.log
    tier_rc=${PIPESTATUS[0]}
    set -e
    end_stage
    tier_passed=$(sed -n 's/^kernel tier: \([0-9]*\) passed, [0-9]* failed$/\1/p' build/kernel-tier.log)
    case "$tier_rc" in
      0) passed=$((passed + ${tier_passed:-0})) ;;
      77)
        echo "== KERNEL TIER SKIPPED: the drivers were NOT tested against the kernel on this machine (see above)"
        [ "${BOOTRIG_REQUIRE_KERNEL_TIER:-0}" = 1 ] && exit 1
        skipped=$((skipped + 1))
        ;;
      *) exit 1 ;;
    esac

    # The Pi's architectures (cmake/cross.sh, docs/install.md), kept cheap: each builds its tests and runs
    # those that differ by architecture under qemu-user: armhf (32-bit size_t and time_t, unsigned char) against
    # libgpiod 1.6, arm64 against libgpiod 2.x. Each architecture's package is installed in a clean root and
    # runs a scenario there. `cmake/cross.sh matrix` runs every test on both.
    cross() {  # label, cmake/cross.sh arguments...
      local label=$1 rc
      shift
      set +e
      bash cmake/cross.sh "$@" 2>&1 | tee -a build/cross.log
      rc=${PIPESTATUS[0]}
      set -e
      case "$rc" in
        0) ;;
        77)
          echo "== $label SKIPPED: this machine cannot run arm64/armhf programs (binfmt_misc, see above)"
          [ "${BOOTRIG_REQUIRE_QEMU_USER:-0}" = 1 ] && exit 1
          skipped=$((skipped + 1))
          ;;
        *) exit 1 ;;
      esac
    }
    : > build/cross.log
    rm -f build/cross-armhf.ctest.log build/cross-arm64-gpiod2.ctest.log
    begin_stage "armhf (qemu-user): sysroot, cross build, the tests that differ by arch, package"
    cross armhf build armhf --tests arch
    [ -f build/cross-armhf.ctest.log ] && count_tests build/cross-armhf.ctest.log
    end_stage
    begin_stage "arm64, libgpiod 2.x (qemu-user): sysroot, cross build, the tests that differ by arch, package"
    cross arm64 build arm64 --tests arch --gpiod 2
    [ -f build/cross-arm64-gpiod2.ctest.log ] && count_tests build/cross-arm64-gpiod2.ctest.log
    end_stage
    begin_stage "amd64 package (from the libgpiod v1 build), installed in a clean root"
    cross amd64 package build/test-v1
    cross amd64 install-test build/packages/bootrig_*_amd64.deb
    end_stage
    passed=$((passed + $(grep -c '^install-test (.*): PASS' build/cross.log || true)))

    echo "== the skipped tests are the host builds' gpio-sim and UART tests, which the kernel tier ran"
    echo "tests: $passed passed, 0 failed, $skipped skipped"
    ;;
  bench)
    # An optimised build of bootrig and bench/ in its own folder, then every benchmark in one go: BENCHMARKS.md is
    # rewritten (bench/run-all.sh). Run on an idle machine for an idle machine's figures; the file records the
    # load average before and after either way.
    bench_start=$SECONDS
    bash cmake/install-deps.sh
    bash cmake/fetch-esptool.sh build/esptool
    bash cmake/fetch-micropython.sh build/micropython
    # Optimised as the package is (RelWithDebInfo: -O2, NDEBUG) and as a unity build with the flags of the test
    # stages, so that ccache hands over the objects `cmake/dev.sh test` compiled. (At -O3 GCC 12 reports false
    # positives in libstdc++ that -Werror turns into errors.)
    configure_and_build build/bench-release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBOOTRIG_BUILD_TESTS=OFF \
      -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16
    echo "== built in $((SECONDS - bench_start)) s"
    bash bench/run-all.sh build/bench-release
    took=$((SECONDS - bench_start))
    echo "== cmake/dev.sh bench: $((took / 60)) min $((took % 60)) s in all (build included)"
    ;;
  *)
    echo "usage: cmake/dev.sh demo|test|bench" >&2
    exit 2
    ;;
esac
