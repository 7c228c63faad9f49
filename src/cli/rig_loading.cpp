// Finds and loads the rig for a command, and says loudly when it is the simulator.
#include <spdlog/spdlog.h>

#include "bootrig/rig/rig_file.hpp"
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

}  // namespace bootrig
