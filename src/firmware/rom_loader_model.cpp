// A behavioural model of the ESP32 ROM loader's flash commands, for the simulated module and for tests.
#include "bootrig/firmware/rom_loader_model.hpp"

#include <algorithm>

#include "bootrig/firmware/hash.hpp"
#include "firmware/byte_order.hpp"

namespace bootrig {

RomLoaderModel::RomLoaderModel(RomLoaderConfig config)
    : config_(config), flash_(config.flash_size, 0xFF), syncs_to_ignore_(config.ignore_syncs) {}

void RomLoaderModel::reset_session() {
  decoder_.reset();
  synced_ = false;
  spi_attached_ = false;
  flashing_.reset();
  pending_baud_.reset();
  pending_flash_end_.reset();
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
  if (pending_flash_end_) {
    bool reboot = *pending_flash_end_;
    pending_flash_end_.reset();
    if (flash_end_hook_) flash_end_hook_(reboot);
  }
  return out;
}

void RomLoaderModel::reply(std::string& out, std::uint8_t op, std::uint32_t value,
                           std::span<const std::uint8_t> payload, RomErrorCode error) {
  const bool failed = error != RomErrorCode::none;
  if (failed) ++stats_.error_replies;
  auto packet = encode_response(op, value, payload, failed ? 1 : 0, static_cast<std::uint8_t>(error));
  out += slip_encode(to_string_bytes(packet));
}

void RomLoaderModel::erase(std::uint32_t offset, std::uint32_t size) {
  if (size == 0) return;
  const std::size_t start = offset / kFlashSectorSize * kFlashSectorSize;
  const std::size_t end =
      std::min<std::size_t>(flash_.size(), (std::size_t{offset} + size + kFlashSectorSize - 1) /
                                               kFlashSectorSize * kFlashSectorSize);
  std::fill(flash_.begin() + static_cast<std::ptrdiff_t>(start),
            flash_.begin() + static_cast<std::ptrdiff_t>(end), 0xFF);
  stats_.erased_bytes += end - start;
}

void RomLoaderModel::handle(const std::string& frame, std::string& out) {
  auto req = decode_request(to_bytes(frame));
  if (!req) {
    ++stats_.ignored;
    return;
  }
  const std::uint8_t op = req->op;
  const auto& d = req->data;
  const auto cmd = static_cast<RomCommand>(op);

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

  switch (cmd) {
    case RomCommand::read_reg: {
      if (d.size() != 4) return reply(out, op, 0, {}, RomErrorCode::invalid_message);
      const std::uint32_t addr = le::load32(d.data());
      return reply(out, op, addr == kChipDetectMagicReg ? config_.chip_magic : 0);
    }
    case RomCommand::spi_attach:
      if (d.size() != 8) return reply(out, op, 0, {}, RomErrorCode::invalid_message);
      spi_attached_ = true;
      return reply(out, op, 0);
    case RomCommand::spi_set_params:
      if (d.size() != 24) return reply(out, op, 0, {}, RomErrorCode::invalid_message);
      return reply(out, op, 0);
    case RomCommand::change_baudrate: {
      if (d.size() != 8) return reply(out, op, 0, {}, RomErrorCode::invalid_message);
      const std::uint32_t baud = le::load32(d.data());
      if (baud == 0) return reply(out, op, 0, {}, RomErrorCode::invalid_message);
      reply(out, op, 0);
      pending_baud_ = baud;
      return;
    }
    case RomCommand::flash_begin: {
      // The ESP32 ROM takes exactly 16 bytes; later chips (and the stub) take a fifth word.
      if (d.size() != 16) return reply(out, op, 0, {}, RomErrorCode::invalid_message);
      const std::uint32_t erase_size = le::load32(d.data());
      const std::uint32_t num_blocks = le::load32(d.data() + 4);
      const std::uint32_t block_size = le::load32(d.data() + 8);
      const std::uint32_t offset = le::load32(d.data() + 12);
      const std::uint64_t write_end = std::uint64_t{offset} + std::uint64_t{num_blocks} * block_size;
      const std::uint64_t erase_end = std::uint64_t{offset} + erase_size;
      // The last block is padded to block_size, so it may run up to one block past the erase region.
      if (!spi_attached_ || block_size == 0 || erase_end > flash_.size() ||
          write_end > std::uint64_t{flash_.size()} + block_size) {
        flashing_.reset();
        return reply(out, op, 0, {}, RomErrorCode::failed_to_act);
      }
      erase(offset, erase_size);
      flashing_ = Flashing{offset, num_blocks, block_size, 0};
      return reply(out, op, 0);
    }
    case RomCommand::flash_data: {
      if (d.size() < 16) return reply(out, op, 0, {}, RomErrorCode::invalid_message);
      const std::uint32_t len = le::load32(d.data());
      const std::uint32_t seq = le::load32(d.data() + 4);
      if (len != d.size() - 16) return reply(out, op, 0, {}, RomErrorCode::invalid_message);
      std::span<const std::uint8_t> block(d.data() + 16, len);
      if (rom_checksum(block) != req->checksum) return reply(out, op, 0, {}, RomErrorCode::invalid_crc);
      if (!flashing_ || len != flashing_->block_size)
        return reply(out, op, 0, {}, RomErrorCode::failed_to_act);
      const bool repeat = flashing_->next_seq > 0 && seq == flashing_->next_seq - 1;
      if ((seq != flashing_->next_seq && !repeat) || seq >= flashing_->num_blocks) {
        return reply(out, op, 0, {}, RomErrorCode::failed_to_act);
      }
      if (!(config_.drop_block_seq && *config_.drop_block_seq == seq)) {
        const std::size_t at = std::size_t{flashing_->offset} + std::size_t{seq} * flashing_->block_size;
        for (std::size_t i = 0; i < len && at + i < flash_.size(); ++i) flash_[at + i] &= block[i];
        ++stats_.blocks_written;
      }
      if (!repeat) ++flashing_->next_seq;
      return reply(out, op, 0);
    }
    case RomCommand::flash_end:
      if (d.size() != 4) return reply(out, op, 0, {}, RomErrorCode::invalid_message);
      flashing_.reset();
      reply(out, op, 0);
      pending_flash_end_ = le::load32(d.data()) == 0;
      return;
    case RomCommand::spi_flash_md5: {
      if (d.size() != 16) return reply(out, op, 0, {}, RomErrorCode::invalid_message);
      const std::uint32_t addr = le::load32(d.data());
      const std::uint32_t size = le::load32(d.data() + 4);
      if (std::uint64_t{addr} + size > flash_.size()) {
        return reply(out, op, 0, {}, RomErrorCode::flash_read_length);
      }
      const std::string hex = to_hex(md5(std::span<const std::uint8_t>(flash_.data() + addr, size)));
      return reply(out, op, 0, to_bytes(hex));
    }
    default:
      return reply(out, op, 0, {}, RomErrorCode::invalid_message);
  }
}

}  // namespace bootrig
