// `bootrig lines`: the GPIO chips and lines on this machine, so a rig file can name its lines correctly.
#include "cli/cmd_lines.hpp"

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/gpiod.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

const char* direction_of(const LineInfo& l) { return l.output ? "output" : "input"; }

std::string user_of(const LineInfo& l) {
  if (!l.used) return "-";
  return l.consumer.empty() ? std::string("used") : "used by \"" + l.consumer + "\"";
}

std::string chip_heading(const ChipInfo& c) {
  std::string s = c.name;
  if (!c.label.empty()) s += " [" + c.label + "]";
  return s + " " + c.path + ", " + std::to_string(c.lines.size()) +
         (c.lines.size() == 1 ? " line" : " lines");
}

std::string known_chips(const std::vector<ChipInfo>& chips) {
  std::string s;
  for (const auto& c : chips) {
    if (!s.empty()) s += ", ";
    s += c.name + (c.label.empty() ? "" : " [" + c.label + "]");
  }
  return s;
}

}  // namespace

std::string format_lines_text(const std::vector<ChipInfo>& chips) {
  std::ostringstream out;
  for (std::size_t ci = 0; ci < chips.size(); ++ci) {
    const ChipInfo& c = chips[ci];
    if (ci > 0) out << "\n";
    out << chip_heading(c) << "\n";
    std::size_t name_width = 4;
    for (const auto& l : c.lines) name_width = std::max(name_width, l.name.size());
    out << "  " << std::setw(6) << std::right << "offset"
        << "  " << std::setw(static_cast<int>(name_width)) << std::left << "name"
        << "  " << std::setw(9) << "direction"
        << "  user\n";
    for (std::size_t i = 0; i < c.lines.size(); ++i) {
      const LineInfo& l = c.lines[i];
      out << "  " << std::setw(6) << std::right << i << "  " << std::setw(static_cast<int>(name_width))
          << std::left << (l.name.empty() ? "-" : l.name) << "  " << std::setw(9) << direction_of(l) << "  "
          << user_of(l) << "\n";
    }
  }
  return out.str();
}

nlohmann::json lines_json(const std::vector<ChipInfo>& chips, const std::string& libgpiod) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& c : chips) {
    nlohmann::json lines = nlohmann::json::array();
    for (std::size_t i = 0; i < c.lines.size(); ++i) {
      const LineInfo& l = c.lines[i];
      lines.push_back(
          {{"offset", i},
           {"name", l.name.empty() ? nlohmann::json(nullptr) : nlohmann::json(l.name)},
           {"used", l.used},
           {"consumer", l.consumer.empty() ? nlohmann::json(nullptr) : nlohmann::json(l.consumer)},
           {"direction", direction_of(l)}});
    }
    arr.push_back({{"name", c.name},
                   {"label", c.label},
                   {"path", c.path},
                   {"num_lines", c.lines.size()},
                   {"lines", std::move(lines)}});
  }
  return nlohmann::json{{"libgpiod", libgpiod}, {"chips", std::move(arr)}};
}

int run_lines(GpioBackend& backend, const LinesOptions& opts, std::ostream& out) {
  std::vector<ChipInfo> chips = backend.chips();
  if (!opts.chip.empty()) {
    const ChipInfo* c = find_chip(chips, opts.chip);
    if (!c) {
      if (chips.empty())
        throw RigError("GPIO chip '" + opts.chip + "' not found: there are no GPIO chips in /dev");
      throw RigError("GPIO chip '" + opts.chip + "' not found; this machine has " + known_chips(chips));
    }
    chips = {*c};
  }

  if (opts.json) {
    out << lines_json(chips, gpiod_api_description()).dump(2) << "\n";
    return static_cast<int>(ExitCode::ok);
  }
  if (chips.empty()) {
    out << "no GPIO chips found in /dev (expected on machines without GPIO; the simulated module needs "
           "none)\n";
    return static_cast<int>(ExitCode::ok);
  }
  out << format_lines_text(chips);
  return static_cast<int>(ExitCode::ok);
}

void add_lines_command(CLI::App& app, GlobalOptions& g) {
  auto opts = std::make_shared<LinesOptions>();
  CLI::App* sub =
      app.add_subcommand("lines", "List GPIO chips and their lines (the names a rig file can use)");
  sub->add_option("--chip", opts->chip, "Only this chip: name (gpiochip0), number, label or path");
  sub->add_flag("--json", opts->json, "Machine-readable output");
  sub->callback([&g, opts] {
    g.run = [opts] {
      spdlog::debug("GPIO through {}", gpiod_api_description());
      auto backend = make_gpiod_backend();
      return run_lines(*backend, *opts, std::cout);
    };
  });
}

}  // namespace bootrig
