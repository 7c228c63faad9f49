#!/usr/bin/env bash
# The two commands of README.md: `cmake/dev.sh demo` and `cmake/dev.sh test`. Each installs what it needs first.
#   demo: builds bootrig and runs `bootrig run safeboot-window2` on the built-in simulated module.
#   test: the whole test suite, in stages whose times are printed at the end:
#         amd64 + libgpiod v1 (warnings as errors, benchmarks compiled), and amd64 + libgpiod v2 (libgpiod 2.x from
#         bookworm-backports, unpacked into the build tree) under ASan+UBSan: one build serves both the v2 API
#         and the sanitizers, so CI compiles the code twice, not three times.
# Compiles go through ccache when it is installed (cmake/install-deps.sh installs it), with its cache outside the
# clone ($CCACHE_DIR, default ~/.cache/ccache) so that a later run on the same machine reuses it.
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
    printf '   %-58s %4d s\n' "${stage_names[$i]}" "${stage_secs[$i]}"
    total=$((total + stage_secs[i]))
  done
  printf '   %-58s %4d s (%d min %d s)\n' "total" "$total" $((total / 60)) $((total % 60))
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
  cmake -S "$root" -B "$dir" -G Ninja -DBOOTRIG_WERROR=ON "${launcher[@]}" "$@" >"$dir.configure.log" 2>&1 \
    || { cat "$dir.configure.log"; return 1; }
  grep -A7 "bootrig .* configuration" "$dir.configure.log" | sed 's/^-- //'
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
    configure_and_build build/demo -DBOOTRIG_BUILD_TESTS=OFF -DBOOTRIG_BUILD_BENCH=OFF
    # The simulated rig by name, so that a rig file lying around (./bootrig.toml) never sends the demo to hardware.
    exec build/demo/bootrig --rig rigs/sim.toml run safeboot-window2
    ;;
  test)
    trap print_stage_times EXIT
    begin_stage "install Debian packages"
    bash cmake/install-deps.sh
    end_stage

    begin_stage "amd64, libgpiod v1 ($(pkg-config --modversion libgpiodcxx)): build"
    configure_and_build build/test-v1
    end_stage
    begin_stage "amd64, libgpiod v1: tests"
    run_tests build/test-v1 "libgpiod v1 API ($(pkg-config --modversion libgpiodcxx))"
    end_stage

    begin_stage "amd64, libgpiod v2 + ASan/UBSan: fetch libgpiod 2.x, build"
    bash cmake/fetch-libgpiod2.sh build/gpiod2
    configure_and_build build/test-v2-asan -DBOOTRIG_GPIOD_ROOT="$root/build/gpiod2/root" \
      -DBOOTRIG_SANITIZE=ON -DBOOTRIG_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug
    end_stage
    begin_stage "amd64, libgpiod v2 + ASan/UBSan: tests"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
      run_tests build/test-v2-asan "libgpiod v2 API (from build/gpiod2), ASan + UBSan"
    end_stage
    echo "== all stages passed"
    ;;
  *)
    echo "usage: cmake/dev.sh demo|test" >&2
    exit 2
    ;;
esac
