// What each application slot holds, proven by the ROM loader's SPI_FLASH_MD5 when the rig wires P2: the
// authoritative answer to "is the image the rig names on the board", where bootrig's record is only a belief.
#pragma once

#include <map>
#include <string>

#include "bootrig/core/result.hpp"
#include "bootrig/flash/cable_flash.hpp"
#include "bootrig/flash/ensure.hpp"

namespace bootrig {

// One visit to download mode (a RESET with P2 held, then a RESET with it released: the board boots again and
// the caller waits for its prompt). The running slot is compared with the rig's images of the running version
// only, the other slot with every image; each over the image's own length, so a slot's unused tail does not
// matter. Fills board.proven.
Result<std::monostate, FlashFailure> prove_slots(const CableWires& wires, BoardFirmware& board,
                                                 const std::map<std::string, RigImage>& images,
                                                 const CableFlashOptions& options = {});

// Flash address of a slot on a module whose flash chip holds `flash_size` bytes (Pycom's 4 MB and 8 MB
// partition scripts place ota_0 differently).
std::uint32_t slot_offset(Slot slot, std::uint32_t flash_size);

// A record that says what the proof showed, for a board whose record was missing or wrong: later checks of
// the same run then need no second visit. The previous slot is kept from a trusted record, else recorded as
// unknown (a window-2 check then flashes: the safe side).
FirmwareRecord record_from_proof(const BoardFirmware& board, const std::map<std::string, RigImage>& images);

}  // namespace bootrig
