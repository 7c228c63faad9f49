// Reading what the board holds, bootrig's record of its slots, and planning the fewest flashes.
#include "bootrig/flash/ensure.hpp"

#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/firmware_file.hpp"
#include "bootrig/firmware/hash.hpp"

namespace bootrig {

std::string RigImage::describe() const { return name + " (" + board + " " + version + ", " + path + ")"; }

RigImage load_image_file(const std::string& name, const std::string& path, const std::string& where) {
  LoadedFirmware f;
  try {
    f = load_firmware_file(path);
  } catch (const RigError& e) {
    // The reader's message starts with the path, which `where` already names.
    std::string what = e.what();
    if (what.rfind(path + ": ", 0) == 0) what.erase(0, path.size() + 2);
    throw RigError(where + ": " + what);
  }
  if (!f.image.valid())
    throw RigError(where + ": not a valid ESP32 application image (" + f.image.problem_summary() +
                   "); fix the image or the path; nothing was written to the board");
  if (!f.image.identity.pycom)
    throw RigError(where + ": is " + f.image.describe() + ", not a Pycom MicroPython build; nothing was written");
  RigImage img;
  img.name = name;
  img.path = path;
  img.version = f.image.identity.version;
  img.board = to_string(f.image.board);
  img.sha256 = to_hex(sha256(std::span<const std::uint8_t>(f.bytes)));
  img.bytes = std::move(f.bytes);
  return img;
}

std::map<std::string, RigImage> load_rig_images(const RigConfig& rig) {
  std::map<std::string, RigImage> out;
  for (const auto& [name, fw] : rig.firmware)
    out.emplace(name, load_image_file(name, fw.path.string(),
                                      rig.source.string() + ": [firmware] " + name + " = " + fw.path.string()));
  return out;
}

void check_rig_images(const RigConfig& rig, const std::map<std::string, RigImage>& images) {
  const std::string where = rig.source.string() + ": [firmware] ";
  auto cur = images.find("current");
  auto prev = images.find("previous");
  if (prev != images.end() && cur == images.end())
    throw RigError(where +
                   "previous is given without current: window 2's previous image is only made by an OTA "
                   "of current on top of it; add current");
  if (cur != images.end() && prev != images.end()) {
    const RigImage& c = cur->second;
    const RigImage& p = prev->second;
    if (c.sha256 == p.sha256)
      throw RigError(where + "previous and current are the same build (" + c.board + " " + c.version +
                     ", SHA-256 " + c.sha256 +
                     "): window 2 could not tell them apart; give previous an older release");
    if (c.board != p.board)
      throw RigError(where + "current is built for " + c.board + " but previous for " + p.board +
                     "; one module runs both, so give images for the same board");
    resolve_arrangement({"current", "previous"}, images, nullptr);  // the same version twice
  }
  // The simulated module's board is known from the rig file; a hardware board is compared when it answers.
  if (rig.kind == RigKind::sim && rig.sim.remote.empty()) {
    for (const auto& [name, img] : images)
      if (parse_board(img.board) != parse_board(rig.sim.board))
        throw RigError(where + name + " = " + img.path + " is built for " + img.board +
                       " but [sim] board is " + rig.sim.board + "; give an image for " + rig.sim.board +
                       " or change the board");
  }
}

const char* to_string(Slot s) { return s == Slot::factory ? "factory" : "ota_0"; }

std::optional<Slot> parse_slot(std::string_view name) {
  if (name == "Factory" || name == "factory") return Slot::factory;
  if (name == "ota_0") return Slot::ota0;
  return std::nullopt;
}

// One line per fact, so a human reading /flash sees what it is and a truncated file does not parse.
std::string FirmwareRecord::encode() const {
  std::string s = "# bootrig's record of this module's firmware slots (bootrig rewrites it after each flash)\n";
  s += std::string("active ") + to_string(active) + "\n";
  s += std::string("prev ") + (prev ? to_string(*prev) : "unknown") + "\n";
  for (const auto& [slot, c] : slots)
    s += std::string("slot ") + to_string(slot) + " " + c.version + " " + (c.sha256.empty() ? "-" : c.sha256) + "\n";
  s += "end\n";
  return s;
}

std::optional<FirmwareRecord> FirmwareRecord::decode(std::string_view text) {
  FirmwareRecord r;
  bool have_active = false, have_prev = false, ended = false;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (ended) return std::nullopt;
    std::istringstream words(line);
    std::string key, a, b, c;
    words >> key >> a >> b >> c;
    if (key == "end") {
      ended = true;
    } else if (key == "prev" && a == "unknown" && b.empty()) {
      r.prev = std::nullopt;
      have_prev = true;
    } else if (key == "active" || key == "prev") {
      auto s = parse_slot(a);
      if (!s || !b.empty()) return std::nullopt;
      if (key == "active") r.active = *s;
      else r.prev = *s;
      (key == "active" ? have_active : have_prev) = true;
    } else if (key == "slot") {
      auto s = parse_slot(a);
      if (!s || b.empty() || c.empty()) return std::nullopt;
      r.slots[*s] = SlotContent{b, c == "-" ? "" : c};
    } else {
      return std::nullopt;
    }
  }
  if (!ended || !have_active || !have_prev || !r.slots.count(r.active) || (r.prev && !r.slots.count(*r.prev)))
    return std::nullopt;
  return r;
}

std::optional<SlotContent> BoardFirmware::slot(Slot s) const {
  if (record) {
    auto it = record->slots.find(s);
    if (it != record->slots.end()) return it->second;
  }
  if (s == active) return SlotContent{running.version, ""};
  return std::nullopt;
}

std::optional<SlotContent> BoardFirmware::previous() const {
  if (!record || !record->prev) return std::nullopt;
  return slot(*record->prev);
}

std::string BoardFirmware::describe() const {
  std::string s = std::string(to_string(active)) + " runs " + running.board + " " + running.version;
  if (auto p = previous()) {
    if (record->prev == active)
      s += "; window 2 boots the same image (boot_info was reset by a cable flash)";
    else
      s += std::string("; window 2 boots ") + p->version + " (" + to_string(*record->prev) + " slot)";
  } else {
    s += "; the previous image is unknown (" + previous_unknown() + ")";
  }
  return s;
}

std::string BoardFirmware::previous_unknown() const {
  if (!record) return record_note.empty() ? "no bootrig record on the board" : record_note;
  if (!record->prev) return "bootrig's record was written from the slots' MD5, not from an OTA";
  return std::string("bootrig's record names no image in the ") + to_string(*record->prev) +
         " slot, window 2's";
}

namespace {

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The first item of pycom.bootmgr()'s repr: "('ota_0', 'LittleFS', ...)" -> "ota_0".
std::string first_item(const std::string& repr) {
  auto q = repr.find('\'');
  if (q == std::string::npos) return {};
  auto e = repr.find('\'', q + 1);
  return e == std::string::npos ? std::string() : repr.substr(q + 1, e - q - 1);
}

constexpr const char* kNoRecord = "BOOTRIG-NO-RECORD";

}  // namespace

Result<BoardFirmware, OtaFailure> read_board_firmware(CheckedChannel& channel, Deadline deadline) {
  auto a = channel.run(std::string("import os, pycom\n"
                                   "u = os.uname()\n"
                                   "l = [u[2], u[4].split()[0], str(pycom.ota_slot()), repr(pycom.bootmgr()), u[3]]\n"
                                   "try:\n"
                                   "    f = open('") +
                           kFirmwareRecordPath +
                           "')\n"
                           "    l.append(f.read())\n"
                           "    f.close()\n"
                           "except OSError:\n"
                           "    l.append('" + kNoRecord + "')\n"
                           "_r = '\\n'.join(l)\n",
                       milliseconds(0), deadline);
  if (!a) return OtaFailure{"read running firmware", a.error().what};
  if (a->raised()) return OtaFailure{"read running firmware", *a->exc_type + ": " + a->exc_message};
  std::istringstream in(a->value);
  BoardFirmware b;
  std::string slot_addr;
  std::getline(in, b.running.version);
  std::getline(in, b.running.board);
  std::getline(in, slot_addr);
  std::getline(in, b.running.bootmgr);
  std::getline(in, b.build);
  try {
    b.running.ota_slot = static_cast<std::uint32_t>(std::stoul(slot_addr));
  } catch (const std::exception&) {
    return OtaFailure{"read running firmware", "pycom.ota_slot() gave '" + slot_addr + "', not an address"};
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  text = trim(text);
  auto slot = parse_slot(first_item(b.running.bootmgr));
  if (!slot)
    return OtaFailure{"read running firmware",
                      "pycom.bootmgr() gave " + b.running.bootmgr + ", which names no slot bootrig knows"};
  b.active = *slot;
  if (text == kNoRecord) {
    b.record_note = std::string("no bootrig record on the board (") + kFirmwareRecordPath + ")";
    return b;
  }
  auto rec = FirmwareRecord::decode(text);
  if (!rec) {
    b.record_note = std::string(kFirmwareRecordPath) + " on the board is not a bootrig record";
    return b;
  }
  if (rec->active != b.active || rec->slots[rec->active].version != b.running.version) {
    b.record_note = std::string("bootrig's record says ") + to_string(rec->active) + " runs " +
                    rec->slots[rec->active].version + ": the board was changed since bootrig last flashed it";
    return b;
  }
  b.record = rec;
  return b;
}

FirmwareRecord record_after_ota(const BoardFirmware& before, const RigImage& image) {
  FirmwareRecord r;
  if (before.record) r = *before.record;
  else r.slots[before.active] = SlotContent{before.running.version, ""};
  // ota_finish(): PrevImg = ActiveImg, ActiveImg = the slot just written (the other one).
  r.prev = before.active;
  r.active = other_slot(before.active);
  r.slots[r.active] = SlotContent{image.version, image.sha256};
  return r;
}

FirmwareRecord record_after_cable(const BoardFirmware* before, const RigImage& image) {
  FirmwareRecord r;
  if (before && before->record) r = *before->record;
  else if (before) r.slots[before->active] = SlotContent{before->running.version, ""};
  // The app goes to the factory slot and boot_info is reset: ActiveImg = PrevImg = factory. ota_0 keeps
  // what it held.
  r.slots[Slot::factory] = SlotContent{image.version, image.sha256};
  r.active = Slot::factory;
  r.prev = Slot::factory;
  return r;
}

Result<std::monostate, OtaFailure> write_firmware_record(CheckedChannel& channel, const FirmwareRecord& record,
                                                         Deadline deadline) {
  auto w = channel.run(std::string("f = open('") + kFirmwareRecordPath + "', 'w')\nf.write(" +
                           py_str_literal(record.encode()) + ")\nf.close()\n",
                       milliseconds(500), deadline);
  if (!w) return OtaFailure{"write the firmware record", w.error().what};
  if (w->raised()) return OtaFailure{"write the firmware record", *w->exc_type + ": " + w->exc_message};
  return std::monostate{};
}

std::string Arrangement::describe() const {
  if (any()) return "any image";
  std::string s = running.empty() ? std::string("any image running") : running + " running";
  if (!previous.empty()) s += ", " + previous + " as the previous OTA image";
  return s;
}

Arrangement resolve_arrangement(const Arrangement& wanted, const std::map<std::string, RigImage>& images,
                                std::vector<std::string>* dropped) {
  Arrangement a = wanted;
  auto drop = [&](std::string& name) {
    if (!name.empty() && !images.count(name)) {
      if (dropped) dropped->push_back(name);
      name.clear();
    }
  };
  drop(a.running);
  drop(a.previous);
  // The previous image is only ever made by an OTA on top of it, which needs the image to run after it.
  if (a.running.empty() && !a.previous.empty()) {
    if (dropped) dropped->push_back(a.previous);
    a.previous.clear();
  }
  if (!a.running.empty() && !a.previous.empty()) {
    const RigImage& r = images.at(a.running);
    const RigImage& p = images.at(a.previous);
    if (r.version == p.version)
      throw RigError("[firmware] " + a.previous + " and " + a.running + " are both version " + r.version +
                     ": window 2 could not tell them apart; give " + a.previous + " an older release");
  }
  return a;
}

const char* to_string(FlashMethod m) { return m == FlashMethod::cable ? "cable" : "OTA"; }

namespace {
// The digest the proof read for `slot` over `name`'s length, or "unread" when it did not ask (another version).
std::string md5_of_slot(const BoardFirmware& board, Slot slot, const std::string& name) {
  auto s = board.proven->md5.find(slot);
  if (s == board.proven->md5.end()) return "unread";
  auto d = s->second.find(name);
  return d == s->second.end() ? "unread" : d->second;
}
}  // namespace

bool runs_image(const BoardFirmware& board, const RigImage& image, std::string* why) {
  auto say = [&](std::string text) {
    if (why) *why = std::move(text);
  };
  if (board.running.version != image.version) {
    say("the board runs " + board.running.version + ", not " + image.version);
    return false;
  }
  if (!image.build.empty() && !board.build.empty() && board.build != image.build) {
    say("the board runs " + board.running.version + " built as \"" + board.build + "\"; " + image.name +
        " is " + image.version + " built as \"" + image.build + "\": another build of the same version");
    return false;
  }
  if (board.proven) {
    const std::string slot = to_string(board.active);
    auto held = board.proven->holds.find(board.active);
    if (held == board.proven->holds.end() || held->second != image.name) {
      say("the ROM's MD5 of the " + slot + " slot over " + std::to_string(image.bytes.size()) + " bytes is " +
          md5_of_slot(board, board.active, image.name).substr(0, 16) + "..., not " + image.name + "'s " +
          to_hex(md5(image.bytes)).substr(0, 16) + "...: the board runs another build of " + image.version);
      return false;
    }
    say("the ROM's MD5 of the running " + slot + " slot matches " + image.name + " " + image.version + " (" +
        md5_of_slot(board, board.active, image.name).substr(0, 16) + "...)");
    return true;
  }
  auto c = board.record ? board.slot(board.active) : std::nullopt;
  if (!c || c->sha256.empty()) {
    say("the board runs " + board.running.version + ", but nothing proves it is this build of it (" +
        (board.record ? std::string("bootrig's record has no digest for the running slot")
                      : board.record_note) +
        "): flashing again rather than trusting the version string");
    return false;
  }
  if (c->sha256 != image.sha256) {
    say("the board runs " + board.running.version + " with SHA-256 " + c->sha256.substr(0, 16) + "... (bootrig's "
        "record), not " + image.name + "'s " + image.sha256.substr(0, 16) + "...: another build of the same version");
    return false;
  }
  say("the board runs " + image.name + " " + image.version + ": bootrig's record holds its SHA-256 " +
      image.sha256.substr(0, 16) + "... for the running slot" +
      (image.build.empty() ? std::string() : " and the running build is \"" + board.build + "\""));
  return true;
}

bool previous_is(const BoardFirmware& board, const RigImage& image, std::string* why) {
  if (board.proven && board.record && board.record->prev && board.record->prev != board.active) {
    const Slot prev = *board.record->prev;
    auto held = board.proven->holds.find(prev);
    const bool same = held != board.proven->holds.end() && held->second == image.name;
    if (why)
      *why = same ? "window 2 boots " + image.name + " " + image.version + " (the ROM's MD5 of the " +
                        to_string(prev) + " slot matches it)"
                  : "the ROM's MD5 of the " + std::string(to_string(prev)) + " slot (window 2's) is not " +
                        image.name + " " + image.version + "'s";
    return same;
  }
  auto p = board.previous();
  if (!p || board.record->prev == board.active) {
    if (why) *why = p ? "window 2 would boot the running image (boot_info was reset by a cable flash)"
                      : "the previous image is unknown (" + board.previous_unknown() + ")";
    return false;
  }
  if (p->version != image.version || p->sha256.empty() || p->sha256 != image.sha256) {
    if (why)
      *why = "window 2 would boot " + p->version + (p->sha256.empty() ? std::string(" (no digest recorded)")
                                                                      : " with SHA-256 " + p->sha256.substr(0, 16) + "...") +
             ", not " + image.name + " " + image.version;
    return false;
  }
  if (why) *why = "window 2 boots " + image.name + " " + image.version + " (SHA-256 in bootrig's record)";
  return true;
}

std::vector<PlannedFlash> plan_flashes(const BoardFirmware& board, const Arrangement& a,
                                       const std::map<std::string, RigImage>& images, bool cable_available) {
  std::vector<PlannedFlash> plan;
  if (a.running.empty()) return plan;
  const RigImage& run = images.at(a.running);
  std::string run_why;
  const bool runs = runs_image(board, run, &run_why);
  if (a.previous.empty()) {
    if (!runs) plan.push_back({run.name, FlashMethod::ota, run_why});
    return plan;
  }
  const RigImage& prev = images.at(a.previous);
  std::string prev_why;
  if (runs && previous_is(board, prev, &prev_why)) return plan;
  std::string runs_prev_why;
  if (runs_image(board, prev, &runs_prev_why)) {
    plan.push_back({run.name, FlashMethod::ota,
                    "the board runs " + prev.version + "; an OTA of " + run.version + " makes it the previous image"});
    return plan;
  }
  std::string why = runs ? prev_why : run_why;
  plan.push_back({prev.name, cable_available ? FlashMethod::cable : FlashMethod::ota, why});
  plan.push_back({run.name, FlashMethod::ota, "an OTA on top of " + prev.version + " makes it the previous image"});
  return plan;
}

}  // namespace bootrig
