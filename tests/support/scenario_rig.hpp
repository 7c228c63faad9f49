// Test support: the simulated rig that scenario tests run on, at half the firmware's timings.
#pragma once

#include <string>

#include "bootrig/rig/rig_config.hpp"
#include "bootrig/rig/rig_file.hpp"

namespace bootrig::testing {

// Half the firmware's timings: fast enough for the suite, slow enough that LED periods stay well apart
// from scheduling noise on a loaded 2-core machine (the shortest blink is 50 ms, judged within 30 %).
inline TimingProfile half_timing() {
  TimingProfile t;
  t.safeboot_recheck = milliseconds(50);
  t.window1_toggle = milliseconds(250);
  t.window2_toggle = milliseconds(125);
  t.final_toggle = milliseconds(50);
  t.final_duration = milliseconds(750);
  t.heartbeat_on = milliseconds(40);
  t.heartbeat_off = milliseconds(1960);
  t.rom_boot = milliseconds(30);
  t.app_start = milliseconds(100);
  t.banner_delay = milliseconds(40);
  t.reset_pulse = milliseconds(50);
  t.boot_timeout = milliseconds(8000);
  t.prompt_timeout = milliseconds(2000);
  t.led_tolerance_percent = 30;
  return t;
}

// The simulated firmware at half speed: the same numbers as half_timing(), kept apart so that what the
// module does and what the rig expects come from separate sources.
inline FirmwareTiming half_firmware() {
  FirmwareTiming t;
  t.safeboot_recheck = milliseconds(50);
  t.window1_toggle = milliseconds(250);
  t.window2_toggle = milliseconds(125);
  t.final_toggle = milliseconds(50);
  t.final_duration = milliseconds(750);
  t.heartbeat_on = milliseconds(40);
  t.heartbeat_off = milliseconds(1960);
  t.error_toggle = milliseconds(25);
  t.error_duration = milliseconds(600);
  t.rom_boot = milliseconds(30);
  t.app_start = milliseconds(100);
  t.banner_delay = milliseconds(40);
  return t;
}

inline RigConfig half_speed_sim_rig() {
  RigConfig rig = builtin_sim_rig();
  rig.name = "test sim (half timings)";
  rig.timing = half_timing();
  rig.sim.timing = half_firmware();
  rig.serial.settings.baud = 921600;
  return rig;
}

// For boots that are meant to hang: waiting the full boot time-out for each try (and for the restore's)
// would only make the test slow.
inline RigConfig hang_rig() {
  RigConfig rig = half_speed_sim_rig();
  rig.timing.boot_timeout = milliseconds(3000);
  return rig;
}

// The same rig as a rig file, for tests that run the binary.
inline std::string half_speed_sim_rig_toml() {
  return "[rig]\nkind = \"sim\"\nname = \"test sim (half timings)\"\n"
         "[serial]\nbaud = 921600\n"
         "[timing]\nsafeboot_recheck_ms = 50\nwindow1_toggle_ms = 250\nwindow2_toggle_ms = 125\n"
         "final_toggle_ms = 50\nfinal_duration_ms = 750\nheartbeat_on_ms = 40\nheartbeat_off_ms = 1960\n"
         "rom_boot_ms = 30\napp_start_ms = 100\nbanner_delay_ms = 40\nreset_pulse_ms = 50\n"
         "boot_timeout_ms = 8000\nprompt_timeout_ms = 2000\nled_tolerance_percent = 30\n"
         // [sim] stays the last table open (tests append [sim] keys): its firmware timings as an inline table.
         "[sim]\nfactory_version = \"1.20.2.r4\"\nota0_version = \"1.20.2.r6\"\nactive_slot = \"ota_0\"\n"
         "timing = { safeboot_recheck_ms = 50, window1_toggle_ms = 250, window2_toggle_ms = 125, "
         "final_toggle_ms = 50, final_duration_ms = 750, heartbeat_on_ms = 40, heartbeat_off_ms = 1960, "
         "error_toggle_ms = 25, error_duration_ms = 600, rom_boot_ms = 30, app_start_ms = 100, "
         "banner_delay_ms = 40 }\n";
}

}  // namespace bootrig::testing

#include <gtest/gtest.h>
#include <unistd.h>
#include <filesystem>
#include <functional>

#include "bootrig/repl/repl_client.hpp"
#include "bootrig/scenario/runner.hpp"
#include "bootrig/sim/sim_module.hpp"
#include "bootrig/target/target.hpp"
#include "support/run_folder_check.hpp"

namespace bootrig::testing {

// A throwaway run folder under the system's temp folder.
inline std::filesystem::path fresh_run_dir(const std::string& tag) {
  static int n = 0;
  auto d = std::filesystem::temp_directory_path() /
           ("bootrig-test-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
  std::filesystem::remove_all(d);
  return d;
}

// Waits until the simulated module has finished its power-on boot and sits at the REPL.
inline void wait_until_booted(Target& target) {
  Deadline up = Deadline::after(seconds(20));
  while (target.sim()->status().phase != SimPhase::repl && !up.expired()) wait_for(milliseconds(10));
}

// Sets faults on a running simulated module.
inline void inject_faults(Target& target, const std::function<void(SimFaults&)>& inject) {
  SimFaults f = target.sim()->faults();
  inject(f);
  target.sim()->set_faults(f);
}

// Runs one scenario on an open target, whose board lives on for the test to look at. `shown`, when given,
// sees the progress a user would.
inline ScenarioResult run_on(Target& target, const std::string& name, Progress* shown = nullptr) {
  RunFolder folder(fresh_run_dir(name));
  auto silent = make_silent_progress();
  Scenario* sc = find_scenario(name);
  RunOptions options;
  options.allow_destructive = true;  // named, as on the command line
  RunSummary run = run_scenarios(target, {sc}, options, folder, shown ? *shown : *silent);
  // Every run a test makes leaves files the real readers accept.
  if (auto c = check_run_folder(folder.path()); c.exit_code != 0) ADD_FAILURE() << c.out;
  std::filesystem::remove_all(folder.path());
  return run.scenarios.at(0);
}

// Runs one scenario on a fresh simulated target. `inject` may change the module's faults once it is up
// (the rule break then hits the check itself, not the preparation).
inline ScenarioResult run_one(const std::string& name, RigConfig rig = half_speed_sim_rig(),
                              const std::function<void(SimFaults&)>& inject = nullptr,
                              Progress* shown = nullptr) {
  auto target = Target::open(rig);
  if (inject) {
    // Faults go in once the first boot is done, so that they hit the check, not the preparation.
    wait_until_booted(*target);
    inject_faults(*target, inject);
  }
  return run_on(*target, name, shown);
}

// A file on the module's /flash as the board reads it through its REPL; "<none>" when there is none.
inline std::string board_file(Target& target, const std::string& path) {
  ReplClient repl(target.serial());
  if (!repl.get_prompt(Deadline::after(seconds(30)))) ADD_FAILURE() << "no prompt to read " << path;
  auto r = repl.exec_raw("try:\n print(open('" + path +
                             "').read(), end='')\nexcept OSError:\n print('<none>', end='')\n",
                         Deadline::after(seconds(10)));
  if (!r || r->exception) {
    ADD_FAILURE() << "could not read " << path;
    return {};
  }
  return r->output;
}

// Writes a file on the module's /flash through its REPL, as a user's own script would be there.
inline void put_board_file(Target& target, const std::string& path, const std::string& text) {
  ReplClient repl(target.serial());
  if (!repl.get_prompt(Deadline::after(seconds(30)))) ADD_FAILURE() << "no prompt to write " << path;
  auto r = repl.write_file(path, text, Deadline::after(seconds(10)));
  if (!r) ADD_FAILURE() << "could not write " << path << ": " << r.error().describe();
}

inline std::string outcome_text(const ScenarioResult& r) {
  std::string s = std::string(to_string(r.outcome)) + ": ";
  for (const auto& a : r.attempts) s += a.message + " | " + a.evidence + "\n";
  return s;
}

}  // namespace bootrig::testing
