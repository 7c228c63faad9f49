// `bootrig fs ls|cat|get|put|rm|mkdir|tree`: files on the board's /flash and /sd, binary-safe copies both
// ways (folders recursively), each verified by a hash the board computes over the file.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bootrig/core/errors.hpp"
#include "bootrig/repl/board_files.hpp"
#include "cli/board_access.hpp"
#include "cli/commands.hpp"

namespace bootrig {

namespace {

namespace fs = std::filesystem;

struct FsOptions {
  std::string action;
  std::vector<std::string> paths;
  bool recursive = false;
  std::size_t block = 4096;
  BoardOptions board;
};

// mpremote writes board paths as ":path"; both spellings work.
std::string board_arg(const std::string& s) { return !s.empty() && s[0] == ':' ? s.substr(1) : s; }

std::string basename_of(const std::string& board_path) {
  std::string p = board_path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.find_last_of('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// Turns a failure into the command's outcome: the board's refusal or a copy that did not verify is exit 1
// with one line; a line or REPL that failed is rig trouble (exit 2).
template <class T>
T need(FsResult<T> r) {
  if (r) return std::move(r).value();
  if (r.error().fault == FsFault::link) throw RigError(r.error().what);
  throw CommandFailed(r.error().what);
}

class FsSession {
 public:
  FsSession(const GlobalOptions& g, const FsOptions& o)
      : target_(open_board(g, o.board)),
        repl_(target_->serial()),
        channel_(repl_),
        files_(repl_, channel_, options(o)) {
    require_prompt(*target_, repl_);
  }
  ~FsSession() { (void)repl_.leave_raw(Deadline::after(seconds(1))); }
  BoardFiles& files() { return files_; }
  unsigned baud() const { return target_->serial().baud(); }

 private:
  static BoardFilesOptions options(const FsOptions& o) {
    BoardFilesOptions b;
    b.block = o.block;
    return b;
  }
  std::unique_ptr<Target> target_;
  ReplClient repl_;
  CheckedChannel channel_;
  BoardFiles files_;
};

void print_copy(const char* verb, const std::string& from, const std::string& to, const FileCopy& c,
                unsigned baud) {
  std::printf("%s %s -> %s: %zu bytes in %.2f s (%.0f %% of %u baud, %s), %s verified on the board\n", verb,
              from.c_str(), to.c_str(), c.bytes, c.seconds(), c.line_share(baud) * 100.0, baud,
              c.transfer.c_str(), c.hash.describe().c_str());
  std::fflush(stdout);
}

std::string read_local(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw RigError(p.string() + ": cannot read it");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_local(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) throw RigError(p.string() + ": cannot write it (is the folder there and writable?)");
}

void put_path(FsSession& s, const fs::path& local, const std::string& remote) {
  if (fs::is_directory(local)) {
    need(s.files().mkdir(remote));
    std::vector<fs::path> children;
    for (const auto& e : fs::directory_iterator(local)) children.push_back(e.path());
    std::sort(children.begin(), children.end());
    for (const auto& c : children) put_path(s, c, board_path_join(remote, c.filename().string()));
    return;
  }
  if (!fs::exists(local)) throw RigError(local.string() + ": no such file or folder here");
  std::string data = read_local(local);
  FileCopy c = need(s.files().put(remote, data));
  print_copy("put", local.string(), remote, c, s.baud());
}

void get_path(FsSession& s, const std::string& remote, const BoardEntry& what, const fs::path& local) {
  if (what.dir) {
    fs::create_directories(local);
    for (const auto& e : need(s.files().list(remote)))
      get_path(s, board_path_join(remote, e.name), e, local / e.name);
    return;
  }
  std::string data;
  FileCopy c = need(s.files().get(remote, data));
  write_local(local, data);
  print_copy("got", remote, local.string(), c, s.baud());
}

BoardEntry need_entry(FsSession& s, const std::string& path) {
  auto e = need(s.files().stat(path));
  if (!e) throw CommandFailed(path + ": no such file or folder on the board");
  return *e;
}

void print_tree(FsSession& s, const std::string& dir, const std::string& indent) {
  for (const auto& e : need(s.files().list(dir))) {
    if (e.dir) {
      std::printf("%s%s/\n", indent.c_str(), e.name.c_str());
      print_tree(s, board_path_join(dir, e.name), indent + "  ");
    } else {
      std::printf("%s%s  (%llu bytes)\n", indent.c_str(), e.name.c_str(),
                  static_cast<unsigned long long>(e.size));
    }
  }
}

int run_fs(const FsOptions& o, GlobalOptions& g) {
  const auto& a = o.action;
  const std::size_t n = o.paths.size();
  auto usage = [&](const char* form) { throw RigError(std::string("usage: bootrig fs ") + form); };
  if ((a == "cat" || a == "rm" || a == "mkdir") && n == 0) usage((a + " PATH...").c_str());
  if (a == "get" && (n < 1 || n > 2)) usage("get REMOTE [LOCAL]");
  if (a == "put" && (n < 1 || n > 2)) usage("put LOCAL [REMOTE]");
  if (a == "tree" && n > 1) usage("tree [PATH]");
  FsSession s(g, o);
  if (a == "ls" || a == "tree") {
    std::vector<std::string> dirs;
    for (const auto& p : o.paths) dirs.push_back(board_arg(p));
    if (dirs.empty()) dirs.push_back(need(s.files().cwd()));
    for (const auto& d : dirs) {
      BoardEntry e = need_entry(s, d);
      if (!e.dir) {
        std::printf("%10llu %s\n", static_cast<unsigned long long>(e.size), d.c_str());
        continue;
      }
      if (a == "tree") {
        std::printf("%s\n", d.c_str());
        print_tree(s, d, "  ");
        continue;
      }
      if (dirs.size() > 1) std::printf("%s:\n", d.c_str());
      for (const auto& x : need(s.files().list(d))) {
        if (x.dir)
          std::printf("%10s %s/\n", "-", x.name.c_str());
        else
          std::printf("%10llu %s\n", static_cast<unsigned long long>(x.size), x.name.c_str());
      }
    }
  } else if (a == "cat") {
    for (const auto& p : o.paths) {
      std::string data;
      need(s.files().get(board_arg(p), data));
      std::fwrite(data.data(), 1, data.size(), stdout);
    }
    std::fflush(stdout);
  } else if (a == "get") {
    const std::string remote = board_arg(o.paths[0]);
    BoardEntry e = need_entry(s, remote);
    fs::path local = n > 1 ? fs::path(o.paths[1]) : fs::path(basename_of(remote));
    if (n > 1 && fs::is_directory(local) && !e.dir) local /= basename_of(remote);
    if (e.dir && !o.recursive) throw CommandFailed(remote + ": is a folder (get -r copies it and all in it)");
    get_path(s, remote, e, local);
  } else if (a == "put") {
    const fs::path local = o.paths[0];
    if (fs::is_directory(local) && !o.recursive)
      throw RigError(local.string() + ": is a folder (put -r copies it and all in it)");
    std::string remote = n > 1 ? board_arg(o.paths[1]) : "";
    std::string name =
        local.filename().empty() ? local.parent_path().filename().string() : local.filename().string();
    if (remote.empty()) {
      remote = board_path_join(need(s.files().cwd()), name);
    } else if (auto e = need(s.files().stat(remote)); e && e->dir) {
      remote = board_path_join(remote, name);
    }
    put_path(s, local, remote);
  } else if (a == "rm") {
    for (const auto& p : o.paths) {
      need(s.files().remove(board_arg(p), o.recursive));
      std::printf("removed %s\n", board_arg(p).c_str());
    }
  } else if (a == "mkdir") {
    for (const auto& p : o.paths) {
      bool made = need(s.files().mkdir(board_arg(p)));
      std::printf("%s %s\n", made ? "made" : "already a folder:", board_arg(p).c_str());
    }
  }
  return 0;
}

}  // namespace

void add_fs_command(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<FsOptions>();
  auto* cmd = app.add_subcommand(
      "fs",
      "Files on the board: ls, cat, get, put, rm, mkdir, tree (copies verified by a hash on the board)");
  cmd->fallthrough();
  cmd->require_subcommand(1);
  add_board_options(*cmd, o->board);
  cmd->add_option("--block", o->block, "Bytes per acknowledged block of a copy (default 4096)")
      ->check(CLI::Range(16, 32768));
  struct Action {
    const char* name;
    const char* help;
    bool recursive;
  };
  static const Action kActions[] = {
      {"ls", "List folders (default: the board's current folder)", false},
      {"tree", "A folder and everything below it", false},
      {"cat", "Print files", false},
      {"get", "Copy a file (or with -r a folder) from the board: REMOTE [LOCAL]", true},
      {"put", "Copy a file (or with -r a folder) to the board: LOCAL [REMOTE]", true},
      {"rm", "Remove files (with -r folders and all in them)", true},
      {"mkdir", "Make folders", false},
  };
  for (const auto& act : kActions) {
    auto* sub = cmd->add_subcommand(act.name, act.help);
    sub->fallthrough();
    sub->add_option("paths", o->paths, "Paths; board paths may start with ':' as in mpremote");
    if (act.recursive) sub->add_flag("-r,--recursive", o->recursive, "Whole folders");
    sub->callback([o, &g, name = std::string(act.name)] {
      o->action = name;
      g.run = [o, &g] { return run_fs(*o, g); };
    });
  }
  cmd->footer(
      "Exit codes: 0 done, 1 the board refused (no such file, no space) or a copy did not verify, 2 rig "
      "or usage problem.");
}

}  // namespace bootrig
