// A register file for the simulated ESP32: what READ_REG/WRITE_REG reach, with the SPI controller's user
// command executed for the flash commands a host sends that way.
#include "bootrig/firmware/esp32_registers.hpp"

#include <cmath>

namespace bootrig {

using namespace esp32reg;

double rom_crystal_estimate(std::uint32_t rtc_cali_cfg1, std::uint32_t efuse_word4) {
  const double cali = static_cast<double>((rtc_cali_cfg1 >> 7) & 0x01FFFFFF);
  const double ck8m = static_cast<double>(efuse_word4 & 0xFF);
  return cali * 15625.0 * ck8m / 40.0;
}

std::uint32_t spi_attach_arg_from_efuse(std::uint32_t word3, std::uint32_t word5) {
  const std::uint32_t clk = word5 & 0x1F, q = (word5 >> 5) & 0x1F, d = (word5 >> 10) & 0x1F,
                      cs = (word5 >> 15) & 0x1F, hd = (word3 >> 4) & 0x1F;
  if (clk == 0 && q == 0 && d == 0 && cs == 0 && hd == 0) return 0;
  return (hd << 24) | (cs << 18) | (d << 12) | (q << 6) | clk;
}

Esp32Registers::Esp32Registers(Esp32Identity id) : id_(id) {
  const auto& m = id_.mac;
  // Words 1 and 2 hold the MAC as esptool's read_mac() unpacks it (big-endian, after a CRC byte in word 2).
  efuse_[1] = (std::uint32_t{m[2]} << 24) | (std::uint32_t{m[3]} << 16) | (std::uint32_t{m[4]} << 8) | m[5];
  std::uint8_t crc = 0;  // esp_crc8 over the MAC, as the eFuse block stores it
  for (int i = 5; i >= 0; --i) {
    crc ^= m[static_cast<std::size_t>(i)];
    for (int b = 0; b < 8; ++b) crc = (crc & 1) ? static_cast<std::uint8_t>((crc >> 1) ^ 0x8C) : crc >> 1;
  }
  efuse_[2] = (std::uint32_t{crc} << 16) | (std::uint32_t{m[0]} << 8) | m[1];
  // Word 3: package ESP32-D0WDQ6 (0), revision bit 0 set (chip revision v1.0), rated for 240 MHz; word 4: the
  // 8 MHz oscillator's factor and an ADC reference (VRef calibration); word 5: the SPI pads and coding scheme
  // none.
  efuse_[3] = (1u << 15) | (1u << 13);
  efuse_[4] = kCk8mFreqEfuse | (0x0Au << 8);
  const std::uint32_t pads = id_.spi_pad_config;
  efuse_[5] = pads == 0 ? 0
                        : ((pads & 0x1F) | (((pads >> 6) & 0x1F) << 5) | (((pads >> 12) & 0x1F) << 10) |
                           (((pads >> 18) & 0x1F) << 15));
  if (pads != 0) efuse_[3] |= ((pads >> 24) & 0x1F) << 4;
  // The calibration word that makes the ROM's estimate what the identity says.
  const double cali =
      std::round(static_cast<double>(id_.rom_xtal_estimate_hz) * 40.0 / (15625.0 * kCk8mFreqEfuse));
  mem_[kRtcCaliCfg1] = (static_cast<std::uint32_t>(cali) & 0x01FFFFFF) << 7;
  mem_[kApbCtlDate] = 0x16042000;  // bit 31 clear: with eFuse revision bit 0, chip revision v1.0
  mem_[kChipDetectMagic] = kEsp32Magic;
  set_uart_baud(115200);
}

std::uint32_t Esp32Registers::efuse_word(unsigned n) const { return n < efuse_.size() ? efuse_[n] : 0; }

std::uint32_t Esp32Registers::read(std::uint32_t address) const {
  if (address >= kEfuseBase && address < kEfuseBase + 4 * efuse_.size() && address % 4 == 0)
    return efuse_[(address - kEfuseBase) / 4];
  auto it = mem_.find(address);
  return it == mem_.end() ? 0 : it->second;
}

void Esp32Registers::write(std::uint32_t address, std::uint32_t value, std::uint32_t mask) {
  if (address >= kEfuseBase && address < kEfuseBase + 4 * efuse_.size()) return;  // read-only
  if (address == kChipDetectMagic || address == kUartDate) return;                // ROM, a date register
  std::uint32_t& reg = mem_[address];
  reg = (reg & ~mask) | (value & mask);
  if (address == kSpiCmd && (reg & kSpiCmdUsr)) run_spi_user_command();
}

void Esp32Registers::set_uart_baud(unsigned actual_baud) {
  if (actual_baud == 0) return;
  // The divider the UART runs with, from the real APB clock (the crystal): integer part in bits 0-19.
  mem_[kUartClkdiv] = static_cast<std::uint32_t>(std::lround(static_cast<double>(kXtalHz) / actual_baud)) & 0xFFFFF;
}

void Esp32Registers::run_spi_user_command() {
  const std::uint8_t command = static_cast<std::uint8_t>(read(kSpiUser2) & 0xFF);
  std::uint32_t result = 0;
  switch (command) {
    case 0x9F:  // RDID: manufacturer, memory type, capacity, clocked out in that order into W0's low bytes
      result = id_.jedec_id & 0xFFFFFF;
      break;
    case 0x05:  // RDSR, RDSR2, RDSR3: a flash that is idle and not write-protected
    case 0x35:
    case 0x15:
      result = 0;
      break;
    default:  // write enables, status writes, SFDP reads: accepted, nothing to clock back
      result = read(kSpiW0);
      break;
  }
  mem_[kSpiW0] = result;
  mem_[kSpiCmd] &= ~kSpiCmdUsr;  // done
}

}  // namespace bootrig
