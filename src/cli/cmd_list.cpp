// `bootrig list`: the scenarios and what each proves.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "bootrig/scenario/scenario.hpp"
#include "cli/commands.hpp"

namespace bootrig {

void add_list_command(CLI::App& app, GlobalOptions& g) {
  auto* cmd = app.add_subcommand("list", "List the scenarios and what each proves");
  cmd->callback([&g] {
    g.run = [] {
      for (const auto& s : all_scenarios())
        std::printf("%-26s %s\n", s->info().name.c_str(), s->info().purpose.c_str());
      return 0;
    };
  });
}

}  // namespace bootrig
