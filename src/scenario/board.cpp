// Board facts, evidence scripts and script restore, all over the raw REPL.
#include "bootrig/scenario/board.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/scenario/scenario.hpp"

namespace bootrig {

const char* reset_cause_name(int cause) {
  switch (cause) {
    case 0: return "PWRON_RESET";
    case 1: return "HARD_RESET";
    case 2: return "WDT_RESET";
    case 3: return "DEEPSLEEP_RESET";
    case 4: return "SOFT_RESET";
    case 5: return "BROWN_OUT_RESET";
    default: return "unknown";
  }
}

bool BoardFacts::has(const std::string& file) const {
  return std::find(flash_files.begin(), flash_files.end(), file) != flash_files.end();
}

std::string BoardFacts::describe() const {
  std::string s = release.empty() ? std::string("unknown version") : release;
  if (!slot.empty()) s += " (boot_info active slot " + slot + ")";
  return s;
}

std::string evidence_boot_py() {
  return std::string("# bootrig evidence: proves boot.py ran (restored after the check)\n") + "print('" +
         kBootMarker + "')\n" + "f = open('/flash/" + kBootEvidenceFile + "', 'w')\nf.write('boot.py')\nf.close()\n";
}

std::string evidence_main_py(const std::string& extra) {
  return std::string("# bootrig evidence: proves main.py ran (restored after the check)\n") + "print('" +
         kMainMarker + "')\n" + "f = open('/flash/" + kMainEvidenceFile + "', 'w')\nf.write('main.py')\nf.close()\n" +
         extra;
}

ScriptsSeen scripts_seen(const std::string& transcript) {
  ScriptsSeen s;
  auto b = transcript.find(kBootMarker);
  auto m = transcript.find(kMainMarker);
  s.boot = b != std::string::npos;
  s.main = m != std::string::npos;
  s.in_order = !(s.boot && s.main) || b < m;
  return s;
}

namespace {

// Undoes Python's repr() of a str: the quotes, and the escapes MicroPython's repr produces.
std::optional<std::string> unrepr(const std::string& r) {
  if (r.size() < 2 || (r.front() != '\'' && r.front() != '"') || r.back() != r.front()) return std::nullopt;
  std::string out;
  for (std::size_t i = 1; i + 1 < r.size(); ++i) {
    char c = r[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i + 1 > r.size() - 1) return std::nullopt;
    char e = r[i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'x': {
        if (i + 2 >= r.size()) return std::nullopt;
        out += static_cast<char>(std::strtol(r.substr(i + 1, 2).c_str(), nullptr, 16));
        i += 2;
        break;
      }
      default: return std::nullopt;
    }
  }
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

void Board::need_prompt(const std::string& why) {
  auto step = s_.step("reach the REPL");
  s_.waiting("a >>> prompt (Ctrl-C)");
  // A board still booting answers only after its boot: allow for that, not just an interrupt's round trip.
  auto p = s_.repl().get_prompt(Deadline::after(s_.timing().prompt_timeout + s_.timing().boot_timeout));
  if (!p) s_.fail("no REPL prompt " + why + ": " + p.error().describe());
  step.ok();
}

ExecResult Board::exec(const std::string& code, const std::string& what, bool allow_exception) {
  auto r = s_.repl().exec_raw(code, Deadline::after(s_.timing().prompt_timeout * 3));
  if (!r) s_.fail("the board did not run " + what + ": " + r.error().describe());
  if (r->exception && !allow_exception)
    s_.fail(what + " raised " + r->exception->type + ": " + r->exception->message);
  return std::move(r).value();
}

BoardFacts Board::facts() {
  const std::string code =
      "import os, machine\n"
      "print('BR', os.uname().release)\n"
      "print('BC', machine.reset_cause())\n"
      "print('BF', ' '.join(os.listdir('/flash')))\n"
      "try:\n"
      "    import pycom\n"
      "    b = pycom.bootmgr()\n"
      "    print('BS', b[0], b[2])\n"
      "except ImportError:\n"
      "    print('BS')\n";
  ExecResult r = exec(code, "the board query (os.uname, machine.reset_cause, os.listdir, pycom.bootmgr)");
  BoardFacts f;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    auto rest = [&](std::size_t n) { return line.size() > n ? line.substr(n) : std::string(); };
    if (line.rfind("BR", 0) == 0) f.release = rest(3);
    else if (line.rfind("BC", 0) == 0) f.reset_cause = std::atoi(rest(3).c_str());
    else if (line.rfind("BF", 0) == 0) {
      std::istringstream names(rest(3));
      for (std::string n; names >> n;) f.flash_files.push_back(n);
    } else if (line.rfind("BS", 0) == 0) {
      std::string s = rest(3);
      auto sp = s.find(' ');
      f.slot = s.substr(0, sp);
      f.safeboot_flag = s.find("SafeBoot: True") != std::string::npos;
    }
  }
  if (f.release.empty()) s_.fail("the board query printed no version: " + r.output);
  return f;
}

std::optional<std::string> Board::read_file(const std::string& path) {
  ExecResult r = exec("f = open('" + path + "')\nprint(repr(f.read()))\nf.close()\n", "reading " + path, true);
  if (r.exception) return std::nullopt;
  return unrepr(trim(r.output));
}

void Board::write_file(const std::string& path, const std::string& content) {
  auto w = s_.repl().write_file(path, content, Deadline::after(s_.timing().prompt_timeout * 5));
  if (!w) s_.fail("could not write " + path + ": " + w.error().describe());
  if (w->exception) s_.fail("writing " + path + " raised " + w->exception->type + ": " + w->exception->message);
}

void Board::remove_if_present(const std::vector<std::string>& names) {
  std::string code = "import os\nl = os.listdir('/flash')\n";
  for (const auto& n : names) code += "if '" + n + "' in l:\n    os.remove('/flash/" + n + "')\n";
  exec(code, "removing old evidence files");
}

void Board::clear_evidence() { remove_if_present({kBootEvidenceFile, kMainEvidenceFile, kExitOnceFile}); }

void Board::install_evidence(const std::string& main_extra) {
  if (!installed_) {
    saved_boot_ = read_file("/flash/boot.py");
    saved_main_ = read_file("/flash/main.py");
    installed_ = true;
  }
  write_file("/flash/boot.py", evidence_boot_py());
  write_file("/flash/main.py", evidence_main_py(main_extra));
  clear_evidence();
}

void Board::restore_scripts() {
  write_file("/flash/boot.py", saved_boot_.value_or(kDefaultBootPy));
  write_file("/flash/main.py", saved_main_.value_or(kDefaultMainPy));
  clear_evidence();
}

void Board::plant_state() {
  exec(std::string(kPlantedName) + " = 4242\nimport machine\nmachine.RTC().init((" + std::to_string(kPlantedYear) +
           ", 1, 2, 3, 4, 5, 0, 0))\n",
       "planting a name and setting the RTC");
}

bool Board::name_survived() {
  ExecResult r = exec("print(" + std::string(kPlantedName) + ")\n", "looking up the planted name", true);
  if (r.exception && r.exception->type == "NameError") return false;
  if (r.exception) s_.fail("looking up a name raised " + r.exception->type + ": " + r.exception->message);
  return true;
}

int Board::rtc_year() {
  ExecResult r = exec("import machine\nprint(machine.RTC().now()[0])\n", "reading the RTC");
  return std::atoi(trim(r.output).c_str());
}

}  // namespace bootrig
