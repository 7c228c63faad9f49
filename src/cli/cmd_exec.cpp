// `bootrig exec CODE | --file F`: runs code on the board through the raw REPL (raw-paste where the board has
// it), streams what it prints as it comes, and exits 0, 1 with the board's traceback, or 2 for the rig.
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/core/interrupt.hpp"
#include "cli/board_access.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

struct ExecOptions {
  std::string code;
  std::string file;
  double timeout_s = 0;  // 0: no limit
  BoardOptions board;
};

// Writes the board's output as it comes, "\r\n" as "\n" (a "\r" at a chunk's end waits for the next).
class OutputStream {
 public:
  void put(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() + 1);
    for (char c : bytes) {
      if (cr_ && c != '\n') out += '\r';
      cr_ = c == '\r';
      if (!cr_) out += c;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
  }
  void end() {
    if (cr_) std::fputc('\r', stdout);
    cr_ = false;
    std::fflush(stdout);
  }

 private:
  bool cr_ = false;
};

std::string read_code(const ExecOptions& o) {
  if (!o.file.empty() && !o.code.empty()) throw RigError("bootrig exec: give CODE or --file, not both");
  if (o.file.empty()) {
    if (o.code.empty())
      throw RigError("bootrig exec: nothing to run; give CODE or --file F (--file - reads stdin)");
    return o.code;
  }
  std::stringstream ss;
  if (o.file == "-") {
    ss << std::cin.rdbuf();
  } else {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) throw RigError(o.file + ": cannot read it (does it exist?)");
    ss << in.rdbuf();
  }
  return ss.str();
}

// The board's error channel as the user should see it, and the exit code of a finished run.
int report_end(const ExecResult& r) {
  if (!r.exception) return 0;
  std::string text = r.error_text;
  if (!text.empty() && text.back() != '\n') text += '\n';
  std::fputs(text.c_str(), stderr);
  return static_cast<int>(ExitCode::check_failed);
}

int run_exec(const ExecOptions& o, GlobalOptions& g) {
  const std::string code = read_code(o);
  for (char c : code) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x01 && u <= 0x05)
      throw RigError("bootrig exec: the code contains the control byte 0x0" + std::to_string(u) +
                     ", which steers the REPL instead of reaching Python; write it as \\x0" +
                     std::to_string(u));
  }
  auto target = open_board(g, o.board);
  ReplClient repl(target->serial());
  const unsigned baud = target->serial().baud();
  // Sending takes the line time (raw mode paces itself at 80 % of it) on top of the REPL's allowance.
  const Duration send_time =
      milliseconds(static_cast<long>(std::ceil(code.size() * 10.0 * 1000.0 / baud / 0.8)));
  auto started = repl.start_raw(code, Deadline::after(repl_allowance(*target) + send_time));
  if (!started)
    throw RigError(target->serial().describe() + ": the board did not take the code (" +
                   started.error().describe() + "); check the port and baud rate (`bootrig doctor`)");
  const Deadline limit = o.timeout_s > 0
                             ? Deadline::after(milliseconds(static_cast<long>(o.timeout_s * 1000)))
                             : Deadline::never();
  OutputStream out;
  // Asks the board to stop the code, then reads what it printed until its prompt (the KeyboardInterrupt).
  auto stop_on_board = [&](ExecResult run) {
    repl.send_stdin("\x03", Deadline::after(seconds(1)));
    for (;;) {
      ProgramLine p = repl.read_program_output(Deadline::after(seconds(2)));
      out.put(p.text);
      if (p.ended || p.text.empty()) break;
    }
    out.end();
    return repl.finish_raw(std::move(run), Deadline::after(seconds(2)));
  };
  try {
    for (;;) {
      ProgramLine p = repl.read_program_output(Deadline::after(milliseconds(200)).min(limit));
      out.put(p.text);
      if (p.ended) break;
      if (limit.expired()) {
        auto r = stop_on_board(std::move(started).value());
        if (r) report_end(*r);
        (void)repl.leave_raw(Deadline::after(seconds(1)));
        std::fprintf(stderr,
                     "bootrig exec: the code ran longer than --timeout %g s; interrupted it on the board\n",
                     o.timeout_s);
        return static_cast<int>(ExitCode::check_failed);
      }
    }
  } catch (const Interrupted& e) {
    // Ctrl-C here means Ctrl-C on the board: the code gets its KeyboardInterrupt and the REPL stays usable.
    interrupt::clear();
    auto r = stop_on_board(std::move(started).value());
    if (r) report_end(*r);
    (void)repl.leave_raw(Deadline::after(seconds(1)));
    std::fprintf(stderr, "bootrig exec: interrupted (%s); the code was stopped on the board\n", e.what());
    return static_cast<int>(ExitCode::interrupted);
  }
  out.end();
  auto r = repl.finish_raw(std::move(started).value(), Deadline::after(repl_allowance(*target)));
  if (!r)
    throw RigError(target->serial().describe() + ": the board's answer broke off (" + r.error().describe() +
                   ")");
  // Back to the friendly REPL, as a person at the console expects to find it.
  (void)repl.leave_raw(Deadline::after(target->rig().timing.prompt_timeout));
  return report_end(*r);
}

}  // namespace

void add_exec_command(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<ExecOptions>();
  auto* cmd = app.add_subcommand(
      "exec", "Run Python code on the board and stream its output (exit 1 on an exception)");
  cmd->add_option("code", o->code, "The code to run");
  cmd->add_option("-f,--file", o->file, "Run this file's code instead (- reads stdin)");
  cmd->add_option("--timeout", o->timeout_s,
                  "Interrupt the code on the board after this many seconds (exit 1)")
      ->check(CLI::PositiveNumber);
  add_board_options(*cmd, o->board);
  cmd->footer(
      "Exit codes: 0 the code ran, 1 it raised (the board's traceback on stderr) or ran past --timeout, "
      "2 rig or usage problem, 3 interrupted (Ctrl-C stops the code on the board).");
  cmd->callback([o, &g] { g.run = [o, &g] { return run_exec(*o, g); }; });
}

}  // namespace bootrig
