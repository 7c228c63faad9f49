// The ESP32 registers a host reads and writes through the ROM loader's READ_REG/WRITE_REG, as data: the SPI
// flash controller (so an RDID through its user command returns the flash chip's JEDEC id), eFuse words
// (MAC, chip package and revision, 8 MHz oscillator calibration, SPI pad configuration), the UART clock
// divider and the RTC calibration the ROM derives its crystal estimate from. esptool reads exactly these
// (esptool/targets/esp32.py); addresses and bit fields below are its and the ESP32 TRM's.
#pragma once

#include <array>
#include <cstdint>
#include <map>

namespace bootrig {

namespace esp32reg {
inline constexpr std::uint32_t kSpiBase = 0x3FF42000;  // SPI1, the flash controller
inline constexpr std::uint32_t kSpiCmd = kSpiBase + 0x00;
inline constexpr std::uint32_t kSpiAddr = kSpiBase + 0x04;
inline constexpr std::uint32_t kSpiUser = kSpiBase + 0x1C;
inline constexpr std::uint32_t kSpiUser1 = kSpiBase + 0x20;
inline constexpr std::uint32_t kSpiUser2 = kSpiBase + 0x24;
inline constexpr std::uint32_t kSpiMosiDlen = kSpiBase + 0x28;
inline constexpr std::uint32_t kSpiMisoDlen = kSpiBase + 0x2C;
inline constexpr std::uint32_t kSpiW0 = kSpiBase + 0x80;
inline constexpr std::uint32_t kSpiCmdUsr = 1u << 18;
inline constexpr std::uint32_t kEfuseBase = 0x3FF5A000;   // EFUSE_BLK0_RDATA0_REG, words 0..6
inline constexpr std::uint32_t kUartClkdiv = 0x3FF40014;  // UART0_CLKDIV_REG
inline constexpr std::uint32_t kRtcCaliCfg1 = 0x3FF5F06C;
inline constexpr std::uint32_t kApbCtlDate = 0x3FF6607C;
inline constexpr std::uint32_t kUartDate = 0x60000078;  // esptool writes here only as a delay excuse
inline constexpr std::uint32_t kChipDetectMagic = 0x40001000;
inline constexpr std::uint32_t kEsp32Magic = 0x00F01D83;
inline constexpr unsigned kXtalHz = 40'000'000;  // the module's crystal
}  // namespace esp32reg

struct Esp32Identity {
  std::array<std::uint8_t, 6> mac{0x24, 0x0A, 0xC4, 0x00, 0x01, 0x10};  // base MAC, eFuse BLK0 words 1-2
  std::uint32_t jedec_id = 0x1640EF;  // RDID's three bytes, manufacturer lowest: Winbond 4 MB
  // The ROM's estimate of the crystal, from the RTC calibration of its 8 MHz oscillator (which drifts from
  // chip to chip): what it divides by when it sets a baud rate. A chip whose oscillator runs fast thinks the
  // crystal is faster than 40 MHz; esptool and bootrig read it back and scale the rate they ask for.
  unsigned rom_xtal_estimate_hz = 40'600'000;
  // eFuse SPI pad configuration (EFUSE_BLK0_RDATA5 SPI_PAD_CONFIG_*): 0 = the default pads, what modules
  // with flash on the standard pins (Pycom's included) have; SPI_ATTACH takes it as its argument.
  std::uint32_t spi_pad_config = 0;
};

// The 8 MHz oscillator's calibration factor in eFuse (EFUSE_RD_CK8M_FREQ) the model uses; the RTC
// calibration word is chosen so that the ROM's estimate is rom_xtal_estimate_hz.
inline constexpr std::uint32_t kCk8mFreqEfuse = 64;

// What the ROM computes from the two registers (esptool's get_rom_cal_crystal_freq()).
double rom_crystal_estimate(std::uint32_t rtc_cali_cfg1, std::uint32_t efuse_word4);
// The eFuse SPI pad configuration packed as SPI_ATTACH takes it (hd << 24 | cs << 18 | d << 12 | q << 6 |
// clk), read from EFUSE_BLK0_RDATA5 (clk bits 0-4, q 5-9, d 10-14, cs 15-19) and RDATA3 (hd bits 4-8) as
// esptool's espefuse and the ROM's spi_flash_attach do; 0 when the default pads are in use.
std::uint32_t spi_attach_arg_from_efuse(std::uint32_t efuse_word3, std::uint32_t efuse_word5);

class Esp32Registers {
 public:
  explicit Esp32Registers(Esp32Identity id = {});

  std::uint32_t read(std::uint32_t address) const;
  // A write; writing SPI_CMD with the USR bit runs the user command at once (the controller is done by the
  // next read).
  void write(std::uint32_t address, std::uint32_t value, std::uint32_t mask = 0xFFFFFFFF);
  // The UART's rate changed (autobaud at sync, CHANGE_BAUDRATE): UART_CLKDIV follows.
  void set_uart_baud(unsigned actual_baud);
  const Esp32Identity& identity() const { return id_; }
  std::uint32_t efuse_word(unsigned n) const;

 private:
  void run_spi_user_command();

  Esp32Identity id_;
  std::array<std::uint32_t, 7> efuse_{};
  std::map<std::uint32_t, std::uint32_t> mem_;  // everything written or preset, by address
};

}  // namespace bootrig
