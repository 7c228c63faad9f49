// What bootrig knows of the board's firmware (what runs, what window 2 would boot) and the plan that flashes
// only what a check's arrangement still lacks.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bootrig/core/result.hpp"
#include "bootrig/core/time.hpp"
#include "bootrig/flash/ota.hpp"
#include "bootrig/repl/checked_channel.hpp"
#include "bootrig/repl/repl_client.hpp"
#include "bootrig/rig/rig_config.hpp"

namespace bootrig {

// One of the rig's [firmware] images, read and validated.
struct RigImage {
  std::string name;  // the [firmware] key: "previous", "current"
  std::string path;
  std::vector<std::uint8_t> bytes;  // the application image alone (a bundle's app member)
  std::string version;              // from the image's app description
  std::string board;                // "FiPy"
  std::string sha256;               // of `bytes`, lower-case hex
  // The build as the firmware reports it in os.uname().version ("v1.11-a5aa0b8 on 2021-01-12"), when the
  // image says (its banner); empty when it does not.
  std::string build;
  std::string describe() const;     // "current (FiPy 1.20.2.r6, rigs/images/fipy-1.20.2.r6.bin)"
};

// Reads one image file (an app .bin or a Pycom .tar.gz). Throws RigError starting with `where` for a
// missing, corrupt, oversized or description-less image.
RigImage load_image_file(const std::string& name, const std::string& path, const std::string& where);

// Reads every [firmware] image of the rig. Throws RigError naming the key and the file for a missing,
// corrupt, oversized or description-less image: a bad image is an error before the board is touched.
std::map<std::string, RigImage> load_rig_images(const RigConfig& rig);

// What `check` and `run` both refuse in a rig's images before a board is touched: previous without current,
// previous and current the same build or the same version or for different boards, an image for another
// board than the simulated module's. Throws RigError naming the rig file and the key.
void check_rig_images(const RigConfig& rig, const std::map<std::string, RigImage>& images);

// The two application slots of a Pycom module.
enum class Slot : std::uint8_t { factory, ota0 };
const char* to_string(Slot s);  // "factory", "ota_0"
// pycom.bootmgr()[0] ("Factory", "ota_0") or a record's name; nullopt for anything else.
std::optional<Slot> parse_slot(std::string_view name);
inline Slot other_slot(Slot s) { return s == Slot::factory ? Slot::ota0 : Slot::factory; }

struct SlotContent {
  std::string version;
  std::string sha256;  // empty when bootrig did not write it (found running, never flashed by bootrig)
  bool operator==(const SlotContent&) const = default;
};

// The board cannot say what its other slot holds nor which slot window 2 boots (boot_info's PrevImg), so
// bootrig keeps a record on the board's own filesystem after every flash it makes. It is trusted only while
// the board agrees with it (the active slot and its version match), so a flash by another tool or an
// os.fsformat() makes bootrig fall back to flashing, never to a wrong belief.
inline constexpr const char* kFirmwareRecordPath = "/flash/bootrig_firmware.txt";
struct FirmwareRecord {
  Slot active = Slot::factory;
  // What window 2 boots; == active after a cable flash; nullopt when bootrig wrote the record from the ROM's
  // proof of the slots' content without having seen the OTA that set boot_info's PrevImg.
  std::optional<Slot> prev = Slot::factory;
  std::map<Slot, SlotContent> slots;
  std::string encode() const;
  // nullopt for text that is not a record (truncated, edited, another program's file).
  static std::optional<FirmwareRecord> decode(std::string_view text);
  bool operator==(const FirmwareRecord&) const = default;
};

// What the ROM's SPI_FLASH_MD5 showed (P2 wired): per slot, the [firmware] image whose bytes it holds ("" for
// none of the rig's images), and the digests read, by image name, for the notes.
struct SlotProof {
  std::uint32_t flash_size = 0;
  std::map<Slot, std::string> holds;
  std::map<Slot, std::map<std::string, std::string>> md5;
};

// What the board runs and what bootrig knows besides.
struct BoardFirmware {
  RunningFirmware running;
  std::string build;                     // os.uname().version: the running build's git tag and date
  Slot active = Slot::factory;          // pycom.bootmgr()[0]
  std::optional<FirmwareRecord> record;  // only when it agrees with the board
  std::string record_note;               // why there is no trusted record, for the run's notes
  std::optional<SlotProof> proven;       // the ROM's word on each slot: over the record when present

  // What window 2 would boot and what the factory slot holds, when known.
  std::optional<SlotContent> previous() const;
  std::optional<SlotContent> slot(Slot s) const;
  // "ota_0 runs FiPy 1.20.2.r6; window 2 boots 1.20.2.r4 (factory slot)" or "...; the previous image is
  // unknown (no bootrig record on the board)".
  std::string describe() const;
  // Why previous() is empty: "no bootrig record on the board (/flash/...)", never empty itself.
  std::string previous_unknown() const;
};

// Reads os.uname(), pycom.bootmgr(), pycom.ota_slot() and the record, through the checked channel.
Result<BoardFirmware, OtaFailure> read_board_firmware(CheckedChannel& channel, Deadline deadline);
// The record as it is after a flash of `image` by OTA or by cable, from what was known before.
FirmwareRecord record_after_ota(const BoardFirmware& before, const RigImage& image);
FirmwareRecord record_after_cable(const BoardFirmware* before, const RigImage& image);
Result<std::monostate, OtaFailure> write_firmware_record(CheckedChannel& channel, const FirmwareRecord& record,
                                                         Deadline deadline);

// What a check needs on the board: the [firmware] image that must run, and the one window 2 must boot
// (the previous OTA image). Empty: any.
struct Arrangement {
  std::string running;
  std::string previous;
  bool any() const { return running.empty() && previous.empty(); }
  std::string describe() const;  // "current running, previous as the previous OTA image"
};

// Drops the names the rig has no image for (the check then runs with whatever is on the board) and says
// which ones in `dropped`. Throws RigError when both images carry the same version: window 2 could not tell
// them apart.
Arrangement resolve_arrangement(const Arrangement& wanted, const std::map<std::string, RigImage>& images,
                                std::vector<std::string>* dropped);

enum class FlashMethod : std::uint8_t { cable, ota };
const char* to_string(FlashMethod m);  // "cable", "OTA"
struct PlannedFlash {
  std::string image;  // [firmware] key
  FlashMethod method;
  std::string why;  // "window 2 must boot previous (1.20.2.r4); the board's previous image is unknown"
};

// The fewest flashes that give the arrangement. An OTA makes the running image the previous one, so the
// previous image is put on to run first (by cable when the rig can, else by OTA) and the running one
// follows by OTA. Nothing when the board already matches.
std::vector<PlannedFlash> plan_flashes(const BoardFirmware& board, const Arrangement& a,
                                       const std::map<std::string, RigImage>& images, bool cable_available);

// Whether the board runs exactly this image, judged by content, never by the version string alone: the ROM's
// MD5 of the running slot when the board was proven (P2 wired), else bootrig's record (trusted only while the
// board agrees with it) must hold this image's SHA-256 for the running slot; and the running build
// (os.uname().version) must be the image's when the image names its build. Without either the answer is no: a
// build of the same version may differ, and flashing again is the safe side.
// `why` (optional) says what was compared, for the run's notes.
bool runs_image(const BoardFirmware& board, const RigImage& image, std::string* why = nullptr);
// The same for the previous slot (window 2's image): which slot that is comes from the record only (the board
// cannot say); its content from the ROM's MD5 when proven, else the record's digest.
bool previous_is(const BoardFirmware& board, const RigImage& image, std::string* why = nullptr);

}  // namespace bootrig
