// The run's result files: a plain-text summary, JUnit XML for CI, and JSON for machines and factory records.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "bootrig/report/result.hpp"

namespace bootrig {

// "PASS   safeboot-window2        9.8 s  previous image 1.20.2.r4 ran; window 2 seen after 6 periods"
std::string summary_line(const ScenarioResult& r);

nlohmann::json to_json(const RunSummary& run);
std::string to_junit_xml(const RunSummary& run);

// Writes through a temporary file and rename, so a reader (or a crash) never sees half a file.
void write_file_atomically(const std::filesystem::path& path, const std::string& content);

// XML text with the characters XML 1.0 forbids (serial garbage) replaced by U+FFFD.
std::string xml_escape(const std::string& s);

}  // namespace bootrig
