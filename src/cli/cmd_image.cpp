// `bootrig image info FILE` and `bootrig image make ...`: inspect firmware images and bundles, and make valid
// or deliberately broken ones for tests and demos.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <memory>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/firmware/firmware_file.hpp"
#include "bootrig/firmware/image_builder.hpp"
#include "cli/commands.hpp"
#include "firmware/byte_order.hpp"

namespace bootrig {

namespace {

struct InfoOptions {
  std::string file;
  bool json = false;
  std::string slot_size;
};

struct MakeOptions {
  std::string version;
  std::string board;
  std::string size = "16k";
  unsigned segments = 3;
  bool no_sha256 = false;
  std::uint64_t seed = 0;
  std::string corrupt = "none";
  std::string breaks = "none";
  std::string style = "pycom";
  std::string project;
  std::string output;
};

// "16384", "0x4000", "16k", "16KiB", "1M": bytes. Throws RigError naming the option.
std::uint64_t parse_size(const std::string& option, const std::string& text) {
  std::string t = text;
  std::uint64_t unit = 1;
  auto lower = t;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto& [suffix, mult] : std::initializer_list<std::pair<const char*, std::uint64_t>>{
           {"kib", 1024}, {"mib", 1024 * 1024}, {"k", 1024}, {"m", 1024 * 1024}}) {
    std::string s = suffix;
    if (lower.size() > s.size() && lower.compare(lower.size() - s.size(), s.size(), s) == 0) {
      t = t.substr(0, t.size() - s.size());
      unit = mult;
      break;
    }
  }
  try {
    std::size_t used = 0;
    std::uint64_t v = std::stoull(t, &used, 0);
    if (used == t.size() && !t.empty() && t[0] != '-') return v * unit;
  } catch (const std::exception&) {
  }
  throw RigError(option + " '" + text + "': expected a byte count such as 16384, 0x4000, 16k or 1M");
}

const char* segment_region(std::uint32_t a) {
  if (a < 0x10000000) return "padding";
  if (a >= 0x3F400000 && a < 0x3F800000) return "DROM";
  if (a >= 0x3FF80000 && a < 0x40000000) return "DRAM";
  if (a >= 0x40070000 && a < 0x400C0000) return "IRAM";
  if (a >= 0x400C2000 && a < 0x40C00000) return "IROM";
  if (a >= 0x50000000 && a < 0x50002000) return "RTC";
  return "?";
}

nlohmann::json to_json(const LoadedFirmware& f) {
  const Esp32Image& img = f.image;
  nlohmann::json j;
  j["file"] = f.source.file;
  j["source"] = {
      {"member", f.source.member},
      {"rule", f.source.rule},
      {"flash_offset", f.source.flash_offset},
      {"partition_size", f.source.partition_size ? nlohmann::json(*f.source.partition_size) : nullptr}};
  j["format"] = img.kind == ImageKind::bootloader ? "esp32-bootloader-image" : "esp32-app-image";
  j["kind"] = to_string(img.kind);
  j["valid"] = img.valid();
  j["file_size"] = f.bytes.size();
  j["chip"] = {{"id", img.chip_id}, {"name", chip_name(img.chip_id)}};
  const FirmwareIdentity& id = img.identity;
  auto or_null = [](const std::string& v) { return v.empty() ? nlohmann::json(nullptr) : nlohmann::json(v); };
  j["pycom"] = id.pycom;
  j["version"] = or_null(id.version);
  j["sim_breaks"] = img.sim_breaks == SimBreakage::none ? nlohmann::json(nullptr)
                                                        : nlohmann::json(to_string(img.sim_breaks));
  j["board"] =
      img.board == PycomBoard::unknown ? nlohmann::json(nullptr) : nlohmann::json(to_string(img.board));
  j["identity"] = {{"source", or_null(id.source)},    {"version", or_null(id.version)},
                   {"git_tag", or_null(id.git_tag)},  {"build_date", or_null(id.build_date)},
                   {"board", or_null(id.board_name)}, {"mcu", or_null(id.mcu)},
                   {"note", or_null(id.note)}};
  if (img.app) {
    j["app_description"] = {
        {"version", img.app->version},         {"project_name", img.app->project_name},
        {"idf_version", img.app->idf_version}, {"build_date", img.app->date},
        {"build_time", img.app->time},         {"secure_version", img.app->secure_version}};
  } else {
    j["app_description"] = nullptr;
  }
  if (f.is_bundle()) {
    j["bundle"] = {{"version", or_null(f.source.bundle_version)}, {"board", or_null(f.source.bundle_board)}};
  }
  j["entry"] = hex32(img.entry_address);
  j["flash"] = {{"mode", to_string(img.spi_mode)},
                {"mhz", flash_mhz_from_code(img.spi_speed_code)},
                {"size", flash_size_from_code(img.spi_size_code)}};
  j["segments"] = nlohmann::json::array();
  for (const auto& s : img.segments) {
    j["segments"].push_back({{"load", hex32(s.load_address)},
                             {"length", s.length},
                             {"file_offset", s.file_offset},
                             {"region", segment_region(s.load_address)}});
  }
  j["size"] = img.image_size;
  j["trailing_bytes"] = img.trailing_bytes;
  j["checksum"] = {{"stored", hex8(img.stored_checksum)},
                   {"computed", hex8(img.computed_checksum)},
                   {"ok", !img.has(ImageProblem::checksum_mismatch) &&
                              !img.has(ImageProblem::truncated_footer) && !img.segments.empty()}};
  j["sha256"] = {
      {"appended", img.hash_appended},
      {"stored", img.stored_sha256 ? nlohmann::json(to_hex(*img.stored_sha256)) : nullptr},
      {"computed", img.computed_sha256 ? nlohmann::json(to_hex(*img.computed_sha256)) : nullptr},
      {"ok", img.stored_sha256 && img.computed_sha256 && *img.stored_sha256 == *img.computed_sha256}};
  j["slot"] = {{"size", img.slot_size}, {"fits", img.image_size <= img.slot_size}};
  j["problems"] = nlohmann::json::array();
  for (const auto& p : img.problems) {
    j["problems"].push_back({{"kind", problem_id(p.problem)},
                             {"what", to_string(p.problem)},
                             {"detail", p.detail},
                             {"segment", p.segment ? nlohmann::json(*p.segment) : nlohmann::json(nullptr)}});
  }
  return j;
}

void print_text(const LoadedFirmware& f, std::ostream& out) {
  const Esp32Image& img = f.image;
  out << "file:      " << f.source.describe() << "\n";
  out << "format:    ESP32 "
      << (img.kind == ImageKind::bootloader ? "second-stage bootloader" : "application") << " image\n";
  out << "chip:      " << chip_name(img.chip_id) << " (id " << img.chip_id << ")\n";
  const FirmwareIdentity& id = img.identity;
  if (img.kind == ImageKind::app) {
    out << "firmware:  " << img.describe() << "\n";
    if (id.pycom) {
      if (!id.git_tag.empty()) out << "micropy:   " << id.git_tag << ", built " << id.build_date << "\n";
      out << "read from: " << id.source << "\n";
    } else if (!id.source.empty()) {
      out << "read from: " << id.source << "\n";
    }
    if (!id.note.empty()) out << "note:      " << id.note << "\n";
    if (img.sim_breaks != SimBreakage::none)
      out << "breaks:    " << to_string(img.sim_breaks)
          << " (a test build: the simulated module runs it that way; it says so in its rodata)\n";
    if (img.app)
      out << "app desc:  version '" << img.app->version << "', project '" << img.app->project_name
          << "', built " << img.app->date << " " << img.app->time << ", esp-idf " << img.app->idf_version
          << "\n";
    else
      out << "app desc:  none (as in Pycom's builds)\n";
  }
  out << "entry:     " << hex32(img.entry_address) << "\n";
  out << "flash:     " << to_string(img.spi_mode) << ", " << flash_mhz_from_code(img.spi_speed_code)
      << " MHz, " << (flash_size_from_code(img.spi_size_code) >> 20) << " MB\n";
  out << "segments:  " << img.segments.size() << "\n";
  for (std::size_t i = 0; i < img.segments.size(); ++i) {
    const auto& s = img.segments[i];
    out << "  " << i << "  load " << hex32(s.load_address) << "  " << s.length << " bytes  "
        << segment_region(s.load_address) << "\n";
  }
  out << "size:      " << img.image_size << " bytes";
  if (img.trailing_bytes > 0) out << " (+" << img.trailing_bytes << " trailing)";
  out << "\n";
  out << "checksum:  " << hex8(img.stored_checksum) << " ok\n";
  if (img.hash_appended && img.stored_sha256) {
    out << "sha256:    " << to_hex(*img.stored_sha256) << " ok\n";
  } else {
    out << "sha256:    not appended\n";
  }
  const double pct = 100.0 * static_cast<double>(img.image_size) / static_cast<double>(img.slot_size);
  std::ostringstream slot;
  slot.precision(1);
  slot << std::fixed << pct;
  if (img.kind == ImageKind::app)
    out << "slot:      fits (" << img.image_size << " of " << img.slot_size << " bytes, " << slot.str()
        << "%)\n";
}

int run_info(const InfoOptions& o) {
  LoadOptions opts;
  if (!o.slot_size.empty()) {
    opts.limits.slot_size = static_cast<std::uint32_t>(parse_size("--slot-size", o.slot_size));
    opts.slot_size_from_bundle = false;
  }
  LoadedFirmware f = load_firmware_file(o.file, opts);
  if (o.json) std::cout << to_json(f).dump(2) << "\n";
  if (!f.image.valid()) {
    const std::string where =
        f.source.member.empty() ? f.source.file : f.source.file + ": " + f.source.member;
    throw RigError(where + ": the ESP32 bootloader would refuse it: " + f.image.problem_summary());
  }
  if (!o.json) print_text(f, std::cout);
  return static_cast<int>(ExitCode::ok);
}

std::string board_list() {
  std::string s;
  for (auto b : {PycomBoard::wipy, PycomBoard::lopy, PycomBoard::lopy4, PycomBoard::sipy, PycomBoard::gpy,
                 PycomBoard::fipy}) {
    s += (s.empty() ? "" : ", ") + std::string(to_string(b));
  }
  return s;
}

std::string corruption_list() {
  std::string s;
  for (auto c : all_corruptions()) s += (s.empty() ? "" : ", ") + std::string(to_string(c));
  return s;
}

std::string breakage_list() {
  std::string s;
  for (auto b : all_sim_breakages()) s += (s.empty() ? "" : ", ") + std::string(to_string(b));
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int run_make(const MakeOptions& o) {
  ImageSpec spec;
  spec.version = o.version;
  auto board = parse_board(o.board);
  if (!board) throw RigError("--board '" + o.board + "': expected one of " + board_list());
  spec.board = *board;
  if (o.version.empty() || o.version.size() > 31) {
    throw RigError("--version '" + o.version + "': expected 1 to 31 characters, e.g. 1.20.2.r4");
  }
  spec.payload_size = static_cast<std::size_t>(parse_size("--size", o.size));
  if (spec.payload_size > 16u << 20) throw RigError("--size " + o.size + ": at most 16M");
  if (o.segments == 0 || o.segments > kEspMaxSegments - 1) {
    throw RigError("--segments " + std::to_string(o.segments) +
                   ": expected 1 to 15 (a padding segment is added)");
  }
  if (o.style == "pycom") {
    spec.style = ImageStyle::pycom;
    if (!o.project.empty())
      throw RigError("--project is for --style idf (a Pycom build has no app description)");
  } else if (o.style == "idf") {
    spec.style = ImageStyle::idf;
    if (o.project.size() > 31) throw RigError("--project '" + o.project + "': at most 31 characters");
    spec.project = o.project;
  } else {
    throw RigError("--style '" + o.style + "': expected pycom or idf");
  }
  spec.segments = o.segments;
  spec.append_sha256 = !o.no_sha256;
  spec.seed = o.seed;
  auto corruption = parse_corruption(o.corrupt);
  if (!corruption)
    throw RigError("--corrupt '" + o.corrupt + "': expected none or one of " + corruption_list());

  auto breaks = parse_sim_breakage(o.breaks);
  if (!breaks) throw RigError("--breaks '" + o.breaks + "': expected none or one of " + breakage_list());
  if (*breaks != SimBreakage::none && spec.style != ImageStyle::pycom)
    throw RigError("--breaks is for --style pycom (the simulated module runs Pycom builds)");
  spec.breaks = *breaks;

  auto image = build_esp32_image(spec, *corruption);
  const bool bundle = ends_with(o.output, ".tar.gz") || ends_with(o.output, ".tgz");
  write_binary_file(o.output, bundle ? make_pycom_bundle(image, spec.board, spec.version) : image);

  std::cout << "wrote " << o.output << ": " << (bundle ? "Pycom bundle with " : "") << to_string(spec.board)
            << " " << spec.version << ", " << image.size() << "-byte " << to_string(spec.style)
            << "-style image";
  if (*corruption == ImageCorruption::none) {
    std::cout << ", valid";
    if (spec.breaks != SimBreakage::none)
      std::cout << " (breaks on the simulated module: " << to_string(spec.breaks) << ")";
    std::cout << "\n";
  } else {
    std::cout << ", corrupt (" << to_string(*corruption) << ": expect";
    for (auto p : expected_problems(*corruption, spec)) std::cout << " " << problem_id(p);
    std::cout << ")\n";
  }
  return static_cast<int>(ExitCode::ok);
}

}  // namespace

void add_image_command(CLI::App& app, GlobalOptions& g) {
  auto* image = app.add_subcommand("image", "Inspect or make ESP32 firmware images (.bin or Pycom .tar.gz)");
  image->require_subcommand(1);

  auto info_opts = std::make_shared<InfoOptions>();
  auto* info =
      image->add_subcommand("info",
                            "Show an image's (app or bootloader) chip, what the firmware says it is and "
                            "where that was read, segments, "
                            "checksum, SHA-256 and slot fit; exit 2 if the ESP32 bootloader would refuse it");
  info->add_option("FILE", info_opts->file, "Image (.bin) or Pycom firmware bundle (.tar.gz)")->required();
  info->add_flag("--json", info_opts->json, "Print JSON (also for an invalid image, which still exits 2)");
  info->add_option(
      "--slot-size", info_opts->slot_size,
      "App slot size to check against (default 0x1AE000, the Pycom 4 MB layout, or the bundle's)");
  info->callback([&g, info_opts] { g.run = [info_opts] { return run_info(*info_opts); }; });

  auto make_opts = std::make_shared<MakeOptions>();
  auto* make =
      image->add_subcommand("make", "Make a valid or deliberately corrupt image for tests and demos");
  make->add_option("--version", make_opts->version, "Firmware version, e.g. 1.20.2.r4")->required();
  make->add_option("--board", make_opts->board, "Board: " + board_list())->required();
  make->add_option(
          "--size", make_opts->size,
          "Rodata, data and code bytes, shaped like a real build's (16384, 0x4000, 16k, 1M); the padding "
          "before the code segment comes on top")
      ->capture_default_str();
  make->add_option("--segments", make_opts->segments,
                   "Payload segments: DROM, IROM, DRAM, IRAM, more DRAM (1-15)")
      ->capture_default_str();
  make->add_option(
          "--style", make_opts->style,
          "pycom: as Pycom builds (banner and version in rodata, no app description); idf: an ESP-IDF "
          "app description first in rodata, no Pycom strings")
      ->capture_default_str();
  make->add_option("--project", make_opts->project,
                   "--style idf: the app description's project name (default the board)");
  make->add_flag("--no-sha256", make_opts->no_sha256, "Do not append the SHA-256 digest");
  make->add_option("--seed", make_opts->seed, "Payload seed (default: derived from version and board)");
  make->add_option("--corrupt", make_opts->corrupt, "Break the image one way: " + corruption_list())
      ->capture_default_str();
  make->add_option("--breaks", make_opts->breaks,
                   "A valid build that misbehaves on the simulated module once it runs: " + breakage_list() +
                       " (written into the image's rodata)")
      ->capture_default_str();
  make->add_option("-o,--output", make_opts->output, "Output file; .tar.gz or .tgz makes a Pycom bundle")
      ->required();
  make->callback([&g, make_opts] { g.run = [make_opts] { return run_make(*make_opts); }; });
}

}  // namespace bootrig
