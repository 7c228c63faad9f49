// Runs the built bootrig binary as a user would, capturing exit code, stdout and stderr separately.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "support/bootrig_binary.hpp"

namespace bootrig::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr (log lines and one-line errors)
};

// A shell command line's exit code and stdout (stderr as the command line redirects it).
inline CliResult run_command(const std::string& cmd) {
  CliResult r;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int status = ::pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  return r;
}

// `args` is appended to the binary's path in a shell command line; `env` (e.g. "BOOTRIG_RIG=x") is prefixed.
inline CliResult run_bootrig(const std::string& args, const std::string& env = "") {
  CliResult r;
  char err_path[] = "/tmp/bootrig-cli-err-XXXXXX";
  int fd = ::mkstemp(err_path);
  if (fd < 0) return r;
  ::close(fd);
  r = run_command(env + (env.empty() ? "" : " ") + "'" + BOOTRIG_BINARY + "' " + args + " 2>" + err_path +
                  " </dev/null");
  std::ifstream in(err_path);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  ::unlink(err_path);
  return r;
}

}  // namespace bootrig::testing
