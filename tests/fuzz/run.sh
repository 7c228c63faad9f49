#!/usr/bin/env bash
# Builds the libFuzzer targets (Debian's clang 14) and runs each for SECONDS from its seed corpus.
#   tests/fuzz/run.sh BUILD_DIR [SECONDS] [TARGET...]
# cmake/dev.sh runs it for a few seconds per target; a longer hunt is the same command with more seconds
# (docs/reliability.md). New inputs go to BUILD_DIR/corpus/<target> (the committed seeds stay as they are),
# a crash to BUILD_DIR/artifacts/<target>/ and the exit code is non-zero. Prints, per target, the executions,
# the coverage (edges reached, cov) and the features (ft) as libFuzzer counts them.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
build=${1:?usage: tests/fuzz/run.sh BUILD_DIR [SECONDS] [TARGET...]}
secs=${2:-10}
shift $(($# >= 2 ? 2 : 1))
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(rig_file repl boot_log led_decoder rom_protocol firmware_file)

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
t0=$SECONDS
CXX=clang++-14 cmake -S "$root/tests/fuzz" -B "$build" -G Ninja "${launcher[@]}" >"$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "${BOOTRIG_JOBS:-$(nproc)}" >"$build.build.log" 2>&1 || { cat "$build.build.log"; exit 1; }
echo "== fuzz targets built in $((SECONDS - t0)) s ($build)"

# The targets run side by side, one a core (each is single-threaded), each for its full SECONDS.
jobs=${BOOTRIG_JOBS:-$(nproc)}
fuzz_one() {  # target: its log in $build/fuzz_<target>.log, its exit code in $build/fuzz_<target>.rc
  local t=$1 rc
  mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
  set +e
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a parser growing past 1 GiB is a bug here.
  "$build/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t/" "$build/corpus/$t" "$root/tests/fuzz/corpus/$t" >"$build/fuzz_$t.log" 2>&1
  rc=$?
  set -e
  echo "$rc" >"$build/fuzz_$t.rc"
}
t0=$SECONDS
running=0
for t in "${targets[@]}"; do
  rm -f "$build/fuzz_$t.rc"
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
wait
echo "== fuzz targets ran in $((SECONDS - t0)) s, $jobs at a time"

failed=0
printf '   %-14s %10s %8s %8s %6s %s\n' target executions exec/s cov ft result
for t in "${targets[@]}"; do
  log="$build/fuzz_$t.log"
  rc=$(cat "$build/fuzz_$t.rc" 2>/dev/null || echo "none")
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  result=ok
  if [ "$rc" != 0 ]; then
    result="FAILED (exit $rc; $log, input in $build/artifacts/$t/)"
    failed=1
    grep -m5 -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | sed 's/^/     /' || true
  fi
  printf '   %-14s %10s %8s %8s %6s %s\n' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
exit $failed
