// Tests the ROM loader packet layouts against the byte sequences esptool sends and expects.
#include "bootrig/firmware/rom_protocol.hpp"

#include <gtest/gtest.h>

namespace bootrig {
namespace {

TEST(RomProtocol, SyncRequestIsEsptoolsBytes) {
  auto p = encode_request({static_cast<std::uint8_t>(RomCommand::sync), 0, sync_data()});
  ASSERT_EQ(p.size(), 8u + 36u);
  EXPECT_EQ(p[0], 0x00);
  EXPECT_EQ(p[1], 0x08);
  EXPECT_EQ(p[2], 36);
  EXPECT_EQ(p[3], 0);
  EXPECT_EQ((Bytes{p[8], p[9], p[10], p[11]}), (Bytes{0x07, 0x07, 0x12, 0x20}));
  EXPECT_TRUE(std::all_of(p.begin() + 12, p.end(), [](std::uint8_t b) { return b == 0x55; }));
}

TEST(RomProtocol, RequestRoundTripAndSizeCheck) {
  RomRequest r{0x03, 0xAB, flash_data_data(Bytes(0x400, 0x11), 7)};
  auto p = encode_request(r);
  auto back = decode_request(p);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->op, 0x03);
  EXPECT_EQ(back->checksum, 0xABu);
  EXPECT_EQ(back->data, r.data);
  p.pop_back();
  EXPECT_FALSE(decode_request(p).has_value());
  p = encode_request(r);
  p[0] = 0x01;  // a response is not a request
  EXPECT_FALSE(decode_request(p).has_value());
}

TEST(RomProtocol, ResponseCarriesFourEsp32StatusBytes) {
  Bytes md5hex(32, 'a');
  auto p = encode_response(0x13, 0, md5hex, 0, 0);
  EXPECT_EQ(p.size(), 8u + 32u + 4u);
  auto r = decode_response(p);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->data.size(), 36u);
  auto e = decode_response(encode_response(0x03, 0, {}, 1, 0x07));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->data, (Bytes{1, 0x07, 0, 0}));
}

TEST(RomProtocol, ChecksumIsXorSeededWithEF) {
  EXPECT_EQ(rom_checksum({}), 0xEFu);
  Bytes b{0xEF};
  EXPECT_EQ(rom_checksum(b), 0u);
  Bytes c{0x01, 0x02, 0x04};
  EXPECT_EQ(rom_checksum(c), 0xEFu ^ 0x07u);
}

TEST(RomProtocol, CommandDataLayouts) {
  EXPECT_EQ(spi_attach_data().size(), 8u);  // ROM: hspi_arg + is_legacy + 3 reserved
  EXPECT_EQ(spi_set_params_data(4u << 20).size(), 24u);
  auto fb = flash_begin_data(0x1234, 5, 0x400, 0x10000);
  EXPECT_EQ(fb, (Bytes{0x34, 0x12, 0, 0, 5, 0, 0, 0, 0, 4, 0, 0, 0, 0, 1, 0}));
  EXPECT_EQ(flash_end_data(true), (Bytes{0, 0, 0, 0}));   // reboot: "not reboot" = 0
  EXPECT_EQ(flash_end_data(false), (Bytes{1, 0, 0, 0}));  // stay in the loader
  EXPECT_EQ(change_baudrate_data(921600), (Bytes{0x00, 0x10, 0x0E, 0x00, 0, 0, 0, 0}));
  EXPECT_EQ(read_reg_data(kChipDetectMagicReg), (Bytes{0x00, 0x10, 0x00, 0x40}));
}

TEST(RomProtocol, ErrorCodesAreNamed) {
  EXPECT_EQ(describe_rom_error(0x07), "0x07 (invalid CRC in message)");
  EXPECT_EQ(describe_rom_error(0x05), "0x05 (received message is invalid)");
  EXPECT_EQ(describe_rom_error(0x42), "0x42 (unknown ROM error)");
  EXPECT_EQ(command_name(0x13), "SPI_FLASH_MD5");
  EXPECT_EQ(command_name(0x77), "command 0x77");
}

}  // namespace
}  // namespace bootrig
