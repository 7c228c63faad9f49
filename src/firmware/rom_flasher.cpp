// The host side of the ROM loader protocol: one request, one matching reply, every wait bounded by a
// Deadline.
#include "bootrig/firmware/rom_flasher.hpp"

#include <algorithm>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/archive.hpp"
#include "bootrig/firmware/esp32_registers.hpp"
#include "firmware/byte_order.hpp"

namespace bootrig {

namespace {

// A ROM that gave no reply to 3 tries in a row (esptool's count) has stopped answering: reset, brown-out.
constexpr int kSilentBlockAttempts = 3;
constexpr int kStillAnswersProbes = 4;  // see rom_still_answers
// Commands that change nothing when repeated (register reads and writes, SPI set-up, MD5) are repeated when
// their reply was lost or garbled: the ROM's replies carry no checksum.
constexpr int kIdempotentAttempts = 6;
// Replies compared until two agree (a register, a digest): at 1 % noise both ways half of a digest's replies
// arrive garbled, and among 6 one or none was right one time in nine; among 12, three times in a thousand.
constexpr int kAgreementReplies = 12;
constexpr int kWholeWriteAttempts = 3;
// A block size the line spoils in most tries is made a quarter: at one byte in a hundred garbled a 1 KiB
// block arrives intact once in 40 000 tries, a 64-byte one about every other try (the fault matrix's 1 %
// case failed every cable flash at block 0 after 16 tries). The ROM takes any block size FLASH_BEGIN names
// (esptool's FLASH_WRITE_SIZE is a choice, not the ROM's limit); smaller blocks cost a header each, 16 bytes
// of 64 at the smallest. Four failed tries of one block mean this size gets through less than about half
// the time.
constexpr std::uint32_t kMinBlockSize = 0x40;
constexpr int kTriesBeforeShrinking = 4;
// esptool tries a block 3 times (WRITE_BLOCK_ATTEMPTS), which assumes a clean cable. A try that fails on the
// line costs one block's line time (or the timeout of a lost reply), so more tries cost nothing on a clean
// line. At the smallest size only a ROM that stopped answering ends the write: at one byte in a hundred a 64-byte
// block gets through about one try in three, and a write of a thousand blocks met a block that failed 16
// times in a row (0.65^16 is 1 in 1000). 0.65^64 is 1 in 10^12.
constexpr int kMinBlockAttempts = 64;
// A plain block the ROM refuses as out of sequence (0x06) this many times in a row while answering: it still
// waits for an earlier block (see write_flash_once), and the write steps back instead of trying on.
constexpr int kRefusalsBeforeStepBack = 3;
constexpr int kStepBacksPerWrite = 16;
// The flash's erase unit: a FLASH_BEGIN erases whole sectors, so a part written again alone must be one.
constexpr std::size_t kSectorBytes = 4096;

Duration per_mb(Duration per_megabyte, std::size_t bytes, Duration floor) {
  auto scaled = std::chrono::duration_cast<Duration>(per_megabyte * (static_cast<double>(bytes) / 1e6));
  return std::max(scaled, floor);
}

std::optional<Md5Digest> parse_md5_hex(const Bytes& hex) {
  if (hex.size() != 32) return std::nullopt;
  Md5Digest d{};
  for (std::size_t i = 0; i < 16; ++i) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = static_cast<char>(hex[2 * i + static_cast<std::size_t>(k)]);
      int n = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (n < 0) return std::nullopt;
      v = v * 16 + n;
    }
    d[i] = static_cast<std::uint8_t>(v);
  }
  return d;
}

}  // namespace

const char* to_string(RomFailure f) {
  switch (f) {
    case RomFailure::no_reply:
      return "no reply";
    case RomFailure::rom_error:
      return "ROM error";
    case RomFailure::bad_reply:
      return "bad reply";
    case RomFailure::unsupported:
      return "unsupported command";
    case RomFailure::wrong_chip:
      return "wrong chip";
    case RomFailure::md5_mismatch:
      return "MD5 mismatch";
  }
  return "?";
}

const char* to_string(RomChip c) {
  switch (c) {
    case RomChip::esp32:
      return "ESP32";
    case RomChip::esp8266:
      return "ESP8266";
    case RomChip::esp32s2:
      return "ESP32-S2";
    case RomChip::unknown:
      return "unknown chip";
  }
  return "?";
}

RomFlasher::RomFlasher(SerialLink& link, RomTimeouts timeouts) : link_(link), timeouts_(timeouts) {}

RomError RomFlasher::error(RomFailure kind, RomCommand op, std::string detail, std::uint8_t code) const {
  return RomError{kind, op, code, std::string(to_string(op)) + detail};
}

std::optional<std::string> RomFlasher::next_frame(Deadline deadline) {
  while (frames_.empty()) {
    auto chunk = link_.read(deadline);
    if (!chunk) return std::nullopt;
    for (auto& f : decoder_.feed(chunk->bytes)) frames_.push_back(std::move(f));
  }
  std::string f = std::move(frames_.front());
  frames_.pop_front();
  return f;
}

RomResult<RomFlasher::Reply> RomFlasher::command(RomCommand op, const Bytes& data, std::uint32_t checksum,
                                                 Duration timeout, std::size_t payload_len,
                                                 const std::string& what) {
  const Deadline deadline = Deadline::after(timeout);
  RomRequest req{static_cast<std::uint8_t>(op), checksum, data};
  link_.write(slip_encode(to_string_bytes(encode_request(req))), deadline);
  for (;;) {
    auto frame = next_frame(deadline);
    if (!frame) {
      return error(
          RomFailure::no_reply, op,
          what + ": no reply within " + std::to_string(static_cast<long long>(to_ms(timeout))) + " ms");
    }
    auto resp = decode_response(to_bytes(*frame));
    if (!resp) continue;  // not a response (an echo, noise that happened to be framed)
    if (resp->op != static_cast<std::uint8_t>(op)) {
      // A ROM that does not know a command answers with status 1, error 0x05 under another opcode.
      if (resp->data.size() >= 2 && resp->data[0] != 0 &&
          resp->data[1] == static_cast<std::uint8_t>(RomErrorCode::invalid_message)) {
        return error(RomFailure::unsupported, op, what + ": the ROM does not support this command");
      }
      continue;  // a late reply to an earlier command (e.g. the extra SYNC answers)
    }
    const auto& d = resp->data;
    if (d.size() < payload_len + 2) {
      if (d.size() >= 2 && d[0] != 0) {
        return error(RomFailure::rom_error, op, what + ": ROM error " + describe_rom_error(d[1]), d[1]);
      }
      return error(RomFailure::bad_reply, op,
                   what + ": reply has " + std::to_string(d.size()) + " data bytes, expected " +
                       std::to_string(payload_len + 2) + " or more");
    }
    const std::uint8_t status = d[payload_len];
    const std::uint8_t code = d[payload_len + 1];
    if (status != 0) {
      return error(RomFailure::rom_error, op, what + ": ROM error " + describe_rom_error(code), code);
    }
    return Reply{resp->value, Bytes(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(payload_len))};
  }
}

RomStatus RomFlasher::sync(int attempts) {
  RomError last = error(RomFailure::no_reply, RomCommand::sync, ": no attempt made");
  for (int i = 0; i < attempts; ++i) {
    if (i > 0) wait_for(timeouts_.sync_pause);
    ++sync_attempts_;
    // esptool flushes before each try so a half-read boot message cannot be taken for a reply.
    link_.discard_input();
    decoder_.reset();
    frames_.clear();
    auto r = command(RomCommand::sync, sync_data(), 0, timeouts_.sync);
    if (r) {
      // The ROM answers one SYNC up to 8 times; take the extra answers now so they do not queue up.
      const Deadline quiet = Deadline::after(timeouts_.sync);
      for (int extra = 0; extra < 7; ++extra) {
        auto f = next_frame(quiet);
        if (!f) break;
      }
      return std::monostate{};
    }
    last = r.error();
  }
  last.message = "SYNC: no answer from the ROM loader after " + std::to_string(attempts) +
                 " attempts (is the module in download mode, and the baud rate right?)";
  return last;
}

bool RomFlasher::rom_still_answers() {
  // A probe and its reply are about 28 bytes: at one byte in a hundred dropped both ways one in four is
  // lost, two in a row one in 16, and a write of 1200 blocks at the smallest size then met three silent
  // tries in a row about one time in twelve (the fault matrix's 1 % dropped-bytes case: "FLASH_DATA (block
  // 471 of 1196): no reply within 200 ms (after 3 attempts)"). Four probes: one in 256; a ROM that stopped
  // costs 0.8 s more a try.
  for (int i = 0; i < kStillAnswersProbes; ++i) {
    // A register read is answered at once: the small block's timeout is plenty.
    auto r = command(RomCommand::read_reg, read_reg_data(kChipDetectMagicReg), 0,
                     std::min(timeouts_.small_block, timeouts_.command), 0, "");
    // Any reply, an error status included, comes from a ROM that is there.
    if (r || r.error().kind != RomFailure::no_reply) return true;
  }
  return false;
}

RomResult<RomFlasher::Reply> RomFlasher::repeated(RomCommand op, const Bytes& data, Duration timeout,
                                                  std::size_t payload_len, const std::string& what) {
  RomError last;
  int unsupported = 0;  // "unsupported" answers in a row
  for (int i = 0; i < kIdempotentAttempts; ++i) {
    auto r = command(op, data, 0, timeout, payload_len, what);
    if (r) return r;
    last = r.error();
    // A request whose opcode the line garbled is answered as an unknown command too (one in a hundred at 1 %
    // noise, which failed whole cable flashes at connect): only a ROM that really lacks the command says so
    // again.
    unsupported = last.kind == RomFailure::unsupported ? unsupported + 1 : 0;
    if (unsupported >= 2) break;
  }
  return last;
}

RomResult<std::uint32_t> RomFlasher::read_reg(std::uint32_t address) {
  // A garbled reply can still decode as a reply with another value: a value counts once two replies agree.
  std::vector<std::uint32_t> seen;
  for (int i = 0; i < kAgreementReplies; ++i) {
    auto r =
        repeated(RomCommand::read_reg, read_reg_data(address), timeouts_.command, 0, " " + hex32(address));
    if (!r) return r.error();
    if (std::find(seen.begin(), seen.end(), r.value().value) != seen.end()) return r.value().value;
    seen.push_back(r.value().value);
  }
  return error(RomFailure::bad_reply, RomCommand::read_reg,
               " " + hex32(address) + ": no two of " + std::to_string(kAgreementReplies) +
                   " replies agreed (a noisy line)");
}

RomResult<RomChip> RomFlasher::detect_chip() {
  auto r = read_reg(kChipDetectMagicReg);
  if (!r) return r.error();
  switch (r.value()) {
    case kEsp32ChipMagic:
      return RomChip::esp32;
    case kEsp8266ChipMagic:
      return RomChip::esp8266;
    case kEsp32S2ChipMagic:
      return RomChip::esp32s2;
    default:
      return RomChip::unknown;
  }
}

RomStatus RomFlasher::spi_attach(std::uint32_t pads) {
  auto r = repeated(RomCommand::spi_attach, spi_attach_data(pads), timeouts_.command, 0,
                    pads == 0 ? std::string(" (default pads)") : " (pads " + hex32(pads) + ")");
  if (!r) return r.error();
  return std::monostate{};
}

RomResult<std::uint32_t> RomFlasher::efuse_spi_pads() {
  auto w3 = read_reg(esp32reg::kEfuseBase + 4 * 3);
  if (!w3) return w3.error();
  auto w5 = read_reg(esp32reg::kEfuseBase + 4 * 5);
  if (!w5) return w5.error();
  return spi_attach_arg_from_efuse(w3.value(), w5.value());
}

RomStatus RomFlasher::write_reg(std::uint32_t address, std::uint32_t value) {
  Bytes d;
  le::append32(d, address);
  le::append32(d, value);
  le::append32(d, 0xFFFFFFFF);
  le::append32(d, 0);
  auto r = repeated(RomCommand::write_reg, d, timeouts_.command, 0, " " + hex32(address));
  if (!r) return r.error();
  return std::monostate{};
}

RomResult<std::uint32_t> RomFlasher::flash_id() {
  using namespace esp32reg;
  // RDID (0x9F) as a user command: 24 bits clocked back into W0 (esptool's run_spiflash_command).
  auto old_user = read_reg(kSpiUser);
  if (!old_user) return old_user.error();
  auto old_user2 = read_reg(kSpiUser2);
  if (!old_user2) return old_user2.error();
  for (auto [reg, value] :
       {std::pair{kSpiMisoDlen, 24u - 1}, std::pair{kSpiUser, (1u << 31) | (1u << 28)},
        std::pair{kSpiUser2, (7u << 28) | 0x9Fu}, std::pair{kSpiW0, 0u}, std::pair{kSpiCmd, kSpiCmdUsr}}) {
    if (auto w = write_reg(reg, value); !w) return w.error();
  }
  bool done = false;
  for (int i = 0; i < 10 && !done; ++i) {
    auto c = read_reg(kSpiCmd);
    if (!c) return c.error();
    done = (c.value() & kSpiCmdUsr) == 0;
  }
  if (!done)
    return error(RomFailure::bad_reply, RomCommand::read_reg, ": the SPI controller never finished RDID");
  auto id = read_reg(kSpiW0);
  if (!id) return id.error();
  if (auto w = write_reg(kSpiUser, old_user.value()); !w) return w.error();
  if (auto w = write_reg(kSpiUser2, old_user2.value()); !w) return w.error();
  return id.value() & 0xFFFFFF;
}

RomResult<double> RomFlasher::rom_crystal_estimate() {
  auto cali = read_reg(esp32reg::kRtcCaliCfg1);
  if (!cali) return cali.error();
  auto w4 = read_reg(esp32reg::kEfuseBase + 4 * 4);
  if (!w4) return w4.error();
  return bootrig::rom_crystal_estimate(cali.value(), w4.value());
}

RomStatus RomFlasher::spi_set_params(std::uint32_t flash_size) {
  auto r = repeated(RomCommand::spi_set_params, spi_set_params_data(flash_size), timeouts_.command, 0, "");
  if (!r) return r.error();
  return std::monostate{};
}

RomStatus RomFlasher::change_baudrate(unsigned baud) {
  // The ESP32 ROM divides its own crystal estimate (from its drifting 8 MHz oscillator) by the rate it is
  // given, while the UART runs off the real crystal: ask for the rate scaled by estimate / crystal.
  auto est = rom_crystal_estimate();
  if (!est) return est.error();
  const double crystal = est.value() > 33e6 ? 40e6 : 26e6;
  const unsigned ask = est.value() > 0 ? static_cast<unsigned>(static_cast<double>(baud) * est.value() / crystal) : baud;
  // The acknowledgement still comes at the old rate; only then does the link switch.
  auto r = command(RomCommand::change_baudrate, change_baudrate_data(ask, 0), 0, timeouts_.command, 0,
                   " to " + std::to_string(baud));
  if (!r) return r.error();
  link_.set_baud(baud);
  wait_for(timeouts_.baud_settle);
  link_.discard_input();
  decoder_.reset();
  frames_.clear();
  return std::monostate{};
}

RomResult<std::uint32_t> RomFlasher::flash_begin(std::uint32_t size, std::uint32_t offset) {
  const std::uint32_t blocks = (size + block_size_ - 1) / block_size_;
  auto r = begin_command(RomCommand::flash_begin, flash_begin_data(size, blocks, block_size_, offset),
                         per_mb(timeouts_.erase_per_mb, size, timeouts_.command),
                         " (" + std::to_string(size) + " bytes at " + hex32(offset) + ")");
  if (!r) return r.error();
  begun_blocks_ = blocks;
  begun_offset_ = offset;
  return blocks;
}

RomStatus RomFlasher::flash_data(std::span<const std::uint8_t> block, std::uint32_t seq) {
  Bytes padded(block.begin(), block.end());
  padded.resize(block_size_, 0xFF);
  return send_block(RomCommand::flash_data, padded, seq);
}

RomResult<RomFlasher::Reply> RomFlasher::begin_command(RomCommand op, const Bytes& data, Duration timeout,
                                                      const std::string& what) {
  RomError last;
  int silent = 0;
  for (int attempt = 0; attempt < kIdempotentAttempts && silent < kSilentBlockAttempts; ++attempt) {
    auto r = command(op, data, 0, timeout, 0, what);
    if (r) return r;
    last = r.error();
    // Every ESP32 ROM knows both BEGINs: "unsupported" here is an opcode the line garbled.
    silent = last.kind != RomFailure::no_reply || rom_still_answers() ? 0 : silent + 1;
  }
  return last;
}

RomStatus RomFlasher::send_block(RomCommand op, std::span<const std::uint8_t> block, std::uint32_t seq) {
  const Bytes data = flash_data_data(block, seq);
  const std::uint32_t checksum = rom_checksum(block);
  const int tries = block_size_ > kMinBlockSize ? kTriesBeforeShrinking : kMinBlockAttempts;
  const Duration timeout = op == RomCommand::flash_data && block_size_ <= 256
                               ? std::min(timeouts_.small_block, timeouts_.command)
                               : timeouts_.command;
  RomError last;
  int attempt = 0;
  int silent = 0;  // tries in a row without any reply
  int refused = 0;  // plain: tries in a row refused as out of sequence
  shrink_wanted_ = false;
  out_of_step_ = false;
  while (attempt < tries && silent < kSilentBlockAttempts) {
    if (attempt++ > 0) ++block_retries_;
    auto r = command(op, data, checksum, timeout, 0,
                     " (block " + std::to_string(seq) + " of " + std::to_string(begun_blocks_) + " at " +
                         hex32(begun_offset_) + ")");
    if (r) return std::monostate{};
    last = r.error();
    // A checksum error (a byte garbled on the line) or a lost reply is worth another try. So is any other
    // error: the reply carries no checksum, and a garbled status byte reads as an error the ROM never sent;
    // a block the ROM really refuses (out of sequence, a stream it could not inflate) is refused again
    // quickly, which costs only the tries. Even "unsupported": a request whose opcode the line garbled is
    // answered as an unknown command, and the ROM that took this write's BEGIN knows its blocks.
    // A dropped byte leaves the ROM waiting for the rest of the frame, and the frame after it is lost too
    // (its leading 0xC0 ends the broken one): a line that drops one byte in a thousand costs most 1 KiB
    // blocks two silent tries, which looked like a ROM that had stopped. Small questions tell them apart:
    // only a ROM that answers none of them counts as silent.
    silent = last.kind != RomFailure::no_reply || rom_still_answers() ? 0 : silent + 1;
    const bool out_of_sequence = op == RomCommand::flash_data && last.kind == RomFailure::rom_error &&
                                 last.code == static_cast<std::uint8_t>(RomErrorCode::failed_to_act);
    refused = out_of_sequence ? refused + 1 : 0;
    if (refused >= kRefusalsBeforeStepBack && seq > 0) {
      out_of_step_ = true;
      last.message += " (refused " + std::to_string(refused) + " times in a row: out of sequence)";
      return last;
    }
  }
  // Every try used and the ROM still answering: the line, not the ROM, is what this size cannot get past.
  shrink_wanted_ = attempt >= tries && silent < kSilentBlockAttempts && block_size_ > kMinBlockSize;
  last.message += " (after " + std::to_string(attempt) + (attempt == 1 ? " attempt)" : " attempts)");
  return last;
}

RomResult<std::uint32_t> RomFlasher::flash_defl_begin(std::uint32_t size, std::uint32_t compressed_size,
                                                      std::uint32_t offset) {
  const std::uint32_t blocks = (compressed_size + block_size_ - 1) / block_size_;
  // The ROM erases the whole (block-rounded) region up front.
  const std::uint32_t erase = (size + block_size_ - 1) / block_size_ * block_size_;
  auto r = begin_command(RomCommand::flash_defl_begin, flash_begin_data(erase, blocks, block_size_, offset),
                         per_mb(timeouts_.erase_per_mb, erase, timeouts_.command),
                         " (" + std::to_string(size) + " bytes at " + hex32(offset) + ")");
  if (!r) return r.error();
  begun_blocks_ = blocks;
  begun_offset_ = offset;
  return blocks;
}

RomStatus RomFlasher::flash_defl_data(std::span<const std::uint8_t> block, std::uint32_t seq) {
  return send_block(RomCommand::flash_defl_data, block, seq);
}

RomStatus RomFlasher::flash_end(LoaderExit how) {
  auto r = command(RomCommand::flash_end, flash_end_data(how == LoaderExit::reboot), 0, timeouts_.command);
  if (!r) return r.error();
  return std::monostate{};
}

RomResult<Md5Digest> RomFlasher::flash_md5(std::uint32_t address, std::uint32_t size) {
  // The ROM answers with 32 hex characters (the stub with 16 raw bytes). Like a register, a digest counts
  // once two replies agree: a garbled one is still 32 hex digits more often than not.
  std::vector<Md5Digest> seen;
  for (int i = 0; i < kAgreementReplies; ++i) {
    auto r = repeated(RomCommand::spi_flash_md5, flash_md5_data(address, size),
                      per_mb(timeouts_.md5_per_mb, size, timeouts_.command), 32,
                      " (" + std::to_string(size) + " bytes at " + hex32(address) + ")");
    if (!r) return r.error();
    auto digest = parse_md5_hex(r.value().payload);
    if (!digest) continue;
    if (std::find(seen.begin(), seen.end(), *digest) != seen.end()) return *digest;
    seen.push_back(*digest);
  }
  return error(RomFailure::bad_reply, RomCommand::spi_flash_md5,
               ": no two of " + std::to_string(kAgreementReplies) + " replies were the same 32 hex digits");
}

RomResult<std::uint32_t> RomFlasher::connect(int sync_attempts) {
  if (auto s = sync(sync_attempts); !s) return s.error();
  auto chip = detect_chip();
  if (!chip) return chip.error();
  if (chip.value() != RomChip::esp32) {
    return error(RomFailure::wrong_chip, RomCommand::read_reg,
                 ": chip-detect register says " + std::string(to_string(chip.value())) + ", not an ESP32");
  }
  // The flash answers only on the pads it is wired to, which the eFuse names (the bootloader attaches so).
  auto pads = efuse_spi_pads();
  if (!pads) return pads.error();
  if (auto s = spi_attach(pads.value()); !s) return s.error();
  auto id = flash_id();
  if (!id) return id.error();
  const unsigned capacity = (id.value() >> 16) & 0xFF;
  if (capacity < 0x12 || capacity > 0x1A)
    return error(RomFailure::bad_reply, RomCommand::read_reg,
                 ": the flash chip's JEDEC id " + hex32(id.value()) + " names no size (no flash answering?)");
  const std::uint32_t size = std::uint32_t{1} << capacity;
  if (auto s = spi_set_params(size); !s) return s.error();
  return size;
}

RomResult<FlashWriteReport> RomFlasher::write_flash(std::uint32_t offset, std::span<const std::uint8_t> data,
                                                    const FlashProgress& progress, bool compress) {
  // FLASH_BEGIN's size and offset, and each block's sequence number, carry no checksum: on a noisy line a
  // write can be acknowledged block by block and still land wrong, which only the MD5 shows. A write whose
  // MD5 does not match, or whose block never got through, is done again from FLASH_BEGIN.
  RomError last;
  // Once this line has needed smaller blocks, every later write of the session goes plain too (the
  // otadata erase after the image, a second image).
  compress = compress && !plain_only_;
  for (int whole = 0; whole < kWholeWriteAttempts;) {
    shrink_wanted_ = false;
    auto r = write_flash_once(offset, data, progress, compress);
    if (r) return r;
    last = r.error();
    // The write went through but landed wrong somewhere (a block whose garbled bytes the ROM's XOR checksum
    // did not catch): most of it is right, so only the sectors whose MD5 differs are written again. Only
    // for a sector-aligned write: a FLASH_BEGIN erases whole sectors, and a neighbour's must not be lost.
    if (last.kind == RomFailure::md5_mismatch && offset % kSectorBytes == 0) {
      auto fixed = rewrite_differing_sectors(offset, data);
      if (fixed) return fixed;
      last.message += "; writing the differing sectors again failed too: " + fixed.error().message;
    }
    // Smaller blocks, begun again: not one of the whole attempts, which are for writes that land wrong.
    // Uncompressed from then on: a block of the zlib stream whose acknowledgement the line ate cannot be
    // sent again (the ROM has inflated it and refuses the number; sending the next one may skip it), while a
    // plain block is written at the address its number names, so repeating it is harmless. The line, not
    // the link's speed, is then what limits the write.
    if (shrink_wanted_ && block_size_ > kMinBlockSize) {
      block_size_ = std::max(kMinBlockSize, block_size_ / 4);
      compress = false;
      plain_only_ = true;
      continue;
    }
    // A ROM that stopped answering (reset, brown-out, unplugged) is not helped by starting over.
    if (last.kind == RomFailure::unsupported || last.kind == RomFailure::no_reply) break;
    ++whole;
  }
  return last;
}

RomResult<FlashWriteReport> RomFlasher::rewrite_differing_sectors(std::uint32_t offset,
                                                                  std::span<const std::uint8_t> data) {
  FlashWriteReport report;
  report.offset = offset;
  report.bytes = data.size();
  report.block_size = block_size_;
  const std::size_t retries_before = block_retries_;
  for (std::size_t at = 0; at < data.size(); at += kSectorBytes) {
    const auto part = data.subspan(at, std::min(kSectorBytes, data.size() - at));
    const auto sector = static_cast<std::uint32_t>(offset + at);
    auto got = flash_md5(sector, static_cast<std::uint32_t>(part.size()));
    if (!got) return got.error();
    if (got.value() == md5(part)) continue;
    auto w = write_flash_once(sector, part, {}, false);  // plain: its blocks can be repeated
    if (!w) return w.error();
    report.blocks += w.value().blocks;
    report.wire_bytes += w.value().wire_bytes;
    ++report.sectors_rewritten;
  }
  report.block_retries = block_retries_ - retries_before;
  const Md5Digest expected = md5(data);
  auto whole = flash_md5(offset, static_cast<std::uint32_t>(data.size()));
  if (!whole) return whole.error();
  if (whole.value() != expected)
    return error(RomFailure::md5_mismatch, RomCommand::spi_flash_md5,
                 ": flash at " + hex32(offset) + " reads back as " + to_hex(whole.value()) + " after " +
                     std::to_string(report.sectors_rewritten) + " sector(s) were written again, wrote " +
                     to_hex(expected));
  report.md5 = expected;
  return report;
}

RomResult<FlashWriteReport> RomFlasher::write_flash_once(std::uint32_t offset,
                                                         std::span<const std::uint8_t> data,
                                                         const FlashProgress& progress, bool compress) {
  FlashWriteReport report;
  report.offset = offset;
  report.bytes = data.size();
  report.compressed = compress;
  report.block_size = block_size_;
  const std::size_t retries_before = block_retries_;
  if (compress) {
    const std::vector<std::uint8_t> z = zlib_compress(data);
    auto begin = flash_defl_begin(static_cast<std::uint32_t>(data.size()),
                                  static_cast<std::uint32_t>(z.size()), offset);
    if (!begin) return begin.error();
    report.blocks = begin.value();
    report.wire_bytes = z.size();
    for (std::uint32_t seq = 0; seq < report.blocks; ++seq) {
      const std::size_t from = std::size_t{seq} * block_size_;
      const std::size_t n = std::min<std::size_t>(block_size_, z.size() - from);
      auto s = flash_defl_data(std::span<const std::uint8_t>(z).subspan(from, n), seq);
      if (!s) return s.error();
      // Progress in image bytes: the compressed stream's share of it.
      if (progress) progress(data.size() * (from + n) / z.size(), data.size());
    }
  } else {
    auto begin = flash_begin(static_cast<std::uint32_t>(data.size()), offset);
    if (!begin) return begin.error();
    report.blocks = begin.value();
    report.wire_bytes = std::size_t{report.blocks} * block_size_;
    int step_backs = 0;
    for (std::uint32_t seq = 0; seq < report.blocks;) {
      const std::size_t from = std::size_t{seq} * block_size_;
      const std::size_t n = std::min<std::size_t>(block_size_, data.size() - from);
      auto s = flash_data(data.subspan(from, n), seq);
      if (!s) {
        // The ROM answers but refuses this number as out of sequence: it still waits for the block before,
        // whose refusal reached us as success (a garbled status byte: replies carry no checksum) or whose
        // reply was a late one taken for the next try's. A plain block lands where its number says, so
        // sending the one before again is harmless; the ROM takes it as its next or as a repeat.
        if (out_of_step_ && seq > 0 && ++step_backs <= kStepBacksPerWrite) {
          --seq;
          continue;
        }
        return s.error();
      }
      if (progress) progress(from + n, data.size());
      ++seq;
    }
  }
  report.block_retries = block_retries_ - retries_before;
  const Md5Digest expected = md5(data);
  auto got = flash_md5(offset, static_cast<std::uint32_t>(data.size()));
  if (!got) return got.error();
  if (got.value() != expected) {
    return error(RomFailure::md5_mismatch, RomCommand::spi_flash_md5,
                 ": flash at " + hex32(offset) + " reads back as " + to_hex(got.value()) + ", wrote " +
                     to_hex(expected));
  }
  report.md5 = expected;
  return report;
}

}  // namespace bootrig
