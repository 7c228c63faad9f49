// The passive description of one rig, as read from its rig file: wiring, port, timings, images, simulator.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bootrig/core/time.hpp"
#include "bootrig/hw/gpio.hpp"
#include "bootrig/hw/serial.hpp"

namespace bootrig {

enum class RigKind : std::uint8_t { sim, hardware };
const char* to_string(RigKind k);

// One wire between the Pi and the module.
struct LineConfig {
  LineLocator where;
  LineSettings settings;  // active_low, drive, bias, debounce; consumer is set by the role
};

// The roles a rig's lines play. safeboot and reset are required on hardware; the others are optional.
enum class LineRole : std::uint8_t { safeboot, reset, led, bootloader, power };
inline constexpr LineRole kAllLineRoles[] = {LineRole::safeboot, LineRole::reset, LineRole::led,
                                             LineRole::bootloader, LineRole::power};
const char* to_string(LineRole r);  // the rig-file key: "safeboot", "reset", ...
const char* role_purpose(LineRole r);  // "P12 safe-boot request", ...
// The level a role's line rests at when bootrig lets go: inactive, except power, which keeps the module on.
inline Level released_level(LineRole role) {
  return role == LineRole::power ? Level::active : Level::inactive;
}

struct SerialConfig {
  PortSelector port;
  SerialSettings settings;
  // How long a USB adapter may stay away after a reset (re-enumerating) before bootrig gives up on it.
  milliseconds reappear{3000};
};

// What the rig expects of the module in time, and the rig's own allowances ([timing] in the rig file).
// Defaults are firmware 1.20's (pycom-boot-behaviour.md); a test rig may expect everything faster. The
// simulated module does not read this: it runs its own firmware timings (SimConfig::timing, [sim.timing]),
// so a rig whose expectations are wrong fails against it as it would against a board. Durations in
// milliseconds in the rig file.
// A measurement's limits as the rig file sets them ([timing.limits]); either side may be open.
struct LimitPair {
  std::optional<double> low;
  std::optional<double> high;
  bool operator==(const LimitPair&) const = default;
};

// The measurements whose limits [timing.limits] may set, with what each measures (docs/rig-files.md).
inline constexpr std::string_view kLimitNames[] = {
    "boot_to_prompt_ms",          // RESET release to the REPL prompt, a plain boot (no limits unless set)
    "window1_period_ms",          // window 1's blink period (default: 2 x window1_toggle_ms +- tolerance)
    "window2_period_ms",          // window 2's
    "final_period_ms",            // the final phase's
    "reset_to_window_switch_ms",  // RESET release to window 2's first blink (default: nominal +- tolerance)
    "heartbeat_period_ms",        // the heartbeat's period (default: on + off +- tolerance)
    "heartbeat_on_ms",            // the heartbeat's flash
    "release_to_decision_ms",     // P12 release to the check that saw it (default: 0 to a toggle + tolerance)
};

struct TimingProfile {
  // Second-stage bootloader (bootmgr.c wait_for_safe_boot).
  milliseconds safeboot_recheck{100};   // P12 read at start and again this much later
  milliseconds window1_toggle{500};     // LED toggles every 500 ms: 500 on / 500 off
  int window1_iterations = 6;           // 6 x 500 ms = 3 s
  milliseconds window2_toggle{250};
  int window2_iterations = 12;          // 12 x 250 ms = 3 s
  milliseconds final_toggle{100};
  milliseconds final_duration{1500};    // forced, whatever the pin does
  // Heartbeat while the app runs.
  milliseconds heartbeat_on{80};
  milliseconds heartbeat_off{3920};
  // Error signal (util/mperror.c mperror_signal_error): red, toggled every 50 ms for 1.2 s.
  milliseconds error_toggle{50};
  milliseconds error_duration{1200};
  // Boot durations of the module: reset release to bootloader start, bootloader to the app, app start
  // (filesystem mount, _boot.py) to the banner, excluding the user's scripts.
  milliseconds rom_boot{60};
  milliseconds app_start{400};
  milliseconds banner_delay{150};
  // What the rig allows: a reset pulse, and how long a boot may take before the board is judged dead.
  milliseconds reset_pulse{100};
  milliseconds boot_timeout{15000};
  milliseconds prompt_timeout{3000};
  // How far a measured LED period may stray from the nominal one and still count, in percent.
  int led_tolerance_percent = 20;
  // [timing.limits]: limits set in the rig file, by name (kLimitNames), replacing the defaults above.
  std::map<std::string, LimitPair> limits;

  // The limits of measurement `name`: the rig file's, else `fallback` (derived from this profile).
  LimitPair limits_for(const std::string& name, LimitPair fallback = {}) const {
    auto it = limits.find(name);
    return it == limits.end() ? fallback : it->second;
  }
  milliseconds window1_length() const { return window1_toggle * window1_iterations; }
  milliseconds window2_length() const { return window2_toggle * window2_iterations; }
};

// How the simulated firmware itself behaves in time: the constants of bootmgr.c, mperror.c and the boot,
// firmware 1.20's by default ([sim.timing] in the rig file; tests run a faster firmware).
struct FirmwareTiming {
  milliseconds safeboot_recheck{100};
  milliseconds window1_toggle{500};
  int window1_iterations = 6;
  milliseconds window2_toggle{250};
  int window2_iterations = 12;
  milliseconds final_toggle{100};
  milliseconds final_duration{1500};
  milliseconds heartbeat_on{80};
  milliseconds heartbeat_off{3920};
  milliseconds error_toggle{50};
  milliseconds error_duration{1200};
  milliseconds rom_boot{60};
  milliseconds app_start{400};
  milliseconds banner_delay{150};
  bool operator==(const FirmwareTiming&) const = default;
};

// The [firmware] names the scenarios use: what the board should run, and what window 2 should boot. Any
// other name would be read and never used, so a misspelling ("curent") is refused rather than ignored.
inline constexpr std::string_view kFirmwareNames[] = {"current", "previous"};

struct FirmwareImage {
  std::string name;              // the key under [firmware], e.g. "previous"
  std::filesystem::path path;    // resolved against the rig file's folder
};

// Faults the simulated module can be told to show; each names a rule a rig must catch or a hazard it
// must survive. Described in docs/simulator.md.
struct SimFaults {
  bool hang_in_boot = false;            // never reaches the prompt
  bool uart_disabled = false;           // app never talks on UART0
  double garbage_rate = 0.0;            // fraction of bytes replaced by noise
  double drop_rate = 0.0;               // fraction of bytes lost
  milliseconds boot_delay{0};           // extra boot time (slow boot)
  milliseconds boot_jitter{0};          // random extra boot time up to this
  bool port_vanishes = false;           // the pty goes away at each hard reset and comes back
  milliseconds port_gone{300};          // how long it stays away
  bool scripts_in_safeboot = false;     // rule break: boot.py/main.py run during safe boot
  bool window2_keeps_image = false;     // rule break: window 2 does not select the previous image
  bool safeboot_persists = false;       // rule break: safe boot survives the next reset
  bool soft_reset_keeps_names = false;  // rule break: Ctrl-D does not clear the interpreter
  bool format_keeps_files = false;      // rule break: os.fsformat leaves user files
  bool rollback_silent = false;         // rule break: the bootloader rolls back without its message
  // A brown-out once this many bytes of an OTA update have been written (0: never). One-shot: the module
  // resets with BROWN_OUT_RESET, the half-written slot stays invalid, and the fault clears itself.
  std::uint64_t brownout_after_bytes = 0;
  // The LED and the photodiode: faults a rig must judge, not ride out.
  int led_period_percent = 0;       // the safe-boot blinks run this much slower (+) or faster (-)
  bool led_missing_blink = false;   // window 1's second blink never lights
  bool release_seen_late = false;   // rule break: the bootloader sees a P12 release one check late
  std::string led_stuck;            // "on" or "off": the LED never changes ("" = works)
  double photodiode_miss_rate = 0;  // fraction of blinks the photodiode does not see
  // The wires between the rig and the module, each "" (intact), "disconnected" (the module's pin rests at its
  // pull; the photodiode sees nothing), "inverted" (the other level) or "stuck" (active whatever the rig does:
  // P12 high, RESET held low, P2 low, the photodiode reading lit). What `bootrig doctor` must tell apart.
  std::string wire_safeboot, wire_reset, wire_bootloader, wire_photodiode;
  std::string& wire(LineRole role) {
    switch (role) {
      case LineRole::safeboot: return wire_safeboot;
      case LineRole::reset: return wire_reset;
      case LineRole::bootloader: return wire_bootloader;
      default: return wire_photodiode;
    }
  }
};

// How the simulated module is attached. `internal`: in-process wires and a pty (the default). `gpio_sim`:
// its pins are lines of a gpio-sim chip (read and pulled through the chip's sysfs) and its UART is a real
// tty, so that a bootrig elsewhere drives it through the kernel's GPIO and serial drivers, as on a Pi.
enum class SimWiresKind : std::uint8_t { internal, gpio_sim };
struct SimWiresConfig {
  SimWiresKind kind = SimWiresKind::internal;
  // gpio_sim: the gpio-sim line names the module's pins are wired to (a Pi's header names by default).
  std::string safeboot = "GPIO17";    // P12
  std::string reset = "GPIO27";       // EN
  std::string bootloader = "GPIO23";  // P2
  std::string led = "GPIO22";         // the photodiode comparator's output: low while the LED is lit
  std::string uart;                   // the tty the module's UART0 is (e.g. /dev/ttyS1)
};

struct SimConfig {
  std::string profile = "pycom";        // "pycom" (firmware 1.20, no raw-paste) or "upstream"
  std::string board = "FiPy";
  std::string factory_version = "1.20.2.r4";
  std::string ota0_version;             // empty: ota_0 holds no image
  std::string active_slot = "factory";  // "factory" or "ota_0"
  std::filesystem::path flash_dir;      // backing folder for /flash; empty: in memory
  bool sd_card = false;
  bool photodiode = true;               // the simulated rig watches the LED; false: a rig without one
  bool sys_exit_quirk = false;          // firmware 1.20: sys.exit() raises SystemExit, no soft reset
  unsigned fault_seed = 1;              // seeds the random garbage/drop/jitter faults (repeatable runs)
  std::string mac;                      // base MAC "24:0a:c4:12:34:56" (eFuse, machine.unique_id()); "": unique
  std::uint32_t flash_id = 0x1640EF;    // the flash chip's JEDEC id (RDID): 0x1640EF is a 4 MB Winbond
  std::filesystem::path remote;         // control socket of a running `bootrig sim`: use it, simulate nothing here
  FirmwareTiming timing;                // the simulated firmware's own timings
  SimWiresConfig wires;                 // [sim.wires]
  SimFaults faults;
};

// An external program that cable-flashes an image instead of bootrig's built-in ROM flasher: esptool, or
// the vendor's firmware update tool. bootrig runs it without a shell, with a deadline, and logs its output.
struct ExternalFlasher {
  // The argument list; argv[0] is looked up on PATH. Placeholders {port} {image} {offset} {baud} are
  // filled in at run time ({offset} as hex, "0x10000"); {{ and }} are literal braces.
  std::vector<std::string> command;
  milliseconds timeout{300000};
  // true: bootrig holds P2 low and pulses RESET before running it (esptool --before no_reset) and resets
  // the module afterwards; false: the tool enters download mode itself through DTR/RTS.
  bool download_mode = true;
};

// The placeholders a flasher argument may use, in the order error messages list them.
inline constexpr std::string_view kFlasherPlaceholders[] = {"port", "image", "offset", "baud"};
bool is_flasher_placeholder(std::string_view name);
std::string flasher_placeholder_list();  // "{port}, {image}, {offset} or {baud}"

// One argument of [flasher].command split into literal text and placeholders. Shared by the rig-file check
// and the expansion at run time, so that what the rig file accepts is exactly what bootrig can run.
struct FlasherArgPart {
  std::string text;  // literal text (braces unescaped), or the placeholder's name
  bool placeholder = false;
};
struct FlasherArg {
  std::vector<FlasherArgPart> parts;
  std::string problem;  // non-empty: the argument is malformed (unclosed "{", stray "}"); says what to write
};
FlasherArg split_flasher_arg(std::string_view arg);

// [station]: the end-of-line station this rig is part of (bootrig station, run --suite eol).
struct StationConfig {
  std::string name;               // recorded with every unit; empty: the host name
  std::filesystem::path records;  // the SQLite database; empty: bootrig-records.sqlite in the working folder
  std::filesystem::path runs;     // where each unit's run folder goes; empty: bootrig-runs/ there
  // The end-of-line suite, in order: a normal boot, window 1, a soft and a hard reset.
  std::vector<std::string> eol_suite = {"normal-boot", "safeboot-window1", "soft-reset-ctrl-d",
                                        "hard-reset-pin"};
};

struct RigConfig {
  std::filesystem::path source;  // the rig file, or "<built-in>"
  std::string name;
  RigKind kind = RigKind::sim;
  // [rig] lock: the file bootrig flocks while it drives this rig (resolved against the rig file's folder);
  // empty: the default place for a hardware rig, no lock for a simulated one (target/rig_lock.hpp).
  std::filesystem::path lock;
  std::map<LineRole, LineConfig> lines;
  SerialConfig serial;
  TimingProfile timing;
  std::map<std::string, FirmwareImage> firmware;
  SimConfig sim;
  std::optional<ExternalFlasher> flasher;  // [flasher]; none: bootrig's built-in ROM flasher
  StationConfig station;                   // [station]

  const LineConfig* line(LineRole r) const {
    auto it = lines.find(r);
    return it == lines.end() ? nullptr : &it->second;
  }
};

}  // namespace bootrig
