#!/usr/bin/env bash
# Installs what bootrig needs to build and test from Debian's packages, only what is missing (as root or via sudo).
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config ccache make xz-utils   # make: MicroPython's header generators
  libgpiod-dev libserialport-dev libcli11-dev libspdlog-dev libtomlplusplus-dev nlohmann-json3-dev zlib1g-dev
  libsqlite3-dev   # a station's records (src/report/records.cpp)
  libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev   # the fuzz targets: libFuzzer with ASan and UBSan (tests/fuzz)
  debian-archive-keyring   # verifies what the cmake/fetch-*.sh scripts download
  # esptool's dependencies (Debian 13's esptool, fetched by cmake/fetch-esptool.sh; python3-reedsolo, which
  # only espefuse needs, is not in Debian 12); the tests run the real esptool against the simulated module,
  # and MicroPython's pyboard.py and mpremote (python3-serial; script(1) from bsdutils for its REPL).
  python3 python3-serial python3-intelhex python3-bitstring python3-cryptography python3-ecdsa python3-yaml
  bsdutils
  groff-base zsh   # the tests render the generated man page and parse the generated zsh completion
  systemd   # systemd-analyze verify checks dist/'s station unit (tests/dist)
  # The readers the tests check a run folder with (tests/tools/check_run_folder.py): results.json against
  # docs/results.schema.json, junit.xml, report.html rendered headless (screenshot decoded by PIL), and each
  # attempt's signals.vcd read back by sigrok-cli. Debian's python3 (/usr/bin/python3) runs them.
  python3-jsonschema python3-junitparser python3-pil chromium sigrok-cli
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
