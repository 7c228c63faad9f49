// Summary text, JUnit XML and JSON renderings of a run.
#include "bootrig/report/writers.hpp"

#include <cstdio>
#include <fstream>

#include "bootrig/core/errors.hpp"

namespace bootrig {

std::string summary_line(const ScenarioResult& r) {
  char head[96];
  std::snprintf(head, sizeof head, "%-6s %-26s %7.1f s", to_string(r.outcome), r.name.c_str(), r.seconds);
  std::string s = head;
  if (r.attempts.size() > 1) s += "  (" + std::to_string(r.attempts.size()) + " attempts)";
  if (!r.attempts.empty() && !r.attempts.back().message.empty()) s += "  " + r.attempts.back().message;
  // What the run put on the board is part of what it proved: a PASS on freshly flashed images reads differently.
  for (const auto& a : r.attempts)
    if (a.firmware && !a.firmware->flashed.empty()) s += "  [" + a.firmware->describe_flashed() + "]";
  return s;
}

namespace {

nlohmann::json measurement_json(const Measurement& m) {
  nlohmann::json j = {{"name", m.name}, {"value", m.value}, {"unit", m.unit}, {"within_limits", m.within_limits()}};
  if (m.low) j["low"] = *m.low;
  if (m.high) j["high"] = *m.high;
  return j;
}

// nlohmann::json throws on invalid UTF-8 when dumping; serial evidence may hold any byte.
std::string valid_utf8(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) >> 6) == 2;
    if (ok) {
      out.append(s, i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

nlohmann::json to_json(const RunSummary& run) {
  nlohmann::json scenarios = nlohmann::json::array();
  for (const auto& s : run.scenarios) {
    nlohmann::json attempts = nlohmann::json::array();
    for (const auto& a : s.attempts) {
      nlohmann::json ms = nlohmann::json::array();
      for (const auto& m : a.measurements) ms.push_back(measurement_json(m));
      nlohmann::json notes = nlohmann::json::array();
      for (const auto& n : a.notes) notes.push_back(valid_utf8(n));
      nlohmann::json j = {{"outcome", to_string(a.outcome)},
                          {"message", valid_utf8(a.message)},
                          {"evidence", valid_utf8(a.evidence)},
                          {"seconds", a.seconds},
                          {"measurements", ms},
                          {"notes", notes}};
      if (a.firmware) {
        nlohmann::json flashed = nlohmann::json::array();
        for (const auto& f : a.firmware->flashed)
          flashed.push_back({{"image", f.image}, {"version", f.version}, {"method", f.method}, {"seconds", f.seconds}});
        j["firmware"] = {{"arrangement", a.firmware->arrangement}, {"found", valid_utf8(a.firmware->found)},
                         {"flashed", flashed}};
      }
      attempts.push_back(std::move(j));
    }
    scenarios.push_back({{"name", s.name},
                         {"purpose", s.purpose},
                         {"outcome", to_string(s.outcome)},
                         {"seconds", s.seconds},
                         {"folder", s.folder},
                         {"attempts", attempts}});
  }
  return {{"rig", {{"name", run.rig_name}, {"source", run.rig_source}, {"simulated", run.simulated}}},
          {"unit", run.unit},
          {"started_utc", run.started_utc},
          {"interrupted", run.interrupted},
          {"complete", run.complete},
          {"scenarios", scenarios}};
}

std::string xml_escape(const std::string& in) {
  std::string s = valid_utf8(in);
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') out += "\xEF\xBF\xBD";
        else out += ch;
    }
  }
  return out;
}

std::string to_junit_xml(const RunSummary& run) {
  int failures = 0, errors = 0, skipped = 0;
  double total = 0;
  for (const auto& s : run.scenarios) {
    total += s.seconds;
    if (s.outcome == Outcome::fail || s.outcome == Outcome::flaky) ++failures;
    if (s.outcome == Outcome::error) ++errors;
    if (s.outcome == Outcome::skip) ++skipped;
  }
  char buf[256];
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  std::snprintf(buf, sizeof buf, "<testsuites name=\"bootrig\" tests=\"%zu\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
                run.scenarios.size(), failures, errors, skipped, total);
  x += buf;
  x += "  <testsuite name=\"bootrig " + xml_escape(run.rig_name) + "\"";
  std::snprintf(buf, sizeof buf, " tests=\"%zu\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\"",
                run.scenarios.size(), failures, errors, skipped, total);
  x += buf;
  x += " timestamp=\"" + xml_escape(run.started_utc) + "\">\n";
  x += "    <properties>\n";
  x += "      <property name=\"rig\" value=\"" + xml_escape(run.rig_source) + "\"/>\n";
  x += std::string("      <property name=\"simulated\" value=\"") + (run.simulated ? "true" : "false") + "\"/>\n";
  if (!run.unit.empty()) x += "      <property name=\"unit\" value=\"" + xml_escape(run.unit) + "\"/>\n";
  x += "    </properties>\n";
  for (const auto& s : run.scenarios) {
    std::snprintf(buf, sizeof buf, " time=\"%.3f\"", s.seconds);
    x += "    <testcase classname=\"bootrig\" name=\"" + xml_escape(s.name) + "\"" + buf + ">\n";
    const Attempt* last = s.attempts.empty() ? nullptr : &s.attempts.back();
    std::string msg = last ? last->message : "no attempt was made";
    switch (s.outcome) {
      case Outcome::pass: break;
      case Outcome::fail:
        x += "      <failure message=\"" + xml_escape(msg) + "\">" + xml_escape(last ? last->evidence : "") + "</failure>\n";
        break;
      case Outcome::flaky:
        // JUnit has no "flaky": it is reported as a failure so it is never counted as a pass.
        x += "      <failure type=\"flaky\" message=\"FLAKY: passed only after a failed attempt\"></failure>\n";
        break;
      case Outcome::error:
        x += "      <error message=\"" + xml_escape(msg) + "\">" + xml_escape(last ? last->evidence : "") + "</error>\n";
        break;
      case Outcome::skip: x += "      <skipped message=\"" + xml_escape(msg) + "\"/>\n"; break;
    }
    std::string out;
    for (size_t i = 0; i < s.attempts.size(); ++i) {
      const auto& a = s.attempts[i];
      std::snprintf(buf, sizeof buf, "attempt %zu: %s (%.1f s) ", i + 1, to_string(a.outcome), a.seconds);
      out += buf + a.message + "\n";
      if (a.firmware)
        out += "  firmware found: " + a.firmware->found + "; " + a.firmware->describe_flashed() + "\n";
      for (const auto& n : a.notes) out += "  note: " + n + "\n";
      for (const auto& m : a.measurements) {
        std::snprintf(buf, sizeof buf, "  %s = %g %s", m.name.c_str(), m.value, m.unit.c_str());
        out += buf;
        if (m.low || m.high) {
          std::snprintf(buf, sizeof buf, " [%g, %g]%s", m.low.value_or(-1.0 / 0.0), m.high.value_or(1.0 / 0.0),
                        m.within_limits() ? "" : " OUT OF LIMITS");
          out += buf;
        }
        out += "\n";
      }
    }
    if (!s.folder.empty()) out += "evidence: " + s.folder + "\n";
    x += "      <system-out>" + xml_escape(out) + "</system-out>\n";
    x += "    </testcase>\n";
  }
  x += "  </testsuite>\n</testsuites>\n";
  return x;
}

void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw RigError("cannot write " + tmp.string() + " (is the run folder writable?)");
    out << content;
    out.flush();
    if (!out) {
      // The previous complete version stays; the half-written one goes.
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      throw RigError("cannot write " + tmp.string() + " (disk full?); " + path.filename().string() +
                     " keeps its last complete version");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw RigError("cannot replace " + path.string() + ": " + ec.message());
}

}  // namespace bootrig
