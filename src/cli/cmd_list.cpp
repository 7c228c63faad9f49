// `bootrig list`: the scenarios, what each proves, and which destroy something (run only with consent).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "bootrig/scenario/scenario.hpp"
#include "cli/commands.hpp"

namespace bootrig {

void add_list_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("list", "List the scenarios and what each proves");
  cmd->callback([&g] {
    g.run = [] {
      for (const auto& s : all_scenarios()) {
        const ScenarioInfo& i = s->info();
        std::string mark = i.destructive.empty()
                               ? ""
                               : "  [DESTRUCTIVE: " + i.destructive + "; not in --all without --destructive]";
        std::printf("%-26s %s%s\n", i.name.c_str(), i.purpose.c_str(), mark.c_str());
      }
      return 0;
    };
  });
}

}  // namespace bootrig
