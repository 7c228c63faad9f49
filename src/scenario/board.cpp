// Board facts, evidence scripts and script restore, all through the checked channel.
#include "bootrig/scenario/board.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/scenario/recovery.hpp"
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

namespace {

// The evidence scripts append one letter to the log each time they run; the marker line is for people.
std::string evidence_script(const char* what, const char* marker, char letter) {
  return std::string("# bootrig evidence: proves ") + what + " ran (restored after the check)\n" + "print('" +
         marker + "')\n" + "f = open('/flash/" + kEvidenceLog + "', 'a')\nf.write('" + letter + "')\nf.close()\n";
}

std::string hex_decode(const std::string& hex) {
  auto val = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(val(hex[i]) << 4 | val(hex[i + 1]));
  return out;
}

}  // namespace

std::string evidence_boot_py() { return evidence_script("boot.py", kBootMarker, 'B'); }

std::string evidence_main_py(const std::string& extra) {
  return evidence_script("main.py", kMainMarker, 'M') + extra;
}

ScriptsSeen scripts_seen(const std::string& log) {
  ScriptsSeen s;
  auto b = log.find('B');
  auto m = log.find('M');
  s.boot = b != std::string::npos;
  s.main = m != std::string::npos;
  s.in_order = !(s.boot && s.main) || b < m;
  s.boots = static_cast<int>(std::count(log.begin(), log.end(), 'B'));
  return s;
}

void Board::need_prompt(const std::string& why) {
  auto step = s_.step("reach the REPL");
  s_.waiting("a >>> prompt (Ctrl-C)");
  // A board still booting answers only after its boot: allow for that, not just an interrupt's round trip.
  auto p = s_.repl().get_prompt(Deadline::after(s_.timing().prompt_timeout + s_.timing().boot_timeout));
  if (!p) {
    RecoveryReport r = recover_board(s_, "no REPL prompt " + why + ": " + p.error().describe());
    if (!r.recovered) throw BoardLost(r);
  }
  step.ok();
}

namespace {
ChannelAnswer own_command_answer(Session& s, Result<ChannelAnswer, ChannelFailure> r, const std::string& what,
                                 bool allow_exception) {
  if (!r) throw RigError("bootrig could not run " + what + " on the board: " + r.error().what);
  if (r->retries > 0) s.note_line_trouble(what, r->retries);
  if (r->raised() && !allow_exception)
    throw RigError(what + " raised " + *r->exc_type + ": " + r->exc_message +
                   " on the board (bootrig's own command; the board state is not what bootrig expected)");
  return std::move(r).value();
}
}  // namespace

ChannelAnswer Board::exec(const std::string& code, const std::string& what, bool allow_exception, Duration work) {
  return own_command_answer(
      s_, s_.channel().run(code, work, Deadline::after(s_.timing().prompt_timeout * 10 + work)), what,
      allow_exception);
}

std::optional<ChannelAnswer> Board::exec_unless_reset(const std::string& code, const std::string& what,
                                                      Duration work) {
  const std::uint64_t installs = s_.channel().stats().installs;
  auto r = s_.channel().run(code, work, Deadline::after(s_.timing().prompt_timeout * 10 + work));
  // A reset before the exchange shows as the helper installed again; one during it, as the helper lost.
  if (r ? s_.channel().stats().installs != installs : !s_.channel().installed()) return std::nullopt;
  return own_command_answer(s_, std::move(r), what, false);
}

BoardFacts Board::facts() {
  const std::string code = std::string(
                               "import os, machine\n"
                               "u = os.uname()\n"
                               "l = ['BR ' + u.release, 'BV ' + u.version, 'BN ' + u.sysname, "
                               "'BC %d' % machine.reset_cause(), 'BF ' + ' '.join(os.listdir('/flash')), "
                               "'BU ' + ''.join('%02x' % b for b in machine.unique_id())]\n"
                               "try:\n"
                               "    import pycom\n"
                               "    b = pycom.bootmgr()\n"
                               "    l.append('BS ' + b[0] + ' ' + b[2])\n"
                               "except ImportError:\n"
                               "    l.append('BS')\n"
                               "try:\n"
                               "    f = open('/flash/") +
                           kEvidenceLog +
                           "')\n"
                           "    l.append('BE ' + f.read())\n"
                           "    f.close()\n"
                           "except OSError:\n"
                           "    l.append('BE ')\n"
                           "_r = '\\n'.join(l)\n";
  ChannelAnswer a = exec(code, "the board query (os.uname, machine.reset_cause, os.listdir, pycom.bootmgr)");
  BoardFacts f;
  std::istringstream in(a.value);
  for (std::string line; std::getline(in, line);) {
    auto rest = [&](std::size_t n) { return line.size() > n ? line.substr(n) : std::string(); };
    if (line.rfind("BR", 0) == 0) f.release = rest(3);
    else if (line.rfind("BV", 0) == 0) f.version = rest(3);
    else if (line.rfind("BN", 0) == 0) f.board = rest(3);
    else if (line.rfind("BC", 0) == 0) f.reset_cause = std::atoi(rest(3).c_str());
    else if (line.rfind("BE", 0) == 0) f.evidence = rest(3);
    else if (line.rfind("BU", 0) == 0) f.unique_id = rest(3);
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
  // The answer arrived intact: a board that gives no version is a board that broke the MicroPython API.
  if (f.release.empty()) s_.fail("os.uname() on the board gave no release: " + a.value);
  s_.attempt().board.merge({f.board, f.release, f.version, f.unique_id});
  return f;
}

std::optional<std::string> Board::read_file(const std::string& path) {
  // Hex on the board: any bytes the file holds come back exactly (text or not).
  ChannelAnswer a = exec("f = open(" + py_str_literal(path) +
                             ", 'rb')\n_r = _bB.hexlify(f.read()).decode()\nf.close()\n",
                         "reading " + path, true);
  if (a.raised()) return std::nullopt;
  return hex_decode(a.value);
}

void Board::write_file(const std::string& path, const std::string& content) {
  exec("f = open(" + py_str_literal(path) + ", 'wb')\nf.write(" + py_bytes_literal(content) + ")\nf.close()\n",
       "writing " + path, false, milliseconds(500));
}

void Board::remove_if_present(const std::vector<std::string>& names) {
  std::string code = "import os\nl = os.listdir('/flash')\n";
  for (const auto& n : names) code += "if '" + n + "' in l:\n    os.remove('/flash/" + n + "')\n";
  exec(code, "removing old evidence files", false, milliseconds(500));
}

void Board::clear_evidence() { remove_if_present({kEvidenceLog, kExitOnceFile}); }

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
  // Nothing of ours to put back (the check stopped before its evidence went on): writing the defaults here
  // would replace the user's own scripts.
  if (!installed_) return;
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
  ChannelAnswer a = exec("_r = str(" + std::string(kPlantedName) + ")\n", "looking up the planted name", true);
  if (a.raised() && *a.exc_type == "NameError") return false;
  if (a.raised()) throw RigError("looking up a name raised " + *a.exc_type + ": " + a.exc_message);
  return true;
}

int Board::rtc_year() {
  ChannelAnswer a = exec("import machine\n_r = str(machine.RTC().now()[0])\n", "reading the RTC");
  return std::atoi(a.value.c_str());
}

bool Board::clear_safeboot_flag() {
  ChannelAnswer a = exec(
      "try:\n"
      "    import pycom\n"
      "    s = pycom.bootmgr()[2] == 'SafeBoot: True'\n"
      "    if s:\n"
      "        pycom.bootmgr(safeboot=False)\n"
      "    _r = 'set' if s else 'clear'\n"
      "except ImportError:\n"
      "    _r = 'none'\n",
      "clearing the safe-boot flag");
  return a.value == "set";
}

}  // namespace bootrig
