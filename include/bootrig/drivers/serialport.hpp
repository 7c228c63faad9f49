// The libserialport driver: real UARTs (USB adapters, the Pi's own UART), listing and opening.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bootrig/hw/serial.hpp"

namespace bootrig {

// Every serial port the OS knows, with USB details where there are any.
std::vector<PortInfo> list_serial_ports();

// Opens a real UART. Throws RigError naming the port when it is missing, busy or refuses the settings.
// `reappear`: how long the port may stay away once it went away (a USB adapter re-enumerating at a reset)
// before a write gives up on it, however short the writer's own deadline ([serial] reappear_ms).
std::unique_ptr<SerialLink> open_serialport(const std::string& path, const SerialSettings& settings,
                                 milliseconds reappear = milliseconds(0));

}  // namespace bootrig
