// report.html: summary tables and one SVG timing diagram per attempt, drawn from each attempt's events.jsonl.
#include "bootrig/report/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <system_error>

#include "bootrig/core/errors.hpp"
#include "bootrig/report/writers.hpp"

namespace bootrig {

namespace {

// The drawing's coordinate system (the SVG scales to the page; text scales with it).
constexpr double kSvgWidth = 1200, kSvgPlotLeft = 96, kSvgPlotRight = 1184;
constexpr double kSvgLaneHeight = 34, kSvgLaneGap = 8, kSvgTop = 58;
constexpr int kSvgSerialRows = 4;  // serial labels are staggered over this many rows

std::string html_text(const std::string& s) { return xml_escape(s); }

// Every caller passes a literal format with one double conversion.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
std::string svg_num(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}
#pragma GCC diagnostic pop

std::string html_outcome_class(const std::string& o) {
  std::string c = o;
  std::replace(c.begin(), c.end(), ' ', '-');
  std::transform(c.begin(), c.end(), c.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return "o-" + c;
}

std::string html_badge(Outcome o) {
  return "<span class=\"badge " + html_outcome_class(to_string(o)) + "\">" + to_string(o) + "</span>";
}

const char* kHtmlReportStyle = R"(
:root{--fg:#1b1f24;--muted:#5a6270;--bg:#fff;--line:#d5d9e0;--pass:#1a7f37;--fail:#cf222e;--error:#9a6700;
--skip:#57606a;--flaky:#8250df;--w1:#fde7c8;--w2:#fcd0d7;--wf:#e5dcfb;--chk:#e8eef7}
*{box-sizing:border-box}
html{font-size:clamp(15px,0.55vw + 11px,26px)}
body{margin:0 auto;padding:0.8rem;max-width:150rem;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:var(--fg);background:var(--bg);line-height:1.4}
h1{font-size:1.5rem;margin:0.2rem 0 0.6rem}h2{font-size:1.25rem;margin:1.6rem 0 0.4rem}
h3{font-size:1.05rem;margin:1rem 0 0.3rem}
.meta{color:var(--muted);font-size:0.9rem}.meta dt{font-weight:600;float:left;clear:left;margin-right:0.5em}
.meta dd{margin:0 0 0.1rem 0}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:0.92rem}
th,td{border-bottom:1px solid var(--line);padding:0.3rem 0.5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:0 0.45em;border-radius:0.3em;color:#fff;font-weight:700;font-size:0.85em;
white-space:nowrap}
.o-pass{background:var(--pass)}.o-fail{background:var(--fail)}.o-error{background:var(--error)}
.o-skip,.o-not-run{background:var(--skip)}.o-flaky{background:var(--flaky)}
.end{border-left:0.3rem solid var(--fail);padding:0.3rem 0.6rem;background:#fff5f5}
.out{color:var(--fail);font-weight:700}
figure.attempt{margin:0.6rem 0 1.2rem;padding:0.5rem;border:1px solid var(--line);border-radius:0.4rem}
figure.attempt svg{display:block;width:100%;min-width:46rem;height:auto}
figcaption{font-weight:600;margin-bottom:0.3rem}
pre{background:#f6f8fa;padding:0.5rem;overflow-x:auto;font-size:0.82rem;line-height:1.3}
pre .at{background:#fff1c2}
.msg{white-space:pre-wrap}
svg text{font-family:system-ui,sans-serif;fill:#1b1f24}
svg .lbl{font-size:13px;font-weight:600}svg .tick{font-size:11px;fill:#5a6270}
svg .wave{fill:none;stroke:#0b5cad;stroke-width:2}svg .led{stroke:#c76a00}
svg .unknown{fill:#eef0f3}svg .lanebg{fill:#fafbfc}
svg .w1{fill:var(--w1)}svg .w2{fill:var(--w2)}svg .wf{fill:var(--wf)}svg .chk{fill:var(--chk)}
svg .win{font-size:11px;fill:#6e4b00}
svg .act{stroke:#0b5cad;stroke-width:1;stroke-dasharray:3 3}svg .dec{fill:#6639ba}svg .decfail{fill:#cf222e}
svg .rx{font-size:10px;fill:#1b1f24}svg .tx{font-size:10px;fill:#0b5cad;font-weight:600}
svg .rxt{stroke:#8c959f}svg .txt{stroke:#0b5cad}
svg .verdict{font-size:16px;font-weight:700}svg .vpass{fill:var(--pass)}svg .vfail{fill:var(--fail)}
svg .vline{stroke-width:2}svg .meas{font-size:12px}
@media (max-width:40rem){body{padding:0.4rem}.hide-narrow{display:none}}
)";

}  // namespace

// One attempt's events, digested for drawing. Outside the anonymous namespace: HtmlReportCache holds them.
struct LevelAt {
  std::int64_t t;
  int level;
};
struct AttemptTrace {
  std::int64_t t0 = 0, t1 = 1;
  std::map<std::string, std::vector<LevelAt>> outputs;  // "safeboot", "reset", "bootloader"
  std::vector<LevelAt> led;
  std::optional<int> led_start;
  struct Mark {
    std::int64_t t;
    std::string text;
    bool failed;
  };
  std::vector<Mark> actions, decisions;
  std::optional<std::int64_t> verdict_t;
  std::vector<SerialLine> lines;
};

// A trace read from one events.jsonl, with the file's size and time when read (only logs that were read are
// kept: a missing or unreadable one is asked again next time).
struct HtmlCachedTrace {
  std::uintmax_t size = 0;
  std::filesystem::file_time_type mtime;
  std::shared_ptr<const AttemptTrace> trace;
};
struct HtmlReportCache::Entries {
  std::map<std::string, HtmlCachedTrace> by_path;
};

HtmlReportCache::HtmlReportCache() : entries_(std::make_unique<Entries>()) {}
HtmlReportCache::~HtmlReportCache() = default;
std::size_t HtmlReportCache::files_read() const { return files_read_; }

namespace {

AttemptTrace html_trace_of(const std::vector<nlohmann::json>& events) {
  AttemptTrace tr;
  if (events.empty()) return tr;
  std::optional<int> led_note;
  tr.t0 = events.front().value("t", std::int64_t{0});
  for (const auto& e : events) tr.t0 = std::min(tr.t0, e.value("t", std::int64_t{0}));
  tr.t1 = tr.t0 + 1;
  for (const auto& e : events) {
    const std::int64_t t = e.value("t", std::int64_t{0});
    tr.t1 = std::max(tr.t1, t);
    const std::string kind = e.value("kind", std::string());
    if (kind == "output") {
      const std::string line = e.value("line", std::string());
      int level = e.value("level", 0);
      tr.outputs[line].push_back({t, level});
      tr.actions.push_back({t, line + (level ? " asserted" : " released"), false});
    } else if (kind == "led_edge") {
      bool lit = e.value("edge", std::string()) == "rising";
      if (!tr.led_start) tr.led_start = lit ? 0 : 1;
      tr.led.push_back({t, lit ? 1 : 0});
    } else if (kind == "note" && e.contains("led_level")) {
      if (!tr.led_start && !led_note) led_note = e.value("led_level", 0);
    } else if (kind == "step_end") {
      std::string outcome = e.value("outcome", std::string());
      tr.decisions.push_back({t, e.value("step", std::string()) + ": " + outcome, outcome != "ok"});
    } else if (kind == "note") {
      std::string text = e.value("text", std::string());
      if (text.rfind("verdict ", 0) == 0) {
        tr.verdict_t = t;
        tr.decisions.push_back({t, text, text.rfind("verdict PASS", 0) != 0});
      }
    }
  }
  if (!tr.led_start) tr.led_start = led_note;
  tr.lines = serial_lines(events);
  return tr;
}

class SvgDiagram {
 public:
  SvgDiagram(const AttemptTrace& tr) : tr_(tr) {}
  double x(std::int64_t t) const {
    double f =
        static_cast<double>(t - tr_.t0) / static_cast<double>(std::max<std::int64_t>(tr_.t1 - tr_.t0, 1));
    return kSvgPlotLeft + std::clamp(f, 0.0, 1.0) * (kSvgPlotRight - kSvgPlotLeft);
  }
  static double lane_top(int i) { return kSvgTop + i * (kSvgLaneHeight + kSvgLaneGap); }

  // A digital lane: the level steps from `start` through `changes`; unknown lanes say why.
  std::string digital(int i, const std::string& name, const std::string& label, int start,
                      const std::vector<LevelAt>& changes, bool known, const std::string& why_unknown,
                      const std::string& extra_class = "") const {
    double top = lane_top(i), hi = top + 6, lo = top + kSvgLaneHeight - 6;
    std::string s = "<g class=\"lane\" data-lane=\"" + name + "\">";
    s += "<text class=\"lbl\" x=\"4\" y=\"" + svg_num("%.1f", top + kSvgLaneHeight / 2 + 5) + "\">" +
         html_text(label) + "</text>";
    if (!known) {
      s += "<rect class=\"unknown\" x=\"" + svg_num("%.1f", kSvgPlotLeft) + "\" y=\"" + svg_num("%.1f", top) +
           "\" width=\"" + svg_num("%.1f", kSvgPlotRight - kSvgPlotLeft) + "\" height=\"" +
           svg_num("%.1f", kSvgLaneHeight) + "\"/>";
      s += "<text class=\"tick\" x=\"" + svg_num("%.1f", kSvgPlotLeft + 8) + "\" y=\"" +
           svg_num("%.1f", top + kSvgLaneHeight / 2 + 4) + "\">" + html_text(why_unknown) + "</text></g>";
      return s;
    }
    int level = start;
    std::string d = "M" + svg_num("%.1f", kSvgPlotLeft) + "," + svg_num("%.1f", level ? hi : lo);
    for (const auto& c : changes) {
      double cx = x(c.t);
      d += " H" + svg_num("%.1f", cx) + " V" + svg_num("%.1f", c.level ? hi : lo);
      level = c.level;
    }
    d += " H" + svg_num("%.1f", kSvgPlotRight);
    s += "<path class=\"wave " + extra_class + "\" d=\"" + d + "\"/></g>";
    return s;
  }

 private:
  const AttemptTrace& tr_;
};

// The bootloader's phases after a reset released while P12 was asserted, at their nominal times.
std::string window_shading(const AttemptTrace& tr, const SvgDiagram& dg, const TimingProfile& timing,
                           double y0, double y1) {
  auto level_at = [](const std::vector<LevelAt>& v, std::int64_t t) {
    int l = 0;
    for (const auto& c : v)
      if (c.t <= t) l = c.level;
    return l;
  };
  auto it = tr.outputs.find("reset");
  if (it == tr.outputs.end()) return {};
  const auto safeboot = tr.outputs.count("safeboot") ? tr.outputs.at("safeboot") : std::vector<LevelAt>{};
  std::string s = "<g class=\"windows\">";
  int prev = 0;
  auto ns = [](milliseconds m) { return static_cast<std::int64_t>(m.count()) * 1'000'000; };
  for (const auto& c : it->second) {
    bool released = prev == 1 && c.level == 0;
    prev = c.level;
    if (!released || !level_at(safeboot, c.t)) continue;
    std::int64_t b = c.t + ns(timing.rom_boot);
    struct Phase {
      std::int64_t from, to;
      const char* cls;
      const char* name;
    } phases[] = {
        {b, b + ns(timing.safeboot_recheck), "chk", "re-check"},
        {b + ns(timing.safeboot_recheck), b + ns(timing.safeboot_recheck) + ns(timing.window1_length()), "w1",
         "window 1"},
        {b + ns(timing.safeboot_recheck) + ns(timing.window1_length()),
         b + ns(timing.safeboot_recheck) + ns(timing.window1_length()) + ns(timing.window2_length()), "w2",
         "window 2"},
        {b + ns(timing.safeboot_recheck) + ns(timing.window1_length()) + ns(timing.window2_length()),
         b + ns(timing.safeboot_recheck) + ns(timing.window1_length()) + ns(timing.window2_length()) +
             ns(timing.final_duration),
         "wf", "final"},
    };
    for (const auto& p : phases) {
      if (p.from >= tr.t1) break;
      double xa = dg.x(p.from), xb = dg.x(p.to);
      s += "<rect class=\"window " + std::string(p.cls) + "\" data-window=\"" + p.name + "\" x=\"" +
           svg_num("%.1f", xa) + "\" y=\"" + svg_num("%.1f", y0) + "\" width=\"" +
           svg_num("%.1f", std::max(xb - xa, 0.5)) + "\" height=\"" + svg_num("%.1f", y1 - y0) +
           "\"><title>" + p.name + " (nominal)</title></rect>";
      if (xb - xa > 40)
        s += "<text class=\"win\" x=\"" + svg_num("%.1f", xa + 3) + "\" y=\"" + svg_num("%.1f", y0 + 11) +
             "\">" + p.name + "</text>";
    }
  }
  return s + "</g>";
}

std::string time_axis(const AttemptTrace& tr, const SvgDiagram& dg, double y) {
  double span = static_cast<double>(tr.t1 - tr.t0) / 1e9;
  double step = 0.1;
  for (double c : {0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0})
    if (span / c <= 14) {
      step = c;
      break;
    }
  if (span / step > 14) step = std::ceil(span / 14);
  std::string s = "<g class=\"axis\">";
  for (int k = 0; k * step <= span + 1e-9; ++k) {
    double px = dg.x(tr.t0 + static_cast<std::int64_t>(k * step * 1e9));
    s += "<line x1=\"" + svg_num("%.1f", px) + "\" x2=\"" + svg_num("%.1f", px) + "\" y1=\"" +
         svg_num("%.1f", kSvgTop - 4) + "\" y2=\"" + svg_num("%.1f", y) + "\" stroke=\"#eaecef\"/>";
    s += "<text class=\"tick\" x=\"" + svg_num("%.1f", px) + "\" y=\"" + svg_num("%.1f", y + 14) +
         "\" text-anchor=\"middle\">" + svg_num(step < 1 ? "%.1f" : "%.0f", k * step) + (k == 0 ? " s" : "") +
         "</text>";
  }
  return s + "</g>";
}

std::string serial_lane(const AttemptTrace& tr, const SvgDiagram& dg, int lane, double& bottom) {
  double top = SvgDiagram::lane_top(lane);
  double row_h = 14;
  bottom = top + kSvgSerialRows * row_h + 6;
  std::string s = "<g class=\"lane\" data-lane=\"serial\">";
  s += "<text class=\"lbl\" x=\"4\" y=\"" + svg_num("%.1f", top + 14) + "\">serial</text>";
  s += "<text class=\"tick\" x=\"4\" y=\"" + svg_num("%.1f", top + 28) + "\">rx / tx</text>";
  std::vector<double> row_free(kSvgSerialRows, 0);
  int row = 0;
  for (const auto& l : tr.lines) {
    double px = dg.x(l.start_ns);
    const bool tx = l.dir == SerialDirection::tx;
    std::string text = visible_serial_text(l.bytes);
    std::string full = std::string(tx ? "tx " : "rx ") + text;
    s += "<line class=\"" + std::string(tx ? "txt" : "rxt") + "\" x1=\"" + svg_num("%.1f", px) + "\" x2=\"" +
         svg_num("%.1f", px) + "\" y1=\"" + svg_num("%.1f", top) + "\" y2=\"" + svg_num("%.1f", bottom) +
         "\"><title>" + html_text(full) + "</title></line>";
    if (text.empty()) continue;
    std::string shown = text.size() > 48 ? text.substr(0, 46) + "\xE2\x80\xA6" : text;
    double width = 5.6 * static_cast<double>(std::min<std::size_t>(shown.size(), 48)) + 8;
    // The first row where it fits; a line that fits nowhere keeps only its tick (its text is in the title).
    for (int k = 0; k < kSvgSerialRows; ++k) {
      int r = (row + k) % kSvgSerialRows;
      if (row_free[r] <= px && px + width <= kSvgWidth) {
        s += "<text class=\"" + std::string(tx ? "tx" : "rx") + " sl\" x=\"" + svg_num("%.1f", px + 2) +
             "\" y=\"" + svg_num("%.1f", top + (r + 1) * row_h) + "\">" + html_text(shown) + "<title>" +
             html_text(full) + "</title></text>";
        row_free[r] = px + width;
        row = r + 1;
        break;
      }
    }
  }
  return s + "</g>";
}

std::string diagram_svg(const ScenarioResult& s, std::size_t k, const Attempt& a, const AttemptTrace& tr,
                        const RigView& rig) {
  SvgDiagram dg(tr);
  auto out = [&](const char* line) {
    auto it = tr.outputs.find(line);
    return it == tr.outputs.end() ? std::vector<LevelAt>{} : it->second;
  };
  double serial_bottom = 0;
  std::string lanes;
  lanes += dg.digital(0, "P12", "P12", 0, out("safeboot"), true, "");
  lanes += dg.digital(1, "RESET", "RESET", 0, out("reset"), true, "");
  lanes += dg.digital(2, "P2", "P2", 0, out("bootloader"), rig.p2, "P2 not wired on this rig");
  lanes += dg.digital(3, "LED", "LED", tr.led_start.value_or(0), tr.led,
                      rig.led && (tr.led_start || !tr.led.empty()), "no photodiode on this rig", "led");
  lanes += serial_lane(tr, dg, 4, serial_bottom);
  // bootrig's own lane: what it did (lines) and what it decided (steps ended, the verdict).
  double btop = serial_bottom + kSvgLaneGap, bmid = btop + 12;
  std::string marks = "<g class=\"lane\" data-lane=\"bootrig\"><text class=\"lbl\" x=\"4\" y=\"" +
                      svg_num("%.1f", bmid + 5) + "\">bootrig</text>";
  for (const auto& m : tr.actions) {
    double px = dg.x(m.t);
    marks += "<line class=\"act\" data-mark=\"acted\" x1=\"" + svg_num("%.1f", px) + "\" x2=\"" +
             svg_num("%.1f", px) + "\" y1=\"" + svg_num("%.1f", kSvgTop) + "\" y2=\"" +
             svg_num("%.1f", bmid) + "\"><title>" + html_text(m.text) + "</title></line>";
  }
  for (const auto& m : tr.decisions) {
    double px = dg.x(m.t);
    marks += "<path class=\"" + std::string(m.failed ? "decfail" : "dec") + "\" data-mark=\"decided\" d=\"M" +
             svg_num("%.1f", px) + "," + svg_num("%.1f", bmid - 6) + " l6,6 l-6,6 l-6,-6 z\"><title>" +
             html_text(m.text) + "</title></path>";
  }
  marks += "</g>";
  double axis_y = bmid + 18;
  const bool passed = a.outcome == Outcome::pass;
  std::string verdict_line;
  if (tr.verdict_t) {
    double px = dg.x(*tr.verdict_t);
    verdict_line = "<line class=\"vline " + std::string(passed ? "vpass" : "vfail") + "\" stroke=\"" +
                   (passed ? "#1a7f37" : "#cf222e") + "\" x1=\"" + svg_num("%.1f", px) + "\" x2=\"" +
                   svg_num("%.1f", px) + "\" y1=\"" + svg_num("%.1f", kSvgTop - 6) + "\" y2=\"" +
                   svg_num("%.1f", bmid + 6) + "\"/>";
  }
  // Verdict and measurements written on the diagram, above the lanes.
  std::string head = "<text class=\"verdict " + std::string(passed ? "vpass" : "vfail") +
                     "\" x=\"4\" y=\"18\">" +
                     html_text(std::string(to_string(a.outcome)) + "  " + s.name + ", attempt " +
                               std::to_string(k + 1) + svg_num(" (%.1f s)", a.seconds)) +
                     "</text>";
  std::string ms;
  for (const auto& m : a.measurements)
    ms += (ms.empty() ? "" : "; ") + m.describe() + (m.within_limits() ? "" : " OUT");
  if (ms.empty() && !a.message.empty()) ms = a.message;
  if (ms.size() > 190) ms = ms.substr(0, 188) + "\xE2\x80\xA6";
  head += "<text class=\"meas\" x=\"4\" y=\"38\">" + html_text(ms) + "</text>";
  double height = axis_y + 22;
  std::string svg = "<svg class=\"timing\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " +
                    svg_num("%.0f", kSvgWidth) + " " + svg_num("%.0f", height) +
                    "\" role=\"img\" aria-label=\"timing of " + html_text(s.name) + " attempt " +
                    std::to_string(k + 1) + "\">";
  svg += "<rect x=\"0\" y=\"0\" width=\"" + svg_num("%.0f", kSvgWidth) + "\" height=\"" +
         svg_num("%.0f", height) + "\" fill=\"#fff\"/>";
  for (int i = 0; i < 4; ++i)
    svg += "<rect class=\"lanebg\" x=\"" + svg_num("%.1f", kSvgPlotLeft) + "\" y=\"" +
           svg_num("%.1f", SvgDiagram::lane_top(i)) + "\" width=\"" +
           svg_num("%.1f", kSvgPlotRight - kSvgPlotLeft) + "\" height=\"" + svg_num("%.1f", kSvgLaneHeight) +
           "\"/>";
  svg += window_shading(tr, dg, rig.timing, kSvgTop - 4, SvgDiagram::lane_top(4) - kSvgLaneGap / 2);
  svg += time_axis(tr, dg, axis_y);
  svg += head + lanes + marks + verdict_line + "</svg>";
  return svg;
}

// The serial lines around the verdict (or the attempt's last ones), the verdict's moment marked.
std::string serial_excerpt(const AttemptTrace& tr) {
  if (tr.lines.empty()) return "<p class=\"meta\">No serial traffic in this attempt.</p>";
  std::int64_t at = tr.verdict_t.value_or(tr.t1);
  std::size_t pivot = 0;
  while (pivot < tr.lines.size() && tr.lines[pivot].start_ns <= at) ++pivot;
  std::size_t from = pivot > 16 ? pivot - 16 : 0, to = std::min(tr.lines.size(), pivot + 4);
  std::string s = "<pre class=\"serial\">";
  char head[48];
  for (std::size_t i = from; i < to; ++i) {
    if (i == pivot) s += "<span class=\"at\">--- verdict ---</span>\n";
    const auto& l = tr.lines[i];
    std::snprintf(head, sizeof head, "%8.3f %s  ", static_cast<double>(l.start_ns - tr.t0) / 1e9,
                  to_string(l.dir));
    s += html_text(head + visible_serial_text(l.bytes) + (l.ended ? "" : " [no line end]")) + "\n";
  }
  if (pivot == to) s += "<span class=\"at\">--- verdict ---</span>\n";
  return s + "</pre>";
}

std::string measurements_table(const Attempt& a) {
  if (a.measurements.empty()) return {};
  std::string s =
      "<div class=\"scroll\"><table class=\"measurements\"><thead><tr><th>measurement</th>"
      "<th>value</th><th>unit</th><th>low</th><th>high</th><th>within</th></tr></thead><tbody>";
  for (const auto& m : a.measurements) {
    s += "<tr><td>" + html_text(m.name) + "</td><td class=\"num\">" + svg_num("%g", m.value) + "</td><td>" +
         html_text(m.unit) + "</td><td class=\"num\">" + (m.low ? svg_num("%g", *m.low) : "-") +
         "</td><td class=\"num\">" + (m.high ? svg_num("%g", *m.high) : "-") + "</td><td>" +
         (m.within_limits() ? std::string("yes") : std::string("<span class=\"out\">OUT OF LIMITS</span>")) +
         "</td></tr>";
  }
  return s + "</tbody></table></div>";
}

// The attempt's trace, from the cache when its log is unchanged since it was read. A log that is missing or
// unreadable is asked again next time (it may appear), never cached.
std::shared_ptr<const AttemptTrace> attempt_trace(const std::filesystem::path& events_file,
                                                  HtmlReportCache::Entries* entries, std::size_t& files_read,
                                                  std::string& trouble) {
  std::error_code ec;
  std::uintmax_t size = std::filesystem::file_size(events_file, ec);
  std::filesystem::file_time_type mtime;
  if (!ec) mtime = std::filesystem::last_write_time(events_file, ec);
  if (entries && !ec) {
    auto it = entries->by_path.find(events_file.string());
    if (it != entries->by_path.end() && it->second.size == size && it->second.mtime == mtime)
      return it->second.trace;
  }
  std::vector<nlohmann::json> events;
  bool read = false;
  try {
    ++files_read;
    events = read_events(events_file);
    read = true;
  } catch (const RigError& e) {
    trouble = e.what();
  }
  auto trace = std::make_shared<const AttemptTrace>(html_trace_of(events));
  if (entries && read && !ec) entries->by_path[events_file.string()] = {size, mtime, trace};
  return trace;
}

std::string attempt_section(const std::filesystem::path& run_dir, const ScenarioResult& s, std::size_t k,
                            const RigView& rig, HtmlReportCache::Entries* entries, std::size_t& files_read) {
  const Attempt& a = s.attempts[k];
  std::string trouble;
  auto events_file = run_dir / s.folder / ("attempt-" + std::to_string(k + 1)) / "events.jsonl";
  const std::shared_ptr<const AttemptTrace> trace = attempt_trace(events_file, entries, files_read, trouble);
  const AttemptTrace& tr = *trace;
  std::string h = "<figure class=\"attempt\" data-scenario=\"" + html_text(s.name) + "\" data-attempt=\"" +
                  std::to_string(k + 1) + "\" data-outcome=\"" + to_string(a.outcome) + "\">";
  h += "<figcaption>" + html_badge(a.outcome) + " attempt " + std::to_string(k + 1) +
       svg_num(", %.1f s", a.seconds) + "</figcaption>";
  if (!trouble.empty()) h += "<p class=\"meta\">No timing diagram: " + html_text(trouble) + "</p>";
  h += "<div class=\"scroll\">" + diagram_svg(s, k, a, tr, rig) + "</div>";
  if (!a.message.empty()) h += "<p class=\"msg\"><strong>Message:</strong> " + html_text(a.message) + "</p>";
  if (a.firmware)
    h += "<p class=\"meta\">Firmware found: " + html_text(a.firmware->found) + "; " +
         html_text(a.firmware->describe_flashed()) + "</p>";
  for (const auto& e : a.expectations)
    h += "<p class=\"meta\">Expectation " + html_text(to_string(e.status)) + ": " + html_text(e.what) +
         (e.detail.empty() ? "" : " (" + html_text(e.detail) + ")") + "</p>";
  for (const auto& n : a.notes) h += "<p class=\"meta\">Note: " + html_text(n) + "</p>";
  h += measurements_table(a);
  h += "<h3>Serial around the verdict</h3>" + serial_excerpt(tr);
  h += "<p class=\"meta\">Evidence: " +
       html_text((std::filesystem::path(s.folder) / ("attempt-" + std::to_string(k + 1))).string()) +
       "/ (events.jsonl, serial.log, serial.txt, signals.vcd)</p>";
  return h + "</figure>";
}

}  // namespace

std::string to_html_report(const RunSummary& run, const std::filesystem::path& run_dir, const RigView& rig,
                           HtmlReportCache* cache) {
  std::size_t uncached_reads = 0;
  std::size_t& files_read = cache ? cache->files_read_ : uncached_reads;
  HtmlReportCache::Entries* entries = cache ? cache->entries_.get() : nullptr;
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>";
  h += "<title>bootrig: " + html_text(run.rig_name) + ", " + html_text(run.totals().describe()) +
       "</title><style>" + kHtmlReportStyle + "</style></head><body>\n";
  h += "<h1>bootrig run on " + html_text(run.rig_name) + "</h1>\n";
  if (std::string e = run_end_line(run); !e.empty()) h += "<p class=\"end\">" + html_text(e) + "</p>\n";
  h += "<dl class=\"meta\">";
  auto meta = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) h += "<dt>" + html_text(k) + "</dt><dd>" + html_text(v) + "</dd>";
  };
  meta("rig", run.rig_source + (run.simulated ? " (SIMULATED module)" : " (hardware)"));
  meta("rig sha256", run.rig_sha256);
  if (run.simulated)
    meta(
        "simulator faults", run.sim_faults.empty() ? "none" : [&] {
          std::string f;
          for (const auto& x : run.sim_faults) f += (f.empty() ? "" : ", ") + x;
          return f;
        }());
  meta("unit", run.unit);
  meta("started", run.started_utc);
  meta("ended", run.ended_utc);
  meta("bootrig", run.bootrig_version);
  meta("command", run.command_line);
  meta("totals",
       run.totals().describe() + (run.exit_code ? "; exit code " + std::to_string(*run.exit_code) : ""));
  h += "</dl>\n<h2>Summary</h2><div class=\"scroll\"><table class=\"summary\"><thead><tr><th>scenario</th>"
       "<th>outcome</th><th>time</th><th>attempts</th><th>what was seen</th><th "
       "class=\"hide-narrow\">firmware</th>"
       "</tr></thead><tbody>";
  for (const auto& s : run.scenarios) {
    std::string fw;
    for (const auto& a : s.attempts)
      if (a.firmware) fw = a.firmware->found + "; " + a.firmware->describe_flashed();
    std::string seen = s.attempts.empty() ? s.reason : s.attempts.back().message;
    h += "<tr data-scenario=\"" + html_text(s.name) + "\"><td><a href=\"#" + html_text(s.name) + "\">" +
         html_text(s.name) + "</a></td><td>" + html_badge(s.outcome) + "</td><td class=\"num\">" +
         (s.attempts.empty() ? "-" : svg_num("%.1f s", s.seconds)) + "</td><td class=\"num\">" +
         std::to_string(s.attempts.size()) + "</td><td>" + html_text(seen) +
         "</td><td class=\"hide-narrow\">" + html_text(fw) + "</td></tr>";
  }
  h += "</tbody></table></div>\n";
  for (const auto& s : run.scenarios) {
    h += "<section class=\"scenario\" id=\"" + html_text(s.name) + "\"><h2>" + html_badge(s.outcome) + " " +
         html_text(s.name) + "</h2>";
    if (!s.purpose.empty()) h += "<p class=\"meta\">" + html_text(s.purpose) + "</p>";
    if (s.attempts.empty()) h += "<p>" + html_text(s.reason) + "</p>";
    for (std::size_t k = 0; k < s.attempts.size(); ++k) h += attempt_section(run_dir, s, k, rig, entries, files_read);
    h += "</section>\n";
  }
  h += "<p class=\"meta\">Lanes: P12, RESET and P2 high while bootrig asserts them; LED high while the "
       "photodiode "
       "saw it lit; serial lines at the time their first byte arrived (rx grey, tx blue; every line's full "
       "text "
       "is its tooltip and in serial.txt). Shaded: the bootloader's re-check, window 1, window 2 and final "
       "phase at "
       "their nominal times after a reset released with P12 asserted. Dashed: bootrig changed a line; "
       "diamonds: a "
       "step ended (red: failed) or the verdict; the green or red line: the verdict.</p>\n";
  h += "</body></html>\n";
  return h;
}

}  // namespace bootrig
