#!/bin/sh
# /init of the kernel tier's guest: loads gpio-sim, makes a Pi-like GPIO chip and the UART pair, runs each
# step and prints one "TIER-STEP name PASS|FAIL detail" line per step on the console, which the host reads.
# Runs under busybox (static) as PID 1; the host script (run-tier.sh) copied everything else in.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root TMPDIR=/tmp TERM=dumb NO_COLOR=1 LANG=C
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
# /tmp and /run stay the initramfs's own (writable already): the host's build may live under one of them (a
# clone in /tmp), and its binaries sit in the initramfs at the paths they were built with.
mkdir -p /root /dev/serial/by-id
. /tier/tier.env
echo "TIER-BOOTED $(uname -r)"

step() {  # name PASS|FAIL detail...
  echo "TIER-STEP $*"
}
finish() {
  echo "TIER-END"
  sync
  poweroff -f
  sleep 10
}

# ---- kernel side: configfs and the gpio-sim module built from this kernel's own source ----
insmod /tier/modules/configfs.ko && mount -t configfs configfs /sys/kernel/config && insmod /tier/modules/gpio-sim.ko
if [ ! -d /sys/kernel/config/gpio-sim ]; then
  step gpio-sim FAIL "the gpio-sim module did not load (see the kernel messages above)"
  finish
fi
# One bank of 28 lines named like a Raspberry Pi's header lines (GPIO0..GPIO27), as bootrig finds them there.
chip=/sys/kernel/config/gpio-sim/pi-header
mkdir $chip $chip/gpio-bank0
echo 28 > $chip/gpio-bank0/num_lines
i=0
while [ $i -lt 28 ]; do
  mkdir $chip/gpio-bank0/line$i
  echo "GPIO$i" > $chip/gpio-bank0/line$i/name
  i=$((i + 1))
done
echo 1 > $chip/live
if [ "$(cat $chip/live)" != 1 ]; then
  step gpio-sim FAIL "gpio-sim chip did not go live"
  finish
fi
gpiochip=$(cat $chip/gpio-bank0/chip_name)
step gpio-sim PASS "$(cat $chip/dev_name)/$gpiochip with 28 lines GPIO0..GPIO27"

# ---- UARTs: the rig's port is the PCI 16550 (it can be unbound and bound again), the module's is ttyS1 ----
rig_uart=""
for t in /sys/bus/pci/drivers/serial/*/tty/ttyS*; do
  [ -e "$t" ] && rig_uart=/dev/${t##*/} && break
done
if [ -z "$rig_uart" ] || [ ! -c /dev/ttyS1 ]; then
  step uarts FAIL "expected a PCI 16550 and ttyS1; found rig uart '$rig_uart'"
  finish
fi
# udev (absent here) names a USB adapter's port under by-id; this link stands where it would.
ln -s "../../${rig_uart#/dev/}" /dev/serial/by-id/usb-Pycom_Expansion_Board_3.1_kernel-tier-if00
step uarts PASS "rig port $rig_uart (PCI 16550), module port /dev/ttyS1, joined by the host"

export BOOTRIG_TEST_SERIAL_PORT=$rig_uart
export BOOTRIG_TEST_SERIAL_PEER=/dev/ttyS1
export BOOTRIG_TEST_SERIAL_BY_ID=/dev/serial/by-id/usb-Pycom_Expansion_Board_3.1_kernel-tier-if00
export BOOTRIG_TEST_SERIAL_REBIND=1
export BOOTRIG_TEST_GPIO_SIM=1

# ---- gtest steps: every test of the tier runs; a skipped one fails the step ----
run_gtest() {  # step-name binary
  name=$1 bin=$2 log=/tmp/$1.log
  echo "== $name: $bin --gtest_filter=$TIER_FILTER"
  "$bin" --gtest_filter="$TIER_FILTER" --gtest_color=no > "$log" 2>&1
  rc=$?
  cat "$log"
  ran=$(sed -n 's/^\[==========\] \([0-9]*\) tests\{0,1\} from .* ran\..*/\1/p' "$log")
  passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) tests\{0,1\}\..*/\1/p' "$log")
  skipped=$(grep -c '^\[  SKIPPED \] [A-Za-z]' "$log")
  failed=$(grep '^\[  FAILED  \] [A-Za-z]' "$log" | sed 's/^\[  FAILED  \] //; s/,.*//; s/ (.*//' | sort -u | tr '\n' ' ')
  if [ $rc -eq 0 ] && [ "${ran:-0}" -gt 0 ] && [ "$skipped" -eq 0 ]; then
    step "$name" PASS "$passed of $ran tests passed, 0 skipped"
  elif [ $rc -eq 0 ]; then
    step "$name" FAIL "${ran:-0} tests ran, $skipped skipped: every test of this tier must run here"
  else
    step "$name" FAIL "exit $rc; failed: ${failed:-none listed (crash?)}; $skipped skipped"
  fi
  echo "$failed" > /tmp/$1.failed
}

run_gtest gpiod-v1 /tier/v1/bootrig_tests
run_gtest gpiod-v2 /tier/v2/bootrig_tests

# The tier's own test: a driver with its active-low handling inverted must make the gpiod step fail, and
# for that reason (an active-low test), not for a crash.
if [ -x /tier/broken/gpiod_broken_driver_tests ]; then
  TIER_FILTER_SAVED=$TIER_FILTER
  TIER_FILTER='GpiodBackendTest.*'
  run_gtest broken-driver /tier/broken/gpiod_broken_driver_tests > /tmp/broken.out 2>&1
  TIER_FILTER=$TIER_FILTER_SAVED
  cat /tmp/broken.out | grep -v '^TIER-STEP'
  if grep -q '^TIER-STEP broken-driver FAIL' /tmp/broken.out && grep -q 'ActiveLow' /tmp/broken-driver.failed; then
    step tier-self-test PASS "the v1 driver built with inverted active-low fails $(wc -w < /tmp/broken-driver.failed) backend tests, the active-low ones among them"
  else
    step tier-self-test FAIL "the driver built with inverted active-low was not caught: $(grep '^TIER-STEP' /tmp/broken.out)"
  fi
fi

# ---- one full scenario through the real interfaces ----
# `bootrig sim` plays the module on the far side of gpio-sim's sysfs and ttyS1; bootrig drives it with
# libgpiod and libserialport, as on a Pi.
sim_start() {  # name bin out: the simulator of step `name`, ready when it prints its control socket
  mkdir -p $3
  sim_in=/tmp/$1.sim-in
  mkfifo $sim_in
  "$2" sim /tier/rigs/sim-gpio-sim.toml --dir /run/$1 < $sim_in > $3/sim.log 2>&1 &
  sim_pid=$!
  exec 7> $sim_in  # keeps the simulator's stdin open; closing it stops the simulator
  i=0
  while ! grep -q '^control:' $3/sim.log && [ $i -lt 300 ]; do
    kill -0 $sim_pid 2> /dev/null || break
    sleep 0.1
    i=$((i + 1))
  done
  cat $3/sim.log
}
sim_stop() {  # out: sets sim_rc
  echo quit >&7
  exec 7>&-
  wait $sim_pid
  sim_rc=$?
  cat $1/sim.log | tail -n 5
}
run_window2() {  # bin folder: bootrig run safeboot-window2 on the Pi-wired rig; output in folder.log
  (cd /tier/rigs && "$1" --rig /tier/rigs/pi-on-gpio-sim.toml run safeboot-window2 --out $2) > $2.log 2>&1
}

scenario() {  # step-name build
  name=$1 bin=/tier/$2/bootrig out=/tmp/$1
  sim_start $name $bin $out
  start=$(cut -d' ' -f1 /proc/uptime)
  run_window2 $bin $out/run
  rc=$?
  end=$(cut -d' ' -f1 /proc/uptime)
  cat $out/run.log
  sim_stop $out
  # Passed, with the firmware step done both ways, and window 2 seen on the photodiode (not released blind).
  if [ $rc -eq 0 ] && grep 'PASS *safeboot-window2' $out/run.log | grep 'by cable' | grep -q 'by OTA' &&
     ! grep -q 'not observed' $out/run.log; then
    step "$name" PASS "safeboot-window2 with cable flash and OTA through gpio-sim and the 16550s in $(awk "BEGIN{printf \"%.1f\", $end - $start}") s (simulator exit $sim_rc)"
  else
    step "$name" FAIL "bootrig run exit $rc: $(grep -E '(PASS|FAIL|ERROR|SKIP|FLAKY) +safeboot' $out/run.log | head -n 1)"
  fi
}
scenario scenario-v1 v1
scenario scenario-v2 v2

# ---- SIGKILL with P12 held: what the lines do when the kernel frees a killed bootrig's requests ----
# docs/reliability.md reports the levels this step prints. gpio-sim's own free callback puts a released line
# at its pull (the bias bootrig requested stays set), which a real Pi's pinctrl does not do; the next run
# must drive the lines safe and pass whatever they were left at.
killed_run() {  # step-name build
  name=$1 bin=/tier/$2/bootrig out=/tmp/$1
  sim_start $name $bin $out
  lines=/sys/devices/platform/$(cat $chip/dev_name)/$gpiochip
  level() { echo "$(cat $lines/sim_gpio$1/value) (pull $(cat $lines/sim_gpio$1/pull))"; }
  (cd /tier/rigs && exec "$bin" --rig /tier/rigs/pi-on-gpio-sim.toml run safeboot-window2 --out $out/killed) \
    > $out/killed.log 2>&1 &
  pid=$!
  i=0
  while [ "$(cat $lines/sim_gpio17/value)" != 1 ] && [ $i -lt 1200 ]; do
    kill -0 $pid 2> /dev/null || break
    sleep 0.05
    i=$((i + 1))
  done
  held="P12 (GPIO17) $(level 17), RESET (GPIO27) $(level 27), P2 (GPIO23) $(level 23)"
  kill -KILL $pid 2> /dev/null
  wait $pid
  krc=$?
  sleep 0.2
  left="P12 $(level 17), RESET $(level 27), P2 $(level 23)"
  cat $out/killed.log
  echo "while held: $held; after SIGKILL: $left"
  unfinished=no
  grep -q '"finished": false' $out/killed/results.json 2> /dev/null && unfinished=yes
  start=$(cut -d' ' -f1 /proc/uptime)
  run_window2 $bin $out/after
  rc=$?
  end=$(cut -d' ' -f1 /proc/uptime)
  cat $out/after.log
  sim_stop $out
  if [ $krc -eq 137 ] && echo "$held" | grep -q '^P12 (GPIO17) 1' && [ $unfinished = yes ] && [ $rc -eq 0 ] &&
     grep -q 'PASS *safeboot-window2' $out/after.log; then
    step "$name" PASS "killed with P12 held ($held); after SIGKILL gpio-sim shows $left; the killed run's results.json says finished false; the next run passed in $(awk "BEGIN{printf \"%.1f\", $end - $start}") s"
  else
    step "$name" FAIL "kill exit $krc (137 expected), held: $held, after: $left, results.json unfinished: $unfinished, next run exit $rc: $(grep -E '(PASS|FAIL|ERROR|SKIP|FLAKY) +safeboot' $out/after.log | head -n 1)"
  fi
}
killed_run sigkill-v1 v1

finish
