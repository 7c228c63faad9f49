// `bootrig ports`: the serial ports present, with what is needed to name one in a rig file.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "bootrig/core/errors.hpp"
#include "bootrig/drivers/serialport.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

namespace fs = std::filesystem;

struct PortsOptions {
  bool json = false;
};

std::string hex4(std::uint16_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "%04x", v);
  return b;
}

std::string vid_pid(const PortInfo& p) {
  if (!p.usb_vid || !p.usb_pid) return "";
  return hex4(*p.usb_vid) + ":" + hex4(*p.usb_pid);
}

// "Silicon Labs CP2102 USB to UART Bridge Controller", else what the OS calls it.
std::string what_it_is(const PortInfo& p) {
  std::string s = p.usb_manufacturer;
  if (!p.usb_product.empty()) s += (s.empty() ? "" : " ") + p.usb_product;
  return s.empty() ? p.description : s;
}

nlohmann::json to_json(const PortInfo& p, const std::vector<std::string>& links) {
  auto opt_hex = [](const std::optional<std::uint16_t>& v) -> nlohmann::json {
    return v ? nlohmann::json(hex4(*v)) : nlohmann::json(nullptr);
  };
  return {{"path", p.path},
          {"transport", p.transport},
          {"usb_vid", opt_hex(p.usb_vid)},
          {"usb_pid", opt_hex(p.usb_pid)},
          {"usb_serial", p.usb_serial},
          {"manufacturer", p.usb_manufacturer},
          {"product", p.usb_product},
          {"description", p.description},
          {"by_id", links}};
}

int run_ports(const PortsOptions& opts) {
  auto ports = list_serial_ports();
  std::sort(ports.begin(), ports.end(), [](const PortInfo& a, const PortInfo& b) { return a.path < b.path; });
  std::vector<std::vector<std::string>> links;
  for (const auto& p : ports) links.push_back(by_id_links(p.path));

  if (opts.json) {
    nlohmann::json out = nlohmann::json::array();
    for (std::size_t i = 0; i < ports.size(); ++i) out.push_back(to_json(ports[i], links[i]));
    std::cout << nlohmann::json{{"ports", out}}.dump(2) << "\n";
    return static_cast<int>(ExitCode::ok);
  }

  if (ports.empty()) {
    std::cout << "No serial ports found. Is the USB adapter plugged in? (The simulated module needs none.)\n";
    return static_cast<int>(ExitCode::ok);
  }
  const std::vector<std::string> head = {"PORT", "TRANSPORT", "USB ID", "SERIAL", "DEVICE"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : ports) rows.push_back({p.path, p.transport, vid_pid(p), p.usb_serial, what_it_is(p)});
  std::vector<std::size_t> width(head.size());
  for (std::size_t c = 0; c < head.size(); ++c) {
    width[c] = head[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& r) {
    std::string line;
    for (std::size_t c = 0; c < r.size(); ++c) {
      line += r[c];
      if (c + 1 < r.size()) line += std::string(width[c] - r[c].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << line << "\n";
  };
  print_row(head);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    print_row(rows[i]);
    for (const auto& l : links[i]) std::cout << "    " << l << "\n";
  }
  std::cout
      << "\nName the port in the rig file by its path (a /dev/serial/by-id/ name survives replugging),\n"
         "its USB serial number, or its USB VID:PID.\n";
  return static_cast<int>(ExitCode::ok);
}

}  // namespace

void add_ports_command(CLI::App& app, GlobalOptions& g) {
  auto opts = std::make_shared<PortsOptions>();
  auto* cmd = app.add_subcommand("ports",
                                 "List the serial ports present, with USB IDs, serial numbers and "
                                 "/dev/serial/by-id names");
  cmd->add_flag("--json", opts->json, "Print the list as JSON");
  cmd->callback([opts, &g] { g.run = [opts] { return run_ports(*opts); }; });
}

}  // namespace bootrig
