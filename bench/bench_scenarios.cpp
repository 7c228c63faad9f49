// Benchmark: each scenario's wall time on the simulated module with the firmware's real timings, against its
// physical minimum (the waits the device imposes plus the serial line time of every byte exchanged).
//
// usage: bench_scenarios [RIG] [NAME...]     (default rig: rigs/sim.toml beside the sources; all scenarios)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "bootrig/observe/timeline.hpp"
#include "bootrig/rig/rig_file.hpp"
#include "bootrig/scenario/runner.hpp"
#include "bootrig/target/target.hpp"

using namespace bootrig;

namespace {

// Steps in which bootrig only waits for the device: a reset pulse, a boot, a safe-boot window, the LED, a
// deliberate wait proving the REPL stays unreachable.
bool device_wait(const std::string& step) {
  for (const char* p : {"RESET pulse", "wait for the boot", "release P12 in", "watch the heartbeat", "soft reset",
                        "type ", "wait for a main.py", "try for the prompt"})
    if (step.rfind(p, 0) == 0) return true;
  return false;
}

struct Cost {
  double wall = 0, waits = 0, line = 0;
};

Cost cost_of(const std::filesystem::path& events_file, unsigned baud) {
  auto events = read_events(events_file);
  Cost c;
  if (events.empty()) return c;
  std::int64_t first = events.front()["t"], last = events.back()["t"];
  c.wall = static_cast<double>(last - first) / 1e9;
  std::map<std::string, std::int64_t> open;
  int depth = 0;
  std::uint64_t bytes_outside = 0;
  for (const auto& e : events) {
    std::string kind = e["kind"];
    if (kind == "step_start" && device_wait(e["step"])) {
      open[e["step"]] = e["t"];
      ++depth;
    } else if (kind == "step_end" && device_wait(e["step"]) && open.count(e["step"])) {
      c.waits += static_cast<double>(e["t"].get<std::int64_t>() - open[e["step"]]) / 1e9;
      open.erase(e["step"]);
      --depth;
    } else if (kind == "serial" && depth == 0) {
      bytes_outside += e["n"].get<std::uint64_t>();
    }
  }
  c.line = static_cast<double>(bytes_outside) * 10.0 / baud;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path rig_path = argc > 1 ? argv[1] : std::filesystem::path(BOOTRIG_BENCH_SOURCE_DIR) / "rigs/sim.toml";
  RigConfig rig = load_rig_file(rig_path);
  std::vector<Scenario*> chosen;
  for (int i = 2; i < argc; ++i)
    if (Scenario* s = find_scenario(argv[i])) chosen.push_back(s);
  if (chosen.empty())
    for (const auto& s : all_scenarios()) chosen.push_back(s.get());

  auto out = std::filesystem::temp_directory_path() / ("bootrig-bench-scenarios-" + std::to_string(::getpid()));
  auto target = Target::open(rig);
  RunFolder folder(out);
  auto progress = make_silent_progress();
  std::printf("%-26s %8s %8s %8s %8s %8s %7s\n", "scenario", "outcome", "wall s", "waits s", "line s", "min s", "ratio");
  double total_wall = 0, total_min = 0;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    RunOptions options;
    options.allow_destructive = true;  // the benchmark times every scenario, factory-reset included
    RunSummary run = run_scenarios(*target, {chosen[i]}, options, folder, *progress);
    const ScenarioResult& r = run.scenarios.at(0);
    // run_scenarios numbers its one scenario 01 in each call: the folder is reused, so read it now.
    Cost c = cost_of(folder.attempt_dir(0, r.name, 1) / "events.jsonl", rig.serial.settings.baud);
    double min = c.waits + c.line;
    std::printf("%-26s %8s %8.2f %8.2f %8.2f %8.2f %7.3f\n", r.name.c_str(), to_string(r.outcome), c.wall, c.waits,
                c.line, min, min > 0 ? c.wall / min : 0.0);
    std::fflush(stdout);
    total_wall += c.wall;
    total_min += min;
    std::filesystem::remove_all(folder.path() / folder.scenario_dir_name(0, r.name));
  }
  std::printf("%-26s %8s %8.2f %8s %8s %8.2f %7.3f\n", "all", "", total_wall, "", "", total_min, total_wall / total_min);
  std::filesystem::remove_all(out);
  return 0;
}
