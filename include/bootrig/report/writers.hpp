// The run's result files: a plain-text summary, JUnit XML for CI, and JSON for machines and factory records.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "bootrig/report/result.hpp"

namespace bootrig {

// "PASS   safeboot-window2        9.8 s  previous image 1.20.2.r4 ran  [LED window 2 (fast blink) not
// checked: no photodiode on this rig]"; "NOT RUN normal-boot  -  not run: the run was interrupted".
std::string summary_line(const ScenarioResult& r);

// summary.txt: what ran and how (version, command line, rig and its hash, simulator faults, start and end
// times with the monotonic anchor), a line per scenario, then the totals and the exit code, and last a line
// that says how the run ended when it did not end normally: "INTERRUPTED: ...", "STOPPED: ...", or
// "RUNNING: ..." in a file written while the run still went.
std::string to_summary_text(const RunSummary& run);
// That last line: "INTERRUPTED: interrupted by Terminated during safeboot-window2 (3.2 s in); P12 and RESET
// released; ..."; empty for a run that ended normally.
std::string run_end_line(const RunSummary& run);
// results.json, described by docs/results.schema.json; the version changes when a field changes meaning or
// goes away (adding fields keeps it).
inline constexpr int kResultsSchemaVersion = 1;
nlohmann::json to_json(const RunSummary& run);
std::string to_junit_xml(const RunSummary& run);

// Writes through a temporary file in the same folder, flushed to disk, then renamed over `path`: a reader
// (or a crash) sees the old file or the new one, never half of one.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

// Throws RigError (one line naming `option` and `path`, and what to do) unless a file can be written at
// `path`: its folder exists and bootrig can create files in it, and `path` is not a folder. Called for
// --junit and --log-file before anything touches the board; never creates a folder.
void check_output_file(const std::filesystem::path& path, const std::string& option);

// The length of the UTF-8 character at `i` (1 to 4), or 0 where the bytes are not UTF-8 (overlong forms,
// surrogates and truncated sequences included).
std::size_t utf8_char_length(std::string_view s, std::size_t i);

// XML text with the characters XML 1.0 forbids (serial garbage) replaced by U+FFFD.
std::string xml_escape(const std::string& s);

}  // namespace bootrig
