// The subcommands, one file each (src/cli/cmd_*.cpp), and the options they share.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace bootrig {

struct RigConfig;
class RigLock;
class Scenario;

struct GlobalOptions {
  std::optional<std::string> rig;
  int verbosity = 0;
  bool quiet = false;
  std::string log_file;
  std::string command_line;  // as typed, for the run's records
  std::string wait_lock;     // --wait-lock DURATION: how long to wait for a rig another bootrig holds
  // Set by the subcommand that CLI11 selected; returns the exit code.
  std::function<int()> run;
};

// Resolves and loads the rig (--rig, environment, standard places, else the built-in simulator) and says
// loudly when it is the simulator.
RigConfig load_rig(const GlobalOptions& g);

// Takes the rig's lock (target/rig_lock.hpp) for a command that drives the board, waiting as --wait-lock
// says; null when the rig is not locked (a simulated rig whose file names no lock).
std::unique_ptr<RigLock> lock_rig(const RigConfig& rig, const GlobalOptions& g);

// Every image the scenarios may flash is read and validated before the board is touched: a bad one is an
// ERROR (exit 2) with nothing written.
void check_scenario_images(const RigConfig& rig, const std::vector<Scenario*>& scenarios);

// Copies a line the console shows by other means (progress, results printed on stdout) to the --log-file, so
// that the file holds everything the console showed; nothing without --log-file.
void log_to_file(const std::string& line);
// Prints a line on stdout and copies it to the log file.
void say(const std::string& line);

void register_commands(CLI::App& app, GlobalOptions& g);
int run_selected_command(CLI::App& app, GlobalOptions& g);

// One per file.
void add_check_command(CLI::App& app, GlobalOptions& g);
void add_ports_command(CLI::App& app, GlobalOptions& g);
void add_lines_command(CLI::App& app, GlobalOptions& g);
void add_image_command(CLI::App& app, GlobalOptions& g);
void add_run_command(CLI::App& app, GlobalOptions& g);
void add_list_command(CLI::App& app, GlobalOptions& g);
void add_describe_command(CLI::App& app, GlobalOptions& g);
void add_sim_command(CLI::App& app, GlobalOptions& g);
void add_flash_command(CLI::App& app, GlobalOptions& g);
void add_exec_command(CLI::App& app, GlobalOptions& g);
void add_fs_command(CLI::App& app, GlobalOptions& g);
void add_doctor_command(CLI::App& app, GlobalOptions& g);
void add_console_command(CLI::App& app, GlobalOptions& g);
void add_station_command(CLI::App& app, GlobalOptions& g);
void add_records_command(CLI::App& app, GlobalOptions& g);

}  // namespace bootrig
