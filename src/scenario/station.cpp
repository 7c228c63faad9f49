// The end-of-line station's logic: suites, unit folders, one recorded run per unit, the operator's loop.
#include "bootrig/scenario/station.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/escape.hpp"
#include "bootrig/core/interrupt.hpp"
#include "bootrig/rig/rig_config.hpp"

namespace bootrig {

std::vector<Scenario*> resolve_suite(const RigConfig& rig, const std::string& name) {
  if (name != "eol")
    throw RigError("no suite named '" + name + "'; the suite is 'eol' (the rig's [station] eol_suite)");
  std::vector<Scenario*> out;
  for (const auto& n : rig.station.eol_suite) {
    Scenario* s = find_scenario(n);
    if (!s)
      throw RigError(rig.source.string() + ": station.eol_suite: no scenario named '" + n +
                     "'; 'bootrig list' shows the names");
    for (Scenario* seen : out)
      if (seen == s) throw RigError(rig.source.string() + ": station.eol_suite: '" + n + "' is named twice");
    out.push_back(s);
  }
  return out;
}

std::string unit_serial_problem(const std::string& serial) {
  if (serial.empty()) return "empty";
  if (serial.size() > 64) return "longer than 64 characters";
  if (serial[0] == '.') return "starts with '.'";
  for (char c : serial) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.' || c == '/' || c == ':';
    if (!ok)
      return "holds '" + terminal_safe(std::string(1, c)) +
             "'; a serial number is letters, digits, - _ . / :";
  }
  return "";
}

std::string unit_folder_name(const std::string& serial) {
  std::string s = serial;
  for (char& c : s)
    if (c == '/' || c == ':') c = '_';
  return s;
}

StationSetup station_setup(const RigConfig& rig, const std::string& operator_name, const std::string& suite) {
  StationSetup s;
  s.records =
      rig.station.records.empty() ? std::filesystem::path("bootrig-records.sqlite") : rig.station.records;
  s.runs = rig.station.runs.empty() ? std::filesystem::path("bootrig-runs") : rig.station.runs;
  s.who.station = rig.station.name;
  if (s.who.station.empty()) {
    char host[256] = {};
    s.who.station = ::gethostname(host, sizeof host - 1) == 0 ? host : "unknown";
  }
  s.who.operator_ = operator_name;
  if (s.who.operator_.empty()) {
    const char* u = std::getenv("USER");
    s.who.operator_ = u && *u ? u : "unknown";
  }
  s.who.suite = suite;
  return s;
}

std::string UnitVerdict::failing() const {
  std::string out;
  for (const auto& sc : summary.scenarios) {
    if (sc.outcome == Outcome::pass) continue;
    std::string why = sc.attempts.empty() ? sc.reason : sc.attempts.back().message;
    out +=
        (out.empty() ? "" : "\n") + sc.name + " " + to_string(sc.outcome) + (why.empty() ? "" : ": " + why);
  }
  return out;
}

UnitVerdict test_unit(Target& target, const std::vector<Scenario*>& suite, const std::string& serial,
                      StationSetup& setup, RecordStore& records, Progress& progress) {
  if (auto why = unit_serial_problem(serial); !why.empty())
    throw RigError("unit serial number '" + terminal_safe(serial) + "': " + why);
  const TimePoint start = now();
  std::error_code ec;
  std::filesystem::create_directories(setup.runs, ec);
  if (ec) throw RigError("station runs folder " + setup.runs.string() + ": " + ec.message());
  // A retest never overwrites: runs/SERIAL, then runs/SERIAL/run-2, run-3...
  RunFolder folder(setup.runs / unit_folder_name(serial), true);
  RunOptions ro = setup.run;
  ro.unit = serial;
  UnitVerdict v;
  v.summary = run_scenarios(target, suite, ro, folder, progress);
  v.exit_code = v.summary.exit_code.value_or(exit_code_for(v.summary, false));
  v.folder = folder.path();
  // Recorded before anything says PASS or FAIL: a verdict the records do not hold was never given.
  v.record_id = records.add_run(v.summary, setup.who, folder.path().string());
  v.cycle_seconds = std::chrono::duration<double>(now() - start).count();
  return v;
}

namespace {
// 5-row block letters for the verdict, readable from across a bench.
const char* const* station_glyph(char c) {
  static const char* const P[] = {"#### ", "#   #", "#### ", "#    ", "#    "};
  static const char* const A[] = {" ### ", "#   #", "#####", "#   #", "#   #"};
  static const char* const S[] = {" ####", "#    ", " ### ", "    #", "#### "};
  static const char* const F[] = {"#####", "#    ", "#### ", "#    ", "#    "};
  static const char* const I[] = {"#####", "  #  ", "  #  ", "  #  ", "#####"};
  static const char* const L[] = {"#    ", "#    ", "#    ", "#    ", "#####"};
  static const char* const E[] = {"#####", "#    ", "#### ", "#    ", "#####"};
  static const char* const R[] = {"#### ", "#   #", "#### ", "#  # ", "#   #"};
  static const char* const O[] = {" ### ", "#   #", "#   #", "#   #", " ### "};
  static const char* const T[] = {"#####", "  #  ", "  #  ", "  #  ", "  #  "};
  switch (c) {
    case 'P':
      return P;
    case 'A':
      return A;
    case 'S':
      return S;
    case 'F':
      return F;
    case 'I':
      return I;
    case 'L':
      return L;
    case 'E':
      return E;
    case 'R':
      return R;
    case 'T':
      return T;
    default:
      return O;
  }
}
}  // namespace

std::string verdict_banner(const UnitVerdict& v, bool colour) {
  const std::string word = v.pass()           ? "PASS"
                           : v.exit_code == 1 ? "FAIL"
                           : v.exit_code == 3 ? "STOP"
                                              : "ERROR";
  std::string out;
  const char* on = !colour ? "" : v.pass() ? "\x1b[1;30;42m" : "\x1b[1;37;41m";
  const char* off = colour ? "\x1b[0m" : "";
  for (int row = 0; row < 5; ++row) {
    std::string line = "  ";
    for (char c : word) {
      const char* const* g = station_glyph(c);
      line += std::string(g[row]) + "  ";
    }
    out += std::string(on) + line + off + "\n";
  }
  out += "\nunit " + terminal_safe(v.summary.unit) + ": " +
         (v.pass()           ? "every check passed"
          : v.exit_code == 1 ? "the board failed"
          : v.exit_code == 3 ? "interrupted, not judged"
                             : "the rig could not judge it (ERROR)") +
         "\n";
  if (!v.pass())
    for (const auto& line : [&] {
           std::vector<std::string> lines;
           std::string f = v.failing();
           for (std::size_t p = 0; p <= f.size();) {
             std::size_t e = f.find('\n', p);
             if (e == std::string::npos) e = f.size();
             if (e > p) lines.push_back(f.substr(p, e - p));
             p = e + 1;
           }
           return lines;
         }())
      out += "  " + terminal_safe(line) + "\n";
  char cycle[64];
  std::snprintf(cycle, sizeof cycle, "cycle time %.1f s", v.cycle_seconds);
  out += std::string(cycle) + "; record " + std::to_string(v.record_id) + "; evidence in " +
         terminal_safe(v.folder.string()) + "\n";
  return out;
}

std::optional<std::string> read_operator_line(int fd) {
  std::string line;
  for (;;) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {interrupt::fd(), POLLIN, 0}};
    int n = ::poll(fds, 2, -1);
    interrupt::throw_if_requested();
    if (n < 0) {
      if (errno == EINTR) continue;
      throw RigError(std::string("reading the serial number: ") + std::strerror(errno));
    }
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char c;
    ssize_t r = ::read(fd, &c, 1);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) return line.empty() ? std::nullopt : std::optional<std::string>(line);
    if (c == '\n') return line;
    if (c != '\r') line += c;
    if (line.size() > 4096) throw RigError("reading the serial number: a line of more than 4096 characters");
  }
}

int station_loop(Target& target, const std::vector<Scenario*>& suite, StationSetup& setup,
                 RecordStore& records, int in_fd, std::FILE* out, bool colour,
                 const std::function<std::unique_ptr<Progress>()>& progress) {
  int units = 0, passed = 0;
  auto closing = [&](const std::string& why) {
    std::fprintf(out, "\nstation closed (%s): %d unit(s) tested, %d passed; records in %s\n", why.c_str(),
                 units, passed, setup.records.string().c_str());
    std::fflush(out);
  };
  for (;;) {
    std::fprintf(out, "\nScan or type the unit's serial number (Ctrl-C to close the station): ");
    std::fflush(out);
    std::optional<std::string> serial;
    try {
      serial = read_operator_line(in_fd);
    } catch (const Interrupted&) {
      closing("Ctrl-C");
      return 0;
    }
    if (!serial) {
      closing("end of input");
      return 0;
    }
    // Scanners may send spaces around the code.
    std::string s = *serial;
    s.erase(0, s.find_first_not_of(" \t"));
    s.erase(s.find_last_not_of(" \t") + 1);
    if (s.empty()) continue;
    if (auto why = unit_serial_problem(s); !why.empty()) {
      std::fprintf(out, "not a serial number (%s); scan again\n", why.c_str());
      continue;
    }
    std::fprintf(out, "testing unit %s: %zu checks\n", s.c_str(), suite.size());
    std::fflush(out);
    auto p = progress();
    UnitVerdict v = test_unit(target, suite, s, setup, records, *p);
    ++units;
    if (v.pass()) ++passed;
    std::fprintf(out, "\n%s", verdict_banner(v, colour).c_str());
    std::fflush(out);
    if (v.exit_code == 3) {
      closing("interrupted during unit " + s);
      return 3;
    }
  }
}

}  // namespace bootrig
