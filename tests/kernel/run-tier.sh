#!/usr/bin/env bash
# The kernel-real test tier: bootrig's libgpiod drivers (v1 and v2 builds) against a real gpio-sim chip, its
# libserialport driver against a real 16550 UART, and one full scenario through both, in Debian's own kernel
# under qemu. Everything comes from Debian packages (cached in WORK between runs); nothing is installed into
# the system but qemu and busybox-static.
#
# usage: tests/kernel/run-tier.sh --v1 BUILD --v2 BUILD [--work DIR]
#   BUILD: a configured bootrig build folder; its bootrig and bootrig_tests are built here if missing (for a
#          sanitizer build, too slow under TCG, a plain build with the same libgpiod is made under WORK). The
#          v1 build also builds the tier's self-test binary (target gpiod_broken_driver_tests: the libgpiod
#          driver with its active-low handling inverted).
#   WORK:  downloads, the module and the initramfs (default build/kernel).
# Exit: 0 every step passed; 1 a step failed; 77 the tier could not run on this machine (SKIPPED, never PASS).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
v1="" v2="" work="$root/build/kernel"
while [ $# -gt 0 ]; do
  case "$1" in
    --v1) v1=$(cd "$2" && pwd); shift 2 ;;
    --v2) v2=$(cd "$2" && pwd); shift 2 ;;
    --work) mkdir -p "$2"; work=$(cd "$2" && pwd); shift 2 ;;
    *) echo "usage: $0 --v1 BUILD --v2 BUILD [--work DIR]" >&2; exit 2 ;;
  esac
done
[ -n "$v1" ] && [ -n "$v2" ] || { echo "usage: $0 --v1 BUILD --v2 BUILD [--work DIR]" >&2; exit 2; }
mkdir -p "$work"
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "kernel tier: $*"; }

skip() {  # reason: loud, and never a pass
  echo "kernel tier: SKIPPED: $*" >&2
  echo "SKIP   kernel-tier  $*"
  exit 77
}

# ---- what the tier needs on the host ----
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
need=()
command -v qemu-system-x86_64 > /dev/null || need+=(qemu-system-x86)
for p in busybox-static xz-utils cpio gcc-12 make; do
  dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" > /dev/null \
    || skip "cannot install ${need[*]} (needs root or sudo and Debian's archive)"
fi
command -v qemu-system-x86_64 > /dev/null || skip "qemu-system-x86_64 is not installed"

# ---- the kernel: Debian's current bookworm kernel, its headers and its source, fetched, never installed ----
kpkg=$(apt-cache depends linux-image-amd64 2> /dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$kpkg" ]; then
  "${sudo[@]}" apt-get update -qq
  kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
[ -n "$kpkg" ] || skip "apt knows no linux-image-amd64 (no Debian archive in the apt sources?)"
kabi=${kpkg#linux-image-}                                  # 6.1.0-57-amd64
kver=$(apt-cache show "$kpkg" | awk '/^Version:/ { print $2; exit }')   # 6.1.192-3
kseries=$(echo "$kabi" | cut -d. -f1-2)                    # 6.1
kdir="$work/$kabi"
if [ ! -f "$kdir/.complete" ]; then
  say "fetching $kpkg $kver and its headers and source (about 210 MB, once per kernel version)"
  rm -rf "$work"/[0-9]*-amd64
  mkdir -p "$kdir/debs" "$kdir/root"
  # apt drops privileges to _apt for downloads unless told otherwise; the folder belongs to the caller.
  download() {
    (cd "$kdir/debs" && apt-get download -qq -o APT::Sandbox::User=root "$kpkg" "linux-headers-$kabi" \
      "linux-headers-${kabi%-amd64}-common" "linux-kbuild-$kseries=$kver" "linux-source-$kseries=$kver")
  }
  # Stale package lists name versions the archive no longer has: refresh them once before giving up.
  download || { "${sudo[@]}" apt-get update -qq && download; } \
    || { rm -rf "$kdir"; skip "cannot download $kpkg and its headers and source from Debian's archive"; }
  for d in "$kdir"/debs/linux-headers-* "$kdir"/debs/linux-kbuild-*; do
    dpkg-deb -x "$d" "$kdir/root"
  done
  # Of the image only the kernel and configfs.ko (gpio-sim needs it; Debian builds it as a module).
  dpkg-deb --fsys-tarfile "$kdir"/debs/linux-image-*.deb | tar -x -C "$kdir/root" --wildcards \
    "./boot/vmlinuz-$kabi" "./lib/modules/$kabi/kernel/fs/configfs/configfs.ko*"
  # Three files of the kernel's source make gpio-sim, which Debian does not build.
  mkdir -p "$kdir/src"
  dpkg-deb --fsys-tarfile "$kdir"/debs/linux-source-*.deb | tar -xO "./usr/src/linux-source-$kseries.tar.xz" \
    | xz -dc | tar -x -C "$kdir/src" --strip-components=1 "linux-source-$kseries/drivers/gpio/gpio-sim.c" \
      "linux-source-$kseries/drivers/gpio/gpiolib.h" "linux-source-$kseries/kernel/irq/irq_sim.c"
  rm -rf "$kdir/debs"  # unpacked: what the tier uses is in root/ and src/
  touch "$kdir/.complete"
fi

# ---- gpio-sim as an out-of-tree module ----
mod="$kdir/gpio-sim"
if [ ! -f "$mod/gpio-sim.ko" ] || [ "$mod/gpio-sim.ko" -ot "$here/run-tier.sh" ]; then
  say "building gpio-sim.ko for $kabi"
  rm -rf "$mod" && mkdir -p "$mod"
  cp "$kdir/src/drivers/gpio/gpiolib.h" "$mod/"
  cp "$kdir/src/drivers/gpio/gpio-sim.c" "$mod/gpio-sim-main.c"
  cp "$kdir/src/kernel/irq/irq_sim.c" "$mod/"
  # irq_to_desc() is not exported to modules; generic_handle_irq() reaches the same flow handler.
  sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$mod/irq_sim.c"
  grep -q 'generic_handle_irq(irqnum);' "$mod/irq_sim.c" || { echo "kernel tier: irq_sim.c changed; update the edit" >&2; exit 1; }
  # A line that stops driving (an open-drain output released by gpiolib's emulation, which turns it into
  # an input) floats to its pull, as a real pad does; gpio-sim keeps the last driven level instead, so the
  # module would never see RESET released. This one line gives the input its pull.
  sed -i '/^static int gpio_sim_direction_input/,/^}/ s/\t__set_bit(offset, chip->direction_map);/&\n\t__assign_bit(offset, chip->value_map, test_bit(offset, chip->pull_map));/' "$mod/gpio-sim-main.c"
  grep -q '__assign_bit(offset, chip->value_map, test_bit(offset, chip->pull_map));' "$mod/gpio-sim-main.c" \
    || { echo "kernel tier: gpio-sim.c changed; update the edit" >&2; exit 1; }
  printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-main.o irq_sim.o\n' > "$mod/Kbuild"
  hdr="$kdir/root/usr/src/linux-headers-$kabi"
  # The headers' Makefile includes the common part by its installed path; point it at the unpacked one.
  printf 'include %s\n' "$kdir/root/usr/src/linux-headers-${kabi%-amd64}-common/Makefile" > "$hdr/Makefile.tier"
  make -s -C "$hdr" -f Makefile.tier M="$mod" CC=gcc-12 modules > "$mod/build.log" 2>&1 \
    || { cat "$mod/build.log"; echo "kernel tier: gpio-sim.ko did not build" >&2; exit 1; }
fi

# ---- bootrig's binaries for the guest ----
plain_build() {  # dir: prints a plain (unsanitized) build folder with the same libgpiod as dir
  local dir=$1 var
  if ! grep -q '^BOOTRIG_SANITIZE:BOOL=ON' "$dir/CMakeCache.txt"; then
    echo "$dir"
    return
  fi
  # Sanitized binaries crawl under TCG: configure a plain build beside the tier's cache, same libgpiod.
  local plain="$work/plain-$(basename "$dir")" args=()
  for var in BOOTRIG_GPIOD_ROOT CMAKE_CXX_COMPILER_LAUNCHER; do
    local v
    v=$(sed -n "s/^$var:[A-Z]*=//p" "$dir/CMakeCache.txt")
    [ -n "$v" ] && args+=("-D$var=$v")
  done
  cmake -S "$root" -B "$plain" -G Ninja -DBOOTRIG_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo "${args[@]}" \
    > "$work/configure-$(basename "$dir").log" 2>&1 || { cat "$work/configure-$(basename "$dir").log" >&2; exit 1; }
  echo "$plain"
}
build_targets() {  # build targets...
  local dir=$1; shift
  cmake --build "$dir" --target "$@" -- -j "${BOOTRIG_JOBS:-$(nproc)}" > "$work/build-$(basename "$dir").log" 2>&1 \
    || { tail -n 30 "$work/build-$(basename "$dir").log"; echo "kernel tier: building $* in $dir failed" >&2; exit 1; }
}
v1=$(plain_build "$v1")
v2=$(plain_build "$v2")
build_targets "$v1" bootrig bootrig_tests gpiod_broken_driver_tests
build_targets "$v2" bootrig bootrig_tests
grep -q 'BOOTRIG_GPIOD_API=1' "$v1/compile_commands.json" || { echo "kernel tier: $v1 is not a libgpiod v1 build" >&2; exit 2; }
grep -q 'BOOTRIG_GPIOD_API=2' "$v2/compile_commands.json" || { echo "kernel tier: $v2 is not a libgpiod v2 build" >&2; exit 2; }

# ---- the initramfs: busybox, the binaries at the paths they were built for, their libraries ----
fs="$work/initramfs"
rm -rf "$fs" && mkdir -p "$fs"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,tier/modules,tier/rigs/images}
cp /bin/busybox "$fs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ -e "$fs/bin/$applet" ] || ln -s busybox "$fs/bin/$applet"
done
put() {  # file: copied stripped to the same absolute path, with the shared libraries it needs
  local f=$1 lib
  mkdir -p "$fs$(dirname "$f")"
  objcopy --strip-debug "$f" "$fs$f" 2> /dev/null || cp "$f" "$fs$f"
  for lib in $(ldd "$f" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
    [ -e "$fs$lib" ] && continue
    mkdir -p "$fs$(dirname "$lib")"
    cp -L "$lib" "$fs$lib"
  done
}
for b in "$v1/bootrig" "$v1/tests/bootrig_tests" "$v1/tests/gpiod_broken_driver_tests" "$v2/bootrig" "$v2/tests/bootrig_tests"; do
  put "$b"
done
# The tests find the bootrig binary by the path they were built with; /tier/* are short names for the init.
mkdir -p "$fs/tier/v1" "$fs/tier/v2" "$fs/tier/broken"
ln -s "$v1/bootrig" "$fs/tier/v1/bootrig"
ln -s "$v1/tests/bootrig_tests" "$fs/tier/v1/bootrig_tests"
ln -s "$v1/tests/gpiod_broken_driver_tests" "$fs/tier/broken/gpiod_broken_driver_tests"
ln -s "$v2/bootrig" "$fs/tier/v2/bootrig"
ln -s "$v2/tests/bootrig_tests" "$fs/tier/v2/bootrig_tests"
# The shipped rig files, which some tests read from the source tree.
mkdir -p "$fs$root"
cp -r "$root/rigs" "$fs$root/"
cp "$here/rigs/"*.toml "$fs/tier/rigs/"
cp "$root/rigs/images/"*.bin "$fs/tier/rigs/images/"
# Kernel modules: configfs from the kernel package (gpio-sim needs it), gpio-sim built above.
cfgfs=$(find "$kdir/root/lib/modules" -name 'configfs.ko*' | head -n 1)
case "$cfgfs" in
  *.xz) xz -dc "$cfgfs" > "$fs/tier/modules/configfs.ko" ;;
  *) cp "$cfgfs" "$fs/tier/modules/configfs.ko" ;;
esac
cp "$mod/gpio-sim.ko" "$fs/tier/modules/"
cp "$here/guest-init.sh" "$fs/init"
chmod +x "$fs/init"
# The tests of this tier: the ones that skip on a machine without gpio-sim or a real UART.
cat > "$fs/tier/tier.env" << EOF
TIER_FILTER='GpiodBackendTest.*:GpiodV1.*:GpiodV2.*:SerialPort*.*:*GpioSim*.*'
EOF
(cd "$fs" && find . | cpio -o -H newc --quiet) > "$work/initramfs.cpio"
say "initramfs $(du -m "$work/initramfs.cpio" | cut -f1) MB, ready after $(elapsed) s"

# ---- boot ----
# TCG: KVM is only tried where the CPU really offers it (a nested /dev/kvm without vmx/svm hangs).
accel=(-accel tcg,thread=multi)
if [ -w /dev/kvm ] && grep -qE '\b(vmx|svm)\b' /proc/cpuinfo && [ "${BOOTRIG_TIER_KVM:-0}" = 1 ]; then
  accel=(-accel kvm)
fi
pipes="$work/uart"
rm -rf "$pipes" && mkdir -p "$pipes"
# Two FIFOs join the module's UART (ISA ttyS1) to the rig's (a PCI 16550): what one sends the other reads.
mkfifo "$pipes/to-rig" "$pipes/to-module"
ln -s to-module "$pipes/module.in"; ln -s to-rig "$pipes/module.out"
ln -s to-rig "$pipes/rig.in";       ln -s to-module "$pipes/rig.out"
console="$work/console.log"
tboot=$(date +%s.%N)
set +e
timeout --foreground -k 10 "${BOOTRIG_TIER_TIMEOUT:-480}" qemu-system-x86_64 "${accel[@]}" -m 1024 -smp 2 \
  -nodefaults -display none -no-reboot \
  -kernel "$kdir/root/boot/vmlinuz-$kabi" -initrd "$work/initramfs.cpio" \
  -append "console=ttyS0 panic=-1 8250.nr_uarts=8 loglevel=4 rdinit=/init" \
  -serial mon:stdio \
  -chardev pipe,id=module,path="$pipes/module" -serial chardev:module \
  -chardev pipe,id=rig,path="$pipes/rig" -device pci-serial,chardev=rig \
  < /dev/null 2>&1 | tee "$console" | sed -u -n '/^TIER-STEP\|^==\|^\[ *FAILED\|^kernel tier/p'
qrc=${PIPESTATUS[0]}
set -e
boot_s=$(awk -v a="$tboot" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

# ---- results ----
if ! grep -q '^TIER-BOOTED' "$console"; then
  tail -n 30 "$console"
  # qemu that exits with an error before the guest's init ran cannot run here; a guest that hangs or dies
  # on the way is a failure.
  [ "$qrc" -ne 0 ] && [ "$qrc" -ne 124 ] && skip "qemu could not run the guest (exit $qrc): $(tail -n 3 "$console" | tr '\n' ' ')"
  echo "FAIL   kernel-tier/guest  the guest's init never ran (qemu exit $qrc; $console)"
  echo "kernel tier: 0 passed, 1 failed"
  exit 1
fi
pass=0 fail=0
while read -r _ name verdict detail; do
  printf '%-5s  kernel-tier/%s  %s\n' "$verdict" "$name" "$detail"
  if [ "$verdict" = PASS ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done < <(grep '^TIER-STEP' "$console" | tr -d '\r')
grep -q '^TIER-END' "$console" || { echo "FAIL   kernel-tier/guest  the guest stopped before its last step (exit $qrc; $console)"; fail=$((fail + 1)); }
say "guest ran ${boot_s} s; whole tier $(elapsed) s; console in $console"
echo "kernel tier: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
