// Protocol interface for the serial link that carries the REPL, and how a port is chosen.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bootrig/core/time.hpp"

namespace bootrig {

enum class FlowControl : std::uint8_t { none, rtscts, xonxoff };
const char* to_string(FlowControl f);

// The baud rates bootrig accepts, from the rig file and `flash --baud` alike: 300 is the slowest rate a UART
// is asked for in practice, 4000000 the fastest of Linux's standard rates (B4000000; the ESP32's UART reaches
// 5 Mbaud, APB 80 MHz / 16, but no standard rate lies above 4 Mbaud below that).
inline constexpr unsigned kSerialBaudMin = 300;
inline constexpr unsigned kSerialBaudMax = 4000000;

struct SerialSettings {
  unsigned baud = 115200;
  FlowControl flow = FlowControl::none;
  // nullopt leaves the modem line as the port had it: opening must not pulse DTR/RTS (on many USB
  // adapters they are wired to EN and GPIO0) unless the rig file asks for a level.
  std::optional<bool> dtr;
  std::optional<bool> rts;
  // 0: a read wakes on the first byte that arrives. Otherwise a read looks at the port only every
  // poll_interval and sleeps in between, the habit of tools that poll a port (pytest-embedded reads every
  // 50 ms); bootrig never sets it: it is the alternative its benchmarks measure beside the default.
  milliseconds poll_interval{0};
};

// Bytes as they arrived, stamped on the monotonic clock when the read returned them.
struct SerialChunk {
  TimePoint time;
  std::string bytes;
};

class SerialLink {
 public:
  virtual ~SerialLink() = default;
  // Writes all bytes or throws RigError when the deadline passes first (the port is stuck).
  virtual void write(std::string_view bytes, Deadline deadline) = 0;
  // Whatever has arrived, as soon as anything has; nullopt when the deadline passes with nothing.
  virtual std::optional<SerialChunk> read(Deadline deadline) = 0;
  // Waits until everything written has left the port.
  virtual void drain(Deadline deadline) = 0;
  // Throws away what was received and not yet read.
  virtual void discard_input() = 0;
  virtual void set_baud(unsigned baud) = 0;
  virtual unsigned baud() const = 0;
  virtual std::string describe() const = 0;
};

// What the OS reports about a serial port; pure data so port selection is testable.
struct PortInfo {
  std::string path;  // /dev/ttyUSB0
  std::string description;
  std::string transport;  // "usb", "native", "bluetooth"
  std::optional<std::uint16_t> usb_vid;
  std::optional<std::uint16_t> usb_pid;
  std::string usb_serial;
  std::string usb_manufacturer;
  std::string usb_product;
};

// How the rig file names its port: exactly one of these is set.
struct PortSelector {
  std::string path;        // /dev/ttyUSB0, or a /dev/serial/by-id/... link
  std::string usb_serial;  // the adapter's USB serial number
  std::optional<std::uint16_t> usb_vid;
  std::optional<std::uint16_t> usb_pid;
  std::string describe() const;
};

// The links in `by_id_dir` (udev's /dev/serial/by-id/) that point to `device`, sorted: names that survive
// replugging and renumbering. Empty when there are none (no udev, not a USB adapter).
std::vector<std::string> by_id_links(const std::string& device,
                                     const std::filesystem::path& by_id_dir = "/dev/serial/by-id");

// Picks the one port matching the selector among those listed. Links are resolved first (libserialport
// rejects /dev/serial/by-id/ paths). A port chosen by USB serial number or vid:pid is named by its link in
// `by_id_dir` when udev made one: the link follows the adapter when it comes back under another ttyUSBn
// (a reset through USB, a replug), so every reopen finds the same adapter. Throws RigError naming the
// selector when none or several match.
std::string select_port(const std::vector<PortInfo>& ports, const PortSelector& selector,
                        const std::filesystem::path& by_id_dir = "/dev/serial/by-id");

}  // namespace bootrig
