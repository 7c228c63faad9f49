// Registers every subcommand and runs the one that was selected.
#include "cli/commands.hpp"

#include <CLI/CLI.hpp>

namespace bootrig {

void register_commands(CLI::App& app, GlobalOptions& g) {
  // In the order `bootrig --help` lists them.
  add_run_command(app, g);
  add_list_command(app, g);
  add_describe_command(app, g);
  add_check_command(app, g);
  add_lines_command(app, g);
  add_ports_command(app, g);
  add_image_command(app, g);
  add_sim_command(app, g);
  add_flash_command(app, g);
  add_exec_command(app, g);
  add_fs_command(app, g);
  add_doctor_command(app, g);
  add_console_command(app, g);
  add_station_command(app, g);
  add_records_command(app, g);
}

int run_selected_command(CLI::App& app, GlobalOptions& g) {
  (void)app;
  return g.run ? g.run() : 2;
}

}  // namespace bootrig
