// Finds, loads and locks the rig for a command, checks the images its scenarios may flash, and says loudly
// when it is the simulator.
#include <spdlog/spdlog.h>

#include "bootrig/flash/ensure.hpp"
#include "bootrig/rig/rig_file.hpp"
#include "bootrig/scenario/scenario.hpp"
#include "bootrig/target/rig_lock.hpp"
#include "cli/commands.hpp"

namespace bootrig {

RigConfig load_rig(const GlobalOptions& g) {
  RigChoice choice = choose_rig(g.rig, current_rig_search_env());
  RigConfig rig = load_chosen_rig(choice);
  if (choice.path.empty()) {
    spdlog::warn("no rig file found (--rig, $BOOTRIG_RIG, ./bootrig.toml, ~/.config/bootrig/rig.toml, "
                 "/etc/bootrig/rig.toml): using the built-in SIMULATED module, not hardware");
  } else if (rig.kind == RigKind::sim) {
    spdlog::warn("rig {} ({}) is a SIMULATED module, not hardware", rig.source.string(), choice.why);
  } else {
    spdlog::info("rig {} ({})", rig.source.string(), choice.why);
  }
  return rig;
}

void check_scenario_images(const RigConfig& rig, const std::vector<Scenario*>& scenarios) {
  auto images = load_rig_images(rig);
  check_rig_images(rig, images);
  for (Scenario* s : scenarios) resolve_arrangement(s->info().arrangement, images, nullptr);
}

std::unique_ptr<RigLock> lock_rig(const RigConfig& rig, const GlobalOptions& g) {
  auto path = lock_path_for(rig);
  Duration wait = g.wait_lock.empty() ? Duration::zero() : parse_wait_duration(g.wait_lock, "--wait-lock");
  if (!path) return nullptr;
  return std::make_unique<RigLock>(*path, rig.name, wait);
}

}  // namespace bootrig
