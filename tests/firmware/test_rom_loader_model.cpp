// Tests the ROM loader model on raw packets: sync gating, error replies, erase and program semantics, hooks.
#include "bootrig/firmware/rom_loader_model.hpp"

#include <gtest/gtest.h>

#include "bootrig/firmware/archive.hpp"
#include "bootrig/firmware/hash.hpp"

namespace bootrig {
namespace {

std::string frame(RomCommand op, const Bytes& data, std::uint32_t checksum = 0) {
  return slip_encode(to_string_bytes(encode_request({static_cast<std::uint8_t>(op), checksum, data})));
}

std::vector<RomResponse> replies(const std::string& wire) {
  SlipDecoder d;
  std::vector<RomResponse> out;
  for (auto& f : d.feed(wire)) {
    auto r = decode_response(to_bytes(f));
    EXPECT_TRUE(r.has_value());
    if (r) out.push_back(*r);
  }
  return out;
}

// status byte and error byte of a reply without payload
std::pair<int, int> status_of(const RomResponse& r, std::size_t payload = 0) {
  return {r.data.at(payload), r.data.at(payload + 1)};
}

class Model : public ::testing::Test {
 protected:
  RomLoaderConfig cfg;
  std::unique_ptr<RomLoaderModel> m;
  void SetUp() override {
    cfg.flash_size = 64 * 1024;
    m = std::make_unique<RomLoaderModel>(cfg);
  }
  void sync_and_attach() {
    ASSERT_EQ(replies(m->feed(frame(RomCommand::sync, sync_data()))).size(), 8u);
    ASSERT_EQ(status_of(replies(m->feed(frame(RomCommand::spi_attach, spi_attach_data())))[0]),
              std::make_pair(0, 0));
  }
  RomResponse one(const std::string& wire) {
    auto r = replies(m->feed(wire));
    EXPECT_EQ(r.size(), 1u);
    return r.empty() ? RomResponse{} : r[0];
  }
};

TEST_F(Model, SilentUntilSynced) {
  EXPECT_EQ(m->feed(frame(RomCommand::read_reg, read_reg_data(kChipDetectMagicReg))), "");
  EXPECT_FALSE(m->synced());
  auto r = replies(m->feed(frame(RomCommand::sync, sync_data())));
  ASSERT_EQ(r.size(), 8u);  // one SYNC, eight answers
  EXPECT_EQ(r[0].op, 0x08);
  EXPECT_NE(r[0].value, 0u);  // a ROM, not the stub
  EXPECT_TRUE(m->synced());
  auto reg = one(frame(RomCommand::read_reg, read_reg_data(kChipDetectMagicReg)));
  EXPECT_EQ(reg.value, kEsp32ChipMagic);
  EXPECT_EQ(status_of(reg), std::make_pair(0, 0));
  EXPECT_EQ(reg.data.size(), 4u);  // ESP32 ROM: 4 status bytes
}

TEST_F(Model, IgnoredSyncsModelAutobaud) {
  cfg.ignore_syncs = 2;
  m = std::make_unique<RomLoaderModel>(cfg);
  EXPECT_EQ(m->feed(frame(RomCommand::sync, sync_data())), "");
  EXPECT_EQ(m->feed(frame(RomCommand::sync, sync_data())), "");
  EXPECT_EQ(replies(m->feed(frame(RomCommand::sync, sync_data()))).size(), 8u);
  EXPECT_EQ(m->stats().ignored, 2u);
}

TEST_F(Model, FlashBeginErasesAndDataProgramsByAnding) {
  sync_and_attach();
  std::fill(m->flash().begin(), m->flash().end(), 0x00);  // pretend old contents
  auto r = one(frame(RomCommand::flash_begin, flash_begin_data(0x800, 2, 0x400, 0x1000)));
  EXPECT_EQ(status_of(r), std::make_pair(0, 0));
  // The whole 4 KiB sector is erased, nothing else.
  EXPECT_EQ(m->flash()[0xFFF], 0x00);
  EXPECT_EQ(m->flash()[0x1000], 0xFF);
  EXPECT_EQ(m->flash()[0x1FFF], 0xFF);
  EXPECT_EQ(m->flash()[0x2000], 0x00);
  Bytes block(0x400, 0xA5);
  r = one(frame(RomCommand::flash_data, flash_data_data(block, 0), rom_checksum(block)));
  EXPECT_EQ(status_of(r), std::make_pair(0, 0));
  EXPECT_EQ(m->flash()[0x1000], 0xA5);
  // Repeating the block is harmless; programming different data over it only clears bits.
  Bytes other(0x400, 0x0F);
  r = one(frame(RomCommand::flash_data, flash_data_data(other, 0), rom_checksum(other)));
  EXPECT_EQ(status_of(r), std::make_pair(0, 0));
  EXPECT_EQ(m->flash()[0x1000], 0xA5 & 0x0F);
  EXPECT_EQ(m->stats().blocks_written, 2u);
}

TEST_F(Model, ErrorReplies) {
  sync_and_attach();
  ASSERT_EQ(status_of(one(frame(RomCommand::flash_begin, flash_begin_data(0x400, 1, 0x400, 0)))),
            std::make_pair(0, 0));
  Bytes block(0x400, 0x42);
  // Bad checksum: 0x07.
  EXPECT_EQ(status_of(one(frame(RomCommand::flash_data, flash_data_data(block, 0), rom_checksum(block) ^ 1))),
            std::make_pair(1, 0x07));
  // Out of sequence: 0x06.
  EXPECT_EQ(status_of(one(frame(RomCommand::flash_data, flash_data_data(block, 3), rom_checksum(block)))),
            std::make_pair(1, 0x06));
  // Wrong block size: 0x06.
  Bytes small(0x100, 0x42);
  EXPECT_EQ(status_of(one(frame(RomCommand::flash_data, flash_data_data(small, 0), rom_checksum(small)))),
            std::make_pair(1, 0x06));
  // Length field disagreeing with the data: 0x05.
  auto bad_len = flash_data_data(block, 0);
  bad_len[0] = 0x01;
  EXPECT_EQ(status_of(one(frame(RomCommand::flash_data, bad_len, rom_checksum(block)))),
            std::make_pair(1, 0x05));
  // Past the end of the 64 KiB flash: 0x06.
  EXPECT_EQ(status_of(one(frame(RomCommand::flash_begin, flash_begin_data(0x2000, 8, 0x400, 0xF000)))),
            std::make_pair(1, 0x06));
  // MD5 past the end: 0x0A.
  EXPECT_EQ(status_of(one(frame(RomCommand::spi_flash_md5, flash_md5_data(0xF000, 0x2000)))),
            std::make_pair(1, 0x0A));
  // Unknown command: 0x05, in a reply that is not under the request's opcode (esptool's
  // UnsupportedCommandError path).
  auto unknown = one(frame(static_cast<RomCommand>(0x77), {}));
  EXPECT_EQ(status_of(unknown), std::make_pair(1, 0x05));
  EXPECT_NE(unknown.op, 0x77);
  // The stub's commands are not the ROM's.
  EXPECT_NE(one(frame(static_cast<RomCommand>(0xD0), {})).op, 0xD0);
  // The ESP32 ROM's FLASH_BEGIN has no encryption word.
  auto five_words = flash_begin_data(0x400, 1, 0x400, 0);
  five_words.insert(five_words.end(), {0, 0, 0, 0});
  EXPECT_EQ(status_of(one(frame(RomCommand::flash_begin, five_words))), std::make_pair(1, 0x05));
  EXPECT_GE(m->stats().error_replies, 8u);
}

TEST_F(Model, FlashBeginNeedsSpiAttach) {
  ASSERT_EQ(replies(m->feed(frame(RomCommand::sync, sync_data()))).size(), 8u);
  EXPECT_EQ(status_of(one(frame(RomCommand::flash_begin, flash_begin_data(0x400, 1, 0x400, 0)))),
            std::make_pair(1, 0x06));
}

TEST_F(Model, Md5IsHexOfTheRegion) {
  sync_and_attach();
  auto r = one(frame(RomCommand::spi_flash_md5, flash_md5_data(0, 0x1000)));
  ASSERT_EQ(r.data.size(), 32u + 4u);
  Bytes erased(0x1000, 0xFF);
  EXPECT_EQ(std::string(r.data.begin(), r.data.begin() + 32), to_hex(md5(erased)));
  EXPECT_EQ(status_of(r, 32), std::make_pair(0, 0));
}

TEST_F(Model, HooksRunAfterTheReplyIsComposed) {
  sync_and_attach();
  std::vector<std::string> order;
  unsigned new_baud = 0;
  std::optional<LoaderExit> exit;
  m->set_baud_hook([&](unsigned b) {
    new_baud = b;
    order.push_back("baud");
  });
  m->set_exit_hook([&](LoaderExit e) { exit = e; });
  auto wire = m->feed(frame(RomCommand::change_baudrate, change_baudrate_data(921600)));
  order.push_back("returned");
  // The ROM divides its own crystal estimate (40.6 MHz by default) by the rate: the UART runs slower.
  EXPECT_EQ(new_baud, static_cast<unsigned>(921600.0 * 40.0 / 40.6 + 0.5));
  EXPECT_EQ(order, (std::vector<std::string>{"baud", "returned"}));
  EXPECT_EQ(replies(wire).size(), 1u);
  // FLASH_END's word is int(not reboot): 0 reboots, 1 runs the app.
  EXPECT_EQ(status_of(one(frame(RomCommand::flash_end, flash_end_data(true)))), std::make_pair(0, 0));
  EXPECT_EQ(exit, LoaderExit::reboot);
  one(frame(RomCommand::flash_end, flash_end_data(false)));
  EXPECT_EQ(exit, LoaderExit::run_user_code);
}

TEST_F(Model, RegistersAnswerAsAnEsp32s) {
  cfg.identity.mac = {0x24, 0x0A, 0xC4, 0xAB, 0xCD, 0xEF};
  m = std::make_unique<RomLoaderModel>(cfg);
  sync_and_attach();
  auto reg = [&](std::uint32_t a) { return one(frame(RomCommand::read_reg, read_reg_data(a))).value; };
  auto write = [&](std::uint32_t a, std::uint32_t v) {
    Bytes d;
    for (std::uint32_t w : {a, v, 0xFFFFFFFFu, 0u})
      for (int i = 0; i < 4; ++i) d.push_back(static_cast<std::uint8_t>(w >> (8 * i)));
    EXPECT_EQ(status_of(one(frame(RomCommand::write_reg, d))), std::make_pair(0, 0));
  };
  // The MAC as esptool's read_mac() unpacks eFuse words 2 and 1.
  EXPECT_EQ(reg(esp32reg::kEfuseBase + 4), 0xC4ABCDEFu);
  EXPECT_EQ(reg(esp32reg::kEfuseBase + 8) & 0xFFFF, 0x240Au);
  // RDID through the SPI controller's user command.
  write(esp32reg::kSpiUser2, (7u << 28) | 0x9F);
  write(esp32reg::kSpiCmd, esp32reg::kSpiCmdUsr);
  EXPECT_EQ(reg(esp32reg::kSpiCmd) & esp32reg::kSpiCmdUsr, 0u) << "done at once";
  EXPECT_EQ(reg(esp32reg::kSpiW0), 0x1640EFu);
  // The ROM's crystal estimate from RTC calibration and eFuse; the UART divider at 115200 off 40 MHz.
  EXPECT_NEAR(rom_crystal_estimate(reg(esp32reg::kRtcCaliCfg1), reg(esp32reg::kEfuseBase + 16)), 40.6e6, 1e4);
  EXPECT_EQ(reg(esp32reg::kUartClkdiv), 347u);
}

TEST_F(Model, CompressedWritesInflateIntoFlash) {
  sync_and_attach();
  Bytes plain(5000);
  for (std::size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<std::uint8_t>(i % 7 == 0 ? i : 0x20);
  const Bytes z = zlib_compress(plain);
  const std::uint32_t blocks = static_cast<std::uint32_t>((z.size() + 0x3FF) / 0x400);
  EXPECT_EQ(
      status_of(one(frame(RomCommand::flash_defl_begin, flash_begin_data(0x1400, blocks, 0x400, 0x2000)))),
      std::make_pair(0, 0));
  for (std::uint32_t seq = 0; seq < blocks; ++seq) {
    Bytes block(z.begin() + seq * 0x400, z.begin() + std::min<std::size_t>(z.size(), (seq + 1) * 0x400));
    EXPECT_EQ(
        status_of(one(frame(RomCommand::flash_defl_data, flash_data_data(block, seq), rom_checksum(block)))),
        std::make_pair(0, 0));
  }
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), m->flash().begin() + 0x2000));
  // A broken stream: 0x0B.
  EXPECT_EQ(status_of(one(frame(RomCommand::flash_defl_begin, flash_begin_data(0x400, 1, 0x400, 0x8000)))),
            std::make_pair(0, 0));
  Bytes junk(100, 0x55);
  EXPECT_EQ(status_of(one(frame(RomCommand::flash_defl_data, flash_data_data(junk, 0), rom_checksum(junk)))),
            std::make_pair(1, 0x0B));
}

TEST_F(Model, ReadFlashSlowAnswers64Bytes) {
  sync_and_attach();
  m->flash()[0x100] = 0x42;
  Bytes d;
  for (std::uint32_t w : {0x100u, 16u})
    for (int i = 0; i < 4; ++i) d.push_back(static_cast<std::uint8_t>(w >> (8 * i)));
  auto r = one(frame(RomCommand::read_flash_slow, d));
  ASSERT_EQ(r.data.size(), 64u + 4u);
  EXPECT_EQ(r.data[0], 0x42);
  EXPECT_EQ(status_of(r, 64), std::make_pair(0, 0));
}

TEST_F(Model, AfterTheStubUploadItSpeaksTheStubsProtocol) {
  sync_and_attach();
  Bytes text(0x100, 0x11);
  EXPECT_EQ(status_of(one(frame(RomCommand::mem_begin, flash_begin_data(0x100, 1, 0x1800, 0x400BE000)))),
            std::make_pair(0, 0));
  EXPECT_EQ(status_of(one(frame(RomCommand::mem_data, flash_data_data(text, 0), rom_checksum(text)))),
            std::make_pair(0, 0));
  Bytes end{0, 0, 0, 0, 0xAC, 0xE5, 0x0B, 0x40};
  SlipDecoder d;
  auto frames = d.feed(m->feed(frame(RomCommand::mem_end, end)));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1], "OHAI");
  EXPECT_TRUE(m->stub_running());
  // Two status bytes now, and the stub's own commands.
  auto attach = one(frame(RomCommand::spi_attach, Bytes{0, 0, 0, 0}));
  EXPECT_EQ(attach.data.size(), 2u);
  auto erase = one(frame(static_cast<RomCommand>(0xD1), Bytes{0, 0x10, 0, 0, 0, 0x10, 0, 0}));
  EXPECT_EQ(status_of(erase), std::make_pair(0, 0));
  auto md5r = one(frame(RomCommand::spi_flash_md5, flash_md5_data(0x1000, 0x1000)));
  ASSERT_EQ(md5r.data.size(), 16u + 2u);  // raw digest
  EXPECT_EQ(status_of(one(frame(static_cast<RomCommand>(0x77), {}))), std::make_pair(0xFF, 0));
}

TEST_F(Model, JumpingIntoRamNobodyLoadedLeavesNothingAnswering) {
  sync_and_attach();
  Bytes end{0, 0, 0, 0, 0xAC, 0xE5, 0x0B, 0x40};
  EXPECT_EQ(replies(m->feed(frame(RomCommand::mem_end, end))).size(), 1u);
  EXPECT_EQ(m->feed(frame(RomCommand::sync, sync_data())), "");
  m->reset_session();
  EXPECT_EQ(replies(m->feed(frame(RomCommand::sync, sync_data()))).size(), 8u);
}

TEST_F(Model, ResetSessionNeedsANewSyncButKeepsFlash) {
  sync_and_attach();
  m->flash()[5] = 0x12;
  m->reset_session();
  EXPECT_FALSE(m->synced());
  EXPECT_EQ(m->feed(frame(RomCommand::read_reg, read_reg_data(0))), "");
  EXPECT_EQ(m->flash()[5], 0x12);
}

}  // namespace
}  // namespace bootrig
