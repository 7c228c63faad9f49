// Reads a station database through SQLite's own API (not bootrig's): the first column of the first row.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <string>

namespace bootrig::testing {

// "error: ..." when the statement fails (a trigger refusing an UPDATE, say); "(none)" when it returns no row.
inline std::string sqlite_first_value(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr);
  std::string out = "(none)";
  char* err = nullptr;
  int rc = sqlite3_exec(
      h, sql.c_str(),
      [](void* o, int, char** v, char**) {
        *static_cast<std::string*>(o) = v[0] ? v[0] : "NULL";
        return 0;
      },
      &out, &err);
  if (rc != SQLITE_OK) out = std::string("error: ") + (err ? err : sqlite3_errmsg(h));
  sqlite3_free(err);
  sqlite3_close(h);
  return out;
}

}  // namespace bootrig::testing
