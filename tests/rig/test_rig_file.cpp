// Tests for rig-file validation: every error class with its exact message, and the rig search order.
#include "bootrig/rig/rig_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "bootrig/core/errors.hpp"

namespace bootrig {
namespace {

const char* kHardwareRig = R"(
[rig]
kind = "hardware"
[lines.safeboot]
name = "GPIO17"
[lines.reset]
chip = "gpiochip0"
offset = 27
active = "low"
drive = "open-drain"
[serial]
port = "/dev/ttyUSB0"
)";

RigConfig parse(const std::string& text) { return parse_rig(text, "rig.toml", "/rigs"); }

// The whole message, so that a change of wording is a conscious one.
std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(RigFile, ParsesAHardwareRig) {
  RigConfig rig = parse(kHardwareRig);
  EXPECT_EQ(rig.kind, RigKind::hardware);
  EXPECT_EQ(rig.name, "rig");
  ASSERT_NE(rig.line(LineRole::safeboot), nullptr);
  EXPECT_EQ(rig.line(LineRole::safeboot)->where.name, "GPIO17");
  EXPECT_FALSE(rig.line(LineRole::safeboot)->settings.active_low);
  const LineConfig* reset = rig.line(LineRole::reset);
  ASSERT_NE(reset, nullptr);
  EXPECT_EQ(reset->where.chip, "gpiochip0");
  EXPECT_EQ(reset->where.offset, 27u);
  EXPECT_TRUE(reset->settings.active_low);
  EXPECT_EQ(reset->settings.drive, Drive::open_drain);
  EXPECT_EQ(reset->settings.consumer, "bootrig-reset");
  EXPECT_EQ(rig.line(LineRole::led), nullptr);
  EXPECT_EQ(rig.serial.port.path, "/dev/ttyUSB0");
  EXPECT_EQ(rig.serial.settings.baud, 115200u);
  EXPECT_FALSE(rig.serial.settings.dtr.has_value());
  EXPECT_EQ(rig.timing.window1_toggle, milliseconds(500));
}

TEST(RigFile, SimRigDefaultsToFirmwareTimings) {
  RigConfig rig = parse("[rig]\nkind = \"sim\"\n");
  EXPECT_EQ(rig.kind, RigKind::sim);
  EXPECT_EQ(rig.timing.safeboot_recheck, milliseconds(100));
  EXPECT_EQ(rig.timing.window1_length(), milliseconds(3000));
  EXPECT_EQ(rig.timing.window2_length(), milliseconds(3000));
  EXPECT_EQ(rig.timing.final_duration, milliseconds(1500));
  EXPECT_EQ(rig.timing.heartbeat_on, milliseconds(80));
  EXPECT_EQ(rig.timing.heartbeat_off, milliseconds(3920));
}

TEST(RigFile, ReadsSimSectionFaultsAndFirmware) {
  RigConfig rig = parse(R"(
[rig]
kind = "sim"
name = "fast"
[serial]
baud = 921600
[timing]
window1_toggle_ms = 50
window2_toggle_ms = 25
final_toggle_ms = 10
[sim]
profile = "upstream"
board = "LoPy4"
factory_version = "1.20.2.r4"
ota0_version = "1.20.2.r6"
active_slot = "ota_0"
flash_dir = "flash"
sys_exit_quirk = true
[sim.faults]
scripts_in_safeboot = true
garbage_rate = 0.01
boot_delay_ms = 200
brownout_after_bytes = 10000
[firmware]
previous = "img/old.bin"
current = { path = "/abs/new.bin" }
)");
  EXPECT_EQ(rig.name, "fast");
  EXPECT_EQ(rig.serial.settings.baud, 921600u);
  EXPECT_EQ(rig.timing.window1_toggle, milliseconds(50));
  EXPECT_EQ(rig.sim.profile, "upstream");
  EXPECT_EQ(rig.sim.board, "LoPy4");
  EXPECT_EQ(rig.sim.active_slot, "ota_0");
  EXPECT_EQ(rig.sim.flash_dir, std::filesystem::path("/rigs/flash"));
  EXPECT_TRUE(rig.sim.sys_exit_quirk);
  EXPECT_TRUE(rig.sim.faults.scripts_in_safeboot);
  EXPECT_DOUBLE_EQ(rig.sim.faults.garbage_rate, 0.01);
  EXPECT_EQ(rig.sim.faults.boot_delay, milliseconds(200));
  EXPECT_EQ(rig.sim.faults.brownout_after_bytes, 10000u);
  EXPECT_EQ(rig.firmware.at("previous").path, std::filesystem::path("/rigs/img/old.bin"));
  EXPECT_EQ(rig.firmware.at("current").path, std::filesystem::path("/abs/new.bin"));
}

TEST(RigFileErrors, InvalidToml) {
  EXPECT_EQ(error_of("[rig]\nkind = \n"),
            "rig.toml:2: not valid TOML: Error while parsing key-value pair: expected value, saw '\\n'");
}

TEST(RigFileErrors, MissingRigTable) {
  EXPECT_EQ(error_of("[serial]\nbaud = 9600\n"),
            "rig.toml:1: rig: missing [rig] table with kind = \"sim\" or \"hardware\"");
}

TEST(RigFileErrors, MissingKind) {
  EXPECT_EQ(error_of("[rig]\nname = \"x\"\n"), "rig.toml:1: rig: missing key kind (\"sim\" or \"hardware\")");
}

TEST(RigFileErrors, UnknownKeyNamesItAndTheAllowedOnes) {
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\nknid = 3\n"),
            "rig.toml:3: rig.knid: unknown key (expected one of: kind, lock, name); did you mean 'kind'?");
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[timming]\n"),
            "rig.toml:3: timming: unknown key (expected one of: firmware, flasher, lines, rig, serial, sim, "
            "station, timing); did you mean 'timing'?");
  std::string text = kHardwareRig;
  text += "[lines.led]\nname = \"GPIO22\"\nactiv = \"low\"\n";
  EXPECT_EQ(
      error_of(text),
      "rig.toml:15: lines.led.activ: unknown key (expected one of: active, bias, chip, debounce_us, drive, "
      "name, offset); did you mean 'active'?");
  // Nothing near: no guess.
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\ncolour = 3\n"),
            "rig.toml:3: rig.colour: unknown key (expected one of: kind, lock, name)");
}

TEST(RigFileErrors, FirmwareNamesAreTheOnesScenariosUse) {
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[firmware]\ncurent = \"a.bin\"\n"),
            "rig.toml:4: firmware.curent: unknown image name; bootrig uses current, previous; did you mean "
            "'current'?");
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[firmware]\nbaseline = \"a.bin\"\n"),
            "rig.toml:4: firmware.baseline: unknown image name; bootrig uses current, previous");
}

TEST(RigFileErrors, TimingsThatMakeNoSenseAgainstTheFirmware) {
  auto timing = [](const std::string& keys) { return error_of("[rig]\nkind = \"sim\"\n[timing]\n" + keys); };
  // Default firmware timings: the longest boot is safe boot's final phase (1500) + app start (400) + banner
  // (150).
  EXPECT_EQ(
      timing("boot_timeout_ms = 2049\n"),
      "rig.toml:4: timing.boot_timeout_ms: 2049 ms is shorter than the firmware's own boot (2050 ms: safe "
      "boot's final phase, app start and banner); every scenario would fail on a sound board");
  EXPECT_NO_THROW(parse_rig("[rig]\nkind = \"sim\"\n[timing]\nboot_timeout_ms = 2050\n", "rig.toml", "."));
  EXPECT_EQ(
      timing("reset_pulse_ms = 1001\n"),
      "rig.toml:4: timing.reset_pulse_ms: 1001 ms is longer than a second; the ESP32 needs 50 us of EN low, "
      "and 100 ms is plenty");
  EXPECT_EQ(
      timing("heartbeat_on_ms = 5000\nheartbeat_off_ms = 1\n"),
      "rig.toml:4: timing.heartbeat_on_ms: 5000 ms on and 1 ms off is no heartbeat: the firmware flashes "
      "briefly in a long dark (80/3920 ms)");
  EXPECT_EQ(
      timing("heartbeat_on_ms = 100\nheartbeat_off_ms = 900\n"),
      "rig.toml:5: timing.heartbeat_off_ms: a heartbeat period of 1000 ms is not slower than window 1's "
      "blink (1000 ms); the LED decoder could not tell them apart");
  EXPECT_EQ(
      timing("final_duration_ms = 150\n"),
      "rig.toml:4: timing.final_duration_ms: 150 ms is shorter than one blink of final_toggle_ms (100 ms on, "
      "as long off)");
  EXPECT_EQ(
      timing("error_duration_ms = 60\n"),
      "rig.toml:4: timing.error_duration_ms: 60 ms is shorter than one blink of error_toggle_ms (50 ms on, "
      "as long off)");
}

TEST(RigFile, ARigFileIsReadBoundedAndNamesWhereItsPathCameFrom) {
  auto dir = std::filesystem::temp_directory_path() / ("bootrig-rigfile-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  try {
    load_rig_file(dir, "--rig");
    ADD_FAILURE() << "a directory was read as a rig file";
  } catch (const RigError& e) {
    EXPECT_EQ(std::string(e.what()),
              dir.string() + " (the rig file, from --rig): is a directory, not a regular file; give a file");
  }
  std::ofstream(dir / "big.toml") << std::string(kRigFileBound + 1, '#');
  try {
    load_rig_file(dir / "big.toml");
    ADD_FAILURE() << "an oversized rig file was read";
  } catch (const RigError& e) {
    EXPECT_NE(
        std::string(e.what()).find("too large: the bound is 1.0 MiB (1048576 bytes), a rig file is a few "
                                   "kilobytes of TOML"),
        std::string::npos)
        << e.what();
  }
  std::filesystem::remove_all(dir);
}

TEST(RigFile, ReadsTheLockTheStationAndMeasurementLimits) {
  RigConfig rig = parse(
      "[rig]\nkind = \"sim\"\nlock = \"locks/bench.lock\"\n"
      "[timing.limits]\nboot_to_prompt_ms = { max = 2500 }\nwindow1_period_ms = { min = 900, max = 1100.5 }\n"
      "[station]\nname = \"line 3\"\nrecords = \"eol.sqlite\"\nruns = \"units\"\n"
      "eol_suite = [\"normal-boot\", \"hard-reset-pin\"]\n");
  EXPECT_EQ(rig.lock, std::filesystem::path("/rigs/locks/bench.lock"));
  EXPECT_EQ(rig.timing.limits_for("boot_to_prompt_ms"), (LimitPair{std::nullopt, 2500.0}));
  EXPECT_EQ(rig.timing.limits_for("window1_period_ms"), (LimitPair{900.0, 1100.5}));
  EXPECT_EQ(parse("[rig]\nkind = \"sim\"\n[timing.limits]\nrelease_to_decision_ms = { max = 520 }\n")
                .timing.limits_for("release_to_decision_ms"),
            (LimitPair{std::nullopt, 520.0}));
  // Not set: the caller's default, derived from the profile.
  EXPECT_EQ(rig.timing.limits_for("heartbeat_on_ms", {64.0, 96.0}), (LimitPair{64.0, 96.0}));
  EXPECT_EQ(rig.station.name, "line 3");
  EXPECT_EQ(rig.station.records, std::filesystem::path("/rigs/eol.sqlite"));
  EXPECT_EQ(rig.station.runs, std::filesystem::path("/rigs/units"));
  EXPECT_EQ(rig.station.eol_suite, (std::vector<std::string>{"normal-boot", "hard-reset-pin"}));
  // The default suite: a normal boot, window 1, a soft and a hard reset.
  EXPECT_EQ(
      parse("[rig]\nkind = \"sim\"\n").station.eol_suite,
      (std::vector<std::string>{"normal-boot", "safeboot-window1", "soft-reset-ctrl-d", "hard-reset-pin"}));
}

TEST(RigFileErrors, BadLimitsAndStation) {
  const std::string head = "[rig]\nkind = \"sim\"\n";
  EXPECT_EQ(error_of(head + "[timing.limits]\nwindow1_period_ms = { min = 1200, max = 800 }\n"),
            "rig.toml:4: timing.limits.window1_period_ms: min is above max");
  EXPECT_EQ(
      error_of(head + "[timing.limits]\nwindow1_period_ms = {}\n"),
      "rig.toml:4: timing.limits.window1_period_ms: names no limit; write { min = X, max = Y } (either may "
      "be left out)");
  EXPECT_NE(error_of(head + "[timing.limits]\nwindow_period_ms = { max = 3 }\n").find("did you mean"),
            std::string::npos);
  EXPECT_EQ(error_of(head + "[timing.limits]\nboot_to_prompt_ms = { maximum = 3 }\n"),
            "rig.toml:4: timing.limits.boot_to_prompt_ms.maximum: unknown key (expected one of: max, min)");
  EXPECT_EQ(error_of(head + "[station]\neol_suite = []\n"),
            "rig.toml:4: station.eol_suite: empty; name the scenarios of the end-of-line test");
  EXPECT_EQ(error_of(head + "[station]\neol_suite = [3]\n"),
            "rig.toml:4: station.eol_suite: expected scenario names (strings), got an integer");
  EXPECT_EQ(
      error_of(head + "lock = \"\"\n"),
      "rig.toml:3: rig.lock: empty; name the lock file (e.g. \"/run/lock/bootrig-bench1.lock\") or leave the "
      "key out");
}

TEST(RigFileErrors, UnknownLineRole) {
  std::string text = kHardwareRig;
  text += "[lines.p12]\nname = \"GPIO5\"\n";
  EXPECT_EQ(error_of(text),
            "rig.toml:13: lines.p12: unknown key (expected one of: bootloader, led, power, reset, safeboot)");
}

TEST(RigFileErrors, WrongType) {
  EXPECT_EQ(error_of("[rig]\nkind = 1\n"), "rig.toml:2: rig.kind: expected a string, got an integer");
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[serial]\nbaud = \"fast\"\n"),
            "rig.toml:4: serial.baud: expected an integer, got a string");
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[sim]\nsd_card = 1\n"),
            "rig.toml:4: sim.sd_card: expected true or false, got an integer");
  EXPECT_EQ(error_of("timing = 3\n[rig]\nkind = \"sim\"\n"),
            "rig.toml:1: timing: expected a table, got an integer");
}

TEST(RigFileErrors, BadChoice) {
  EXPECT_EQ(error_of("[rig]\nkind = \"real\"\n"),
            "rig.toml:2: rig.kind: \"real\" is not one of \"sim\", \"hardware\"");
  std::string text = kHardwareRig;
  text += "[lines.led]\nname = \"GPIO22\"\nbias = \"up\"\n";
  EXPECT_EQ(error_of(text),
            "rig.toml:15: lines.led.bias: \"up\" is not one of \"as-is\", \"disabled\", \"pull-up\", "
            "\"pull-down\"");
}

TEST(RigFileErrors, OutOfRange) {
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[serial]\nbaud = 10\n"),
            "rig.toml:4: serial.baud: 10 is out of range (300 to 4000000)");
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[timing]\nwindow1_toggle_ms = 0\n"),
            "rig.toml:4: timing.window1_toggle_ms: 0 is out of range (1 to 600000)");
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[sim.faults]\ndrop_rate = 1.5\n"),
            "rig.toml:4: sim.faults.drop_rate: 1.5 is out of range (0 to 1)");
  std::string text = kHardwareRig;
  text += "[lines.led]\nchip = \"gpiochip0\"\noffset = 5000\n";
  EXPECT_EQ(error_of(text), "rig.toml:15: lines.led.offset: 5000 is out of range (0 to 4095)");
}

TEST(RigFileErrors, InconsistentTimings) {
  EXPECT_EQ(
      error_of("[rig]\nkind = \"sim\"\n[timing]\nwindow2_toggle_ms = 600\n"),
      "rig.toml:4: timing.window2_toggle_ms: must be shorter than window1_toggle_ms: window 2 is told apart "
      "by its faster blink");
}

TEST(RigFileErrors, MissingRequiredLine) {
  EXPECT_EQ(
      error_of(
          "[rig]\nkind = \"hardware\"\n[lines.safeboot]\nname = \"GPIO17\"\n[serial]\nport = \"/dev/x\"\n"),
      "rig.toml: lines.reset: missing: a hardware rig needs the RESET/EN (output) line");
  EXPECT_EQ(
      error_of("[rig]\nkind = \"hardware\"\n[lines.reset]\nname = \"GPIO27\"\n[serial]\nport = \"/dev/x\"\n"),
      "rig.toml: lines.safeboot: missing: a hardware rig needs the P12 safe-boot request (output) line");
  EXPECT_EQ(error_of("[rig]\nkind = \"hardware\"\n"),
            "rig.toml: serial: missing: a hardware rig needs [serial] with the module's port");
}

// A bench with only a serial port: no [lines] at all is a rig for console, exec and fs.
TEST(RigFile, SerialOnlyHardwareRig) {
  RigConfig rig =
      parse("[rig]\nkind = \"hardware\"\nname = \"usb only\"\n[serial]\nport = \"/dev/ttyUSB0\"\n");
  EXPECT_EQ(rig.kind, RigKind::hardware);
  EXPECT_TRUE(rig.lines.empty());
  EXPECT_EQ(rig.serial.port.path, "/dev/ttyUSB0");
}

TEST(RigFileErrors, LineWithoutLocation) {
  std::string text = kHardwareRig;
  text += "[lines.led]\nactive = \"low\"\n";
  EXPECT_EQ(error_of(text),
            "rig.toml:13: lines.led: give the line's name (e.g. name = \"GPIO17\"), or chip and offset");
  text = kHardwareRig;
  text += "[lines.led]\nchip = \"gpiochip0\"\n";
  EXPECT_EQ(error_of(text),
            "rig.toml:14: lines.led.chip: chip and offset go together; give both, or only name");
}

TEST(RigFileErrors, SameLineUsedTwice) {
  std::string text = kHardwareRig;
  text += "[lines.led]\nname = \"GPIO17\"\n";
  EXPECT_EQ(error_of(text),
            "rig.toml:13: lines.led: uses the same GPIO line as lines.safeboot (line 'GPIO17'); each role "
            "needs its "
            "own line");
  text = kHardwareRig;
  text += "[lines.bootloader]\nchip = \"gpiochip0\"\noffset = 27\n";
  EXPECT_EQ(
      error_of(text),
      "rig.toml:13: lines.bootloader: uses the same GPIO line as lines.reset (chip 'gpiochip0' offset 27); "
      "each role needs its own line");
}

TEST(RigFileErrors, SerialPortRequiredOnHardware) {
  EXPECT_EQ(
      error_of("[rig]\nkind = \"hardware\"\n[lines.safeboot]\nname = \"A\"\n[lines.reset]\nname = \"B\"\n"),
      "rig.toml: serial: missing: a hardware rig needs [serial] with the module's port");
  EXPECT_EQ(
      error_of("[rig]\nkind = \"hardware\"\n[lines.safeboot]\nname = \"A\"\n[lines.reset]\nname = \"B\"\n"
               "[serial]\nbaud = 115200\n"),
      "rig.toml:7: serial: name the module's serial port: port = \"/dev/serial/by-id/...\", usb_serial = "
      "\"...\" or usb_vid_pid = \"10c4:ea60\" ('bootrig ports' lists them)");
  EXPECT_EQ(
      error_of("[rig]\nkind = \"hardware\"\n[lines.safeboot]\nname = \"A\"\n[lines.reset]\nname = \"B\"\n"
               "[serial]\nusb_vid_pid = \"10c4\"\n"),
      "rig.toml:8: serial.usb_vid_pid: \"10c4\" is not VID:PID in hex, e.g. \"10c4:ea60\"");
}

TEST(RigFileErrors, SectionsThatDoNotApplyToTheKind) {
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[lines.safeboot]\nname = \"GPIO17\"\n"),
            "rig.toml:3: lines: the simulated module is wired internally; remove [lines] or set rig.kind = "
            "\"hardware\"");
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[serial]\nport = \"/dev/ttyUSB0\"\n"),
            "rig.toml:4: serial.port: unknown key (expected one of: baud, reappear_ms)");
  std::string text = kHardwareRig;
  text += "[sim]\nboard = \"FiPy\"\n";
  EXPECT_EQ(error_of(text), "rig.toml:13: sim: [sim] only applies to rig.kind = \"sim\"");
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[sim]\nactive_slot = \"ota_0\"\n"),
            "rig.toml:4: sim.active_slot: ota_0 is active but holds no image; set ota0_version");
}

TEST(RigFileErrors, FirmwareEntries) {
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[firmware]\ncurrent = 3\n"),
            "rig.toml:4: firmware.current: expected a path string or a table with path, got an integer");
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[firmware.current]\nfile = \"x.bin\"\n"),
            "rig.toml:3: firmware.current: missing key path (the image file, relative to the rig file)");
}

std::string sim_with_flasher(const std::string& flasher_body) {
  return "[rig]\nkind = \"sim\"\n[flasher]\n" + flasher_body;  // [flasher] is line 3
}

TEST(RigFile, ReadsAnExternalFlasher) {
  RigConfig rig = parse(sim_with_flasher(
      "command = [\"esptool.py\", \"--chip\", \"esp32\", \"--port\", \"{port}\", \"--baud\", \"{baud}\", "
      "\"--before\", \"no_reset\", \"write_flash\", \"{offset}\", \"{image}\", \"--note={{literal}}\"]\n"
      "timeout_ms = 120000\ndownload_mode = false\n"));
  ASSERT_TRUE(rig.flasher.has_value());
  EXPECT_EQ(rig.flasher->command,
            (std::vector<std::string>{"esptool.py", "--chip", "esp32", "--port", "{port}", "--baud", "{baud}",
                                      "--before", "no_reset", "write_flash", "{offset}", "{image}",
                                      "--note={{literal}}"}))
      << "kept as written: placeholders are filled in at run time";
  EXPECT_EQ(rig.flasher->timeout, milliseconds(120000));
  EXPECT_FALSE(rig.flasher->download_mode);
}

TEST(RigFile, ExternalFlasherDefaultsAndAbsence) {
  EXPECT_FALSE(parse(kHardwareRig).flasher.has_value()) << "no [flasher]: the built-in ROM flasher";
  std::string text = kHardwareRig;
  text +=
      "[lines.bootloader]\nname = \"GPIO23\"\n[flasher]\ncommand = [\"pycom-fwtool-cli\", \"-p\", "
      "\"{port}\", "
      "\"flash\", \"-t\", \"{image}\"]\n";
  RigConfig rig = parse(text);
  ASSERT_TRUE(rig.flasher.has_value());
  EXPECT_EQ(rig.flasher->command.front(), "pycom-fwtool-cli");
  EXPECT_EQ(rig.flasher->timeout, milliseconds(300000));
  EXPECT_TRUE(rig.flasher->download_mode);
}

TEST(RigFileErrors, FlasherCommandShape) {
  EXPECT_EQ(error_of(sim_with_flasher("timeout_ms = 5000\n")),
            "rig.toml:3: flasher: missing key command (the flasher's argument list, e.g. command = "
            "[\"esptool.py\", "
            "\"--port\", \"{port}\", \"write_flash\", \"{offset}\", \"{image}\"])");
  EXPECT_EQ(
      error_of(sim_with_flasher("command = \"esptool.py write_flash 0x10000 {image}\"\n")),
      "rig.toml:4: flasher.command: expected an array of strings (the program and its arguments; bootrig "
      "runs no shell), got a string");
  EXPECT_EQ(error_of(sim_with_flasher("command = []\n")),
            "rig.toml:4: flasher.command: is empty; give the program and its arguments, e.g. "
            "[\"esptool.py\", ...]");
  EXPECT_EQ(error_of(sim_with_flasher("command = [\"esptool.py\", 3, \"{image}\"]\n")),
            "rig.toml:4: flasher.command: argument 2 is an integer; every argument must be a string");
  EXPECT_EQ(error_of(sim_with_flasher("command = [\"\", \"{image}\"]\n")),
            "rig.toml:4: flasher.command: the first argument (the program to run) is empty");
}

TEST(RigFileErrors, FlasherPlaceholders) {
  EXPECT_EQ(
      error_of(sim_with_flasher("command = [\"esptool.py\", \"--port\", \"{port}\"]\n")),
      "rig.toml:4: flasher.command: no argument contains {image}; without it the flasher is not told which "
      "image to write");
  EXPECT_EQ(
      error_of(sim_with_flasher("command = [\"esptool.py\", \"--port={prot}\", \"{image}\"]\n")),
      "rig.toml:4: flasher.command: unknown placeholder {prot} in \"--port={prot}\"; use {port}, {image}, "
      "{offset} or {baud} ({{ and }} for literal braces)");
  EXPECT_EQ(error_of(sim_with_flasher("command = [\"esptool.py\", \"{image\"]\n")),
            "rig.toml:4: flasher.command: unclosed \"{\" in \"{image\"; write {{ for a literal brace");
  EXPECT_EQ(error_of(sim_with_flasher("command = [\"esptool.py\", \"{image}\", \"a}b\"]\n")),
            "rig.toml:4: flasher.command: stray \"}\" in \"a}b\"; write }} for a literal brace");
}

TEST(RigFileErrors, FlasherOtherKeys) {
  const std::string cmd = "command = [\"esptool.py\", \"{image}\"]\n";
  EXPECT_EQ(error_of(sim_with_flasher(cmd + "timeout_ms = 0\n")),
            "rig.toml:5: flasher.timeout_ms: 0 is out of range (1 to 3600000)");
  EXPECT_EQ(error_of(sim_with_flasher(cmd + "timeout_ms = \"5m\"\n")),
            "rig.toml:5: flasher.timeout_ms: expected an integer, got a string");
  EXPECT_EQ(error_of(sim_with_flasher(cmd + "timout_ms = 5000\n")),
            "rig.toml:5: flasher.timout_ms: unknown key (expected one of: command, download_mode, "
            "timeout_ms); did you "
            "mean 'timeout_ms'?");
  EXPECT_EQ(error_of(sim_with_flasher(cmd + "download_mode = \"yes\"\n")),
            "rig.toml:5: flasher.download_mode: expected true or false, got a string");
  std::string text = kHardwareRig;
  text += "[flasher]\n" + cmd;
  EXPECT_EQ(
      error_of(text),
      "rig.toml:13: flasher: bootrig puts the module in download mode for the flasher but the rig has no "
      "[lines.bootloader] (P2/G23); add it, or set download_mode = false if the flasher resets the module "
      "itself (DTR/RTS)");
  EXPECT_FALSE(parse(text + "download_mode = false\n").flasher->download_mode);
}

TEST(RigFileErrors, UnreadableFile) {
  try {
    load_rig_file("/nonexistent/rig.toml");
    FAIL() << "no error";
  } catch (const RigError& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/rig.toml (the rig file): no such file; check the path");
  }
}

TEST(RigFile, SimWiresDefaultToInternalAndReadGpioSimLines) {
  EXPECT_EQ(parse("[rig]\nkind = \"sim\"\n").sim.wires.kind, SimWiresKind::internal);
  RigConfig rig = parse(
      "[rig]\nkind = \"sim\"\n[sim.wires]\nkind = \"gpio-sim\"\nsafeboot = \"GPIO5\"\nuart = "
      "\"/dev/ttyS1\"\n");
  EXPECT_EQ(rig.sim.wires.kind, SimWiresKind::gpio_sim);
  EXPECT_EQ(rig.sim.wires.safeboot, "GPIO5");
  EXPECT_EQ(rig.sim.wires.reset, "GPIO27");  // a Pi's wiring unless named
  EXPECT_EQ(rig.sim.wires.uart, "/dev/ttyS1");
}

TEST(RigFileErrors, GpioSimWiresNeedAUartAndKnownKeys) {
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[sim.wires]\nkind = \"gpio-sim\"\n"),
            "rig.toml:3: sim.wires: kind = \"gpio-sim\" needs uart = \"/dev/ttyS1\" (the tty the module's "
            "UART0 is)");
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[sim.wires]\nkind = \"wire-wrap\"\n"),
            "rig.toml:4: sim.wires.kind: \"wire-wrap\" is not one of \"internal\", \"gpio-sim\"");
  EXPECT_EQ(error_of("[rig]\nkind = \"sim\"\n[sim.wires]\nuart = \"/dev/ttyS1\"\npower = \"GPIO4\"\n"),
            "rig.toml:5: sim.wires.power: unknown key (expected one of: bootloader, kind, led, reset, "
            "safeboot, uart)");
}

TEST(RigFile, ShippedRigFilesAreValid) {
  for (const char* name : {"sim.toml", "pi4-expansion31.toml", "pi5-expansion31.toml"}) {
    SCOPED_TRACE(name);
    RigConfig rig = load_rig_file(std::filesystem::path(BOOTRIG_SOURCE_DIR) / "rigs" / name);
    EXPECT_FALSE(rig.name.empty());
  }
  for (const char* name : {"pi-on-gpio-sim.toml", "sim-gpio-sim.toml"}) {
    SCOPED_TRACE(name);
    RigConfig rig = load_rig_file(std::filesystem::path(BOOTRIG_SOURCE_DIR) / "tests/kernel/rigs" / name);
    EXPECT_FALSE(rig.name.empty());
  }
}

class RigSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("bootrig-rigsearch-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "cwd");
    std::filesystem::create_directories(dir / "home/.config/bootrig");
    env.cwd = dir / "cwd";
    env.home = (dir / "home").string();
    env.etc = dir / "etc-rig.toml";
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  void touch(const std::filesystem::path& p) { std::ofstream(p) << "[rig]\nkind = \"sim\"\n"; }
  std::filesystem::path dir;
  RigSearchEnv env;
};

TEST_F(RigSearch, FallsBackToBuiltInSimulator) {
  RigChoice c = choose_rig(std::nullopt, env);
  EXPECT_TRUE(c.path.empty());
  RigConfig rig = load_chosen_rig(c);
  EXPECT_EQ(rig.kind, RigKind::sim);
  EXPECT_EQ(rig.source, "<built-in>");
}

TEST_F(RigSearch, OrderIsCliEnvCwdHomeEtc) {
  touch(env.etc);
  EXPECT_EQ(choose_rig(std::nullopt, env).path, env.etc);
  touch(dir / "home/.config/bootrig/rig.toml");
  EXPECT_EQ(choose_rig(std::nullopt, env).why, "~/.config/bootrig/rig.toml");
  touch(dir / "cwd/bootrig.toml");
  EXPECT_EQ(choose_rig(std::nullopt, env).why, "./bootrig.toml");
  env.rig_env = "/from/env.toml";
  EXPECT_EQ(choose_rig(std::nullopt, env).path, "/from/env.toml");
  EXPECT_EQ(choose_rig(std::string("/from/cli.toml"), env).path, "/from/cli.toml");
}

TEST_F(RigSearch, AnExplicitMissingRigIsAnErrorNotTheSimulator) {
  env.rig_env = (dir / "missing.toml").string();
  RigChoice c = choose_rig(std::nullopt, env);
  EXPECT_THROW(load_chosen_rig(c), RigError);
}

}  // namespace
}  // namespace bootrig
