// Tests RomFlasher against RomLoaderModel through an in-memory serial link: whole images written and read
// back, split chunks, corrupted blocks, MD5 mismatch, sync retries, baud changes and wrong chips.
#include "bootrig/firmware/rom_flasher.hpp"

#include <gtest/gtest.h>

#include <random>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/archive.hpp"
#include "bootrig/firmware/esp_image.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "bootrig/firmware/rom_loader_model.hpp"
#include "support/memory_link.hpp"

namespace bootrig {
namespace {

RomTimeouts fast_timeouts() {
  RomTimeouts t;
  t.command = seconds(5);  // generous: replies are immediate, this only bounds a failure
  t.sync = milliseconds(30);
  t.sync_pause = milliseconds(1);
  t.baud_settle = Duration::zero();
  return t;
}

// A module in download mode: the model answers inside the link's write.
struct DownloadModeModule {
  explicit DownloadModeModule(RomLoaderConfig cfg = {}) : model(cfg) {
    model.set_baud_hook([this](unsigned b) { pending_baud = b; });
    link.set_responder([this](std::string_view bytes) {
      testing::MemoryLinkPair::Reply r{model.feed(bytes), pending_baud};
      pending_baud.reset();
      return r;
    });
  }
  testing::MemoryLinkPair link;
  RomLoaderModel model;
  std::optional<unsigned> pending_baud;

  std::span<const std::uint8_t> flash_at(std::uint32_t offset, std::size_t n) const {
    return model.flash().subspan(offset, n);
  }
};

// Garbles bytes of both directions of the module's line at `rate` (a byte XORed with a random non-zero value),
// counting them.
struct GarbledLine {
  GarbledLine(DownloadModeModule& m, double byte_rate, unsigned seed) : rng(seed), rate(byte_rate) {
    m.link.set_host_to_device_filter([this](std::string& bytes) { garble(bytes); });
    m.link.set_responder([this, &m](std::string_view bytes) {
      testing::MemoryLinkPair::Reply r{m.model.feed(bytes), m.pending_baud};
      m.pending_baud.reset();
      garble(r.bytes);
      return r;
    });
  }
  void garble(std::string& bytes) {
    for (auto& c : bytes)
      if (uniform(rng) < rate) {
        c = static_cast<char>(c ^ static_cast<char>(1 + rng() % 255));
        ++garbled;
      }
  }
  std::mt19937 rng;
  std::uniform_real_distribution<double> uniform{0.0, 1.0};
  double rate;
  std::size_t garbled = 0;
};

// Flips one payload bit of a FLASH_DATA frame in flight, avoiding SLIP special bytes so framing survives.
void corrupt_payload_byte(std::string& piece) {
  for (std::size_t i = piece.size() / 2; i + 1 < piece.size(); ++i) {
    auto c = static_cast<unsigned char>(piece[i]);
    auto prev = static_cast<unsigned char>(piece[i - 1]);
    auto flipped = static_cast<unsigned char>(c ^ 0x01);
    if (prev == 0xDB || c == 0xC0 || c == 0xDB || flipped == 0xC0 || flipped == 0xDB) continue;
    piece[i] = static_cast<char>(flipped);
    return;
  }
}

std::vector<std::uint8_t> image(std::size_t payload = 20000) {
  ImageSpec spec;
  spec.payload_size = payload;
  spec.board = PycomBoard::lopy4;
  return build_esp32_image(spec);
}

TEST(RomFlasher, WritesAFullImageThatReadsBackIdentical) {
  DownloadModeModule m;
  RomFlasher f(m.link.host(), fast_timeouts());
  ASSERT_TRUE(f.connect()) << f.connect().error().message;
  auto img = image();
  std::vector<std::pair<std::size_t, std::size_t>> progress;
  auto r = f.write_flash(
      kPycomFactoryOffset, img,
      [&](std::size_t done, std::size_t total) { progress.emplace_back(done, total); }, false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().bytes, img.size());
  EXPECT_EQ(r.value().blocks, (img.size() + 0x3FF) / 0x400);
  EXPECT_EQ(r.value().block_retries, 0u);
  EXPECT_EQ(r.value().md5, md5(img));
  auto back = m.flash_at(kPycomFactoryOffset, img.size());
  EXPECT_TRUE(std::equal(back.begin(), back.end(), img.begin()));
  // The whole slot, as the bootloader would read it: the image, then erased flash.
  auto slot = parse_esp32_image(m.model.flash().subspan(kPycomFactoryOffset, 0x20000));
  EXPECT_TRUE(slot.valid()) << slot.problem_summary();
  EXPECT_EQ(slot.board, PycomBoard::lopy4);
  // Progress: one call per block, increasing, ending at the total.
  ASSERT_EQ(progress.size(), r.value().blocks);
  for (std::size_t i = 1; i < progress.size(); ++i) EXPECT_GT(progress[i].first, progress[i - 1].first);
  EXPECT_EQ(progress.back().first, img.size());
  EXPECT_EQ(progress.back().second, img.size());
  EXPECT_EQ(r.value().wire_bytes, r.value().blocks * 0x400u);
}

TEST(RomFlasher, SurvivesRepliesAndRequestsSplitIntoSmallChunks) {
  for (std::size_t chunk : {1u, 3u, 7u, 64u}) {
    DownloadModeModule m;
    m.link.set_max_chunk(chunk);
    RomFlasher f(m.link.host(), fast_timeouts());
    ASSERT_TRUE(f.connect()) << "chunk " << chunk;
    auto img = image(chunk == 1 ? 3000 : 12000);
    auto r = f.write_flash(0x1C0000, img, {}, chunk % 2 == 1);  // compressed and plain
    ASSERT_TRUE(r) << "chunk " << chunk << ": " << r.error().message;
    auto back = m.flash_at(0x1C0000, img.size());
    EXPECT_TRUE(std::equal(back.begin(), back.end(), img.begin())) << "chunk " << chunk;
  }
}

TEST(RomFlasher, BadChecksumReplyIsRetriedOnce) {
  DownloadModeModule m;
  int corrupted = 0;
  m.link.set_host_to_device_filter([&](std::string& piece) {
    if (piece.size() > 1000 && corrupted == 0) {  // the first FLASH_DATA frame
      corrupt_payload_byte(piece);
      ++corrupted;
    }
  });
  RomFlasher f(m.link.host(), fast_timeouts());
  ASSERT_TRUE(f.connect());
  auto img = image(8000);
  auto r = f.write_flash(kPycomFactoryOffset, img, {}, false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(corrupted, 1);
  EXPECT_EQ(r.value().block_retries, 1u);
  EXPECT_EQ(m.model.stats().error_replies, 1u);
  auto back = m.flash_at(kPycomFactoryOffset, img.size());
  EXPECT_TRUE(std::equal(back.begin(), back.end(), img.begin()));
}

// A request whose opcode the line garbled is answered as an unknown command: once is the line, not a ROM
// without that command (a noisy line failed whole cable flashes at connect this way).
TEST(RomFlasher, AnOpcodeGarbledOnceIsNotAnUnsupportedCommand) {
  DownloadModeModule m;
  int garbled = 0;
  m.link.set_host_to_device_filter([&](std::string& piece) {
    // The first READ_REG: 0xC0, direction 0x00, then the opcode.
    if (garbled == 0 && piece.size() > 3 && static_cast<unsigned char>(piece[0]) == 0xC0 && piece[1] == 0 &&
        piece[2] == static_cast<char>(RomCommand::read_reg)) {
      piece[2] = 0x7F;
      ++garbled;
    }
  });
  RomFlasher f(m.link.host(), fast_timeouts());
  auto c = f.connect();
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(garbled, 1);
}

TEST(RomFlasher, PersistentBadChecksumFailsNamingTheRomError) {
  DownloadModeModule m;
  m.link.set_host_to_device_filter([&](std::string& piece) {
    if (piece.size() > 80) corrupt_payload_byte(piece);  // every FLASH_DATA frame, the smallest too
  });
  RomFlasher f(m.link.host(), fast_timeouts());
  ASSERT_TRUE(f.connect());
  auto r = f.write_flash(kPycomFactoryOffset, image(4000), {}, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, RomFailure::rom_error);
  EXPECT_EQ(r.error().command, RomCommand::flash_data);
  EXPECT_EQ(r.error().code, 0x07);
  EXPECT_NE(r.error().message.find("0x07 (invalid CRC in message)"), std::string::npos) << r.error().message;
  // 1 KiB blocks (67 of them) and 256-byte ones were given up after 4 tries each; at 64 bytes, 1067 blocks.
  EXPECT_NE(r.error().message.find("(block 0 of 1067 at 0x10000)"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("64 attempts"), std::string::npos) << r.error().message;
  EXPECT_EQ(f.block_retries(), 3u + 3u + 3u * 63u);  // the smallest size three times whole, 64 tries a block
  try {
    r.value_or_throw("/dev/ttyUSB0");
    FAIL() << "expected RigError";
  } catch (const RigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("/dev/ttyUSB0: FLASH_DATA", 0), 0u) << e.what();
  }
}

// A line that garbles one byte in a thousand both ways (the ROM's replies carry no checksum): connect and a
// 40-block write still succeed, the registers and the MD5 read until two replies agree.
TEST(RomFlasher, ALineGarblingOneByteInAThousandBothWaysStillFlashes) {
  DownloadModeModule m;
  GarbledLine line(m, 0.001, 5);
  RomTimeouts t = fast_timeouts();
  t.command = milliseconds(200);  // a frame the garbling split never gets a reply
  RomFlasher f(m.link.host(), t);
  auto c = f.connect(20);
  ASSERT_TRUE(c) << c.error().message;
  auto img = image(40000);
  auto r = f.write_flash(kPycomFactoryOffset, img, {}, false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GT(line.garbled, 0u);
  EXPECT_GT(r.value().block_retries, 0u);
  auto back = m.flash_at(kPycomFactoryOffset, img.size());
  EXPECT_TRUE(std::equal(back.begin(), back.end(), img.begin()));
}

// One byte in a hundred garbled both ways: a 1 KiB block gets through about once in 40 000 tries, so the
// flasher begins the write again in smaller blocks (the fault matrix's 1 % case failed every cable flash at
// block 0 after 16 tries), and the image still reads back whole.
TEST(RomFlasher, ALineGarblingOneByteInAHundredFlashesInSmallerBlocks) {
  for (bool compress : {true, false}) {
    DownloadModeModule m;
    GarbledLine line(m, 0.01, compress ? 9 : 10);
    RomTimeouts t = fast_timeouts();
    t.command = milliseconds(100);  // a frame the garbling split never gets a reply
    RomFlasher f(m.link.host(), t);
    auto c = f.connect(40);
    ASSERT_TRUE(c) << c.error().message;
    // 4 KiB that zlib cannot shrink: four 1 KiB blocks either way, 64 of the smallest.
    std::vector<std::uint8_t> img(4096);
    std::mt19937 fill(3);
    for (auto& b : img) b = static_cast<std::uint8_t>(fill());
    auto r = f.write_flash(kPycomFactoryOffset, img, {}, compress);
    ASSERT_TRUE(r) << r.error().message << (compress ? " (compressed)" : " (plain)");
    EXPECT_LT(r.value().block_size, kRomFlashBlockSize);
    EXPECT_GE(r.value().block_size, 64u);
    auto back = m.flash_at(kPycomFactoryOffset, img.size());
    EXPECT_TRUE(std::equal(back.begin(), back.end(), img.begin())) << (compress ? "compressed" : "plain");
    // The session's next write (cable_flash erases otadata after the image) starts small and plain.
    std::vector<std::uint8_t> erased(512, 0xFF);
    auto r2 = f.write_flash(0x1BE000, erased, {}, true);  // otadata, as cable_flash writes it
    ASSERT_TRUE(r2) << r2.error().message;
    EXPECT_FALSE(r2.value().compressed);
    EXPECT_EQ(r2.value().block_size, r.value().block_size);
  }
}

// A refusal whose reply the line turned into success (replies carry no checksum) leaves the ROM waiting for
// a block the flasher thinks done: the next one is refused as out of sequence every time. The flasher steps
// back one block instead of giving up on that size (the fault matrix at 1 % garbage: 64 refusals in a row).
TEST(RomFlasher, APlainBlockRefusedAsOutOfSequenceStepsBackOne) {
  RomLoaderConfig cfg;
  cfg.refuse_as_ok_seq = 2;
  DownloadModeModule m(cfg);
  RomFlasher f(m.link.host(), fast_timeouts());
  ASSERT_TRUE(f.connect());
  auto img = image(8000);
  auto r = f.write_flash(kPycomFactoryOffset, img, {}, false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().block_size, kRomFlashBlockSize) << "stepped back, not begun again with smaller blocks";
  auto back = m.flash_at(kPycomFactoryOffset, img.size());
  EXPECT_TRUE(std::equal(back.begin(), back.end(), img.begin()));
}

// A block whose garbled bytes passed the ROM's XOR checksum lands wrong: the write's MD5 differs, and only
// the 4 KiB sector holding it is written again (at 1 % garbage the whole write failed three times over in
// the fault matrix).
TEST(RomFlasher, AWriteThatLandedWrongHasOnlyItsDifferingSectorWrittenAgain) {
  RomLoaderConfig cfg;
  cfg.corrupt_block_seq_once = 5;  // bytes 5120-6143 of the image: its second 4 KiB sector
  DownloadModeModule m(cfg);
  RomFlasher f(m.link.host(), fast_timeouts());
  ASSERT_TRUE(f.connect());
  auto img = image(20000);
  auto r = f.write_flash(kPycomFactoryOffset, img, {}, false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r.value().sectors_rewritten, 1u);
  EXPECT_EQ(r.value().blocks, 4u) << "one sector of 1 KiB blocks, not the whole image again";
  auto back = m.flash_at(kPycomFactoryOffset, img.size());
  EXPECT_TRUE(std::equal(back.begin(), back.end(), img.begin()));
}

// Every other digest reply garbled (one hex digit changed): the first and the third agree. Comparing each
// reply only with the one before it never found two alike.
TEST(RomFlasher, ADigestCountsOnceAnyTwoRepliesAgreeNotOnlyTwoInARow) {
  DownloadModeModule m;
  int md5_replies = 0;
  m.link.set_responder([&](std::string_view bytes) {
    testing::MemoryLinkPair::Reply r{m.model.feed(bytes), m.pending_baud};
    m.pending_baud.reset();
    std::string& out = r.bytes;
    if (out.size() > 12 && static_cast<unsigned char>(out[0]) == 0xC0 && out[1] == 1 &&
        out[2] == static_cast<char>(RomCommand::spi_flash_md5) && md5_replies++ % 2 == 1) {
      out[9] = out[9] == 'a' ? 'b' : 'a';  // the digest's first hex digit
    }
    return r;
  });
  RomFlasher f(m.link.host(), fast_timeouts());
  ASSERT_TRUE(f.connect());
  auto img = image(8000);
  auto w = f.write_flash(kPycomFactoryOffset, img, {}, false);
  ASSERT_TRUE(w) << w.error().message;
  md5_replies = 0;
  auto d = f.flash_md5(kPycomFactoryOffset, static_cast<std::uint32_t>(img.size()));
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d.value(), md5(img));
  EXPECT_EQ(md5_replies, 3);
}

TEST(RomFlasher, Md5MismatchIsReported) {
  RomLoaderConfig cfg;
  cfg.drop_block_seq = 2;  // acknowledged, never programmed
  DownloadModeModule m(cfg);
  RomFlasher f(m.link.host(), fast_timeouts());
  ASSERT_TRUE(f.connect());
  auto img = image(8000);
  auto r = f.write_flash(kPycomFactoryOffset, img, {}, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, RomFailure::md5_mismatch);
  EXPECT_NE(r.error().message.find(to_hex(md5(img))), std::string::npos) << r.error().message;
}

TEST(RomFlasher, SyncRetriesUntilTheRomAnswers) {
  RomLoaderConfig cfg;
  cfg.ignore_syncs = 3;
  DownloadModeModule m(cfg);
  RomFlasher f(m.link.host(), fast_timeouts());
  auto s = f.sync(5);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(f.sync_attempts_made(), 4u);
  EXPECT_TRUE(m.model.synced());
  // The extra SYNC answers were consumed: the next command gets its own reply.
  auto reg = f.read_reg(kChipDetectMagicReg);
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg.value(), kEsp32ChipMagic);
}

TEST(RomFlasher, SyncGivesUpAfterItsAttempts) {
  RomLoaderConfig cfg;
  cfg.ignore_syncs = 100;
  DownloadModeModule m(cfg);
  RomFlasher f(m.link.host(), fast_timeouts());
  auto started = now();
  auto s = f.sync(3);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, RomFailure::no_reply);
  EXPECT_NE(s.error().message.find("download mode"), std::string::npos);
  EXPECT_EQ(f.sync_attempts_made(), 3u);
  EXPECT_GE(now() - started, 3 * milliseconds(30));  // each attempt waited its full deadline
}

TEST(RomFlasher, NothingConnectedIsANoReplyValueNotAHang) {
  testing::MemoryLinkPair link;  // no responder: nobody answers
  RomTimeouts t = fast_timeouts();
  t.command = milliseconds(50);
  RomFlasher f(link.host(), t);
  auto r = f.read_reg(kChipDetectMagicReg);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, RomFailure::no_reply);
  EXPECT_NE(r.error().message.find("READ_REG"), std::string::npos);
}

TEST(RomFlasher, ChangeBaudrateSwitchesBothEnds) {
  DownloadModeModule m;
  RomFlasher f(m.link.host(), fast_timeouts());
  ASSERT_TRUE(f.connect());
  auto s = f.change_baudrate(921600);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(m.link.host().baud(), 921600u);
  auto img = image(6000);
  auto r = f.write_flash(kPycomFactoryOffset, img);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(m.link.garbled_bytes(), 0u);
}

TEST(RomFlasher, AHostThatDoesNotFollowTheBaudChangeHearsGarbage) {
  // Proves the link models rates: the ROM switched, the host did not, nothing intelligible comes back.
  DownloadModeModule m;
  RomTimeouts t = fast_timeouts();
  t.command = milliseconds(100);
  RomFlasher f(m.link.host(), t);
  ASSERT_TRUE(f.sync());
  auto wire = slip_encode(to_string_bytes(encode_request(
      {static_cast<std::uint8_t>(RomCommand::change_baudrate), 0, change_baudrate_data(460800)})));
  m.link.host().write(wire, Deadline::after(seconds(1)));
  auto ack = m.link.host().read(Deadline::after(seconds(1)));  // the acknowledgement, at the old rate
  ASSERT_TRUE(ack.has_value());
  auto r = f.read_reg(kChipDetectMagicReg);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, RomFailure::no_reply);
  EXPECT_GT(m.link.garbled_bytes(), 0u);
}

TEST(RomFlasher, WrongChipStopsConnect) {
  RomLoaderConfig cfg;
  cfg.chip_magic = kEsp8266ChipMagic;
  DownloadModeModule m(cfg);
  RomFlasher f(m.link.host(), fast_timeouts());
  auto s = f.connect();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().kind, RomFailure::wrong_chip);
  EXPECT_NE(s.error().message.find("ESP8266"), std::string::npos);
}

TEST(RomFlasher, WritePastTheEndOfFlashIsARomErrorAtFlashBegin) {
  RomLoaderConfig cfg;
  cfg.flash_size = 0x20000;
  DownloadModeModule m(cfg);
  RomFlasher f(m.link.host(), fast_timeouts());
  ASSERT_TRUE(f.connect());
  auto r = f.write_flash(0x1C000, image(20000));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().command, RomCommand::flash_defl_begin);
  EXPECT_EQ(r.error().code, 0x06);
  EXPECT_NE(r.error().message.find("0x1c000"), std::string::npos) << r.error().message;
}

TEST(RomFlasher, CompressedWriteSendsTheZlibStreamAndReadsBackIdentical) {
  DownloadModeModule m;
  RomFlasher f(m.link.host(), fast_timeouts());
  ASSERT_TRUE(f.connect());
  auto img = image(60000);
  std::size_t last = 0;
  auto r = f.write_flash(kPycomFactoryOffset, img, [&](std::size_t done, std::size_t total) {
    EXPECT_GE(done, last);
    EXPECT_EQ(total, img.size());
    last = done;
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r.value().compressed);
  EXPECT_EQ(r.value().wire_bytes, zlib_compress(img).size());
  EXPECT_LT(r.value().wire_bytes, img.size() * 8 / 10) << "a Pycom-shaped image compresses";
  EXPECT_EQ(last, img.size());
  auto back = m.flash_at(kPycomFactoryOffset, img.size());
  EXPECT_TRUE(std::equal(back.begin(), back.end(), img.begin()));
  EXPECT_EQ(m.model.stats().bytes_written, img.size());
}

TEST(RomFlasher, ConnectReadsTheFlashSizeFromTheJedecIdAndAttachesWithTheEfusePads) {
  RomLoaderConfig cfg;
  cfg.identity.jedec_id = 0x1740C8;  // an 8 MB GigaDevice part
  // Flash on other pads than the default (CLK 6, Q 7, D 8, CS 11, HD 9), as SPI_ATTACH packs them.
  cfg.identity.spi_pad_config = (9u << 24) | (11u << 18) | (8u << 12) | (7u << 6) | 6u;
  cfg.flash_size = 8u << 20;
  DownloadModeModule m(cfg);
  RomTimeouts t = fast_timeouts();
  t.command = milliseconds(200);
  RomFlasher f(m.link.host(), t);
  auto id = f.flash_id();
  ASSERT_FALSE(id) << "nothing answers before a SYNC";
  auto size = f.connect();
  ASSERT_TRUE(size) << size.error().message;
  EXPECT_EQ(size.value(), 8u << 20);
  EXPECT_EQ(f.efuse_spi_pads().value(), cfg.identity.spi_pad_config);
  // Attached with the eFuse's pads, the flash answers; with the default ones it would not.
  auto r = f.write_flash(0x700000, image(3000));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(f.spi_attach(0));
  EXPECT_FALSE(f.flash_md5(0x700000, 0x1000));
}

TEST(RomFlasher, BaudChangeIsScaledByTheRomsCrystalEstimate) {
  // A chip whose 8 MHz oscillator runs 5 % fast: the ROM thinks its crystal is 42 MHz.
  RomLoaderConfig cfg;
  cfg.identity.rom_xtal_estimate_hz = 42'000'000;
  {
    DownloadModeModule m(cfg);
    RomFlasher f(m.link.host(), fast_timeouts());
    ASSERT_TRUE(f.connect());
    auto est = f.rom_crystal_estimate();
    ASSERT_TRUE(est);
    EXPECT_NEAR(est.value(), 42e6, 42e6 * 0.001);
    ASSERT_TRUE(f.change_baudrate(921600));
    auto r = f.write_flash(kPycomFactoryOffset, image(6000));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(m.link.garbled_bytes(), 0u);
  }
  {
    // Asking for the rate itself, as a host that does not compensate would: the UART ends up 5 % slow.
    DownloadModeModule m(cfg);
    RomTimeouts t = fast_timeouts();
    t.command = milliseconds(200);
    RomFlasher f(m.link.host(), t);
    ASSERT_TRUE(f.connect());
    auto wire = slip_encode(to_string_bytes(encode_request(
        {static_cast<std::uint8_t>(RomCommand::change_baudrate), 0, change_baudrate_data(921600)})));
    m.link.host().write(wire, Deadline::after(seconds(1)));
    ASSERT_TRUE(m.link.host().read(Deadline::after(seconds(1))).has_value());
    m.link.host().set_baud(921600);
    EXPECT_FALSE(f.read_reg(kChipDetectMagicReg));
    EXPECT_GT(m.link.garbled_bytes(), 0u);
  }
}

TEST(RomFlasher, Md5OfErasedFlash) {
  DownloadModeModule m;
  RomFlasher f(m.link.host(), fast_timeouts());
  ASSERT_TRUE(f.connect());
  auto d = f.flash_md5(0x300000, 0x1000);
  ASSERT_TRUE(d);
  EXPECT_EQ(d.value(), md5(std::vector<std::uint8_t>(0x1000, 0xFF)));
}

}  // namespace
}  // namespace bootrig
