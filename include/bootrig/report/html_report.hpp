// report.html: the run for a person, in one self-contained file (inline CSS and SVG, nothing fetched).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>

#include "bootrig/report/attempt_views.hpp"
#include "bootrig/report/result.hpp"

namespace bootrig {

// The summary (outcomes, durations, firmware found and flashed, how the run ended), then per scenario attempt
// a timing diagram (lanes P12, RESET, P2, LED and serial; the bootloader's windows shaded at their nominal
// times after each safe-boot reset; bootrig's actions and decisions marked; verdict and measurements written
// on it), the measurements against their limits, the failure message and the serial lines around the
// verdict. The attempts' events are read from their folders under `run_dir`. Well-formed XML as well as
// HTML, so that any XML reader can check it.
// `cache`, when given, keeps what was drawn from each attempt's events.jsonl between the writes of one run
// (report.html is rewritten after every attempt): without it a long run read every earlier attempt's log
// again at each write, work that grew as the square of the attempts.
class HtmlReportCache;
std::string to_html_report(const RunSummary& run, const std::filesystem::path& run_dir, const RigView& rig,
                           HtmlReportCache* cache = nullptr);

// What report.html digested from each attempt's event log, reused while the file's size and modification
// time are unchanged (a finished attempt's log never changes; the running one's grows and is read again).
class HtmlReportCache {
 public:
  HtmlReportCache();
  ~HtmlReportCache();
  HtmlReportCache(const HtmlReportCache&) = delete;
  HtmlReportCache& operator=(const HtmlReportCache&) = delete;
  // Event logs read and parsed so far (for the tests and the benchmarks).
  std::size_t files_read() const;
  struct Entries;

 private:
  friend std::string to_html_report(const RunSummary&, const std::filesystem::path&, const RigView&,
                                    HtmlReportCache*);
  std::unique_ptr<Entries> entries_;
  std::size_t files_read_ = 0;
};

}  // namespace bootrig
