// Names for serial enums, and choosing the port a rig file means among those the OS lists.
#include "bootrig/hw/serial.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "bootrig/core/errors.hpp"

namespace bootrig {

const char* to_string(FlowControl f) {
  switch (f) {
    case FlowControl::none:
      return "none";
    case FlowControl::rtscts:
      return "rtscts";
    case FlowControl::xonxoff:
      return "xonxoff";
  }
  return "?";
}

namespace {
std::string hex4(std::uint16_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "%04x", v);
  return b;
}
}  // namespace

std::string PortSelector::describe() const {
  if (!path.empty()) return "port " + path;
  std::string s;
  if (!usb_serial.empty()) s = "USB serial number '" + usb_serial + "'";
  if (usb_vid) {
    if (!s.empty()) s += " and ";
    s += "USB " + hex4(*usb_vid) + ":" + (usb_pid ? hex4(*usb_pid) : std::string("*"));
  }
  return s.empty() ? "no port" : s;
}

std::vector<std::string> by_id_links(const std::string& device, const std::filesystem::path& by_id_dir) {
  std::vector<std::string> links;
  std::error_code ec;
  const auto real = std::filesystem::canonical(device, ec);
  if (ec) return links;
  for (const auto& entry : std::filesystem::directory_iterator(by_id_dir, ec)) {
    std::error_code lec;
    if (entry.is_symlink(lec) && std::filesystem::canonical(entry.path(), lec) == real && !lec)
      links.push_back(entry.path().string());
  }
  std::sort(links.begin(), links.end());
  return links;
}

std::string select_port(const std::vector<PortInfo>& ports, const PortSelector& sel,
                        const std::filesystem::path& by_id_dir) {
  if (!sel.path.empty()) {
    // /dev/serial/by-id/ names are links; libserialport only knows the device they point to.
    std::error_code ec;
    auto real = std::filesystem::canonical(sel.path, ec);
    if (ec)
      throw RigError("serial port " + sel.path + " does not exist; 'bootrig ports' lists the ports present");
    return real.string();
  }
  std::vector<const PortInfo*> hits;
  for (const auto& p : ports) {
    if (!sel.usb_serial.empty() && p.usb_serial != sel.usb_serial) continue;
    if (sel.usb_vid && p.usb_vid != sel.usb_vid) continue;
    if (sel.usb_pid && p.usb_pid != sel.usb_pid) continue;
    if (sel.usb_serial.empty() && !sel.usb_vid) continue;
    hits.push_back(&p);
  }
  if (hits.empty())
    throw RigError("no serial port matches " + sel.describe() + "; 'bootrig ports' lists the ports present");
  if (hits.size() > 1)
    throw RigError(std::to_string(hits.size()) + " serial ports match " + sel.describe() + " (" +
                   hits[0]->path + ", " + hits[1]->path + "); add usb_serial to tell them apart");
  auto links = by_id_links(hits.front()->path, by_id_dir);
  return links.empty() ? hits.front()->path : links.front();
}

}  // namespace bootrig
