// A behavioural model of the ESP32 ROM loader and of esptool's flasher stub, for the simulated module and for
// tests.
#include "bootrig/firmware/rom_loader_model.hpp"

#include <algorithm>

#include "bootrig/firmware/hash.hpp"
#include "firmware/byte_order.hpp"

namespace bootrig {

namespace {

// The stub's error codes (esptool flasher_stub/include/stub_flasher.h).
constexpr std::uint8_t kStubBadDataLen = 0xC0;
constexpr std::uint8_t kStubBadChecksum = 0xC1;
constexpr std::uint8_t kStubNotInFlashMode = 0xC6;
constexpr std::uint8_t kStubInflateError = 0xC7;
constexpr std::uint8_t kStubTooMuchData = 0xC9;
constexpr std::uint8_t kStubNotImplemented = 0xFF;
constexpr std::uint32_t kStubMaxBlock = 0x4000;

std::uint8_t code(RomErrorCode e) { return static_cast<std::uint8_t>(e); }

// RAM the ROM lets MEM_BEGIN load into (esptool's ESP32 memory map: DRAM, IRAM and their shared range).
bool in_ram(std::uint32_t offset, std::uint32_t size) {
  const std::uint64_t end = std::uint64_t{offset} + size;
  return (offset >= 0x3FFAE000 && end <= 0x40000000) || (offset >= 0x40070000 && end <= 0x400C2000);
}

}  // namespace

struct RomLoaderModel::Write {
  bool compressed = false;
  std::uint32_t offset = 0;
  std::uint32_t size = 0;        // bytes the host announced (the stub: to be written; the ROM: erased)
  std::uint32_t num_blocks = 0;  // the ROM checks the sequence against it
  std::uint32_t block_size = 0;
  std::uint32_t next_seq = 0;
  std::uint32_t written = 0;       // bytes programmed so far, from offset
  std::uint32_t erased_until = 0;  // the stub erases ahead of its writes
  ZlibInflater inflater;
};

struct RomLoaderModel::Read {
  std::uint32_t offset = 0, length = 0, block = 0, max_in_flight = 0;
  std::uint32_t sent = 0, acked = 0;
  bool digest_sent = false;
};

// FLASH_BEGIN / FLASH_DEFL_BEGIN's four words: size, blocks, block size, offset.
std::unique_ptr<RomLoaderModel::Write> RomLoaderModel::begin_write(const Bytes& d, bool compressed) {
  auto w = std::make_unique<Write>();
  w->compressed = compressed;
  w->size = le::load32(d.data());
  w->num_blocks = le::load32(d.data() + 4);
  w->block_size = le::load32(d.data() + 8);
  w->offset = le::load32(d.data() + 12);
  w->erased_until = w->offset;
  return w;
}

RomLoaderModel::RomLoaderModel(RomLoaderConfig config)
    : config_(config),
      regs_(config.identity),
      flash_(config.flash_size, 0xFF),
      syncs_to_ignore_(config.ignore_syncs) {}

RomLoaderModel::~RomLoaderModel() = default;

void RomLoaderModel::reset_session() {
  decoder_.reset();
  synced_ = false;
  stub_ = false;
  crashed_ = false;
  attached_.reset();
  write_.reset();
  read_.reset();
  mem_.reset();
  mem_uploads_complete_ = 0;
  pending_baud_.reset();
  pending_exit_.reset();
}

std::string RomLoaderModel::feed(std::string_view bytes) {
  std::string out;
  for (const auto& frame : decoder_.feed(bytes)) handle(frame, out);
  // Hooks last: the replies above still belong to the old baud rate and the old session.
  if (pending_baud_) {
    unsigned baud = *pending_baud_;
    pending_baud_.reset();
    if (baud_hook_) baud_hook_(baud);
  }
  if (pending_exit_) {
    LoaderExit e = *pending_exit_;
    pending_exit_.reset();
    if (exit_hook_) exit_hook_(e);
  }
  return out;
}

void RomLoaderModel::reply(std::string& out, std::uint8_t op, std::uint32_t value,
                           std::span<const std::uint8_t> payload, std::uint8_t error) {
  if (error != 0) ++stats_.error_replies;
  Bytes packet;
  if (stub_) {
    // The stub's two status bytes: the error (0 = success), then a status byte it leaves 0.
    Bytes data(payload.begin(), payload.end());
    data.push_back(error);
    data.push_back(0);
    packet.push_back(0x01);
    packet.push_back(op);
    le::append16(packet, static_cast<std::uint16_t>(data.size()));
    le::append32(packet, value);
    packet.insert(packet.end(), data.begin(), data.end());
  } else {
    packet = encode_response(op, value, payload, error != 0 ? 1 : 0, error);
  }
  out += slip_encode(to_string_bytes(packet));
}

void RomLoaderModel::erase(std::uint32_t offset, std::uint32_t size) {
  if (size == 0) return;
  const std::size_t start = offset / kFlashSectorSize * kFlashSectorSize;
  const std::size_t end =
      std::min<std::size_t>(flash_.size(), (std::size_t{offset} + size + kFlashSectorSize - 1) /
                                               kFlashSectorSize * kFlashSectorSize);
  if (start >= end) return;
  std::fill(flash_.begin() + static_cast<std::ptrdiff_t>(start),
            flash_.begin() + static_cast<std::ptrdiff_t>(end), 0xFF);
  stats_.erased_bytes += end - start;
}

void RomLoaderModel::program(std::uint32_t at, std::span<const std::uint8_t> data) {
  for (std::size_t i = 0; i < data.size() && std::size_t{at} + i < flash_.size(); ++i)
    flash_[at + i] &= data[i];
  stats_.bytes_written += data.size();
}

bool RomLoaderModel::attach_ok() const {
  // The flash answers only on the pads it is wired to: the eFuse's, which SPI_ATTACH must name (0: default).
  return attached_ && *attached_ == config_.identity.spi_pad_config;
}

void RomLoaderModel::handle(const std::string& frame, std::string& out) {
  if (crashed_) {
    ++stats_.ignored;
    return;
  }
  if (stub_ && read_) {
    // During READ_FLASH the host sends only acknowledgements: the byte count it holds, as a bare frame.
    if (frame.size() == 4) {
      read_->acked = le::load32(reinterpret_cast<const std::uint8_t*>(frame.data()));
      pump_read(out);
    } else {
      ++stats_.ignored;
    }
    return;
  }
  auto req = decode_request(to_bytes(frame));
  if (!req) {
    ++stats_.ignored;
    return;
  }
  if (stub_)
    handle_stub(*req, out);
  else
    handle_rom(*req, out);
}

// What ROM and stub answer alike, apart from their status bytes. false: not one of these.
bool RomLoaderModel::common(const RomRequest& req, std::string& out, bool stub) {
  const std::uint8_t op = req.op;
  const auto& d = req.data;
  const std::uint8_t bad_len = stub ? kStubBadDataLen : code(RomErrorCode::invalid_message);
  const std::uint8_t bad_sum = stub ? kStubBadChecksum : code(RomErrorCode::invalid_crc);
  switch (static_cast<RomCommand>(op)) {
    case RomCommand::read_reg: {
      if (d.size() != 4) return reply(out, op, 0, {}, bad_len), true;
      const std::uint32_t addr = le::load32(d.data());
      reply(out, op, addr == kChipDetectMagicReg ? config_.chip_magic : regs_.read(addr));
      return true;
    }
    case RomCommand::write_reg: {
      // One or more (address, value, mask, delay) groups; esptool adds a second only as a delay.
      if (d.empty() || d.size() % 16 != 0) return reply(out, op, 0, {}, bad_len), true;
      for (std::size_t i = 0; i < d.size(); i += 16)
        regs_.write(le::load32(d.data() + i), le::load32(d.data() + i + 4), le::load32(d.data() + i + 8));
      reply(out, op, 0);
      return true;
    }
    case RomCommand::spi_set_params:
      if (d.size() != 24) return reply(out, op, 0, {}, bad_len), true;
      reply(out, op, 0);
      return true;
    case RomCommand::mem_begin: {
      if (d.size() != 16) return reply(out, op, 0, {}, bad_len), true;
      MemUpload m{le::load32(d.data()), le::load32(d.data() + 4), le::load32(d.data() + 8), 0, 0};
      if (m.block_size == 0 || !in_ram(le::load32(d.data() + 12), m.size)) {
        mem_.reset();
        return reply(out, op, 0, {}, stub ? kStubBadDataLen : code(RomErrorCode::failed_to_act)), true;
      }
      mem_ = m;
      reply(out, op, 0);
      return true;
    }
    case RomCommand::mem_data: {
      if (d.size() < 16 || le::load32(d.data()) != d.size() - 16) return reply(out, op, 0, {}, bad_len), true;
      std::span<const std::uint8_t> block(d.data() + 16, d.size() - 16);
      if (rom_checksum(block) != req.checksum) return reply(out, op, 0, {}, bad_sum), true;
      const std::uint32_t seq = le::load32(d.data() + 4);
      if (!mem_ || seq != mem_->next_seq || block.size() > mem_->block_size)
        return reply(out, op, 0, {}, stub ? kStubBadDataLen : code(RomErrorCode::failed_to_act)), true;
      ++mem_->next_seq;
      mem_->received += static_cast<std::uint32_t>(block.size());
      if (mem_->received >= mem_->size) {
        ++mem_uploads_complete_;
        mem_.reset();
      }
      reply(out, op, 0);
      return true;
    }
    default:
      return false;
  }
}

void RomLoaderModel::handle_rom(const RomRequest& req, std::string& out) {
  const std::uint8_t op = req.op;
  const auto& d = req.data;
  const auto cmd = static_cast<RomCommand>(op);
  const std::uint8_t invalid = code(RomErrorCode::invalid_message);
  const std::uint8_t cannot = code(RomErrorCode::failed_to_act);

  if (cmd == RomCommand::sync) {
    if (d != sync_data()) {
      ++stats_.ignored;
      return;
    }
    if (syncs_to_ignore_ > 0) {
      --syncs_to_ignore_;
      ++stats_.ignored;
      return;
    }
    ++stats_.requests;
    synced_ = true;
    for (unsigned i = 0; i < std::max(1u, config_.sync_replies); ++i) reply(out, op, kRomSyncValue);
    return;
  }
  if (!synced_) {
    ++stats_.ignored;
    return;
  }
  ++stats_.requests;
  if (common(req, out, false)) return;

  switch (cmd) {
    case RomCommand::spi_attach:
      if (d.size() != 8) return reply(out, op, 0, {}, invalid);
      attached_ = le::load32(d.data());
      return reply(out, op, 0);
    case RomCommand::change_baudrate: {
      if (d.size() != 8) return reply(out, op, 0, {}, invalid);
      const std::uint32_t asked = le::load32(d.data());
      if (asked == 0) return reply(out, op, 0, {}, invalid);
      reply(out, op, 0);
      // The ROM computes the divider from its own crystal estimate; the UART runs off the real crystal.
      const double actual = static_cast<double>(asked) * esp32reg::kXtalHz / config_.identity.rom_xtal_estimate_hz;
      pending_baud_ = static_cast<unsigned>(actual + 0.5);
      regs_.set_uart_baud(*pending_baud_);
      return;
    }
    case RomCommand::flash_begin:
    case RomCommand::flash_defl_begin: {
      // The ESP32 ROM takes exactly 16 bytes; later chips (and their ROMs' encryption flag) take a fifth
      // word.
      if (d.size() != 16) return reply(out, op, 0, {}, invalid);
      auto w = begin_write(d, cmd == RomCommand::flash_defl_begin);
      const std::uint64_t erase_end = std::uint64_t{w->offset} + w->size;
      const std::uint64_t write_end = std::uint64_t{w->offset} + std::uint64_t{w->num_blocks} * w->block_size;
      // The last block is padded to block_size, so it may run up to one block past the erase region.
      if (!attach_ok() || w->block_size == 0 || erase_end > flash_.size() ||
          (!w->compressed && write_end > std::uint64_t{flash_.size()} + w->block_size)) {
        write_.reset();
        return reply(out, op, 0, {}, cannot);
      }
      erase(w->offset, w->size);
      write_ = std::move(w);
      return reply(out, op, 0);
    }
    case RomCommand::flash_data:
    case RomCommand::flash_defl_data: {
      if (d.size() < 16) return reply(out, op, 0, {}, invalid);
      const std::uint32_t len = le::load32(d.data());
      const std::uint32_t seq = le::load32(d.data() + 4);
      if (len != d.size() - 16) return reply(out, op, 0, {}, invalid);
      std::span<const std::uint8_t> block(d.data() + 16, len);
      if (rom_checksum(block) != req.checksum) return reply(out, op, 0, {}, code(RomErrorCode::invalid_crc));
      const bool compressed = cmd == RomCommand::flash_defl_data;
      if (!write_ || write_->compressed != compressed ||
          (compressed ? len > write_->block_size : len != write_->block_size))
        return reply(out, op, 0, {}, cannot);
      const bool repeat = !compressed && write_->next_seq > 0 && seq == write_->next_seq - 1;
      if ((seq != write_->next_seq && !repeat) || seq >= write_->num_blocks)
        return reply(out, op, 0, {}, cannot);
      if (!compressed && !repeat && config_.refuse_as_ok_seq == seq && !refused_as_ok_) {
        refused_as_ok_ = true;
        return reply(out, op, 0);
      }
      if (compressed) {
        std::vector<std::uint8_t> plain;
        if (!write_->inflater.feed(block, plain, write_->size)) {
          write_.reset();
          return reply(out, op, 0, {}, code(RomErrorCode::deflate_error));
        }
        program(write_->offset + write_->written, plain);
        write_->written += static_cast<std::uint32_t>(plain.size());
        ++stats_.blocks_written;
      } else if (config_.corrupt_block_seq_once == seq && !corrupted_once_) {
        corrupted_once_ = true;
        std::vector<std::uint8_t> wrong(block.begin(), block.end());
        wrong[wrong.size() / 2] ^= 0x5A;
        program(write_->offset + seq * write_->block_size, wrong);
        ++stats_.blocks_written;
      } else if (!(config_.drop_block_seq && *config_.drop_block_seq == seq)) {
        program(write_->offset + seq * write_->block_size, block);
        ++stats_.blocks_written;
      }
      if (!repeat) ++write_->next_seq;
      return reply(out, op, 0);
    }
    case RomCommand::flash_end:
    case RomCommand::flash_defl_end:
      if (d.size() != 4) return reply(out, op, 0, {}, invalid);
      write_.reset();
      reply(out, op, 0);
      pending_exit_ = le::load32(d.data()) == 0 ? LoaderExit::reboot : LoaderExit::run_user_code;
      return;
    case RomCommand::spi_flash_md5: {
      if (d.size() != 16) return reply(out, op, 0, {}, invalid);
      const std::uint32_t addr = le::load32(d.data());
      const std::uint32_t size = le::load32(d.data() + 4);
      if (!attach_ok()) return reply(out, op, 0, {}, cannot);
      if (std::uint64_t{addr} + size > flash_.size())
        return reply(out, op, 0, {}, code(RomErrorCode::flash_read_length));
      const std::string hex = to_hex(md5(std::span<const std::uint8_t>(flash_.data() + addr, size)));
      return reply(out, op, 0, to_bytes(hex));
    }
    case RomCommand::read_flash_slow: {
      if (d.size() != 8) return reply(out, op, 0, {}, invalid);
      const std::uint32_t addr = le::load32(d.data());
      const std::uint32_t len = le::load32(d.data() + 4);
      if (!attach_ok()) return reply(out, op, 0, {}, cannot);
      if (len > 64 || std::uint64_t{addr} + len > flash_.size())
        return reply(out, op, 0, {}, code(RomErrorCode::flash_read_length));
      Bytes buf(64, 0);
      std::copy_n(flash_.begin() + addr, len, buf.begin());
      return reply(out, op, 0, buf);
    }
    case RomCommand::mem_end: {
      if (d.size() != 8) return reply(out, op, 0, {}, invalid);
      const std::uint32_t entry = le::load32(d.data() + 4);
      reply(out, op, 0);
      if (entry == 0) return;
      if (mem_uploads_complete_ == 0) {
        crashed_ = true;  // jumped into RAM nobody loaded
        return;
      }
      // The uploaded flasher stub starts and says hello; from here on the stub's protocol.
      stub_ = true;
      ++stats_.stub_starts;
      write_.reset();
      attached_ = config_.identity.spi_pad_config;  // the stub attaches the flash itself, on the eFuse's pads
      out += slip_encode("OHAI");
      return;
    }
    default: {
      // Not a ROM command: status 1, error 0x05, under another opcode (see the header).
      ++stats_.error_replies;
      out += slip_encode(to_string_bytes(encode_response(0x00, 0, {}, 1, invalid)));
      return;
    }
  }
}

void RomLoaderModel::handle_stub(const RomRequest& req, std::string& out) {
  const std::uint8_t op = req.op;
  const auto& d = req.data;
  const auto cmd = static_cast<RomCommand>(op);
  ++stats_.requests;
  if (common(req, out, true)) return;
  switch (op) {
    case static_cast<std::uint8_t>(RomCommand::sync):
      return reply(out, op, 0);  // the stub's SYNC answer: value 0, which tells esptool a stub runs
    case static_cast<std::uint8_t>(RomCommand::spi_attach):
      if (d.size() != 4 && d.size() != 8) return reply(out, op, 0, {}, kStubBadDataLen);
      attached_ = le::load32(d.data());
      return reply(out, op, 0);
    case static_cast<std::uint8_t>(RomCommand::change_baudrate): {
      if (d.size() != 8 || le::load32(d.data()) == 0) return reply(out, op, 0, {}, kStubBadDataLen);
      reply(out, op, 0);
      pending_baud_ = le::load32(d.data());  // the stub divides the real crystal: the rate asked for
      regs_.set_uart_baud(*pending_baud_);
      return;
    }
    case static_cast<std::uint8_t>(RomCommand::flash_begin):
    case static_cast<std::uint8_t>(RomCommand::flash_defl_begin): {
      if (d.size() != 16) return reply(out, op, 0, {}, kStubBadDataLen);
      // FLASH_BEGIN: the size to write; FLASH_DEFL_BEGIN: the uncompressed size.
      auto w = begin_write(d, cmd == RomCommand::flash_defl_begin);
      if (std::uint64_t{w->offset} + w->size > flash_.size() || !attach_ok()) {
        write_.reset();
        return reply(out, op, 0, {}, kStubBadDataLen);
      }
      write_ = std::move(w);
      return reply(out, op, 0);
    }
    case static_cast<std::uint8_t>(RomCommand::flash_data):
    case static_cast<std::uint8_t>(RomCommand::flash_defl_data): {
      const bool compressed = cmd == RomCommand::flash_defl_data;
      if (!write_ || write_->compressed != compressed) return reply(out, op, 0, {}, kStubNotInFlashMode);
      if (d.size() < 16 || le::load32(d.data()) != d.size() - 16 || d.size() - 16 > kStubMaxBlock)
        return reply(out, op, 0, {}, kStubBadDataLen);
      std::span<const std::uint8_t> block(d.data() + 16, d.size() - 16);
      if (rom_checksum(block) != req.checksum) return reply(out, op, 0, {}, kStubBadChecksum);
      std::vector<std::uint8_t> plain;
      if (compressed) {
        if (!write_->inflater.feed(block, plain, write_->size))
          return reply(out, op, 0, {}, kStubInflateError);
      } else {
        // The last block is padded with 0xFF; only the announced size is written.
        const std::uint32_t left = write_->size - std::min(write_->size, write_->written);
        if (left == 0) return reply(out, op, 0, {}, kStubTooMuchData);
        plain.assign(block.begin(), block.begin() + std::min<std::size_t>(block.size(), left));
      }
      const std::uint32_t at = write_->offset + write_->written;
      const std::uint32_t end = at + static_cast<std::uint32_t>(plain.size());
      if (end > write_->erased_until) {  // erase ahead, sector by sector, as the stub does
        erase(write_->erased_until, end - write_->erased_until);
        write_->erased_until = (end + kFlashSectorSize - 1) / kFlashSectorSize * kFlashSectorSize;
      }
      program(at, plain);
      write_->written += static_cast<std::uint32_t>(plain.size());
      ++stats_.blocks_written;
      return reply(out, op, 0);
    }
    case static_cast<std::uint8_t>(RomCommand::flash_end):
    case static_cast<std::uint8_t>(RomCommand::flash_defl_end): {
      if (d.size() != 4) return reply(out, op, 0, {}, kStubBadDataLen);
      if (!write_) return reply(out, op, 0, {}, kStubNotInFlashMode);
      write_.reset();
      reply(out, op, 0);
      if (le::load32(d.data()) == 0) pending_exit_ = LoaderExit::reboot;
      return;
    }
    case static_cast<std::uint8_t>(RomCommand::spi_flash_md5): {
      if (d.size() != 16) return reply(out, op, 0, {}, kStubBadDataLen);
      const std::uint32_t addr = le::load32(d.data());
      const std::uint32_t size = le::load32(d.data() + 4);
      if (std::uint64_t{addr} + size > flash_.size()) return reply(out, op, 0, {}, kStubBadDataLen);
      const Md5Digest digest = md5(std::span<const std::uint8_t>(flash_.data() + addr, size));
      return reply(out, op, 0, digest);
    }
    case 0xD0:  // ERASE_FLASH
      if (!d.empty()) return reply(out, op, 0, {}, kStubBadDataLen);
      erase(0, static_cast<std::uint32_t>(flash_.size()));
      return reply(out, op, 0);
    case 0xD1: {  // ERASE_REGION
      if (d.size() != 8) return reply(out, op, 0, {}, kStubBadDataLen);
      const std::uint32_t addr = le::load32(d.data());
      const std::uint32_t size = le::load32(d.data() + 4);
      if (addr % kFlashSectorSize != 0 || size % kFlashSectorSize != 0 ||
          std::uint64_t{addr} + size > flash_.size())
        return reply(out, op, 0, {}, kStubBadDataLen);
      erase(addr, size);
      return reply(out, op, 0);
    }
    case 0xD2: {  // READ_FLASH
      if (d.size() != 16) return reply(out, op, 0, {}, kStubBadDataLen);
      auto r = std::make_unique<Read>();
      r->offset = le::load32(d.data());
      r->length = le::load32(d.data() + 4);
      r->block = le::load32(d.data() + 8);
      r->max_in_flight = std::max<std::uint32_t>(1, le::load32(d.data() + 12));
      if (r->block == 0 || r->block > kStubMaxBlock || std::uint64_t{r->offset} + r->length > flash_.size())
        return reply(out, op, 0, {}, kStubBadDataLen);
      reply(out, op, 0);
      read_ = std::move(r);
      pump_read(out);
      return;
    }
    default:
      return reply(out, op, 0, {}, kStubNotImplemented);
  }
}

void RomLoaderModel::pump_read(std::string& out) {
  Read& r = *read_;
  while (r.sent < r.length && (r.sent - std::min(r.sent, r.acked)) / r.block < r.max_in_flight) {
    const std::uint32_t n = std::min(r.block, r.length - r.sent);
    out += slip_encode(std::string_view(reinterpret_cast<const char*>(flash_.data() + r.offset + r.sent), n));
    r.sent += n;
  }
  if (r.acked >= r.length && !r.digest_sent) {
    const Md5Digest digest = md5(std::span<const std::uint8_t>(flash_.data() + r.offset, r.length));
    out += slip_encode(to_string_bytes(digest));
    read_.reset();
  }
}

}  // namespace bootrig
