// LED pattern recognition from timestamped edges: pulses, runs of matching pulses, spans of patterns.
#include "bootrig/observe/led_decoder.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "bootrig/core/interrupt.hpp"

namespace bootrig {

const char* to_string(LedPattern p) {
  switch (p) {
    case LedPattern::unknown:
      return "unknown";
    case LedPattern::dark:
      return "dark";
    case LedPattern::steady_on:
      return "steady_on";
    case LedPattern::heartbeat:
      return "heartbeat";
    case LedPattern::safeboot_window1:
      return "safeboot_window1";
    case LedPattern::safeboot_window2:
      return "safeboot_window2";
    case LedPattern::safeboot_final:
      return "safeboot_final";
    case LedPattern::error_flash:
      return "error_flash";
  }
  return "?";
}

namespace {

Duration scaled(Duration d, double factor) {
  return std::chrono::duration_cast<Duration>(
      std::chrono::duration<double, Duration::period>(static_cast<double>(d.count()) * factor));
}

double ms(Duration d) { return to_ms(d); }

bool is_blinking(LedPattern p) {
  return p != LedPattern::unknown && p != LedPattern::dark && p != LedPattern::steady_on;
}

}  // namespace

LedDecoderSettings LedDecoderSettings::from_profile(const TimingProfile& p) {
  LedDecoderSettings s;
  s.patterns = {
      {LedPattern::heartbeat, p.heartbeat_on, p.heartbeat_off},
      {LedPattern::safeboot_window1, p.window1_toggle, p.window1_toggle},
      {LedPattern::safeboot_window2, p.window2_toggle, p.window2_toggle},
      {LedPattern::safeboot_final, p.final_toggle, p.final_toggle},
      {LedPattern::error_flash, p.error_toggle, p.error_toggle},
  };
  s.tolerance = p.led_tolerance_percent / 100.0;
  Duration shortest = Duration::max();
  Duration longest_on{}, longest_off{};
  for (const auto& ps : s.patterns) {
    shortest = std::min({shortest, ps.on, ps.off});
    longest_on = std::max(longest_on, ps.on);
    longest_off = std::max(longest_off, ps.off);
  }
  s.glitch = scaled(shortest, s.tolerance);
  s.dark_after = scaled(longest_off, 1.0 + s.tolerance);
  s.steady_after = scaled(longest_on, 1.0 + s.tolerance);
  // A tight (simulated, sped-up) profile must not wait for hardware latencies.
  s.edge_latency = std::min<Duration>(milliseconds(2), s.glitch);
  return s;
}

nlohmann::json to_json(const LedMeasurement& m) {
  nlohmann::json j = {{"pattern", to_string(m.pattern)},
                      {"start", to_ns(m.start)},
                      {"detected", to_ns(m.detected)},
                      {"half_periods", m.half_periods},
                      {"periods", m.periods},
                      {"missed_edges", m.missed_edges},
                      {"period_mean_ms", ms(m.period_mean)},
                      {"period_min_ms", ms(m.period_min)},
                      {"period_max_ms", ms(m.period_max)},
                      {"on_mean_ms", ms(m.on_mean)},
                      {"off_mean_ms", ms(m.off_mean)},
                      {"duty_cycle", m.duty_cycle}};
  j["end"] = m.end ? nlohmann::json(to_ns(*m.end)) : nlohmann::json(nullptr);
  return j;
}

std::string LedTimeout::describe() const {
  std::string s = "LED did not show " + waited_for + " in time; showing " + to_string(current.pattern);
  if (is_blinking(current.pattern) && current.periods > 0) {
    char b[96];
    std::snprintf(b, sizeof b, " (period %.0f ms, on %.0f ms, %d periods)", ms(current.period_mean),
                  ms(current.on_mean), current.periods);
    s += b;
  }
  // One sensor cannot tell a dark LED from a photodiode that does not see it (a cut wire, a comparator off
  // its threshold): the report says so, and where to look.
  if (current.pattern == LedPattern::dark)
    s += " (to the photodiode alone a dark LED and a photodiode that does not see it look the same: "
         "`bootrig doctor` checks the photodiode against the heartbeat)";
  return s;
}

LedDecoder::LedDecoder(LedDecoderSettings settings) : s_(std::move(settings)), runs_(s_.patterns.size()) {}

void LedDecoder::set_listener(Listener listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

void LedDecoder::start(TimePoint origin, std::optional<Level> level) {
  std::unique_lock lock(mu_);
  started_ = true;
  origin_ = origin;
  clock_ = origin;
  level_ = level;
  last_edge_.reset();
  last_dir_.reset();
  pending_edge_.reset();
  recent_edges_.clear();
  runs_.assign(s_.patterns.size(), Run{});
  current_run_ = -1;
  history_.clear();
  failure_.reset();
  current_ = LedMeasurement{};
  current_.start = origin;
  current_.detected = origin;
  current_.generation = ++generation_;
  cv_.notify_all();
}

void LedDecoder::fail(std::string why) {
  std::lock_guard lock(mu_);
  failure_ = std::move(why);
  cv_.notify_all();
}

Duration LedDecoder::half(std::size_t i, Level level) const {
  return is_active(level) ? s_.patterns[i].on : s_.patterns[i].off;
}

// How many edges were missed inside a pulse of length d starting at `level`, if it fits pattern i at all.
// Same-direction edges at both ends mean an odd number was missed.
std::optional<int> LedDecoder::match(std::size_t i, Level level, Duration d, bool same_direction,
                                     double* error) const {
  Duration expected{};
  Level l = level;
  for (int m = 0; m <= s_.max_missed_edges; ++m) {
    expected += half(i, l);
    l = level_of(!is_active(l));
    if ((m % 2 == 1) != same_direction) continue;
    double e = std::abs(static_cast<double>((d - expected).count())) / static_cast<double>(expected.count());
    if (e <= s_.tolerance) {
      if (error) *error = e;
      return m;
    }
  }
  return std::nullopt;
}

void LedDecoder::feed(const LineEvent& edge) {
  std::unique_lock lock(mu_);
  if (!started_) {
    lock.unlock();
    start(edge.time, std::nullopt);
    lock.lock();
  }
  if (pending_edge_) {
    if (edge.edge != pending_edge_->edge && edge.time - pending_edge_->time < s_.glitch) {
      // A pulse too short to be any pattern's: bounce around a real transition, or a flicker.
      pending_edge_.reset();
      cv_.notify_all();
      return;
    }
    LineEvent held = *pending_edge_;
    pending_edge_.reset();
    commit_edge_locked(held);
  }
  timeouts_locked(std::max(edge.time, clock_));
  clock_ = std::max(clock_, edge.time);
  if (s_.glitch > Duration::zero()) {
    pending_edge_ = edge;
  } else {
    commit_edge_locked(edge);
  }
  cv_.notify_all();
  flush_locked(lock);
}

void LedDecoder::advance(TimePoint t) {
  std::unique_lock lock(mu_);
  advance_locked(t);
  cv_.notify_all();
  flush_locked(lock);
}

void LedDecoder::advance_locked(TimePoint t) {
  if (!started_) return;
  t = std::max(t, clock_);
  if (pending_edge_ && t >= pending_edge_->time + s_.glitch) {
    LineEvent held = *pending_edge_;
    pending_edge_.reset();
    commit_edge_locked(held);
  }
  // While an edge waits out the glitch window, nothing after it can be decided yet.
  timeouts_locked(pending_edge_ ? std::min(t, pending_edge_->time) : t);
  clock_ = t;
}

void LedDecoder::commit_edge_locked(const LineEvent& e) {
  timeouts_locked(e.time);
  Level after = level_of(e.edge == Edge::rising);
  if (!last_edge_) {
    // The pulse before the first edge began before watching did: not a whole pulse, not measured.
    if (current_.pattern == LedPattern::dark || current_.pattern == LedPattern::steady_on)
      end_span_locked(e.time);
  } else {
    bool same = e.edge == *last_dir_;
    Level during = level_.value_or(level_of(e.edge == Edge::falling));
    segment_locked(*last_edge_, e.time, during, same);
  }
  last_edge_ = e.time;
  last_dir_ = e.edge;
  level_ = after;
  recent_edges_.push_back(e);
  if (recent_edges_.size() > kRecentEdges) recent_edges_.pop_front();
}

void LedDecoder::segment_locked(TimePoint start, TimePoint end, Level level, bool same_direction) {
  Duration d = end - start;
  for (std::size_t i = 0; i < runs_.size(); ++i) {
    Run& r = runs_[i];
    double err = 0.0;
    auto m = match(i, level, d, same_direction, &err);
    if (!m) {
      r = Run{};
      continue;
    }
    bool fresh = r.half_periods == 0;
    if (fresh) {
      r = Run{};
      r.start = start;
    }
    r.half_periods += *m + 1;
    r.error += err;
    r.missed += *m;
    if (*m == 0) {
      if (is_active(level)) {
        r.on_sum += d;
        ++r.on_n;
      } else {
        r.off_sum += d;
        ++r.off_n;
      }
    }
    // Periods run from rising edge to rising edge. A run that starts with the LED coming on has its
    // first rising edge at the pulse's start; a rising edge the photodiode missed inside the pulse makes
    // the next interval two periods long, so it is not measured.
    if (fresh && is_active(level)) r.last_rise = start;
    bool missed_rise = (!is_active(level) && *m >= 1) || (is_active(level) && *m >= 2);
    if (missed_rise) r.last_rise.reset();
    bool ends_rising = is_active(level) ? (*m % 2 == 1) : (*m % 2 == 0);
    if (ends_rising) {
      if (r.last_rise) {
        Duration p = end - *r.last_rise;
        r.period_sum += p;
        r.period_min = r.period_n == 0 ? p : std::min(r.period_min, p);
        r.period_max = r.period_n == 0 ? p : std::max(r.period_max, p);
        ++r.period_n;
      }
      r.last_rise = end;
    }
  }

  if (current_run_ >= 0) {
    if (runs_[static_cast<std::size_t>(current_run_)].half_periods > 0) {
      refresh_measurement_locked();
      return;
    }
    end_span_locked(start);
  } else if (current_.pattern == LedPattern::dark || current_.pattern == LedPattern::steady_on) {
    end_span_locked(end);
    return;  // the long pulse that just ended belongs to no pattern; the next pulses will tell
  }
  choose_locked(end);
}

void LedDecoder::choose_locked(TimePoint decided) {
  if (current_.pattern != LedPattern::unknown) return;
  int best = -1;
  for (std::size_t i = 0; i < runs_.size(); ++i) {
    const Run& r = runs_[i];
    if (r.half_periods < s_.confirm_half_periods) continue;
    if (best < 0) {
      best = static_cast<int>(i);
      continue;
    }
    const Run& b = runs_[static_cast<std::size_t>(best)];
    if (r.half_periods > b.half_periods ||
        (r.half_periods == b.half_periods && r.error / r.half_periods < b.error / b.half_periods)) {
      best = static_cast<int>(i);
    }
  }
  if (best < 0) return;
  const Run& r = runs_[static_cast<std::size_t>(best)];
  begin_span_locked(s_.patterns[static_cast<std::size_t>(best)].pattern, std::max(r.start, current_.start),
                    decided, best);
}

void LedDecoder::timeouts_locked(TimePoint t) {
  if (!started_) return;
  for (int guard = 0; guard < 8; ++guard) {
    if (!level_) return;
    TimePoint open_start = last_edge_.value_or(origin_);
    if (t < open_start) return;
    Duration elapsed = t - open_start;
    Level level = *level_;
    if (current_run_ >= 0) {
      auto i = static_cast<std::size_t>(current_run_);
      Duration longest = scaled(half(i, level), 1.0 + s_.tolerance);
      if (elapsed <= longest) return;
      end_span_locked(open_start);
      continue;
    }
    if (current_.pattern != LedPattern::unknown) return;  // dark or steady: only an edge ends them
    if (!is_active(level) && elapsed >= s_.dark_after) {
      begin_span_locked(LedPattern::dark, std::max(open_start, current_.start), open_start + s_.dark_after,
                        -1);
    } else if (is_active(level) && elapsed >= s_.steady_after) {
      begin_span_locked(LedPattern::steady_on, std::max(open_start, current_.start),
                        open_start + s_.steady_after, -1);
    }
    return;
  }
}

void LedDecoder::begin_span_locked(LedPattern p, TimePoint start, TimePoint decided, int run_index) {
  // Close the unknown gap the new span follows.
  if (start > current_.start) {
    current_.end = start;
    history_.push_back(current_);
    events_.push_back({current_, false});
  }
  // A pattern that only looked interrupted (a pulse outlasted it because an edge was missed) and
  // resumes where it stopped is one span, not two.
  if (run_index >= 0 && !history_.empty()) {
    const LedMeasurement& prev = history_.back();
    const Run& r = runs_[static_cast<std::size_t>(run_index)];
    if (prev.pattern == p && prev.end && *prev.end == start && r.start <= prev.start) {
      current_ = prev;
      current_.end.reset();
      history_.pop_back();
      current_run_ = run_index;
      refresh_measurement_locked();
      events_.push_back({current_, true});
      return;
    }
  }
  current_ = LedMeasurement{};
  current_.pattern = p;
  current_.start = start;
  current_.detected = std::max(decided, start);
  current_.generation = ++generation_;
  current_run_ = run_index;
  if (run_index >= 0) refresh_measurement_locked();
  events_.push_back({current_, true});
}

void LedDecoder::end_span_locked(TimePoint end) {
  current_.end = std::max(end, current_.start);
  if (current_.pattern != LedPattern::unknown || *current_.end > current_.start) {
    history_.push_back(current_);
    events_.push_back({current_, false});
  }
  LedMeasurement gap;
  gap.start = *current_.end;
  gap.detected = gap.start;
  gap.generation = ++generation_;
  current_ = gap;
  current_run_ = -1;
}

void LedDecoder::refresh_measurement_locked() {
  if (current_run_ < 0) return;
  const Run& r = runs_[static_cast<std::size_t>(current_run_)];
  auto& m = current_;
  m.half_periods = r.half_periods;
  m.periods = r.half_periods / 2;
  m.missed_edges = r.missed;
  m.on_mean = r.on_n ? r.on_sum / r.on_n : Duration{};
  m.off_mean = r.off_n ? r.off_sum / r.off_n : Duration{};
  m.period_mean = r.period_n ? r.period_sum / r.period_n : Duration{};
  m.period_min = r.period_min;
  m.period_max = r.period_max;
  m.duty_cycle = (r.on_n && r.off_n) ? to_ms(m.on_mean) / (to_ms(m.on_mean) + to_ms(m.off_mean)) : 0.0;
}

std::optional<TimePoint> LedDecoder::next_decision_locked() const {
  if (!started_) return std::nullopt;
  if (pending_edge_) return pending_edge_->time + s_.glitch;
  if (!level_) return std::nullopt;
  TimePoint open_start = last_edge_.value_or(origin_);
  Level level = *level_;
  if (current_run_ >= 0) {
    return open_start + scaled(half(static_cast<std::size_t>(current_run_), level), 1.0 + s_.tolerance) +
           Duration(1);
  }
  if (current_.pattern != LedPattern::unknown) return std::nullopt;
  return open_start + (is_active(level) ? s_.steady_after : s_.dark_after);
}

LedMeasurement LedDecoder::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::optional<TimePoint> LedDecoder::next_decision() const {
  std::lock_guard lock(mu_);
  return next_decision_locked();
}

std::vector<LedMeasurement> LedDecoder::history() const {
  std::lock_guard lock(mu_);
  return history_;
}

std::vector<LineEvent> LedDecoder::edges_since(TimePoint t) const {
  std::lock_guard lock(mu_);
  std::vector<LineEvent> out;
  for (const LineEvent& e : recent_edges_)
    if (e.time >= t) out.push_back(e);
  return out;
}

std::uint64_t LedDecoder::generation() const {
  std::lock_guard lock(mu_);
  return generation_;
}

LedObservation LedDecoder::observe_locked(const LedMeasurement& span) const {
  LedObservation o;
  o.current = span;
  for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
    if (it->generation < span.generation && it->pattern != LedPattern::unknown) {
      o.previous = *it;
      break;
    }
  }
  o.reported = now();
  return o;
}

void LedDecoder::flush_locked(std::unique_lock<std::mutex>& lock) {
  if (events_.empty() || !listener_) {
    events_.clear();
    return;
  }
  auto events = std::move(events_);
  events_.clear();
  auto listener = listener_;
  lock.unlock();
  for (const auto& e : events) listener(e.span, e.started);
  lock.lock();
}

LedResult LedDecoder::wait_for_pattern(LedPattern p, Deadline deadline) {
  std::uint64_t since;
  {
    std::lock_guard lock(mu_);
    if (current_.pattern == p) return observe_locked(current_);
    since = generation_;
  }
  return wait_for([p](const LedMeasurement& m) { return m.pattern == p; }, since, to_string(p), deadline);
}

LedResult LedDecoder::wait_for_change(LedPattern from, Deadline deadline, bool skip_unknown) {
  std::uint64_t since = generation();
  return wait_for(
      [from, skip_unknown](const LedMeasurement& m) {
        return m.pattern != from && !(skip_unknown && m.pattern == LedPattern::unknown);
      },
      since, std::string("a change from ") + to_string(from), deadline);
}

LedResult LedDecoder::wait_for(const std::function<bool(const LedMeasurement&)>& accept, std::uint64_t since,
                               std::string what, Deadline deadline) {
  std::unique_lock lock(mu_);
  for (;;) {
    // Spans that started after `since`, oldest first: a short one that already ended still counts.
    const LedMeasurement* hit = nullptr;
    for (const auto& h : history_) {
      if (h.generation > since && accept(h)) {
        hit = &h;
        break;
      }
    }
    if (!hit && current_.generation > since && accept(current_)) hit = &current_;
    if (hit) return observe_locked(*hit);
    // Before the failure: Ctrl-C ends the LED watcher with a failure too, and the waiter must hear the
    // interruption, not a pattern that never came (a safe boot then released P12 "anyway" and went on).
    interrupt::throw_if_requested();
    if (failure_) return LedTimeout{what + " (" + *failure_ + ")", current_};
    if (deadline.expired()) return LedTimeout{what, current_};
    // Woken by every decision the edge source triggers; the slice only bounds how late Ctrl-C is
    // noticed (condition variables cannot watch the interrupt fd).
    cv_.wait_until(lock, std::min(deadline.when(), now() + milliseconds(50)));
  }
}

}  // namespace bootrig
