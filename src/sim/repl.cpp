// The REPL loops of MicroPython's pyexec.c and readline.c, byte for byte as a host sees them on the UART.
#include "sim/repl.hpp"

#include "sim/python/parser.hpp"

namespace bootrig::sim {

Repl::Repl(ReplIo& io, py::Dialect dialect, std::string banner)
    : io_(io), dialect_(dialect), banner_(std::move(banner)) {}

void Repl::run() {
  for (;;) {
    bool soft_reset = raw_ ? raw() : friendly();
    if (soft_reset) return;
  }
}

void Repl::auto_indent(std::string& line) {
  // readline_auto_indent: indent like the previous line, one level deeper after a ':', and stop after
  // two blank (all-space) lines so that a block can be closed.
  if (line.size() <= 1 || line.back() != '\n') return;
  std::size_t i = line.size() - 1;
  for (; i > 0; --i)
    if (line[i - 1] == '\n') break;
  std::size_t j = i;
  for (; j < line.size(); ++j)
    if (line[j] != ' ') break;
  if (i > 0 && j + 1 == line.size()) {
    for (std::size_t k = i - 1; k > 0; --k) {
      if (line[k - 1] == '\n') return;
      if (line[k - 1] != ' ') break;
    }
  }
  std::size_t n = (j - i) / 4;
  if (line[line.size() - 2] == ':') n += 1;
  for (; n > 0; --n) {
    line += "    ";
    io_.write("    ");
  }
}

int Repl::readline(std::string& line, const char* prompt) {
  io_.write(prompt);
  const std::size_t orig = line.size();
  auto_indent(line);
  enum { none, esc, bracket, bracket_digit, esc_o } seq = none;
  for (;;) {
    int c = io_.read_char();
    if (seq != none) {
      // Cursor and history keys are accepted and ignored: the line is always edited at its end.
      if (seq == esc)
        seq = c == '[' ? bracket : c == 'O' ? esc_o : none;
      else if (seq == bracket)
        seq = (c >= '0' && c <= '9') ? bracket_digit : none;
      else
        seq = none;
      continue;
    }
    bool empty = line.size() == orig;
    if (c >= kCtrlA && c <= kCtrlE && empty) return c;
    if (c == kCtrlF && empty && dialect_ == py::Dialect::pycom) return c;
    if (c == kCtrlC) return c;
    if (c == '\r') {
      io_.write("\r\n");
      return 0;
    }
    if (c == 27) {
      seq = esc;
    } else if (c == 8 || c == 127) {
      if (line.size() > orig) {
        std::size_t nspace = 0;
        for (std::size_t k = orig; k < line.size(); ++k) {
          if (line[k] != ' ') {
            nspace = 0;
            break;
          }
          ++nspace;
        }
        std::size_t n = nspace < 4 ? 1 : 4;
        line.erase(line.size() - n);
        io_.write(std::string(n, '\b') + "\x1b[K");
      }
    } else if (c >= 32 && c <= 126) {
      line += static_cast<char>(c);
      io_.write(std::string(1, static_cast<char>(c)));
    }
  }
}

bool Repl::friendly() {
  auto banner = [this] { io_.write(banner_ + "\r\nType \"help()\" for more information.\r\n"); };
  banner();
  for (;;) {
    std::string line;
    int ret = readline(line, ">>> ");
    bool single = true;
    if (ret == kCtrlA) {
      io_.write("\r\n");
      raw_ = true;
      return false;
    }
    if (ret == kCtrlB) {
      io_.write("\r\n");
      banner();
      continue;
    }
    if (ret == kCtrlC) {
      io_.write("\r\n");
      continue;
    }
    if (ret == kCtrlD) {
      io_.write("\r\n");
      return true;
    }
    if (ret == kCtrlF) {
      io_.write("\r\n");
      io_.safe_boot_reset();
    }
    if (ret == kCtrlE) {
      io_.write("\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ");
      bool cancelled = false;
      for (;;) {
        int c = io_.read_char();
        if (c == kCtrlC) {
          io_.write("\r\n");
          cancelled = true;
          break;
        }
        if (c == kCtrlD) {
          io_.write("\r\n");
          break;
        }
        line += static_cast<char>(c);
        if (c == '\r')
          io_.write("\r\n=== ");
        else
          io_.write(std::string(1, static_cast<char>(c)));
      }
      if (cancelled) continue;
      single = false;
    } else if (line.empty()) {
      continue;
    } else {
      bool cancelled = false;
      while (py::repl_needs_more(line)) {
        line += '\n';
        int r = readline(line, "... ");
        if (r == kCtrlC) {
          io_.write("\r\n");
          cancelled = true;
          break;
        }
        if (r == kCtrlD) break;
      }
      if (cancelled) continue;
    }
    if (io_.execute(line, single, false) == ExecOutcome::forced_exit) return true;
  }
}

ExecOutcome Repl::raw_paste() {
  // mp_reader_new_stdin: the window is half of the 256-byte stdin buffer; sending it grants one window
  // and the extra \x01 a second one.
  constexpr int kWindow = 128;
  io_.write(std::string("R\x01", 2));
  io_.write(std::string{static_cast<char>(kWindow & 0xFF), static_cast<char>(kWindow >> 8), '\x01'});
  std::string code;
  int remain = kWindow;
  for (;;) {
    int c = io_.read_char();
    if (c == kCtrlC || c == kCtrlD) {
      io_.write("\x04");
      if (c == kCtrlC) {
        io_.write("\x04KeyboardInterrupt: \r\n\x04");
        return ExecOutcome::error;
      }
      break;
    }
    code += static_cast<char>(c);
    if (--remain == 0) {
      io_.write("\x01");
      remain = kWindow;
    }
  }
  io_.set_collecting_code(false);
  return io_.execute(code, false, true);
}

bool Repl::raw() {
  for (;;) {  // raw_repl_reset
    io_.write("raw REPL; CTRL-B to exit\r\n");
    bool reset = false;
    while (!reset) {
      std::string line;
      io_.write(">");
      io_.set_collecting_code(true);
      bool run = false;
      while (!run && !reset) {
        int c = io_.read_char();
        if (c == kCtrlA) {
          if (dialect_ == py::Dialect::upstream && line.size() == 2 && line[0] == kCtrlE) {
            // Raw-paste request ("\x05A\x01"); pyexec's do_reader_stdin.
            if (line[1] != 'A') {
              io_.write(std::string("R\x00", 2));
            } else if (raw_paste() == ExecOutcome::forced_exit) {
              io_.set_collecting_code(false);
              return true;
            }
            line.clear();
            io_.write(">");
            io_.set_collecting_code(true);
            continue;
          }
          // Firmware without raw-paste lands here too: the \x05 and 'A' were taken as code, and Ctrl-A
          // restarts the raw REPL, reprinting its banner.
          reset = true;
        } else if (c == kCtrlB) {
          io_.set_collecting_code(false);
          io_.write("\r\n");
          raw_ = false;
          return false;
        } else if (c == kCtrlC) {
          line.clear();
        } else if (c == kCtrlD) {
          run = true;
        } else {
          line += static_cast<char>(c);
        }
      }
      io_.set_collecting_code(false);
      if (reset) break;
      io_.write("OK");
      if (line.empty()) {
        io_.write("\r\n");
        return true;
      }
      if (io_.execute(line, false, true) == ExecOutcome::forced_exit) return true;
    }
  }
}

}  // namespace bootrig::sim
