// `bootrig describe NAME`: a scenario's steps, expectations, preconditions, whether it is destructive, and
// its typical duration.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "bootrig/core/errors.hpp"
#include "bootrig/scenario/scenario.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {
void print_list(const char* title, const std::vector<std::string>& items, bool numbered) {
  std::printf("%s\n", title);
  if (items.empty()) std::printf("  (none)\n");
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (numbered) std::printf("  %zu. %s\n", i + 1, items[i].c_str());
    else std::printf("  - %s\n", items[i].c_str());
  }
}
}  // namespace

void add_describe_command(CLI::App& app, GlobalOptions& g) {
  auto name = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("describe", "Show what a scenario does and expects");
  cmd->add_option("name", *name, "Scenario name (see 'bootrig list')")->required();
  cmd->callback([name, &g] {
    g.run = [name] {
      Scenario* s = find_scenario(*name);
      if (!s) throw RigError("no scenario named '" + *name + "'; 'bootrig list' shows the names");
      const ScenarioInfo& i = s->info();
      std::printf("%s: %s\n\n", i.name.c_str(), i.purpose.c_str());
      print_list("Steps:", i.steps, true);
      print_list("\nExpectations:", i.expectations, false);
      print_list("\nPreconditions:", i.preconditions, false);
      std::printf("\nFirmware: %s (the rig's [firmware] images; put on the board first when missing)\n",
                  i.arrangement.describe().c_str());
      if (i.destructive.empty())
        std::printf("\nDestructive: no\n");
      else
        std::printf(
            "\nDestructive: yes, %s; runs only when named on the command line, or with run --all "
            "--destructive\n",
            i.destructive.c_str());
      std::printf("\nTypical duration: %s\n", i.typical_duration.c_str());
      return 0;
    };
  });
}

}  // namespace bootrig
