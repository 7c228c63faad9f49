// Benchmark: each scenario's wall time on the simulated module (the firmware's real timings) against its
// physical minimum, and the safe-boot scenarios beside the alternative a script would use (P12 released at
// fixed times, bootrig's own no-photodiode path), interleaved round by round.
//
// The minimum comes from the device alone: the boots each check must cause (its documented steps: the
// firmware's reset pulse, ROM boot, safe-boot re-check and windows, app start and banner delay, as the
// simulator runs them) plus the line time, full duplex, of the bytes the attempt moved. It does not look at
// bootrig's steps: what bootrig waits for inside a step (prompt timeouts, LED evidence) is its own time.
// Wall time runs from before run_scenarios() to after it (restore included); for the first scenario after
// power-on from before Target::open().
//
// usage: bench_scenarios [--rounds N] [--slow-rounds N] [--rig RIG] [NAME...]
//        (markdown on stdout, progress on stderr; --slow-rounds: rounds of the slow scenarios, the OTA ones and
//        recover-stuck-main, 10-30 s an attempt; default --rounds)
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "bench_support.hpp"
#include "bootrig/core/escape.hpp"
#include "bootrig/flash/ensure.hpp"
#include "bootrig/observe/timeline.hpp"
#include "bootrig/rig/rig_file.hpp"
#include "bootrig/scenario/runner.hpp"
#include "bootrig/target/target.hpp"

using namespace bootrig;

namespace {

double secs(Duration d) { return std::chrono::duration<double>(d).count(); }

// The device's share of one check, from the firmware's timings (rigs/sim.toml leaves them at
// firmware 1.20's).
struct DeviceModel {
  FirmwareTiming f;
  milliseconds pulse;  // the rig's RESET pulse, which the module must see
  double ms(milliseconds m) const { return static_cast<double>(m.count()) / 1000.0; }
  // Reset released: ROM, bootloader (P12 low at its first read: no re-check), app, banner.
  double hard_boot() const { return ms(pulse) + ms(f.rom_boot) + ms(f.app_start) + ms(f.banner_delay); }
  double power_on() const { return ms(f.rom_boot) + ms(f.app_start) + ms(f.banner_delay); }
  // machine.reset(): a software reset, no pulse.
  double soft_cpu_reset() const { return power_on(); }
  // Ctrl-D or sys.exit(): "soft reboot", 5 ms, the scripts, the banner delay.
  double soft_reboot() const { return 0.005 + ms(f.banner_delay); }
  // P12 read high twice, then the windows until the first moment a release means the wanted one; the
  // firmware notices a release at the end of the iteration it falls in (bootmgr.c wait_while_blinking).
  double safe_boot(int window) const {
    double t = ms(pulse) + ms(f.rom_boot) + ms(f.safeboot_recheck);
    if (window == 1) t += ms(f.window1_toggle);
    if (window == 2) t += ms(f.window1_toggle) * f.window1_iterations + ms(f.window2_toggle);
    if (window == 3)
      t += ms(f.window1_toggle) * f.window1_iterations + ms(f.window2_toggle) * f.window2_iterations +
           ms(f.final_duration);
    return t + ms(f.app_start) + ms(f.banner_delay);
  }
  // A stuck main.py shows itself once the app started (its marker line).
  double boot_to_main() const { return ms(pulse) + ms(f.rom_boot) + ms(f.app_start); }
  // A cable flash: RESET with P2 low into the ROM's download mode, then a reset out of it into the app (the
  // bytes in between are line time).
  double cable_flash() const { return ms(pulse) + ms(f.rom_boot) + hard_boot(); }
  // An OTA update ends with a reset into the image it wrote.
  double ota_flash() const { return hard_boot(); }
  // The heartbeat starts with the app, before the banner delay; one whole period proves it.
  double heartbeat_after_prompt() const {
    return std::max(0.0, ms(f.heartbeat_on) + ms(f.heartbeat_off) - ms(f.banner_delay));
  }
};

struct DeviceShare {
  double boots = 0;         // seconds the device needs for the boots the check causes
  double overlappable = 0;  // device time the line may overlap (the heartbeat shown while facts are read)
  std::string what;
};

// Every check ends with its restore: the scripts put back and one more boot. `cable`: the rig has P2 wired,
// so ota-broken-recover reinstates the good image by cable rather than by OTA.
std::optional<DeviceShare> device_share(const std::string& name, const DeviceModel& d, bool cable = true) {
  const double restore = d.hard_boot();
  if (name == "normal-boot")
    return DeviceShare{d.hard_boot() + restore, d.heartbeat_after_prompt(), "2 boots + one heartbeat period"};
  if (name == "safeboot-window1")
    return DeviceShare{d.safe_boot(1) + restore, 0, "window-1 safe boot + boot"};
  if (name == "safeboot-window2")
    return DeviceShare{d.safe_boot(2) + restore, 0, "window-2 safe boot + boot"};
  if (name == "safeboot-factory") return DeviceShare{d.safe_boot(3) + restore, 0, "factory safe boot + boot"};
  if (name == "safeboot-not-persistent")
    return DeviceShare{d.safe_boot(2) + d.hard_boot() + restore, 0, "window-2 safe boot + 2 boots"};
  if (name == "soft-reset-ctrl-d") return DeviceShare{d.soft_reboot() + restore, 0, "soft reboot + boot"};
  if (name == "soft-reset-sys-exit")
    return DeviceShare{2 * d.hard_boot() + 2 * d.soft_reboot(), 0, "2 boots + 2 soft reboots"};
  if (name == "hard-reset-pin") return DeviceShare{d.hard_boot() + restore, 0, "2 boots"};
  if (name == "hard-reset-machine") return DeviceShare{d.soft_cpu_reset() + restore, 0, "CPU reset + boot"};
  if (name == "factory-reset") return DeviceShare{d.hard_boot() + restore, 0, "2 boots"};
  if (name == "recover-stuck-main")
    return DeviceShare{2 * (d.boot_to_main() + d.safe_boot(1) + d.hard_boot()) + restore, 0,
                       "2 x (boot to main.py + window-1 safe boot + boot) + boot"};
  // The bootloader's verification of the rejected image is part of its boot (the simulated flash reads
  // instantly); the image's bytes are line time.
  if (name == "ota-rollback-invalid")
    return DeviceShare{d.hard_boot() + restore, 0, "reset into the rejected update (the bootloader rolls back) + boot"};
  if (name == "ota-broken-recover")
    return DeviceShare{d.ota_flash() + d.safe_boot(2) + (cable ? d.cable_flash() : d.ota_flash()) + d.hard_boot() +
                           restore,
                       0,
                       std::string("the update's boot + window-2 safe boot + reinstating by ") +
                           (cable ? "cable (into download mode and out)" : "OTA (its reset)") + " + 2 boots"};
  return std::nullopt;
}

// Bytes the attempt moved each way; the ROM's boot lines are left out of rx: they cross during the ROM's
// own boot time, which the device share already counts.
struct LineBytes {
  std::uint64_t tx = 0, rx = 0;
};
LineBytes line_bytes(const std::filesystem::path& events_file) {
  LineBytes b;
  std::string rx;
  for (const auto& e : read_events(events_file)) {
    if (e.value("kind", "") != "serial") continue;
    if (e.value("dir", "") == "tx")
      b.tx += e["n"].get<std::uint64_t>();
    else
      rx += unescape_bytes(e.value("data", ""));
  }
  std::size_t rom = 0;
  for (std::size_t at = rx.find("ets Jun"); at != std::string::npos; at = rx.find("ets Jun", at + 1)) {
    std::size_t end = rx.find("entry 0x", at);
    if (end == std::string::npos) break;
    end = rx.find('\n', end);
    if (end == std::string::npos) break;
    rom += end + 1 - at;
  }
  b.rx = rx.size() - rom;
  return b;
}

struct Figures {
  bench::Spread wall, ratio, device_ratio;
  double line = 0;     // of the last round
  double minimum = 0;  // of the last round (the line share varies a little with retries)
  std::string outcome, what;
};

struct Side {
  RigConfig rig;
  std::unique_ptr<Target> target;
  std::filesystem::path out;
  int attempts = 0;  // each attempt writes a run folder of its own
};

// One attempt of one scenario; `powered` is when the module was powered when this is the first scenario.
void attempt(Side& side, Scenario* s, const DeviceModel& model, std::optional<TimePoint> powered,
             Figures& fig) {
  RunFolder folder(side.out / std::to_string(++side.attempts));
  auto progress = make_silent_progress();
  RunOptions options;
  options.allow_destructive = true;  // the benchmark times every scenario, factory-reset included
  const TimePoint t0 = powered.value_or(now());
  RunSummary run = run_scenarios(*side.target, {s}, options, folder, *progress);
  const TimePoint t1 = now();
  const ScenarioResult& r = run.scenarios.at(0);
  LineBytes b = line_bytes(folder.attempt_dir(0, r.name, 1) / "events.jsonl");
  const double line = static_cast<double>(std::max(b.tx, b.rx)) * 10.0 / side.rig.serial.settings.baud;
  DeviceShare d = *device_share(r.name, model, side.target->bootloader() != nullptr);
  // What bootrig flashed to arrange the check (an image the check needs was not on the board) costs the
  // device its flash's resets; the bytes are in the line already.
  for (const auto& a : r.attempts) {
    if (!a.firmware) continue;
    for (const auto& f : a.firmware->flashed) {
      const bool by_cable = f.method == to_string(FlashMethod::cable);
      d.boots += by_cable ? model.cable_flash() : model.ota_flash();
      d.what += std::string(" + arranging: ") + f.image + " by " + f.method;
    }
  }
  const double device = d.boots + d.overlappable + (powered ? model.power_on() : 0.0);
  const double minimum = d.boots + std::max(d.overlappable, line) + (powered ? model.power_on() : 0.0);
  fig.wall.add(secs(t1 - t0));
  fig.ratio.add(secs(t1 - t0) / minimum);
  fig.device_ratio.add(secs(t1 - t0) / device);
  fig.minimum = minimum;
  fig.line = line;
  fig.what = d.what + (powered ? " + power-on boot" : "") + " + line " + std::to_string(b.tx) + " B tx / " +
             std::to_string(b.rx) + " B rx";
  if (fig.outcome.empty() || r.outcome != Outcome::pass) fig.outcome = to_string(r.outcome);
  std::filesystem::remove_all(folder.path());
  std::fprintf(stderr, "bench_scenarios: %-26s %s %6.2f s (minimum %.2f s)\n", r.name.c_str(),
               side.rig.sim.photodiode ? "photodiode   " : "fixed release", secs(t1 - t0), minimum);
}

// The scenarios whose P12 release the photodiode guides (recover-stuck-main's window-1 release too, but its
// 18 s would not fit the 15 minutes of the whole run).
bool is_safe_boot(const std::string& name) { return name.rfind("safeboot-", 0) == 0; }

}  // namespace

int main(int argc, char** argv) {
  int rounds = 3;
  // The slow scenarios take 10-30 s an attempt and vary by a few hundredths of that from round to round:
  // fewer rounds of them keep the whole run (cmake/dev.sh bench) short.
  int slow_rounds = -1;
  std::filesystem::path rig_path = std::filesystem::path(BOOTRIG_BENCH_SOURCE_DIR) / "rigs/sim.toml";
  std::vector<Scenario*> chosen;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--slow-rounds") && i + 1 < argc)
      slow_rounds = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--rig") && i + 1 < argc)
      rig_path = argv[++i];
    else if (Scenario* s = find_scenario(argv[i]))
      chosen.push_back(s);
    else {
      std::fprintf(
          stderr,
          "bench_scenarios: no scenario '%s'; usage: bench_scenarios [--rounds N] [--slow-rounds N] [--rig RIG] "
          "[NAME...]\n",
          argv[i]);
      return 2;
    }
  }
  // By default every scenario the device model knows; the others are named in the output.
  std::vector<std::string> unmodelled;
  if (chosen.empty())
    for (const auto& s : all_scenarios()) {
      if (device_share(s->info().name, DeviceModel{}))
        chosen.push_back(s.get());
      else
        unmodelled.push_back(s->info().name);
    }
  for (Scenario* s : chosen)
    if (!device_share(s->info().name, DeviceModel{})) {
      std::fprintf(stderr, "bench_scenarios: %s has no device model yet: its minimum is unknown\n",
                   s->info().name.c_str());
      return 2;
    }

  if (slow_rounds < 0) slow_rounds = rounds;
  auto is_slow = [](const std::string& name) {
    return name.rfind("ota-", 0) == 0 || name == "recover-stuck-main";
  };
  RigConfig rig = load_rig_file(rig_path);
  const DeviceModel model{rig.sim.timing, rig.timing.reset_pulse};
  const auto base =
      std::filesystem::temp_directory_path() / ("bootrig-bench-scenarios-" + std::to_string(::getpid()));

  // Interleaved: in each round every scenario runs with the photodiode, and each safe-boot one right after
  // it without (P12 released at the nominal middle of the window), each side on its own freshly powered
  // module. The first scenario of a round is timed from power-on, as a user's first check is.
  std::map<std::string, Figures> ours, fixed;
  Figures first;
  const std::string first_name = chosen.front()->info().name;
  // Each side keeps its module powered across the rounds (what it flashes in round 1 stays put); each round
  // also powers a module of its own for the first scenario, timed from power-on.
  Side with{rig, nullptr, base / "photodiode"};
  Side without{rig, nullptr, base / "fixed"};
  without.rig.sim.photodiode = false;
  for (Side* side : {&with, &without}) {
    side->target = Target::open(side->rig);
    // Given its power-on boot before its first scenario: that is not what it is timed for.
    wait_for(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(model.power_on() + 0.2)));
  }
  for (int round = 0; round < rounds; ++round) {
    {
      Side cold{rig, nullptr, base / ("cold-" + std::to_string(round))};
      const TimePoint powered = now();
      cold.target = Target::open(cold.rig);
      attempt(cold, chosen.front(), model, powered, first);
    }
    for (Scenario* scenario : chosen) {
      const std::string name = scenario->info().name;
      if (is_slow(name) && round >= slow_rounds) continue;
      attempt(with, scenario, model, std::nullopt, ours[name]);
      if (is_safe_boot(name)) attempt(without, scenario, model, std::nullopt, fixed[name]);
    }
  }
  std::filesystem::remove_all(base);

  std::printf(
      "| scenario | outcome | wall s, median (min-max) | minimum s (of it line) | wall / minimum, median "
      "(min-max) | "
      "target 1.02 | wall / device share alone | fixed-time release: wall s | its wall / minimum | bootrig / "
      "fixed (of wall / minimum) |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  auto row = [&](const std::string& label, const Figures& f, const Figures* alt) {
    std::printf("| %s | %s | %s | %.2f (%.2f) | %s | %s | %.3f |", label.c_str(), f.outcome.c_str(),
                f.wall.text(2).c_str(), f.minimum, f.line, f.ratio.text(3).c_str(),
                f.ratio.median() < 1.0
                    ? "**below the minimum**: the check did less than its steps say (see below)"
                    : bench::verdict(f.ratio.median() <= 1.02),
                f.device_ratio.median());
    if (alt && !alt->wall.empty())
      std::printf(" %s | %s | %.3f |\n", alt->wall.text(2).c_str(), alt->ratio.text(3).c_str(),
                  f.ratio.median() / alt->ratio.median());
    else
      std::printf(" - | - | - |\n");
  };
  row(first_name + " (first after power-on)", first, nullptr);
  double all_wall = 0, all_min = 0;
  for (Scenario* s : chosen) {
    const std::string name = s->info().name;
    const Figures& f = ours[name];
    row(name, f, fixed.count(name) ? &fixed[name] : nullptr);
    all_wall += f.wall.median();
    all_min += f.minimum;
  }
  std::printf("| **all (medians)** | | %.2f | %.2f | **%.3f** | %s | | | | |\n", all_wall, all_min,
              all_wall / all_min, bench::verdict(all_wall / all_min <= 1.02));
  if (slow_rounds < rounds) {
    bool any = false;
    for (Scenario* s : chosen) any = any || is_slow(s->info().name);
    if (any)
      std::printf("\nThe slow scenarios (OTA, recover-stuck-main) ran %d round%s of the %d (10-30 s an attempt; "
                  "--slow-rounds): their "
                  "median is of %s.\n",
                  slow_rounds, slow_rounds == 1 ? "" : "s", rounds, slow_rounds == 1 ? "one run" : "those rounds");
  }
  if (!unmodelled.empty()) {
    std::printf("\nNot timed: no device model yet for");
    for (const auto& n : unmodelled) std::printf(" `%s`", n.c_str());
    std::printf(".\n");
  }
  std::printf("\nWhat each minimum holds (device share from the firmware's timings, then the line):\n\n");
  std::printf("| scenario | device share | \n|---|---|\n");
  std::printf("| %s (first after power-on) | %s |\n", first_name.c_str(), first.what.c_str());
  for (Scenario* s : chosen)
    std::printf("| %s | %s |\n", s->info().name.c_str(), ours[s->info().name].what.c_str());
  return 0;
}
