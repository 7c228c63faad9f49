// Builds the CLI11 application from the subcommand files and turns every failure into one line and an exit code.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "bootrig/cli/cli.hpp"
#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/core/signals.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

void setup_logging(const GlobalOptions& g) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto level = spdlog::level::info;
  if (g.verbosity > 1) level = spdlog::level::trace;
  else if (g.verbosity == 1) level = spdlog::level::debug;
  else if (g.quiet) level = spdlog::level::warn;
  console->set_level(level);
  std::vector<spdlog::sink_ptr> sinks{console};
  if (!g.log_file.empty()) {
    try {
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(g.log_file, false);
      file->set_level(spdlog::level::trace);  // the file keeps everything; -q only quiets the terminal
      sinks.push_back(file);
    } catch (const spdlog::spdlog_ex& e) {
      throw RigError("cannot open log file " + g.log_file + ": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("bootrig", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::trace);
  logger->set_pattern("%^%l%$: %v");
  // The log file is read after the fact, so it carries wall-clock times; the console stays terse.
  if (sinks.size() > 1) sinks[1]->set_pattern("%Y-%m-%dT%H:%M:%S.%f %l: %v");
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"bootrig: proves on real boards (or the built-in simulated module) that a Pycom module boots as documented"};
  app.require_subcommand(1);
  // Global options may come after the subcommand too: `bootrig run x -q` as well as `bootrig -q run x`.
  app.fallthrough();
  app.set_version_flag("--version", std::string("bootrig ") + BOOTRIG_VERSION + " (" + BOOTRIG_GPIOD_VERSION +
                                        ", libgpiod v" + std::to_string(BOOTRIG_GPIOD_API) + " API)");
  GlobalOptions g;
  app.add_option("--rig", g.rig, "Rig file (default: $BOOTRIG_RIG, ./bootrig.toml, ~/.config/bootrig/rig.toml, "
                                 "/etc/bootrig/rig.toml, else the built-in simulated module)");
  app.add_flag("-v,--verbose", g.verbosity, "More detail (repeat for trace)");
  app.add_flag("-q,--quiet", g.quiet, "Only warnings and errors");
  app.add_option("--log-file", g.log_file, "Also write the full log to this file");
  app.footer("Exit codes: 0 all passed, 1 a check failed, 2 rig or usage error, 3 interrupted.");

  register_commands(app, g);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::cerr << "bootrig: " << e.what() << " (see bootrig --help)\n";
    return static_cast<int>(ExitCode::rig_error);
  }

  // From here on, Ctrl-C and SIGTERM unwind the command (and release the lines) instead of killing it.
  SignalHandling signals;
  try {
    setup_logging(g);
    return run_selected_command(app, g);
  } catch (const Interrupted& e) {
    std::cerr << "bootrig: " << e.what() << "; lines released\n";
    return static_cast<int>(ExitCode::interrupted);
  } catch (const RigError& e) {
    std::cerr << "bootrig: " << e.what() << "\n";
    return static_cast<int>(ExitCode::rig_error);
  } catch (const CommandFailed& e) {
    std::cerr << "bootrig: " << e.what() << "\n";
    return static_cast<int>(ExitCode::check_failed);
  } catch (const std::exception& e) {
    // A bug, not a rig problem; still one line and a defined code rather than an abort.
    std::cerr << "bootrig: internal error: " << e.what() << "\n";
    return static_cast<int>(ExitCode::rig_error);
  }
}

}  // namespace bootrig
