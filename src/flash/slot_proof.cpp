// Proves each slot's content with the ROM's MD5 and turns the proof into bootrig's record.
#include "bootrig/flash/slot_proof.hpp"

#include "bootrig/firmware/esp_image.hpp"
#include "bootrig/firmware/hash.hpp"

namespace bootrig {

std::uint32_t slot_offset(Slot slot, std::uint32_t flash_size) {
  if (slot == Slot::factory) return kPycomFactoryOffset;
  return flash_size >= (8u << 20) ? kPycomOta0Offset8MB : kPycomOta0Offset4MB;
}

Result<std::monostate, FlashFailure> prove_slots(const CableWires& wires, BoardFirmware& board,
                                                 const std::map<std::string, RigImage>& images,
                                                 const CableFlashOptions& options) {
  struct Ask {
    Slot slot;
    const RigImage* image;
  };
  std::vector<Ask> asks;
  for (Slot slot : {Slot::factory, Slot::ota0})
    for (const auto& [name, img] : images)
      if (slot != board.active || img.version == board.running.version) asks.push_back({slot, &img});
  auto regions = [&](std::uint32_t flash_size) {
    std::vector<FlashRegion> out;
    for (const auto& a : asks)
      out.push_back({std::string(to_string(a.slot)) + " as " + a.image->name, slot_offset(a.slot, flash_size),
                     static_cast<std::uint32_t>(a.image->bytes.size())});
    return out;
  };
  auto got = read_flash_digests(wires, regions, options);
  if (!got) return got.error();
  SlotProof proof;
  proof.flash_size = got.value().flash_size;
  for (Slot slot : {Slot::factory, Slot::ota0}) proof.holds[slot];  // every slot proven, possibly empty
  for (std::size_t i = 0; i < asks.size(); ++i) {
    const std::string on_flash = to_hex(got.value().md5[i]);
    const std::string image_md5 = to_hex(md5(asks[i].image->bytes));
    proof.md5[asks[i].slot][asks[i].image->name] = on_flash;
    if (on_flash == image_md5) proof.holds[asks[i].slot] = asks[i].image->name;
  }
  board.proven = std::move(proof);
  return std::monostate{};
}

FirmwareRecord record_from_proof(const BoardFirmware& board, const std::map<std::string, RigImage>& images) {
  FirmwareRecord r;
  r.active = board.active;
  r.prev = board.record ? board.record->prev : std::nullopt;
  for (Slot slot : {Slot::factory, Slot::ota0}) {
    auto it = board.proven->holds.find(slot);
    if (it != board.proven->holds.end() && !it->second.empty()) {
      const RigImage& img = images.at(it->second);
      r.slots[slot] = SlotContent{img.version, img.sha256};
    } else if (slot == board.active) {
      r.slots[slot] = SlotContent{board.running.version, ""};  // none of the rig's images: no digest to vouch
    }
  }
  return r;
}

}  // namespace bootrig
