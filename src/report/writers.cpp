// Summary text, JUnit XML and JSON renderings of a run.
#include "bootrig/report/writers.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "bootrig/core/errors.hpp"

namespace bootrig {

namespace {

const Attempt* last_attempt(const ScenarioResult& r) {
  return r.attempts.empty() ? nullptr : &r.attempts.back();
}

// "[LED shows window 1 (slow blink) not checked: no photodiode on this rig]" for each expectation the
// verdict's attempt could not check: a PASS must not be read as proving them.
std::string unchecked_brackets(const Attempt& a) {
  std::string s;
  for (const auto& e : a.expectations)
    if (e.status == ExpectationStatus::unchecked)
      s += "  [" + e.what + " not checked" + (e.detail.empty() ? "" : ": " + e.detail) + "]";
  return s;
}

}  // namespace

std::string summary_line(const ScenarioResult& r) {
  char head[96];
  if (r.attempts.empty()) {
    // No attempt: no time to show, only why.
    std::snprintf(head, sizeof head, "%-6s %-26s %7s  ", to_string(r.outcome), r.name.c_str(), "-");
    return head + r.reason;
  }
  std::snprintf(head, sizeof head, "%-6s %-26s %7.1f s", to_string(r.outcome), r.name.c_str(), r.seconds);
  std::string s = head;
  if (r.attempts.size() > 1) s += "  (" + std::to_string(r.attempts.size()) + " attempts)";
  if (!r.attempts.back().message.empty()) s += "  " + r.attempts.back().message;
  // What the run put on the board is part of what it proved: a PASS on freshly flashed images reads differently.
  for (const auto& a : r.attempts)
    if (a.firmware && !a.firmware->flashed.empty()) s += "  [" + a.firmware->describe_flashed() + "]";
  return s + unchecked_brackets(r.attempts.back());
}

namespace {

std::string monotonic_seconds(std::int64_t ns) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%lld.%09lld s", static_cast<long long>(ns / 1'000'000'000),
                static_cast<long long>(ns % 1'000'000'000));
  return buf;
}

std::string joined(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

}  // namespace

std::string run_end_line(const RunSummary& run) {
  std::string state = run.board_state.empty() ? "" : "; " + run.board_state;
  if (run.interrupted) return "INTERRUPTED: " + run.stop_reason + state;
  if (!run.stop_reason.empty()) return "STOPPED: " + run.stop_reason + state;
  if (!run.finished)
    return "RUNNING: the run had not ended when this file was written (a bootrig that was killed leaves it "
           "so); "
           "the scenarios not reached are listed NOT RUN";
  return {};
}

std::string to_summary_text(const RunSummary& run) {
  std::string s =
      "bootrig " + run.bootrig_version + (run.command_line.empty() ? "" : ": " + run.command_line) + "\n";
  s += "rig: " + run.rig_name + " (" + run.rig_source +
       (run.rig_sha256.empty() ? "" : ", sha256 " + run.rig_sha256) + ")" +
       (run.simulated ? ", SIMULATED module" : ", hardware") + "\n";
  if (run.simulated)
    s +=
        "simulator faults: " + (run.sim_faults.empty() ? std::string("none") : joined(run.sim_faults, ", ")) +
        "\n";
  if (!run.unit.empty()) s += "unit: " + run.unit + "\n";
  s += "started: " + run.started_utc + " (monotonic " + monotonic_seconds(run.started_monotonic_ns) + ")\n";
  if (!run.ended_utc.empty())
    s += "ended: " + run.ended_utc + " (monotonic " + monotonic_seconds(run.ended_monotonic_ns) + ")\n";
  s += "\n";
  for (const auto& r : run.scenarios) s += summary_line(r) + "\n";
  s += "\n" + run.totals().describe();
  if (run.exit_code) s += "; exit code " + std::to_string(*run.exit_code);
  s += "\n";
  if (std::string e = run_end_line(run); !e.empty()) s += e + "\n";
  return s;
}

namespace {

nlohmann::json measurement_json(const Measurement& m) {
  nlohmann::json j = {{"name", m.name}, {"value", m.value}, {"unit", m.unit}, {"within_limits", m.within_limits()}};
  if (m.low) j["low"] = *m.low;
  if (m.high) j["high"] = *m.high;
  return j;
}

}  // namespace

std::size_t utf8_char_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = byte(0);
  if (c < 0x80) return 1;
  // Overlong forms (0xC0, 0xC1, 0xE0 0x80..0x9F, 0xF0 0x80..0x8F), surrogates (0xED 0xA0..) and code points
  // past U+10FFFF are not UTF-8: strict readers (Python, browsers' XML) refuse them.
  std::size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((byte(k) >> 6) != 2) return 0;
  if ((c == 0xE0 && byte(1) < 0xA0) || (c == 0xED && byte(1) >= 0xA0) || (c == 0xF0 && byte(1) < 0x90) ||
      (c == 0xF4 && byte(1) >= 0x90))
    return 0;
  return n;
}

namespace {

// nlohmann::json throws on invalid UTF-8 when dumping; serial evidence may hold any byte.
std::string valid_utf8(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_char_length(s, i);
    bool ok = n > 0;
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

// Every field always present: "" where the board did not say.
nlohmann::json board_identity_json(const BoardIdentity& b) {
  return {{"board", valid_utf8(b.board)},
          {"firmware_version", valid_utf8(b.firmware_version)},
          {"build", valid_utf8(b.build)},
          {"unique_id", valid_utf8(b.unique_id)}};
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
      nlohmann::json expectations = nlohmann::json::array();
      for (const auto& e : a.expectations)
        expectations.push_back({{"what", valid_utf8(e.what)},
                                {"status", to_string(e.status)},
                                {"detail", valid_utf8(e.detail)}});
      nlohmann::json j = {{"outcome", to_string(a.outcome)},
                          {"message", valid_utf8(a.message)},
                          {"evidence", valid_utf8(a.evidence)},
                          {"seconds", a.seconds},
                          {"measurements", ms},
                          {"expectations", expectations},
                          {"notes", notes}};
      if (!a.sim_faults.empty()) j["sim_faults"] = a.sim_faults;
      j["board"] = board_identity_json(a.board);
      if (a.stops_run) j["stops_run"] = true;
      if (a.firmware) {
        nlohmann::json flashed = nlohmann::json::array();
        for (const auto& f : a.firmware->flashed)
          flashed.push_back({{"image", f.image}, {"version", f.version}, {"method", f.method}, {"seconds", f.seconds}});
        j["firmware"] = {{"arrangement", a.firmware->arrangement}, {"found", valid_utf8(a.firmware->found)},
                         {"flashed", flashed}};
      }
      attempts.push_back(std::move(j));
    }
    nlohmann::json sj = {{"name", s.name},       {"purpose", s.purpose}, {"outcome", to_string(s.outcome)},
                         {"seconds", s.seconds}, {"folder", s.folder},   {"attempts", attempts}};
    if (!s.reason.empty()) sj["reason"] = valid_utf8(s.reason);
    if (s.consent_withheld) sj["consent_withheld"] = true;
    scenarios.push_back(std::move(sj));
  }
  nlohmann::json totals = nlohmann::json::object();
  Totals t = run.totals();
  for (int o = 0; o < kOutcomeCount; ++o) totals[to_string(static_cast<Outcome>(o))] = t.count[o];
  return {{"schema_version", kResultsSchemaVersion},
          {"bootrig_version", run.bootrig_version},
          {"command_line", valid_utf8(run.command_line)},
          {"rig",
           {{"name", run.rig_name},
            {"source", run.rig_source},
            {"sha256", run.rig_sha256},
            {"port", valid_utf8(run.rig_port)},
            {"usb_serial", valid_utf8(run.rig_usb_serial)},
            {"simulated", run.simulated},
            {"sim_faults", run.sim_faults}}},
          {"unit", run.unit},
          {"board", board_identity_json(run.board())},
          {"started_utc", run.started_utc},
          {"started_monotonic_ns", run.started_monotonic_ns},
          {"ended_utc", run.ended_utc.empty() ? nlohmann::json() : nlohmann::json(run.ended_utc)},
          {"ended_monotonic_ns",
           run.ended_utc.empty() ? nlohmann::json() : nlohmann::json(run.ended_monotonic_ns)},
          {"finished", run.finished},
          {"interrupted", run.interrupted},
          {"stop_reason", valid_utf8(run.stop_reason)},
          {"board_state", valid_utf8(run.board_state)},
          {"exit_code", run.exit_code ? nlohmann::json(*run.exit_code) : nlohmann::json()},
          {"totals", totals},
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

namespace {

std::string property(const std::string& indent, const std::string& name, const std::string& value) {
  return indent + "<property name=\"" + xml_escape(name) + "\" value=\"" + xml_escape(value) + "\"/>\n";
}

// Each attempt in words: verdict, firmware, expectations, notes, measurements.
std::string attempts_text(const ScenarioResult& s) {
  std::string out;
  char buf[256];
  for (size_t i = 0; i < s.attempts.size(); ++i) {
    const auto& a = s.attempts[i];
    std::snprintf(buf, sizeof buf, "attempt %zu: %s (%.1f s) ", i + 1, to_string(a.outcome), a.seconds);
    out += buf + a.message + "\n";
    if (a.firmware)
      out += "  firmware found: " + a.firmware->found + "; " + a.firmware->describe_flashed() + "\n";
    if (!a.sim_faults.empty()) out += "  simulator faults: " + joined(a.sim_faults, ", ") + "\n";
    for (const auto& e : a.expectations)
      out += "  expectation " + std::string(to_string(e.status)) + ": " + e.what +
             (e.detail.empty() ? "" : " (" + e.detail + ")") + "\n";
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
  if (!s.reason.empty()) out += s.reason + "\n";
  if (!s.folder.empty() && !s.attempts.empty()) out += "evidence: " + s.folder + "\n";
  return out;
}

}  // namespace

std::string to_junit_xml(const RunSummary& run) {
  Totals t = run.totals();
  int failures = t.of(Outcome::fail) + t.of(Outcome::flaky);
  int errors = t.of(Outcome::error);
  // JUnit has no "not run": it is a skip whose message says why, so CI lists it instead of dropping it.
  int skipped = t.of(Outcome::skip) + t.of(Outcome::not_run);
  double total = 0;
  for (const auto& s : run.scenarios) total += s.seconds;
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
  const std::string p = "      ";
  x += property(p, "bootrig_version", run.bootrig_version);
  x += property(p, "command_line", run.command_line);
  x += property(p, "rig", run.rig_source);
  if (!run.rig_sha256.empty()) x += property(p, "rig_sha256", run.rig_sha256);
  x += property(p, "simulated", run.simulated ? "true" : "false");
  if (run.simulated)
    x += property(p, "sim_faults", run.sim_faults.empty() ? "none" : joined(run.sim_faults, ", "));
  if (!run.unit.empty()) x += property(p, "unit", run.unit);
  x += property(p, "started_utc", run.started_utc);
  x += property(p, "started_monotonic_ns", std::to_string(run.started_monotonic_ns));
  if (!run.ended_utc.empty()) x += property(p, "ended_utc", run.ended_utc);
  if (run.exit_code) x += property(p, "exit_code", std::to_string(*run.exit_code));
  if (!run.rig_usb_serial.empty()) x += property(p, "usb_serial", run.rig_usb_serial);
  const BoardIdentity board = run.board();
  if (!board.board.empty()) x += property(p, "board", board.board);
  if (!board.firmware_version.empty()) x += property(p, "firmware_version", board.firmware_version);
  if (!board.unique_id.empty()) x += property(p, "unique_id", board.unique_id);
  if (std::string e = run_end_line(run); !e.empty()) x += property(p, "run_end", e);
  x += "    </properties>\n";
  for (const auto& s : run.scenarios) {
    std::snprintf(buf, sizeof buf, " time=\"%.3f\"", s.seconds);
    x += "    <testcase classname=\"bootrig\" name=\"" + xml_escape(s.name) + "\"" + buf + ">\n";
    const Attempt* last = last_attempt(s);
    // Where CI tools show them: what this verdict did not check (and did) is never only in results.json.
    // Measurements too, one property each ("measurement window1.toggle_ms" = "251 ms, limits 200 to 300 ms").
    if (last && (!last->expectations.empty() || !last->measurements.empty())) {
      x += "      <properties>\n";
      for (const auto& e : last->expectations)
        x += property("        ", "expectation " + std::string(to_string(e.status)),
                      e.what + (e.detail.empty() ? "" : ": " + e.detail));
      for (const auto& m : last->measurements) {
        std::string d = m.describe();
        x += property(
            "        ", "measurement " + m.name,
            d.substr(std::min(d.size(), m.name.size() + 3)) + (m.within_limits() ? "" : " OUT OF LIMITS"));
      }
      x += "      </properties>\n";
    }
    std::string msg = last ? last->message : s.reason;
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
      case Outcome::skip:
      case Outcome::not_run:
        x += "      <skipped message=\"" + xml_escape(msg) + "\"/>\n";
        break;
    }
    x += "      <system-out>" + xml_escape(attempts_text(s)) + "</system-out>\n";
    x += "    </testcase>\n";
  }
  x += "  </testsuite>\n</testsuites>\n";
  return x;
}

namespace {

// A new empty file next to `path` ("junit.xml.tmp-XXXXXX"), or -1 with errno set.
int make_temp_beside(const std::filesystem::path& path, std::string& temp) {
  temp = path.string() + ".tmp-XXXXXX";
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd >= 0) ::fchmod(fd, 0644);  // a report, readable like any file bootrig writes (mkstemp gives 0600)
  return fd;
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, const std::string& content) {
  std::string tmp;
  int fd = make_temp_beside(path, tmp);
  if (fd < 0)
    throw RigError("cannot write " + path.string() + ": " + std::strerror(errno) +
                   " (is its folder writable?)");
  const char* p = content.data();
  std::size_t left = content.size();
  int err = 0;
  while (left > 0 && err == 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno != EINTR) err = errno;
    if (n > 0) {
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  // On disk before the rename: after a power cut the file is the old one or the new one, never empty.
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  ::close(fd);
  if (err == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    throw RigError("cannot write " + path.string() + ": " + std::strerror(err) +
                   " (disk full, or the folder gone?)");
  }
}

void check_output_file(const std::filesystem::path& path, const std::string& option) {
  const std::string head = option + " " + path.string() + ": ";
  std::error_code ec;
  if (path.empty()) throw RigError(option + ": give a file name");
  if (std::filesystem::is_directory(path, ec)) throw RigError(head + "is a folder; give a file name in it");
  std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  if (!std::filesystem::exists(dir, ec))
    throw RigError(head + "the folder " + dir.string() + " does not exist; create it first");
  if (!std::filesystem::is_directory(dir, ec)) throw RigError(head + dir.string() + " is not a folder");
  // What the writer will do: create a file in that folder (the temporary that is renamed into place).
  std::string tmp;
  int fd = make_temp_beside(path, tmp);
  if (fd < 0)
    throw RigError(head + "cannot create files in " + dir.string() + " (" + std::strerror(errno) +
                   "); give a writable path");
  ::close(fd);
  ::unlink(tmp.c_str());
}

}  // namespace bootrig
