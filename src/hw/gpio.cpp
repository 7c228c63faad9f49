// Names for GPIO enums, and finding a line among the chips by name or by chip plus offset.
#include "bootrig/hw/gpio.hpp"

#include <algorithm>
#include <thread>

#include "bootrig/core/errors.hpp"

namespace bootrig {

const char* to_string(Level l) { return l == Level::active ? "active" : "inactive"; }
const char* to_string(Edge e) { return e == Edge::rising ? "rising" : "falling"; }
const char* to_string(Drive d) {
  switch (d) {
    case Drive::push_pull: return "push-pull";
    case Drive::open_drain: return "open-drain";
    case Drive::open_source: return "open-source";
  }
  return "?";
}
const char* to_string(Bias b) {
  switch (b) {
    case Bias::as_is: return "as-is";
    case Bias::disabled: return "disabled";
    case Bias::pull_up: return "pull-up";
    case Bias::pull_down: return "pull-down";
  }
  return "?";
}

std::string LineLocator::describe() const {
  std::string s;
  if (!name.empty()) s = "line '" + name + "'";
  if (!chip.empty() || offset) {
    if (!s.empty()) s += " ";
    s += "chip '" + (chip.empty() ? std::string("?") : chip) + "' offset " +
         (offset ? std::to_string(*offset) : std::string("?"));
  }
  return s.empty() ? "unspecified line" : s;
}

std::string ResolvedLine::describe() const {
  std::string s = chip_path + " offset " + std::to_string(offset);
  if (!line_name.empty()) s = line_name + " (" + s + ")";
  return s;
}

const ChipInfo* find_chip(const std::vector<ChipInfo>& chips, const std::string& chip) {
  if (chip.empty()) return nullptr;
  bool numeric = std::all_of(chip.begin(), chip.end(), [](char c) { return c >= '0' && c <= '9'; });
  // Path and name first: they are unique. A label can repeat across chips, so it comes last.
  for (const auto& c : chips) {
    if (c.path == chip || c.name == chip || (numeric && c.name == "gpiochip" + chip)) return &c;
  }
  for (const auto& c : chips) {
    if (!c.label.empty() && c.label == chip) return &c;
  }
  return nullptr;
}

namespace {
std::string chip_list(const std::vector<ChipInfo>& chips) {
  if (chips.empty()) return "no GPIO chips found (is /dev/gpiochip* readable?)";
  std::string s = "chips:";
  for (const auto& c : chips) s += " " + c.name + (c.label.empty() ? "" : " [" + c.label + "]");
  return s;
}
}  // namespace

ResolvedLine resolve_line(const std::vector<ChipInfo>& chips, const LineLocator& where) {
  if (!where.chip.empty() || where.offset) {
    if (where.chip.empty() || !where.offset)
      throw RigError(where.describe() + ": give both chip and offset, or a line name ('bootrig lines' lists them)");
    const ChipInfo* c = find_chip(chips, where.chip);
    if (!c) throw RigError("GPIO chip '" + where.chip + "' not found; " + chip_list(chips));
    if (*where.offset >= c->lines.size())
      throw RigError("GPIO chip " + c->name + " has " + std::to_string(c->lines.size()) + " lines; offset " +
                     std::to_string(*where.offset) + " is out of range");
    const std::string& actual = c->lines[*where.offset].name;
    // Both given: they must agree, or the rig file describes a different board than this one.
    if (!where.name.empty() && actual != where.name)
      throw RigError(where.describe() + ": that offset is named '" + actual + "' on this machine, not '" +
                     where.name + "'");
    return ResolvedLine{c->path, *where.offset, actual};
  }
  if (where.name.empty()) throw RigError("a GPIO line needs a name, or a chip and an offset");

  std::vector<ResolvedLine> found;
  for (const auto& c : chips)
    for (unsigned i = 0; i < c.lines.size(); ++i)
      if (c.lines[i].name == where.name) found.push_back(ResolvedLine{c.path, i, where.name});
  if (found.empty())
    throw RigError("GPIO line '" + where.name + "' not found on any chip; 'bootrig lines' lists the names (" +
                   chip_list(chips) + ")");
  if (found.size() > 1)
    throw RigError("GPIO line name '" + where.name + "' is on " + std::to_string(found.size()) +
                   " lines (" + found[0].describe() + ", " + found[1].describe() +
                   "); give chip and offset instead");
  return found.front();
}

void pulse(DigitalOutput& out, Duration width) {
  out.set(Level::active);
  try {
    wait_for(width);
  } catch (...) {
    out.set(Level::inactive);
    throw;
  }
  out.set(Level::inactive);
}

void pulse_on_exit_path(DigitalOutput& out, Duration width) {
  out.set(Level::active);
  // A plain sleep: wait_for() returns at once once bootrig is interrupted, which is when this pulse matters.
  std::this_thread::sleep_for(std::min<Duration>(width, seconds(1)));
  out.set(Level::inactive);
}

}  // namespace bootrig
