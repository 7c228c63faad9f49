// Strict reading of rig files: every unknown key, wrong type, missing line, reused line or out-of-range value
// is one located error, raised before any hardware is touched.
#include "bootrig/rig/rig_file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

#include "bootrig/core/bounded_file.hpp"
#include "bootrig/core/errors.hpp"

namespace bootrig {

const char* to_string(RigKind k) { return k == RigKind::sim ? "sim" : "hardware"; }

const char* to_string(LineRole r) {
  switch (r) {
    case LineRole::safeboot: return "safeboot";
    case LineRole::reset: return "reset";
    case LineRole::led: return "led";
    case LineRole::bootloader: return "bootloader";
    case LineRole::power: return "power";
  }
  return "?";
}

const char* role_purpose(LineRole r) {
  switch (r) {
    case LineRole::safeboot: return "P12 safe-boot request (output)";
    case LineRole::reset: return "RESET/EN (output)";
    case LineRole::led: return "photodiode on the status LED (input)";
    case LineRole::bootloader: return "P2/G23 download-mode strap (output)";
    case LineRole::power: return "module power switch (output)";
  }
  return "?";
}

namespace {

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "a date/time";
  }
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The allowed word closest to a misspelled one ("curent" -> "current"), or "" when none is within two edits.
std::string nearest(const std::string& word, const std::vector<std::string>& options) {
  std::string best;
  std::size_t best_d = 3;
  for (const auto& o : options) {
    std::vector<std::size_t> row(o.size() + 1);
    for (std::size_t j = 0; j <= o.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= word.size(); ++i) {
      std::size_t diag = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= o.size(); ++j) {
        std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (word[i - 1] == o[j - 1] ? 0 : 1)});
        diag = up;
      }
    }
    if (row[o.size()] < best_d) {
      best_d = row[o.size()];
      best = o;
    }
  }
  return best;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& options) {
  std::string n = nearest(word, options);
  return n.empty() ? std::string() : "; did you mean '" + n + "'?";
}

// Reads one TOML table, remembering which keys were used so that anything left over is reported as unknown
// (a typo in a rig file must never be silently ignored).
class TableReader {
 public:
  TableReader(const std::string& file, const toml::table& t, std::string path)
      : file_(file), table_(t), path_(std::move(path)) {}

  std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    const toml::node* n = table_.get(key);
    throw ConfigError(file_, n ? line_of(*n) : line_of(table_), key.empty() ? path_ : key_path(key), what);
  }
  [[noreturn]] void fail_here(const std::string& what) const { throw ConfigError(file_, line_of(table_), path_, what); }

  bool has(const std::string& key) {
    used_.insert(key);
    return table_.contains(key);
  }

  const toml::node* node(const std::string& key, toml::node_type want, const char* want_name) {
    used_.insert(key);
    const toml::node* n = table_.get(key);
    if (!n) return nullptr;
    if (n->type() != want) fail(key, std::string("expected ") + want_name + ", got " + type_name(*n));
    return n;
  }

  std::optional<std::string> str(const std::string& key) {
    auto* n = node(key, toml::node_type::string, "a string");
    if (!n) return std::nullopt;
    return **n->as_string();
  }
  std::optional<bool> boolean(const std::string& key) {
    auto* n = node(key, toml::node_type::boolean, "true or false");
    if (!n) return std::nullopt;
    return **n->as_boolean();
  }
  std::optional<std::int64_t> integer(const std::string& key, std::int64_t lo, std::int64_t hi) {
    auto* n = node(key, toml::node_type::integer, "an integer");
    if (!n) return std::nullopt;
    std::int64_t v = **n->as_integer();
    if (v < lo || v > hi)
      fail(key, std::to_string(v) + " is out of range (" + std::to_string(lo) + " to " + std::to_string(hi) + ")");
    return v;
  }
  std::optional<double> number(const std::string& key, double lo, double hi) {
    used_.insert(key);
    const toml::node* n = table_.get(key);
    if (!n) return std::nullopt;
    double v;
    if (auto* f = n->as_floating_point()) v = **f;
    else if (auto* i = n->as_integer()) v = static_cast<double>(**i);
    else fail(key, std::string("expected a number, got ") + type_name(*n));
    if (v < lo || v > hi) {
      std::ostringstream m;
      m << v << " is out of range (" << lo << " to " << hi << ")";
      fail(key, m.str());
    }
    return v;
  }
  template <typename E>
  std::optional<E> choice(const std::string& key, const std::vector<std::pair<std::string, E>>& options) {
    auto s = str(key);
    if (!s) return std::nullopt;
    for (const auto& [name, value] : options)
      if (name == *s) return value;
    std::vector<std::string> names;
    for (const auto& o : options) names.push_back("\"" + o.first + "\"");
    fail(key, "\"" + *s + "\" is not one of " + join(names));
  }
  const toml::table* table(const std::string& key) {
    auto* n = node(key, toml::node_type::table, "a table");
    return n ? n->as_table() : nullptr;
  }
  void set_ms(const std::string& key, milliseconds& out, std::int64_t lo = 1, std::int64_t hi = 600000) {
    if (auto v = integer(key, lo, hi)) out = milliseconds(*v);
  }

  // Every key not read is unknown: name it and list what is allowed.
  void finish() const {
    for (const auto& [k, v] : table_) {
      std::string key(k.str());
      if (!used_.count(key)) {
        std::vector<std::string> allowed(used_.begin(), used_.end());
        throw ConfigError(
            file_, line_of(v), key_path(key),
            "unknown key" + (allowed.empty() ? std::string() : " (expected one of: " + join(allowed) + ")") +
                did_you_mean(key, allowed));
      }
    }
  }

  const std::string& file() const { return file_; }

 private:
  const std::string& file_;
  const toml::table& table_;
  std::string path_;
  std::set<std::string> used_;
};

LineConfig read_line(TableReader& t, LineRole role) {
  LineConfig lc;
  lc.settings.consumer = std::string("bootrig-") + to_string(role);
  if (auto v = t.str("name")) lc.where.name = *v;
  if (auto v = t.str("chip")) lc.where.chip = *v;
  if (auto v = t.integer("offset", 0, 4095)) lc.where.offset = static_cast<unsigned>(*v);
  if (lc.where.name.empty() && lc.where.chip.empty() && !lc.where.offset)
    t.fail_here("give the line's name (e.g. name = \"GPIO17\"), or chip and offset");
  if (lc.where.chip.empty() != !lc.where.offset)
    t.fail(lc.where.chip.empty() ? "offset" : "chip", "chip and offset go together; give both, or only name");
  if (auto v = t.choice<bool>("active", {{"high", false}, {"low", true}})) lc.settings.active_low = *v;
  if (auto v = t.choice<Drive>("drive", {{"push-pull", Drive::push_pull},
                                         {"open-drain", Drive::open_drain},
                                         {"open-source", Drive::open_source}}))
    lc.settings.drive = *v;
  if (auto v = t.choice<Bias>("bias", {{"as-is", Bias::as_is},
                                       {"disabled", Bias::disabled},
                                       {"pull-up", Bias::pull_up},
                                       {"pull-down", Bias::pull_down}}))
    lc.settings.bias = *v;
  if (role == LineRole::led) {
    if (auto v = t.integer("debounce_us", 0, 100000)) lc.settings.debounce = microseconds(*v);
  }
  t.finish();
  return lc;
}

// Two roles on one wire would make bootrig fight itself (e.g. RESET toggling the LED input).
void check_distinct_lines(const RigConfig& rig, const std::string& file,
                          const std::map<LineRole, int>& line_numbers) {
  for (auto a = rig.lines.begin(); a != rig.lines.end(); ++a) {
    for (auto b = std::next(a); b != rig.lines.end(); ++b) {
      const auto& x = a->second.where;
      const auto& y = b->second.where;
      bool same_name = !x.name.empty() && x.name == y.name;
      bool same_pos = !x.chip.empty() && x.chip == y.chip && x.offset == y.offset;
      if (same_name || same_pos)
        throw ConfigError(file, line_numbers.at(b->first), std::string("lines.") + to_string(b->first),
                          "uses the same GPIO line as lines." + std::string(to_string(a->first)) + " (" +
                              x.describe() + "); each role needs its own line");
    }
  }
}

std::string ms(milliseconds d) { return std::to_string(d.count()) + " ms"; }

// Values each within its range can still make no sense together or against the module: such a rig would
// report its own mistake as a board failure, so it is refused here, before any board is touched.
void check_timing_sense(TableReader& t, const TimingProfile& p) {
  if (p.final_toggle * 2 > p.final_duration)
    t.fail("final_duration_ms", ms(p.final_duration) + " is shorter than one blink of final_toggle_ms (" +
                                    ms(p.final_toggle) + " on, as long off)");
  if (p.error_toggle * 2 > p.error_duration)
    t.fail("error_duration_ms", ms(p.error_duration) + " is shorter than one blink of error_toggle_ms (" +
                                    ms(p.error_toggle) + " on, as long off)");
  // The heartbeat is a short flash in a long dark (mperror.c: 80 ms on, 3920 ms off), slower than any
  // safe-boot blink: otherwise the LED decoder could not tell the running app from a safe-boot window.
  if (p.heartbeat_on >= p.heartbeat_off)
    t.fail("heartbeat_on_ms",
           ms(p.heartbeat_on) + " on and " + ms(p.heartbeat_off) +
               " off is no heartbeat: the firmware flashes briefly in a long dark (80/3920 ms)");
  if (p.heartbeat_on + p.heartbeat_off <= p.window1_toggle * 2)
    t.fail("heartbeat_off_ms", "a heartbeat period of " + ms(p.heartbeat_on + p.heartbeat_off) +
                                   " is not slower than window 1's blink (" + ms(p.window1_toggle * 2) +
                                   "); the LED decoder could not tell them apart");
  // ESP32 datasheet: EN low for 50 us resets the chip; holding RESET longer than a second only delays the
  // boot, and far longer (a typo) would make every reset look like a dead board.
  if (p.reset_pulse > milliseconds(1000))
    t.fail("reset_pulse_ms", ms(p.reset_pulse) +
                                 " is longer than a second; the ESP32 needs 50 us of EN low, and "
                                 "100 ms is plenty");
  // The longest boot the firmware makes without the user's scripts: a plain one, or the rest of safe boot's
  // forced final phase after P12 goes. A shorter boot timeout would fail every scenario on a sound board.
  const milliseconds plain = p.rom_boot + p.safeboot_recheck + p.app_start + p.banner_delay;
  const milliseconds after_final = p.final_duration + p.app_start + p.banner_delay;
  const milliseconds longest = std::max(plain, after_final);
  if (p.boot_timeout < longest)
    t.fail("boot_timeout_ms", ms(p.boot_timeout) + " is shorter than the firmware's own boot (" +
                                  ms(longest) + ": " +
                                  (plain >= after_final ? "ROM, safe-boot re-check, app start and banner"
                                                        : "safe boot's final phase, app start and banner") +
                                  "); every scenario would fail on a sound board");
}

// [timing.limits]: name = { min = X, max = Y } per measurement, either side optional, min below max.
void read_limits(TableReader t, TimingProfile& p) {
  for (std::string_view name : kLimitNames) {
    const std::string key(name);
    const toml::table* e = t.table(key);
    if (!e) continue;
    TableReader et(t.file(), *e, t.key_path(key));
    LimitPair l;
    l.low = et.number("min", 0, 1e7);
    l.high = et.number("max", 0, 1e7);
    et.finish();
    if (!l.low && !l.high) t.fail(key, "names no limit; write { min = X, max = Y } (either may be left out)");
    if (l.low && l.high && *l.low > *l.high) t.fail(key, "min is above max");
    p.limits[key] = l;
  }
  t.finish();
}

void read_timing(TableReader& t, TimingProfile& p) {
  t.set_ms("safeboot_recheck_ms", p.safeboot_recheck);
  t.set_ms("window1_toggle_ms", p.window1_toggle);
  if (auto v = t.integer("window1_iterations", 1, 100)) p.window1_iterations = static_cast<int>(*v);
  t.set_ms("window2_toggle_ms", p.window2_toggle);
  if (auto v = t.integer("window2_iterations", 1, 100)) p.window2_iterations = static_cast<int>(*v);
  t.set_ms("final_toggle_ms", p.final_toggle);
  t.set_ms("final_duration_ms", p.final_duration);
  t.set_ms("heartbeat_on_ms", p.heartbeat_on);
  t.set_ms("heartbeat_off_ms", p.heartbeat_off);
  t.set_ms("error_toggle_ms", p.error_toggle);
  t.set_ms("error_duration_ms", p.error_duration);
  t.set_ms("rom_boot_ms", p.rom_boot, 0);
  t.set_ms("app_start_ms", p.app_start, 0);
  t.set_ms("banner_delay_ms", p.banner_delay, 0);
  t.set_ms("reset_pulse_ms", p.reset_pulse);
  t.set_ms("boot_timeout_ms", p.boot_timeout);
  t.set_ms("prompt_timeout_ms", p.prompt_timeout);
  if (auto v = t.integer("led_tolerance_percent", 1, 90)) p.led_tolerance_percent = static_cast<int>(*v);
  if (const toml::table* lt = t.table("limits"))
    read_limits(TableReader(t.file(), *lt, t.key_path("limits")), p);
  t.finish();
  if (p.window2_toggle >= p.window1_toggle)
    t.fail("window2_toggle_ms", "must be shorter than window1_toggle_ms: window 2 is told apart by its faster blink");
  if (p.final_toggle >= p.window2_toggle)
    t.fail("final_toggle_ms", "must be shorter than window2_toggle_ms: the final phase blinks fastest");
  check_timing_sense(t, p);
}

// [sim.timing]: the simulated firmware's own constants (the same keys as [timing]'s firmware part).
void read_firmware_timing(TableReader& t, FirmwareTiming& p) {
  t.set_ms("safeboot_recheck_ms", p.safeboot_recheck);
  t.set_ms("window1_toggle_ms", p.window1_toggle);
  if (auto v = t.integer("window1_iterations", 1, 100)) p.window1_iterations = static_cast<int>(*v);
  t.set_ms("window2_toggle_ms", p.window2_toggle);
  if (auto v = t.integer("window2_iterations", 1, 100)) p.window2_iterations = static_cast<int>(*v);
  t.set_ms("final_toggle_ms", p.final_toggle);
  t.set_ms("final_duration_ms", p.final_duration);
  t.set_ms("heartbeat_on_ms", p.heartbeat_on);
  t.set_ms("heartbeat_off_ms", p.heartbeat_off);
  t.set_ms("error_toggle_ms", p.error_toggle);
  t.set_ms("error_duration_ms", p.error_duration);
  t.set_ms("rom_boot_ms", p.rom_boot, 0);
  t.set_ms("app_start_ms", p.app_start, 0);
  t.set_ms("banner_delay_ms", p.banner_delay, 0);
  t.finish();
}

void read_faults(TableReader& t, SimFaults& f) {
  auto flag = [&](const char* key, bool& out) {
    if (auto v = t.boolean(key)) out = *v;
  };
  flag("hang_in_boot", f.hang_in_boot);
  flag("uart_disabled", f.uart_disabled);
  if (auto v = t.number("garbage_rate", 0.0, 1.0)) f.garbage_rate = *v;
  if (auto v = t.number("drop_rate", 0.0, 1.0)) f.drop_rate = *v;
  t.set_ms("boot_delay_ms", f.boot_delay, 0);
  t.set_ms("boot_jitter_ms", f.boot_jitter, 0);
  flag("port_vanishes", f.port_vanishes);
  t.set_ms("port_gone_ms", f.port_gone, 0);
  flag("scripts_in_safeboot", f.scripts_in_safeboot);
  flag("window2_keeps_image", f.window2_keeps_image);
  flag("safeboot_persists", f.safeboot_persists);
  flag("soft_reset_keeps_names", f.soft_reset_keeps_names);
  flag("format_keeps_files", f.format_keeps_files);
  flag("rollback_silent", f.rollback_silent);
  if (auto v = t.number("brownout_after_bytes", 0.0, 16.0 * 1024 * 1024))
    f.brownout_after_bytes = static_cast<std::uint64_t>(*v);
  if (auto v = t.integer("led_period_percent", -50, 200)) f.led_period_percent = static_cast<int>(*v);
  flag("led_missing_blink", f.led_missing_blink);
  flag("release_seen_late", f.release_seen_late);
  if (auto v = t.choice<std::string>("led_stuck", {{"on", "on"}, {"off", "off"}})) f.led_stuck = *v;
  if (auto v = t.number("photodiode_miss_rate", 0.0, 1.0)) f.photodiode_miss_rate = *v;
  for (const char* key : {"wire_safeboot", "wire_reset", "wire_bootloader", "wire_photodiode"}) {
    if (auto v = t.choice<std::string>(key, {{"disconnected", "disconnected"}, {"inverted", "inverted"},
                                             {"stuck", "stuck"}, {"none", ""}})) {
      std::string k(key);
      (k == "wire_safeboot"     ? f.wire_safeboot
       : k == "wire_reset"      ? f.wire_reset
       : k == "wire_bootloader" ? f.wire_bootloader
                                : f.wire_photodiode) = *v;
    }
  }
  t.finish();
}

void read_sim_wires(TableReader& t, SimWiresConfig& w) {
  if (auto v = t.choice<SimWiresKind>(
          "kind", {{"internal", SimWiresKind::internal}, {"gpio-sim", SimWiresKind::gpio_sim}}))
    w.kind = *v;
  for (auto [key, field] : {std::pair{"safeboot", &w.safeboot}, std::pair{"reset", &w.reset},
                            std::pair{"bootloader", &w.bootloader}, std::pair{"led", &w.led}}) {
    if (auto v = t.str(key)) {
      if (v->empty()) t.fail(key, "give the gpio-sim line's name, e.g. \"GPIO17\"");
      *field = *v;
    }
  }
  if (auto v = t.str("uart")) w.uart = *v;
  t.finish();
  if (w.kind == SimWiresKind::gpio_sim && w.uart.empty())
    t.fail_here("kind = \"gpio-sim\" needs uart = \"/dev/ttyS1\" (the tty the module's UART0 is)");
}

std::optional<std::uint32_t> parse_hex24(std::string s) {
  if (s.rfind("0x", 0) == 0 || s.rfind("0X", 0) == 0) s = s.substr(2);
  if (s.empty() || s.size() > 6) return std::nullopt;
  char* end = nullptr;
  unsigned long v = std::strtoul(s.c_str(), &end, 16);
  if (*end != '\0') return std::nullopt;
  return static_cast<std::uint32_t>(v);
}

void read_sim(TableReader& t, SimConfig& s, const std::filesystem::path& base_dir) {
  if (auto v = t.choice<std::string>("profile", {{"pycom", "pycom"}, {"upstream", "upstream"}})) s.profile = *v;
  if (auto v = t.choice<std::string>("board", {{"WiPy", "WiPy"}, {"LoPy", "LoPy"}, {"LoPy4", "LoPy4"},
                                               {"SiPy", "SiPy"}, {"GPy", "GPy"}, {"FiPy", "FiPy"}}))
    s.board = *v;
  if (auto v = t.str("factory_version")) s.factory_version = *v;
  if (auto v = t.str("ota0_version")) s.ota0_version = *v;
  if (auto v = t.choice<std::string>("active_slot", {{"factory", "factory"}, {"ota_0", "ota_0"}})) s.active_slot = *v;
  if (auto v = t.str("flash_dir")) s.flash_dir = (base_dir / *v).lexically_normal();
  if (auto v = t.boolean("sd_card")) s.sd_card = *v;
  if (auto v = t.boolean("photodiode")) s.photodiode = *v;
  if (auto v = t.boolean("sys_exit_quirk")) s.sys_exit_quirk = *v;
  if (auto v = t.integer("fault_seed", 0, 4294967295LL)) s.fault_seed = static_cast<unsigned>(*v);
  if (auto v = t.str("mac")) {
    unsigned b[6];
    char tail = 0;
    if (std::sscanf(v->c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6)
      t.fail("mac", "'" + *v + "' is not a MAC address; write six hex bytes, e.g. \"24:0a:c4:12:34:56\"");
    s.mac = *v;
  }
  if (auto v = t.str("flash_id")) {
    auto id = parse_hex24(*v);
    if (!id) t.fail("flash_id", "'" + *v + "' is not a JEDEC id; write three hex bytes, e.g. \"0x1640ef\"");
    s.flash_id = *id;
  }
  if (auto v = t.str("remote")) s.remote = base_dir / *v;
  if (const toml::table* f = t.table("faults")) {
    TableReader ft(t.file(), *f, t.key_path("faults"));
    read_faults(ft, s.faults);
  }
  if (const toml::table* tt = t.table("timing")) {
    TableReader ft(t.file(), *tt, t.key_path("timing"));
    read_firmware_timing(ft, s.timing);
  }
  if (const toml::table* w = t.table("wires")) {
    TableReader wt(t.file(), *w, t.key_path("wires"));
    read_sim_wires(wt, s.wires);
  }
  t.finish();
  if (s.factory_version.empty()) t.fail("factory_version", "the factory slot needs a version");
  if (s.active_slot == "ota_0" && s.ota0_version.empty())
    t.fail("active_slot", "ota_0 is active but holds no image; set ota0_version");
}

std::optional<std::uint16_t> parse_hex16(const std::string& s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  char* end = nullptr;
  unsigned long v = std::strtoul(s.c_str(), &end, 16);
  if (*end != '\0') return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

void read_serial(TableReader& t, SerialConfig& sc, RigKind kind) {
  if (auto v = t.integer("baud", kSerialBaudMin, kSerialBaudMax))
    sc.settings.baud = static_cast<unsigned>(*v);
  t.set_ms("reappear_ms", sc.reappear, 0);
  if (kind == RigKind::sim) {
    t.finish();  // the simulated module's UART is its own pty: only the baud rate is a choice
    return;
  }
  if (auto v = t.str("port")) sc.port.path = *v;
  if (auto v = t.str("usb_serial")) sc.port.usb_serial = *v;
  if (auto v = t.str("usb_vid_pid")) {
    auto colon = v->find(':');
    auto vid = colon == std::string::npos ? std::nullopt : parse_hex16(v->substr(0, colon));
    auto pid = colon == std::string::npos ? std::nullopt : parse_hex16(v->substr(colon + 1));
    if (!vid || !pid) t.fail("usb_vid_pid", "\"" + *v + "\" is not VID:PID in hex, e.g. \"10c4:ea60\"");
    sc.port.usb_vid = vid;
    sc.port.usb_pid = pid;
  }
  if (auto v = t.choice<FlowControl>("flow_control", {{"none", FlowControl::none},
                                                      {"rtscts", FlowControl::rtscts},
                                                      {"xonxoff", FlowControl::xonxoff}}))
    sc.settings.flow = *v;
  if (auto v = t.boolean("dtr")) sc.settings.dtr = *v;
  if (auto v = t.boolean("rts")) sc.settings.rts = *v;
  t.finish();
  bool by_path = !sc.port.path.empty();
  bool by_usb = !sc.port.usb_serial.empty() || sc.port.usb_vid;
  if (!by_path && !by_usb)
    t.fail_here("name the module's serial port: port = \"/dev/serial/by-id/...\", usb_serial = \"...\" or "
                "usb_vid_pid = \"10c4:ea60\" ('bootrig ports' lists them)");
  if (by_path && by_usb) t.fail("port", "give either port or usb_serial/usb_vid_pid, not both");
}

// The command is checked as bootrig will run it: no shell, so an argument list, and every placeholder one
// that bootrig fills in; a typo like {prot} would otherwise reach the tool as a literal port name.
// [station]: names are checked against the scenarios where the suite is run (the rig layer knows none).
void read_station(TableReader& t, StationConfig& sc, const std::filesystem::path& base_dir) {
  if (auto v = t.str("name")) sc.name = *v;
  if (auto v = t.str("records")) sc.records = (base_dir / *v).lexically_normal();
  if (auto v = t.str("runs")) sc.runs = (base_dir / *v).lexically_normal();
  if (const toml::node* n = t.node("eol_suite", toml::node_type::array, "an array of scenario names")) {
    sc.eol_suite.clear();
    for (const auto& e : *n->as_array()) {
      if (!e.is_string())
        t.fail("eol_suite", "expected scenario names (strings), got " + std::string(type_name(e)));
      sc.eol_suite.push_back(**e.as_string());
    }
    if (sc.eol_suite.empty()) t.fail("eol_suite", "empty; name the scenarios of the end-of-line test");
  }
  t.finish();
}

ExternalFlasher read_flasher(TableReader& t, const RigConfig& rig) {
  ExternalFlasher f;
  const toml::node* n = t.node("command", toml::node_type::array,
                               "an array of strings (the program and its arguments; bootrig runs no shell)");
  if (!n)
    t.fail_here(
        "missing key command (the flasher's argument list, e.g. command = [\"esptool.py\", \"--port\", "
        "\"{port}\", \"write_flash\", \"{offset}\", \"{image}\"])");
  const toml::array& arr = *n->as_array();
  if (arr.empty())
    t.fail("command", "is empty; give the program and its arguments, e.g. [\"esptool.py\", ...]");
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const toml::node& e = arr[i];
    if (!e.is_string())
      t.fail("command", "argument " + std::to_string(i + 1) + " is " + type_name(e) +
                            "; every argument must be a string");
    f.command.push_back(**e.as_string());
  }
  if (f.command.front().empty()) t.fail("command", "the first argument (the program to run) is empty");
  bool has_image = false;
  for (const auto& arg : f.command) {
    FlasherArg split = split_flasher_arg(arg);
    if (!split.problem.empty()) t.fail("command", split.problem);
    for (const auto& part : split.parts) {
      if (!part.placeholder) continue;
      if (!is_flasher_placeholder(part.text))
        t.fail("command", "unknown placeholder {" + part.text + "} in \"" + arg + "\"; use " +
                              flasher_placeholder_list() + " ({{ and }} for literal braces)");
      if (part.text == "image") has_image = true;
    }
  }
  if (!has_image)
    t.fail("command",
           "no argument contains {image}; without it the flasher is not told which image to write");
  if (auto v = t.integer("timeout_ms", 1, 3600000)) f.timeout = milliseconds(*v);
  if (auto v = t.boolean("download_mode")) f.download_mode = *v;
  t.finish();
  if (f.download_mode && rig.kind == RigKind::hardware && !rig.line(LineRole::bootloader))
    t.fail(
        t.has("download_mode") ? "download_mode" : "",
        "bootrig puts the module in download mode for the flasher but the rig has no [lines.bootloader] "
        "(P2/G23); add it, or set download_mode = false if the flasher resets the module itself (DTR/RTS)");
  return f;
}

}  // namespace

RigConfig parse_rig(std::string_view text, const std::string& file_name, const std::filesystem::path& base_dir) {
  toml::table root;
  try {
    root = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(file_name, static_cast<int>(e.source().begin.line), "",
                      "not valid TOML: " + std::string(e.description()));
  }

  RigConfig rig;
  rig.source = file_name;
  TableReader top(file_name, root, "");

  const toml::table* rig_t = top.table("rig");
  if (!rig_t) throw ConfigError(file_name, 1, "rig", "missing [rig] table with kind = \"sim\" or \"hardware\"");
  {
    TableReader r(file_name, *rig_t, "rig");
    if (auto v = r.str("name")) rig.name = *v;
    auto kind = r.choice<RigKind>("kind", {{"sim", RigKind::sim}, {"hardware", RigKind::hardware}});
    if (!kind) r.fail_here("missing key kind (\"sim\" or \"hardware\")");
    rig.kind = *kind;
    if (auto v = r.str("lock")) {
      if (v->empty())
        r.fail("lock",
               "empty; name the lock file (e.g. \"/run/lock/bootrig-bench1.lock\") or leave the key out");
      rig.lock = base_dir / *v;
    }
    r.finish();
  }
  if (rig.name.empty()) rig.name = std::filesystem::path(file_name).stem().string();

  std::map<LineRole, int> line_numbers;
  if (const toml::table* lines = top.table("lines")) {
    TableReader lt(file_name, *lines, "lines");
    if (rig.kind == RigKind::sim)
      lt.fail_here("the simulated module is wired internally; remove [lines] or set rig.kind = \"hardware\"");
    for (LineRole role : kAllLineRoles) {
      if (const toml::table* l = lt.table(to_string(role))) {
        TableReader r(file_name, *l, lt.key_path(to_string(role)));
        rig.lines[role] = read_line(r, role);
        line_numbers[role] = line_of(*l);
      }
    }
    lt.finish();
  }
  // A rig with no [lines] at all is a serial-only bench (console, exec, fs work; scenarios need the lines).
  // One that wires some lines but not P12 and RESET is more likely a mistake than a plan.
  if (rig.kind == RigKind::hardware && !rig.lines.empty()) {
    for (LineRole role : {LineRole::safeboot, LineRole::reset}) {
      if (!rig.lines.count(role))
        throw ConfigError(file_name, 0, std::string("lines.") + to_string(role),
                          std::string("missing: a hardware rig needs the ") + role_purpose(role) + " line");
    }
    check_distinct_lines(rig, file_name, line_numbers);
  }

  const toml::table* serial = top.table("serial");
  if (serial) {
    TableReader st(file_name, *serial, "serial");
    read_serial(st, rig.serial, rig.kind);
  } else if (rig.kind == RigKind::hardware) {
    throw ConfigError(file_name, 0, "serial", "missing: a hardware rig needs [serial] with the module's port");
  }

  if (const toml::table* timing = top.table("timing")) {
    TableReader tt(file_name, *timing, "timing");
    read_timing(tt, rig.timing);
  }

  if (const toml::table* fw = top.table("firmware")) {
    TableReader ft(file_name, *fw, "firmware");
    for (const auto& [k, v] : *fw) {
      std::string name(k.str());
      std::vector<std::string> known(std::begin(kFirmwareNames), std::end(kFirmwareNames));
      if (std::find(known.begin(), known.end(), name) == known.end())
        ft.fail(name, "unknown image name; bootrig uses " + join(known) + did_you_mean(name, known));
      FirmwareImage img;
      img.name = name;
      std::string path;
      if (auto* s = v.as_string()) {
        path = **s;
        ft.has(name);
      } else if (auto* t = v.as_table()) {
        ft.has(name);
        TableReader it(file_name, *t, ft.key_path(name));
        auto p = it.str("path");
        if (!p) it.fail_here("missing key path (the image file, relative to the rig file)");
        path = *p;
        it.finish();
      } else {
        ft.fail(name, std::string("expected a path string or a table with path, got ") + type_name(v));
      }
      if (path.empty()) ft.fail(name, "the image path is empty");
      img.path = (base_dir / path).lexically_normal();
      rig.firmware[name] = img;
    }
    ft.finish();
  }

  if (const toml::table* station = top.table("station")) {
    TableReader st(file_name, *station, "station");
    read_station(st, rig.station, base_dir);
  }
  if (const toml::table* flasher = top.table("flasher")) {
    TableReader ft(file_name, *flasher, "flasher");
    rig.flasher = read_flasher(ft, rig);
  }

  if (const toml::table* sim = top.table("sim")) {
    TableReader st(file_name, *sim, "sim");
    if (rig.kind != RigKind::sim) st.fail_here("[sim] only applies to rig.kind = \"sim\"");
    read_sim(st, rig.sim, base_dir);
  }
  top.finish();
  return rig;
}

RigConfig load_rig_file(const std::filesystem::path& path, const std::string& named_by) {
  const std::string text =
      read_bounded_text(path, {kRigFileBound, "a rig file is a few kilobytes of TOML"},
                        {named_by.empty() ? std::string("the rig file") : "the rig file, from " + named_by});
  auto base = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  return parse_rig(text, path.string(), base);
}

RigConfig builtin_sim_rig() {
  RigConfig rig;
  rig.source = "<built-in>";
  rig.name = "built-in simulated module";
  rig.kind = RigKind::sim;
  // Window 2 is only meaningful when the previous image differs: ota_0 runs r6, factory keeps r4.
  rig.sim.factory_version = "1.20.2.r4";
  rig.sim.ota0_version = "1.20.2.r6";
  rig.sim.active_slot = "ota_0";
  return rig;
}

RigSearchEnv current_rig_search_env() {
  RigSearchEnv env;
  if (const char* v = std::getenv("BOOTRIG_RIG"); v && *v) env.rig_env = v;
  if (const char* h = std::getenv("HOME"); h && *h) env.home = h;
  std::error_code ec;
  env.cwd = std::filesystem::current_path(ec);
  return env;
}

RigChoice choose_rig(const std::optional<std::string>& cli_rig, const RigSearchEnv& env) {
  // An explicit choice that does not exist is an error, never a silent fall-through to the simulator.
  if (cli_rig) return {*cli_rig, "--rig"};
  if (env.rig_env) return {*env.rig_env, "$BOOTRIG_RIG"};
  std::vector<std::pair<std::filesystem::path, std::string>> candidates;
  candidates.emplace_back(env.cwd / "bootrig.toml", "./bootrig.toml");
  if (env.home) candidates.emplace_back(std::filesystem::path(*env.home) / ".config/bootrig/rig.toml",
                                        "~/.config/bootrig/rig.toml");
  candidates.emplace_back(env.etc, env.etc.string());
  for (const auto& [p, why] : candidates) {
    std::error_code ec;
    if (std::filesystem::exists(p, ec)) return {p, why};
  }
  return {{}, "no rig file found"};
}

RigConfig load_chosen_rig(const RigChoice& choice) {
  if (choice.path.empty()) return builtin_sim_rig();
  return load_rig_file(choice.path, choice.why);
}

}  // namespace bootrig
