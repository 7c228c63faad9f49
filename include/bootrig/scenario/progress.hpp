// What a person or a CI log sees while a run goes: live progress on a terminal, timestamped lines elsewhere.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "bootrig/report/result.hpp"

namespace bootrig {

class Progress {
 public:
  virtual ~Progress() = default;
  virtual void run_started(const std::string& rig, bool simulated, std::size_t scenarios,
                           const std::string& folder) = 0;
  virtual void scenario_started(const std::string& name, int attempt, int attempts) = 0;
  // The step the scenario is in, e.g. "safe boot: holding P12 through a RESET pulse".
  virtual void step(const std::string& text) = 0;
  // What bootrig is waiting for, e.g. "window 2 (fast blink)"; empty when no longer waiting.
  virtual void waiting(const std::string& what) = 0;
  virtual void note(const std::string& text) = 0;
  virtual void attempt_finished(const std::string& name, const Attempt& a) = 0;
  virtual void scenario_finished(const ScenarioResult& r) = 0;
  virtual void run_finished(const RunSummary& run, const std::string& folder) = 0;
};

// A status line redrawn in place (with elapsed time and what is awaited) when `live`, else plain lines
// with a wall-clock timestamp: what CI logs and NO_COLOR users want.
std::unique_ptr<Progress> make_progress(std::FILE* out, bool live);
// Progress that shows nothing (tests, --quiet).
std::unique_ptr<Progress> make_silent_progress();
// Every line plain progress would print, without its timestamp, handed to `sink` (the log file's logger).
std::unique_ptr<Progress> make_line_progress(std::function<void(const std::string&)> sink);
// Both at once: the console's progress and the log file's copy.
std::unique_ptr<Progress> make_tee_progress(std::unique_ptr<Progress> first,
                                            std::unique_ptr<Progress> second);
// Whether `out` should get live progress: a terminal, and NO_COLOR unset and TERM not "dumb".
bool wants_live_progress(std::FILE* out);

}  // namespace bootrig
