// Builds the CLI11 application from the subcommand files and turns every failure into one line and an exit code.
#include <CLI/CLI.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "bootrig/cli/cli.hpp"
#include "bootrig/core/errors.hpp"
#include "bootrig/core/escape.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/core/signals.hpp"
#include "bootrig/core/time.hpp"
#include "bootrig/report/writers.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

// The log file's copy of what the console shows by other means (progress lines, printed results); null
// without --log-file.
std::shared_ptr<spdlog::logger> g_file_log;

// "%*" in the log file's pattern: CLOCK_MONOTONIC in seconds, the clock of every "t" in events.jsonl, so that
// a log line and the run's timeline can be put side by side.
class MonotonicFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    auto ns = to_ns(now());
    char buf[40];
    int n = std::snprintf(buf, sizeof buf, "%lld.%06lld", static_cast<long long>(ns / 1'000'000'000),
                          static_cast<long long>(ns % 1'000'000'000 / 1000));
    dest.append(buf, buf + n);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<MonotonicFlag>(); }
};

void setup_logging(const GlobalOptions& g) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto level = spdlog::level::info;
  if (g.verbosity > 1) level = spdlog::level::trace;
  else if (g.verbosity == 1) level = spdlog::level::debug;
  else if (g.quiet) level = spdlog::level::warn;
  console->set_level(level);
  console->set_pattern("%^%l%$: %v");
  std::vector<spdlog::sink_ptr> sinks{console};
  g_file_log.reset();
  if (!g.log_file.empty()) {
    // spdlog would create a missing folder; a mistyped path must be an error instead.
    check_output_file(g.log_file, "--log-file");
    std::shared_ptr<spdlog::sinks::basic_file_sink_mt> file;
    try {
      file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(g.log_file, false);
    } catch (const spdlog::spdlog_ex& e) {
      throw RigError("--log-file " + g.log_file + ": cannot open it: " + e.what());
    }
    file->set_level(spdlog::level::trace);  // the file keeps everything; -q only quiets the terminal
    // Read after the fact: wall-clock time with its zone, and the monotonic time of the timelines.
    auto f = std::make_unique<spdlog::pattern_formatter>();
    f->add_flag<MonotonicFlag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%f%z %* %l: %v");
    file->set_formatter(std::move(f));
    sinks.push_back(file);
    g_file_log = std::make_shared<spdlog::logger>("bootrig-file", file);
    g_file_log->set_level(spdlog::level::trace);
    g_file_log->flush_on(spdlog::level::trace);
  }
  auto logger = std::make_shared<spdlog::logger>("bootrig", sinks.begin(), sinks.end());
  // Detail nobody will see is not even formatted.
  logger->set_level(g_file_log ? spdlog::level::trace : level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

// The command line as typed, quoted where a shell would need it, for the run's records.
std::string quoted_command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    bool plain = !a.empty() && a.find_first_not_of(
                                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                   "-_./=:,+@%") == std::string::npos;
    if (!plain) {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    s += (i ? " " : "") + a;
  }
  return s;
}

}  // namespace

void log_to_file(const std::string& line) {
  if (g_file_log) g_file_log->info("{}", line);
}

void say(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
  log_to_file(line);
}

namespace {
int fail_with(const std::string& what, ExitCode code) {
  std::cerr << "bootrig: " << what << "\n";
  log_to_file("bootrig: " + what + " (exit code " + std::to_string(static_cast<int>(code)) + ")");
  return static_cast<int>(code);
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
  g.command_line = quoted_command_line(argc, argv);
  app.add_option("--rig", g.rig, "Rig file (default: $BOOTRIG_RIG, ./bootrig.toml, ~/.config/bootrig/rig.toml, "
                                 "/etc/bootrig/rig.toml, else the built-in simulated module)");
  app.add_flag("-v,--verbose", g.verbosity, "More detail (repeat for trace)");
  app.add_flag("-q,--quiet", g.quiet, "Only warnings and errors");
  app.add_option("--log-file", g.log_file,
                 "Also write everything the console shows, with debug detail and wall-clock and monotonic "
                 "times, to this file (appended; its folder must exist)");
  app.add_option("--wait-lock", g.wait_lock,
                 "When another bootrig holds the rig, wait up to this long for it (30s, 10m, 1h); default: "
                 "exit 2 at once, naming the holder");
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
    return fail_with(std::string(e.what()) + "; lines released", ExitCode::interrupted);
  } catch (const RigError& e) {
    return fail_with(e.what(), ExitCode::rig_error);
  } catch (const CommandFailed& e) {
    return fail_with(e.what(), ExitCode::check_failed);
  } catch (const std::exception& e) {
    // A bug, not a rig problem; still one line and a defined code rather than an abort.
    return fail_with(std::string("internal error: ") + e.what(), ExitCode::rig_error);
  }
}

}  // namespace bootrig
