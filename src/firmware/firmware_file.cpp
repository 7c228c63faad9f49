// Finds the app image in a .bin or a Pycom .tar.gz bundle, following the files Pycom's own updater reads.
#include "bootrig/firmware/firmware_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>

#include "bootrig/core/bounded_file.hpp"
#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "firmware/byte_order.hpp"

namespace bootrig {

namespace {

bool is_tar(std::span<const std::uint8_t> b) {
  return b.size() >= 263 && std::memcmp(b.data() + 257, "ustar", 5) == 0;
}

std::optional<std::uint32_t> parse_hex(const std::string& s) {
  if (s.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    unsigned long v = std::stoul(s, &used, 16);
    if (used != s.size() || v > 0xFFFFFFFFul) return std::nullopt;
    return static_cast<std::uint32_t>(v);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

const TarEntry* find_member(const std::vector<TarEntry>& entries, const std::string& name) {
  for (const auto& e : entries) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

struct Choice {
  const TarEntry* member = nullptr;
  std::string rule;
  std::uint32_t offset = kPycomFactoryOffset;
  std::optional<std::uint32_t> partition_size;
};

// script_4MB / script2 / script_8MB: {"version": ..., "partitions": {...}, "script": [["w", "factory",
// file]]}
std::optional<Choice> from_json_script(const std::vector<TarEntry>& entries, const std::string& script_name,
                                       const std::string& what) {
  const TarEntry* script = find_member(entries, script_name);
  if (script == nullptr) return std::nullopt;
  const std::string where = what + ": " + script_name;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(script->data.begin(), script->data.end());
  } catch (const nlohmann::json::exception& e) {
    throw RigError(where + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("script") || !j["script"].is_array()) {
    throw RigError(where + ": has no \"script\" list; is this a Pycom firmware bundle?");
  }
  // Pycom's updater defaults, overridden by the script's own table.
  std::map<std::string, std::pair<std::uint32_t, std::optional<std::uint32_t>>> parts{
      {"bootloader", {0x1000, 0x7000}},
      {"partitions", {0x8000, 0x1000}},
      {"factory", {0x10000, std::nullopt}}};
  if (j.contains("partitions") && j["partitions"].is_object()) {
    for (const auto& [name, v] : j["partitions"].items()) {
      if (!v.is_array() || v.size() < 1 || !v[0].is_string()) continue;
      auto off = parse_hex(v[0].get<std::string>());
      std::optional<std::uint32_t> size;
      if (v.size() >= 2 && v[1].is_string()) size = parse_hex(v[1].get<std::string>());
      if (!off) throw RigError(where + ": partition '" + name + "' has an unreadable offset");
      parts[name] = {*off, size};
    }
  }
  for (const auto& step : j["script"]) {
    if (!step.is_array() || step.size() < 3 || !step[0].is_string() || !step[1].is_string() ||
        !step[2].is_string())
      continue;
    const std::string op = step[0].get<std::string>();
    if (op != "w" && op != "o") continue;
    const std::string target = step[1].get<std::string>();
    std::optional<std::uint32_t> offset;
    std::optional<std::uint32_t> size;
    if (auto it = parts.find(target); it != parts.end()) {
      offset = it->second.first;
      size = it->second.second;
    } else {
      offset = parse_hex(target);
    }
    if (offset != kPycomFactoryOffset) continue;
    const std::string file = step[2].get<std::string>();
    const TarEntry* m = find_member(entries, file);
    if (m == nullptr)
      throw RigError(where + ": writes '" + file + "' to factory but the bundle has no such file");
    return Choice{m, script_name + ": " + op + " " + target, *offset, size};
  }
  throw RigError(where + ": writes nothing to the factory slot (0x10000)");
}

// Legacy "script": [["e", off, size], ["w", "0x10000", "appimg.bin"], ...]
std::optional<Choice> from_legacy_script(const std::vector<TarEntry>& entries, const std::string& what) {
  const TarEntry* script = find_member(entries, "script");
  if (script == nullptr) return std::nullopt;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(script->data.begin(), script->data.end());
  } catch (const nlohmann::json::exception& e) {
    throw RigError(what + ": script: not valid JSON (" + e.what() + ")");
  }
  if (!j.is_array()) throw RigError(what + ": script: expected a JSON list of steps");
  for (const auto& step : j) {
    if (!step.is_array() || step.size() < 3 || step[0] != "w" || !step[1].is_string() || !step[2].is_string())
      continue;
    if (parse_hex(step[1].get<std::string>()) != kPycomFactoryOffset) continue;
    const std::string file = step[2].get<std::string>();
    const TarEntry* m = find_member(entries, file);
    if (m == nullptr)
      throw RigError(what + ": script: writes '" + file + "' at 0x10000 but the bundle has no such file");
    return Choice{m, "script: w 0x10000", kPycomFactoryOffset, std::nullopt};
  }
  throw RigError(what + ": script: writes nothing at 0x10000");
}

Choice from_contents(const std::vector<TarEntry>& entries, const std::string& what) {
  std::vector<const TarEntry*> apps;
  for (const auto& e : entries) {
    if (e.name.size() < 4 || e.name.compare(e.name.size() - 4, 4, ".bin") != 0) continue;
    auto img = parse_esp32_image(e.data);
    if (!img.segments.empty() && img.kind == ImageKind::app) apps.push_back(&e);
  }
  if (apps.empty()) throw RigError(what + ": no script and no .bin member is an ESP32 app image");
  if (apps.size() > 1) {
    throw RigError(what + ": no script, and " + std::to_string(apps.size()) + " members are app images (" +
                   apps[0]->name + ", " + apps[1]->name + "); cannot tell which one goes to 0x10000");
  }
  return Choice{apps.front(), "only app image in bundle", kPycomFactoryOffset, std::nullopt};
}

std::vector<std::uint8_t> text_bytes(const std::string& s) {
  return std::vector<std::uint8_t>(s.begin(), s.end());
}

// The "version" a JSON script names, or "".
std::string script_version(const std::vector<TarEntry>& entries) {
  for (const char* name : {"script_4MB", "script2", "script_8MB"}) {
    const TarEntry* e = find_member(entries, name);
    if (e == nullptr) continue;
    auto j = nlohmann::json::parse(e->data.begin(), e->data.end(), nullptr, false);
    if (j.is_object() && j.contains("version") && j["version"].is_string())
      return j["version"].get<std::string>();
  }
  return "";
}

// The bundle's own word (script version, member name) when the image names nothing; a note where they differ.
void merge_bundle_identity(LoadedFirmware& f) {
  FirmwareIdentity& id = f.image.identity;
  const auto& src = f.source;
  if (f.image.kind != ImageKind::app || (src.bundle_version.empty() && src.bundle_board.empty())) return;
  if (id.source.empty()) {
    id.version = src.bundle_version;
    id.board_name = src.bundle_board;
    id.pycom = parse_board(src.bundle_board).has_value() && !src.bundle_version.empty();
    id.source = "bundle script and member name";
    f.image.board = id.pycom ? *parse_board(src.bundle_board) : PycomBoard::unknown;
    return;
  }
  std::string differs;
  if (!src.bundle_version.empty() && src.bundle_version != id.version)
    differs = "the bundle's script says version " + src.bundle_version;
  if (!src.bundle_board.empty() && !id.board_name.empty() &&
      parse_board(src.bundle_board) != parse_board(id.board_name))
    differs += std::string(differs.empty() ? "" : " and ") + "its member " + src.member + " names " +
               src.bundle_board;
  if (differs.empty()) return;
  if (!id.note.empty()) id.note += "; ";
  id.note += differs + "; the image's " + id.source + " (what the firmware itself says) wins";
}

}  // namespace

std::vector<std::uint8_t> pycom_bootloader_image() { return build_bootloader_image(); }

std::vector<std::uint8_t> pycom_partition_table(std::uint32_t flash_size) {
  struct Part {
    std::uint8_t type, subtype;
    std::uint32_t offset, size;
    const char* label;
  };
  const std::vector<Part> parts =
      flash_size >= (8u << 20)
          ? std::vector<Part>{{1, 0x02, 0x9000, 0x7000, "nvs"},
                              {0, 0x00, kPycomFactoryOffset, kPycomSlotSize8MB, "factory"},
                              {1, 0x00, 0x1FF000, 0x2000, "otadata"},
                              {0, 0x10, kPycomOta0Offset8MB, kPycomSlotSize8MB, "ota_0"},
                              {1, 0x06, 0x3FF000, 0x1000, "config"}}
          : std::vector<Part>{{1, 0x02, 0x9000, 0x7000, "nvs"},
                              {0, 0x00, kPycomFactoryOffset, kPycomSlotSize4MB, "factory"},
                              {1, 0x00, 0x1BE000, 0x1000, "otadata"},
                              {0, 0x10, kPycomOta0Offset4MB, kPycomSlotSize4MB, "ota_0"},
                              {1, 0x07, 0x36E000, 0x10000, "dummy"},
                              {1, 0x05, 0x380000, 0x7F000, "fs"},
                              {1, 0x06, 0x3FF000, 0x1000, "config"}};
  std::vector<std::uint8_t> t;
  for (const auto& p : parts) {
    t.push_back(0xAA);
    t.push_back(0x50);
    t.push_back(p.type);
    t.push_back(p.subtype);
    le::append32(t, p.offset);
    le::append32(t, p.size);
    std::array<std::uint8_t, 16> label{};
    std::memcpy(label.data(), p.label, std::strlen(p.label));
    t.insert(t.end(), label.begin(), label.end());
    le::append32(t, 0);
  }
  auto digest = md5(t);
  t.push_back(0xEB);
  t.push_back(0xEB);
  t.insert(t.end(), 14, 0xFF);
  t.insert(t.end(), digest.begin(), digest.end());
  t.resize(0xC00, 0xFF);
  return t;
}

std::vector<Partition> parse_partition_table(std::span<const std::uint8_t> bytes, const std::string& what) {
  std::vector<Partition> out;
  for (std::size_t at = 0; at + 32 <= bytes.size(); at += 32) {
    const std::uint8_t* e = bytes.data() + at;
    if (e[0] == 0xAA && e[1] == 0x50) {
      Partition p;
      p.type = e[2];
      p.subtype = e[3];
      p.offset = le::load32(e + 4);
      p.size = le::load32(e + 8);
      p.label.assign(reinterpret_cast<const char*>(e + 12),
                     strnlen(reinterpret_cast<const char*>(e + 12), 16));
      out.push_back(std::move(p));
      continue;
    }
    if (e[0] == 0xEB && e[1] == 0xEB) {
      const Md5Digest digest = md5(bytes.first(at));
      if (!std::equal(digest.begin(), digest.end(), e + 16))
        throw RigError(what + ": the partition table's MD5 does not match its entries (corrupt table)");
      break;
    }
    break;  // 0xFF: the end of the table
  }
  if (out.empty()) throw RigError(what + ": not an ESP32 partition table (no entry with magic 0x50aa)");
  return out;
}

std::string partition_table_mismatch(const std::vector<Partition>& table, std::uint32_t flash_size) {
  const std::string flash = std::to_string(flash_size >> 20) + " MB";
  for (const auto& p : table) {
    if (std::uint64_t{p.offset} + p.size > flash_size)
      return "partition '" + p.label + "' (" + hex32(p.offset) + ", " + hex32(p.size) +
             " bytes) ends past the " + flash + " flash";
    if (p.type == 0 && p.subtype == 0x10) {  // ota_0: where Pycom's two layouts differ
      const std::uint32_t want = flash_size >= (8u << 20) ? kPycomOta0Offset8MB : kPycomOta0Offset4MB;
      if (p.offset != want)
        return "ota_0 at " + hex32(p.offset) + " is the " +
               (p.offset == kPycomOta0Offset8MB ? "8 MB" : "other") + " layout; a " + flash +
               " module has ota_0 at " + hex32(want);
    }
  }
  return "";
}

std::vector<FlashWrite> bundle_writes(const LoadedFirmware& f, std::uint32_t flash_size) {
  const auto& entries = f.members;
  const std::string& what = f.source.file;
  if (entries.empty()) throw RigError(what + ": not a bundle; only the app image can be written");
  std::vector<std::pair<std::uint32_t, std::string>> steps;
  const std::map<std::string, std::uint32_t> defaults{{"bootloader", kPycomBootloaderOffset},
                                                      {"partitions", kPycomPartitionTableOffset},
                                                      {"factory", kPycomFactoryOffset}};
  const char* order[] = {flash_size >= (8u << 20) ? "script_8MB" : "script_4MB", "script2"};
  for (const char* name : order) {
    const TarEntry* script = find_member(entries, name);
    if (script == nullptr) continue;
    auto j = nlohmann::json::parse(script->data.begin(), script->data.end(), nullptr, false);
    if (!j.is_object() || !j.contains("script") || !j["script"].is_array()) continue;
    std::map<std::string, std::uint32_t> parts = defaults;
    if (j.contains("partitions") && j["partitions"].is_object())
      for (const auto& [pn, v] : j["partitions"].items())
        if (v.is_array() && !v.empty() && v[0].is_string())
          if (auto off = parse_hex(v[0].get<std::string>())) parts[pn] = *off;
    for (const auto& st : j["script"]) {
      if (!st.is_array() || st.size() < 3 || st[0] != "w" || !st[1].is_string() || !st[2].is_string())
        continue;
      const std::string target = st[1].get<std::string>();
      std::optional<std::uint32_t> off =
          parts.count(target) ? std::optional(parts[target]) : parse_hex(target);
      if (!off) throw RigError(what + ": " + name + ": writes to '" + target + "', which it does not place");
      steps.emplace_back(*off, st[2].get<std::string>());
    }
    break;
  }
  if (steps.empty()) {
    const TarEntry* legacy = find_member(entries, "script");
    auto j = legacy ? nlohmann::json::parse(legacy->data.begin(), legacy->data.end(), nullptr, false)
                    : nlohmann::json();
    if (j.is_array())
      for (const auto& st : j)
        if (st.is_array() && st.size() >= 3 && st[0] == "w" && st[1].is_string() && st[2].is_string())
          if (auto off = parse_hex(st[1].get<std::string>()))
            steps.emplace_back(*off, st[2].get<std::string>());
  }
  if (steps.empty()) throw RigError(what + ": the bundle has no script that writes anything");
  std::vector<FlashWrite> out;
  for (const auto& [off, file] : steps) {
    const TarEntry* m = find_member(entries, file);
    if (m == nullptr)
      throw RigError(what + ": its script writes '" + file + "' but the bundle has no such file");
    out.push_back(FlashWrite{off, file, m->data});
  }
  return out;
}

std::string FirmwareSource::describe() const {
  if (member.empty()) return file + " (" + rule + ")";
  return file + ": " + member + " (" + rule + ")";
}

std::vector<std::uint8_t> read_binary_file(const std::string& path) {
  return read_bounded_file(path, firmware_file_bound(), {});
}

FileBound firmware_file_bound() {
  return {kPycomLargestFlash, "the largest flash of a Pycom module: no image or bundle can write more"};
}

std::size_t bundle_contents_bound() {
  // The members together cannot exceed the flash they are written to; a tar adds a 512-byte header per member
  // and pads each to 512 bytes, and the scripts are a few hundred bytes: 64 KiB covers a hundred members.
  return kPycomLargestFlash + (64u << 10);
}

void write_binary_file(const std::string& path, std::span<const std::uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw RigError(path + ": cannot create (" + std::strerror(errno) + ")");
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) throw RigError(path + ": write failed (disk full?)");
}

LoadedFirmware load_firmware_bytes(std::span<const std::uint8_t> bytes, const std::string& name,
                                   const LoadOptions& options) {
  LoadedFirmware f;
  f.source.file = name;
  if (bytes.empty()) throw RigError(name + ": file is empty");
  if (!is_gzip(bytes) && !is_tar(bytes)) {
    for (std::string_view ext : {".tar.gz", ".tgz", ".gz", ".tar"})
      if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
        throw RigError(name + ": named like a bundle (" + std::string(ext) +
                       ") but is neither gzip nor tar data; a broken or partial download?");
    const std::uint64_t slot = std::max<std::uint64_t>(kPycomLargestSlot, options.limits.slot_size);
    if (bytes.size() > slot)
      throw RigError(name + ": " + size_text(bytes.size()) +
                     " is no ESP32 app image nor Pycom bundle that fits: " +
                     "an app image cannot exceed the largest app slot, " + size_text(slot) +
                     " (Pycom's 8 MB layout), and a bundle starts with gzip's or tar's magic");
    f.source.rule = "plain image";
    f.bytes.assign(bytes.begin(), bytes.end());
    f.image = parse_esp32_image(f.bytes, options.limits);
    return f;
  }
  std::vector<std::uint8_t> tar_bytes =
      is_gzip(bytes) ? gunzip(bytes, name, bundle_contents_bound()) : std::vector<std::uint8_t>();
  auto entries = read_tar(is_gzip(bytes) ? std::span<const std::uint8_t>(tar_bytes) : bytes, name);
  std::optional<Choice> choice;
  for (const char* script : {"script_4MB", "script2", "script_8MB"}) {
    if ((choice = from_json_script(entries, script, name))) break;
  }
  if (!choice) choice = from_legacy_script(entries, name);
  if (!choice) choice = from_contents(entries, name);

  f.source.member = choice->member->name;
  f.source.rule = choice->rule;
  f.source.flash_offset = choice->offset;
  f.source.partition_size = choice->partition_size;
  f.source.bundle_version = script_version(entries);
  const std::string stem = f.source.member.substr(0, f.source.member.rfind('.'));
  if (auto b = parse_board(stem.substr(stem.rfind('/') + 1))) f.source.bundle_board = to_string(*b);
  f.bytes = choice->member->data;
  ImageLimits limits = options.limits;
  if (options.slot_size_from_bundle && choice->partition_size) limits.slot_size = *choice->partition_size;
  f.image = parse_esp32_image(f.bytes, limits);
  f.members = std::move(entries);
  merge_bundle_identity(f);
  return f;
}

LoadedFirmware load_firmware_file(const std::string& path, const LoadOptions& options) {
  auto bytes = read_binary_file(path);
  return load_firmware_bytes(bytes, path, options);
}

std::vector<std::uint8_t> make_pycom_bundle(std::span<const std::uint8_t> app_image, PycomBoard board,
                                            const std::string& version) {
  std::string app_name = to_string(board);
  std::transform(app_name.begin(), app_name.end(), app_name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  app_name += ".bin";
  const std::string script2 =
      "{\n  \"version\" : \"" + version +
      "\",\n  \"partitions\" : {\n    \"factory\"   : [\"0x10000\", \"0x1AE000\"],\n"
      "    \"ota_0\"      : [\"0x1C0000\", \"0x1AE000\"]\n    },\n  \"script\" : [\n"
      "      [\"w\", \"bootloader\", \"bootloader.bin\"],\n      [\"w\", \"partitions\", "
      "\"partitions.bin\"],\n"
      "      [\"w\", \"factory\", \"" +
      app_name + "\"]\n    ]\n}\n";
  const std::string legacy =
      "[\n    [\"w\", \"0x1000\", \"bootloader.bin\"],\n    [\"w\", \"0x8000\", \"partitions.bin\"],\n"
      "    [\"w\", \"0x10000\", \"" +
      app_name + "\"]\n]\n";
  std::vector<TarEntry> entries{{"bootloader.bin", pycom_bootloader_image()},
                                {"partitions.bin", pycom_partition_table(4u << 20)},
                                {app_name, std::vector<std::uint8_t>(app_image.begin(), app_image.end())},
                                {"script2", text_bytes(script2)},
                                {"script", text_bytes(legacy)}};
  return gzip(write_tar(entries));
}

}  // namespace bootrig
