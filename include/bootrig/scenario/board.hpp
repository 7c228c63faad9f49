// What scenarios ask the board and leave on it: facts read over the raw REPL as values, evidence scripts
// that prove whether boot.py and main.py ran, and putting the board's own scripts back afterwards.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bootrig/scenario/session.hpp"

namespace bootrig {

// machine.reset_cause() values as firmware 1.20 defines them (modmachine.c).
enum class ResetCause : int { pwron = 0, hard = 1, wdt = 2, deepsleep = 3, soft = 4, brown_out = 5 };
const char* reset_cause_name(int cause);  // "PWRON_RESET", ... or "unknown"

struct BoardFacts {
  std::string release;  // os.uname().release, e.g. "1.20.2.r4"
  std::string slot;     // pycom.bootmgr()[0]: "Factory" or "ota_0"; empty when the board has no pycom module
  bool safeboot_flag = false;
  int reset_cause = -1;
  std::vector<std::string> flash_files;  // os.listdir('/flash')
  bool has(const std::string& file) const;
  std::string describe() const;  // "1.20.2.r6 (boot_info active slot ota_0)"
};

// The markers the evidence scripts print, and the files they write.
inline constexpr const char* kBootMarker = "BOOTRIG:boot.py ran";
inline constexpr const char* kMainMarker = "BOOTRIG:main.py ran";
inline constexpr const char* kBootEvidenceFile = "bootrig_boot.txt";
inline constexpr const char* kMainEvidenceFile = "bootrig_main.txt";
// A flag file that makes the evidence main.py call sys.exit() once.
inline constexpr const char* kExitOnceFile = "bootrig_exit_once";

// The firmware's defaults (pycom-boot-behaviour.md, Filesystem).
inline constexpr const char* kDefaultBootPy = "# boot.py -- run on boot-up\r\n";
inline constexpr const char* kDefaultMainPy = "# main.py -- put your code here!\r\n";

std::string evidence_boot_py();
// `extra` is appended to main.py after its evidence lines (e.g. a sys.exit() under a condition).
std::string evidence_main_py(const std::string& extra = "");

// Board operations over the session's REPL. Each throws CheckFailed when the board does not answer as a
// MicroPython REPL must (the board's fault), RigError when the rig fails.
class Board {
 public:
  explicit Board(Session& s) : s_(s) {}

  // A friendly prompt, interrupting whatever runs; fails the check when none comes.
  void need_prompt(const std::string& why);
  BoardFacts facts();
  // Runs code in the raw REPL; fails the check when it raises (unless `allow_exception`).
  ExecResult exec(const std::string& code, const std::string& what, bool allow_exception = false);
  std::optional<std::string> read_file(const std::string& path);
  void write_file(const std::string& path, const std::string& content);
  void remove_if_present(const std::vector<std::string>& flash_files);

  // Remembers boot.py and main.py and replaces them with the evidence scripts; removes old evidence.
  void install_evidence(const std::string& main_extra = "");
  // Removes the evidence files so the next boot's are fresh.
  void clear_evidence();
  // Puts back what install_evidence() found (or the firmware's defaults), and removes the evidence.
  void restore_scripts();
  // Defines a name in the interpreter (cleared by any reset) and sets the RTC (a peripheral: kept by a
  // soft reset, cleared by a hard one).
  void plant_state();
  // Whether the planted name still exists, and the RTC's year.
  bool name_survived();
  int rtc_year();

  static constexpr const char* kPlantedName = "bootrig_planted";
  static constexpr int kPlantedYear = 2031;

 private:
  Session& s_;
  std::optional<std::string> saved_boot_, saved_main_;
  bool installed_ = false;
};

// "expected X, saw Y" with the evidence of which scripts ran in a boot transcript.
struct ScriptsSeen {
  bool boot = false;
  bool main = false;
  bool in_order = true;  // boot.py's marker before main.py's
};
ScriptsSeen scripts_seen(const std::string& transcript);

}  // namespace bootrig
