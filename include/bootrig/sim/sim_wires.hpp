// The seam between the simulated module and whatever it is wired to: pins in, LED and UART out, UART in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "bootrig/core/time.hpp"

namespace bootrig {

// The module's inputs, at the module's own (electrical) levels: what the firmware sees on its pads. The
// mapping from the rig's logical "active" to these levels lives on the wire side, so that a gpio-sim tier
// can drive the same board from real kernel lines.
enum class ModulePin : std::uint8_t {
  p12,    // GPIO21, safe-boot request: high = request
  en,     // EN / RESET: low = held in reset
  p2,     // GPIO0: low at reset release = ROM download mode
  power,  // supply: high = powered
};
const char* to_string(ModulePin p);

// RGB colour as the firmware writes it to the WS2812 (0xRRGGBB); 0 is dark.
using LedColour = std::uint32_t;

// What the module drives. The board calls these from its own threads; implementations must be cheap and
// must not call back into the board synchronously.
class SimWires {
 public:
  virtual ~SimWires() = default;
  // The LED changed colour. `scheduled` is when the firmware meant it to change (for latency measurement);
  // the wire stamps the edge with its own clock reading, as a kernel GPIO event would be stamped.
  virtual void led(LedColour colour, TimePoint scheduled) = 0;
  // Bytes onto UART0 TX. Never blocks: the wire queues them and sends them at the line rate.
  virtual void uart_tx(std::string_view bytes) = 0;
  // Bytes queued and not yet on the line (the board throttles its writes on this, as a UART FIFO would).
  virtual std::size_t uart_tx_pending() const = 0;
  // The chip lost power or was reset: whatever it had queued never leaves.
  virtual void uart_tx_discard() = 0;
  // A hard reset or power-up started (ROM about to run): lets a wire model USB-serial bridges that
  // re-enumerate. Default: nothing.
  virtual void hard_reset_started() {}
  // The chip's UART0 now runs at this rate (the ROM loader's CHANGE_BAUDRATE, and back at a reset).
  // Default: nothing.
  virtual void uart_set_baud(unsigned baud) { (void)baud; }
};

// What the wires tell the module. Implemented by the board; callable from any thread.
class ModuleInputs {
 public:
  virtual ~ModuleInputs() = default;
  virtual void pin_changed(ModulePin pin, bool high, TimePoint when) = 0;
  // Bytes that arrived on UART0 RX, already paced at the line rate by the wire.
  virtual void uart_rx(std::string_view bytes, TimePoint when) = 0;
};

}  // namespace bootrig
