// A boot-mode check users name on the command line, and the catalogue of all of them.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bootrig/flash/ensure.hpp"
#include "bootrig/report/result.hpp"

namespace bootrig {

class Session;

struct ScenarioInfo {
  std::string name;     // what users type: "safeboot-window2"
  std::string purpose;  // one line for `bootrig list`
  std::vector<std::string> steps;
  std::vector<std::string> expectations;
  std::vector<std::string> preconditions;
  std::string typical_duration;  // with the firmware's own timings, e.g. "about 12 s"
  // The rig's [firmware] images this check needs on the board; put there before it runs when the rig names
  // them. Every check wants "current" running; the window-2 and factory checks also "previous" behind it.
  Arrangement arrangement{"current", ""};
  // What the scenario destroys beyond what restore() puts back, e.g. "erases /flash"; empty: nothing. A
  // destructive scenario runs only with consent: named on the command line, or `run --all --destructive`.
  std::string destructive = {};
};

// How a scenario body ends other than by returning (PASS):
// the board broke a rule (FAIL),
class CheckFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// or a precondition is unmet, said with its reason (SKIP).
class Skipped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Rig trouble is a RigError (ERROR); Ctrl-C an Interrupted.
//
// RunStop ends the attempt and the whole run: the board cannot be brought back to a state any later scenario
// could start from (the recovery ladder failed). Scenario code, or the runner's recovery step before a
// scenario, throws it with what was tried. The attempt gets `verdict` (ERROR when the rig or the line is the
// cause; FAIL when the board's own boot hangs) and the message; the board is not restored (restore would try
// the same recovery again) but P12 and RESET are released; the run records the board's state, and every later
// scenario is NOT RUN, "not run: the run stopped after NAME: <message>". No retry follows.
class RunStop : public std::runtime_error {
 public:
  explicit RunStop(const std::string& why, Outcome verdict = Outcome::error)
      : std::runtime_error(why), verdict_(verdict) {}
  Outcome verdict() const { return verdict_; }

 private:
  Outcome verdict_;
};

class Scenario {
 public:
  virtual ~Scenario() = default;
  virtual const ScenarioInfo& info() const = 0;
  // Acts and judges. Throws CheckFailed, Skipped, RigError; returns on PASS.
  virtual void run(Session& s) = 0;
  // Puts the board back as the scenario found it (scripts, files, a normal boot). Called after run()
  // whatever its outcome; must not throw CheckFailed.
  virtual void restore(Session& s) = 0;
};

// Every scenario, in the order `bootrig list` and `run --all` use.
const std::vector<std::unique_ptr<Scenario>>& all_scenarios();
// nullptr when there is no such scenario.
Scenario* find_scenario(const std::string& name);

}  // namespace bootrig
