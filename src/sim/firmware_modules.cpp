// The simulated firmware's Python modules, built from the board's services, with the firmware's messages.
#include "sim/firmware_modules.hpp"

#include <cerrno>
#include <memory>
#include <random>

#include "bootrig/firmware/hash.hpp"

namespace bootrig::sim {

using namespace py;

namespace {

constexpr std::int64_t kTicksPeriod = std::int64_t{1} << 30;  // MicroPython's ticks wrap at 2**30

std::shared_ptr<ModuleObj> module(const std::string& name) {
  auto m = std::make_shared<ModuleObj>(name);
  m->attrs["__name__"] = str(name);
  return m;
}

void fn(AttrObj& o, const std::string& name, NativeFn f) {
  o.attrs[name] = std::make_shared<BuiltinObj>(name, std::move(f));
}

std::string text_arg(Interp& in, Args& a, std::size_t i, const std::string& dflt) {
  return a.pos.size() > i ? in.as_text(a.pos[i]) : dflt;
}

// An open file: the whole content in memory, committed to the volume on flush()/close(), as LittleFS
// commits on sync. A reset before that loses the write.
struct FileState {
  Vfs* vfs = nullptr;
  std::string path;
  std::string data;
  std::size_t pos = 0;
  bool readable = false, writable = false, binary = false, dirty = false, closed = false;
};

Value make_file(Interp& in, const std::shared_ptr<FileState>& st) {
  auto f = std::make_shared<NativeObj>(st->binary ? "FileIO" : "TextIOWrapper");
  std::weak_ptr<NativeObj> weak = f;
  auto check_open = [st](Interp& i) {
    if (st->closed) i.raise_errno(EBADF);
  };
  auto commit = [st](Interp& i) {
    if (!st->dirty) return;
    int err = st->vfs->write(st->path, st->data);
    if (err) i.raise_errno(err);
    st->dirty = false;
  };
  auto wrap = [st](std::string s) { return st->binary ? bytes(std::move(s)) : str(std::move(s)); };
  fn(*f, "read", [=](Interp& i, Args& a) {
    check_open(i);
    if (!st->readable) i.raise_errno(EBADF);
    std::int64_t n = a.pos.empty() || is_none(a.pos[0]) ? -1 : i.as_int(a.pos[0]);
    std::size_t avail = st->data.size() - std::min(st->pos, st->data.size());
    std::size_t take = n < 0 ? avail : std::min(avail, static_cast<std::size_t>(n));
    std::string out = st->data.substr(std::min(st->pos, st->data.size()), take);
    st->pos += take;
    return wrap(out);
  });
  fn(*f, "readline", [=](Interp& i, Args&) {
    check_open(i);
    if (!st->readable) i.raise_errno(EBADF);
    if (st->pos >= st->data.size()) return wrap("");
    std::size_t nl = st->data.find('\n', st->pos);
    std::size_t end = nl == std::string::npos ? st->data.size() : nl + 1;
    std::string out = st->data.substr(st->pos, end - st->pos);
    st->pos = end;
    return wrap(out);
  });
  auto lines = [=](Interp& i, Args&) {
    check_open(i);
    std::vector<Value> out;
    while (st->pos < st->data.size()) {
      std::size_t nl = st->data.find('\n', st->pos);
      std::size_t end = nl == std::string::npos ? st->data.size() : nl + 1;
      out.push_back(wrap(st->data.substr(st->pos, end - st->pos)));
      st->pos = end;
    }
    return list(std::move(out));
  };
  fn(*f, "readlines", lines);
  fn(*f, "__iter_values__", lines);
  fn(*f, "write", [=](Interp& i, Args& a) {
    check_open(i);
    i.check_args(a, 1, 1, "write");
    if (!st->writable) i.raise_errno(EBADF);
    const std::string& b = i.as_buffer(a.pos[0]);
    if (st->pos > st->data.size()) st->data.resize(st->pos, '\0');
    st->data.replace(st->pos, std::min(b.size(), st->data.size() - st->pos), b);
    st->pos += b.size();
    st->dirty = true;
    return integer(static_cast<std::int64_t>(b.size()));
  });
  fn(*f, "seek", [=](Interp& i, Args& a) {
    check_open(i);
    i.check_args(a, 1, 2, "seek");
    std::int64_t off = i.as_int(a.pos[0]);
    std::int64_t whence = a.pos.size() > 1 ? i.as_int(a.pos[1]) : 0;
    std::int64_t base = whence == 1   ? static_cast<std::int64_t>(st->pos)
                        : whence == 2 ? static_cast<std::int64_t>(st->data.size())
                                      : 0;
    if (base + off < 0) i.raise_errno(EINVAL);
    st->pos = static_cast<std::size_t>(base + off);
    return integer(static_cast<std::int64_t>(st->pos));
  });
  fn(*f, "tell", [=](Interp& i, Args&) {
    check_open(i);
    return integer(static_cast<std::int64_t>(st->pos));
  });
  fn(*f, "flush", [=](Interp& i, Args&) {
    check_open(i);
    commit(i);
    return none();
  });
  auto close = [=](Interp& i, Args&) {
    if (st->closed) return none();
    st->closed = true;
    commit(i);
    return none();
  };
  fn(*f, "close", close);
  fn(*f, "__exit__", close);
  fn(*f, "__enter__", [weak](Interp&, Args&) -> Value {
    if (auto self = weak.lock()) return self;
    return none();
  });
  auto id = reinterpret_cast<std::uintptr_t>(st.get()) & 0xFFFFFF;
  f->repr = [st, id] {
    char b[64];
    std::snprintf(b, sizeof b, "<io.%s 3ff%05x>", st->binary ? "FileIO" : "TextIOWrapper",
                  static_cast<unsigned>(id & 0xFFFFF));
    return std::string(b);
  };
  (void)in;
  return f;
}

Value open_file(Interp& in, FirmwareApi& fw, Args& a) {
  in.check_args(a, 1, 2, "open");
  std::string path = in.as_text(a.pos[0]);
  std::string mode = a.pos.size() > 1 ? in.as_text(a.pos[1]) : "r";
  if (const Value* m = a.keyword("mode")) mode = in.as_text(*m);
  auto st = std::make_shared<FileState>();
  st->vfs = &fw.vfs();
  st->path = fw.vfs().absolute(path);
  char kind = 0;
  for (char c : mode) {
    if (c == 'r' || c == 'w' || c == 'a' || c == 'x') {
      if (kind) in.raise("ValueError", "invalid mode");
      kind = c;
    } else if (c == 'b') {
      st->binary = true;
    } else if (c == '+') {
      st->readable = st->writable = true;
    } else if (c != 't') {
      in.raise("ValueError", "invalid mode");
    }
  }
  if (!kind) kind = 'r';
  std::string existing;
  int err = fw.vfs().read(st->path, &existing);
  if (err && err != ENOENT) in.raise_errno(err);
  bool exists = err == 0;
  switch (kind) {
    case 'r':
      if (!exists) in.raise_errno(ENOENT);
      st->readable = true;
      st->data = existing;
      break;
    case 'x':
      if (exists) in.raise_errno(EEXIST);
      [[fallthrough]];
    case 'w':
      st->writable = true;
      st->dirty = true;
      if (!exists) {
        // The directory entry appears at open, as on LittleFS; the content at close.
        int werr = fw.vfs().write(st->path, "");
        if (werr) in.raise_errno(werr);
      }
      break;
    case 'a':
      st->writable = true;
      st->data = existing;
      st->pos = existing.size();
      if (!exists) {
        int werr = fw.vfs().write(st->path, "");
        if (werr) in.raise_errno(werr);
      }
      break;
    default:
      break;
  }
  return make_file(in, st);
}

Value os_module(Interp& in, FirmwareApi& fw) {
  auto m = module("os");
  auto errno_check = [](Interp& i, int err) {
    if (err) i.raise_errno(err);
  };
  fn(*m, "uname", [&fw](Interp& i, Args&) {
    const ImageDescriptor& img = fw.running_image();
    std::vector<Value> v;
    if (i.dialect() == Dialect::pycom) {
      v = {str(img.board), str(img.board), str(img.version), str(img.micropython + " on " + img.build_date),
           str(img.board + " with ESP32")};
    } else {
      v = {str("esp32"), str("esp32"), str(img.version), str("v" + img.version + " on " + img.build_date),
           str(img.board + " with ESP32")};
    }
    return Value(std::make_shared<TupleObj>(
        v, std::vector<std::string>{"sysname", "nodename", "release", "version", "machine"}));
  });
  fn(*m, "listdir", [&fw](Interp& i, Args& a) {
    i.check_args(a, 0, 1, "listdir");
    std::vector<std::string> names;
    int err = fw.vfs().listdir(text_arg(i, a, 0, ""), &names);
    if (err) i.raise_errno(err);
    std::vector<Value> out;
    for (auto& n : names) out.push_back(str(n));
    return list(std::move(out));
  });
  auto remove = [&fw, errno_check](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "remove");
    errno_check(i, fw.vfs().remove(i.as_text(a.pos[0])));
    return none();
  };
  fn(*m, "remove", remove);
  fn(*m, "unlink", remove);
  fn(*m, "mkdir", [&fw, errno_check](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "mkdir");
    errno_check(i, fw.vfs().mkdir(i.as_text(a.pos[0])));
    return none();
  });
  fn(*m, "rmdir", [&fw, errno_check](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "rmdir");
    errno_check(i, fw.vfs().rmdir(i.as_text(a.pos[0])));
    return none();
  });
  fn(*m, "rename", [&fw, errno_check](Interp& i, Args& a) {
    i.check_args(a, 2, 2, "rename");
    errno_check(i, fw.vfs().rename(i.as_text(a.pos[0]), i.as_text(a.pos[1])));
    return none();
  });
  fn(*m, "chdir", [&fw, errno_check](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "chdir");
    errno_check(i, fw.vfs().chdir(i.as_text(a.pos[0])));
    return none();
  });
  fn(*m, "getcwd", [&fw](Interp&, Args&) { return str(fw.vfs().cwd()); });
  fn(*m, "stat", [&fw](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "stat");
    bool dir = false;
    std::size_t size = 0;
    int err = fw.vfs().stat(i.as_text(a.pos[0]), &dir, &size);
    if (err) i.raise_errno(err);
    return tuple({integer(dir ? 0x4000 : 0x8000), integer(0), integer(0), integer(0), integer(0), integer(0),
                  integer(static_cast<std::int64_t>(size)), integer(0), integer(0), integer(0)});
  });
  fn(*m, "fsformat", [&fw](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "fsformat");
    fw.fsformat(fw.vfs().absolute(i.as_text(a.pos[0])));
    return none();
  });
  fn(*m, "dupterm", [&fw](Interp& i, Args& a) {
    i.check_args(a, 0, 2, "dupterm");
    if (a.pos.empty()) return none();
    bool attach = !is_none(a.pos[0]);
    if (attach && i.type_name(a.pos[0]) != "UART")
      i.raise("NotImplementedError", "os.dupterm() in the bootrig simulator takes None or machine.UART(0)");
    fw.dupterm(attach);
    return none();
  });
  fn(*m, "sync", [](Interp&, Args&) { return none(); });
  fn(*m, "urandom", [](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "urandom");
    std::int64_t n = i.as_int(a.pos[0]);
    if (n < 0 || n > 65536) i.raise("ValueError", "invalid length");
    static thread_local std::mt19937 rng{12345};
    std::string out;
    for (std::int64_t k = 0; k < n; ++k) out += static_cast<char>(rng() & 0xFF);
    return bytes(out);
  });
  m->attrs["sep"] = str("/");
  (void)in;
  return m;
}

Value time_module(Interp& in, FirmwareApi& fw) {
  auto m = module("time");
  fn(*m, "sleep", [&fw](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "sleep");
    double s = i.as_number(a.pos[0]);
    if (s > 0) fw.sleep_us(static_cast<std::int64_t>(s * 1e6));
    return none();
  });
  fn(*m, "sleep_ms", [&fw](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "sleep_ms");
    std::int64_t ms = i.as_int(a.pos[0]);
    if (ms > 0) fw.sleep_us(ms * 1000);
    return none();
  });
  fn(*m, "sleep_us", [&fw](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "sleep_us");
    std::int64_t us = i.as_int(a.pos[0]);
    if (us > 0) fw.sleep_us(us);
    return none();
  });
  fn(*m, "ticks_ms", [&fw](Interp&, Args&) { return integer((fw.ticks_us() / 1000) % kTicksPeriod); });
  fn(*m, "ticks_us", [&fw](Interp&, Args&) { return integer(fw.ticks_us() % kTicksPeriod); });
  fn(*m, "ticks_cpu", [&fw](Interp&, Args&) { return integer(fw.ticks_us() % kTicksPeriod); });
  fn(*m, "ticks_diff", [](Interp& i, Args& a) {
    i.check_args(a, 2, 2, "ticks_diff");
    std::int64_t d = (i.as_int(a.pos[0]) - i.as_int(a.pos[1]) + kTicksPeriod / 2) % kTicksPeriod;
    if (d < 0) d += kTicksPeriod;
    return integer(d - kTicksPeriod / 2);
  });
  fn(*m, "ticks_add", [](Interp& i, Args& a) {
    i.check_args(a, 2, 2, "ticks_add");
    std::int64_t r = (i.as_int(a.pos[0]) + i.as_int(a.pos[1])) % kTicksPeriod;
    return integer(r < 0 ? r + kTicksPeriod : r);
  });
  fn(*m, "time", [&fw](Interp&, Args&) { return integer(fw.rtc_us() / 1'000'000); });
  auto broken_down = [&fw](Interp& i, Args& a) {
    i.check_args(a, 0, 1, "localtime");
    std::int64_t secs = a.pos.empty() || is_none(a.pos[0]) ? fw.rtc_us() / 1'000'000 : i.as_int(a.pos[0]);
    std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    std::int64_t rem = secs - days * 86400;
    int y, mo, d;
    civil_from_days(days, &y, &mo, &d);
    std::int64_t wday = ((days % 7) + 7 + 3) % 7;  // 1970-01-01 was a Thursday; Monday is 0
    std::int64_t yday = days - days_from_civil(y, 1, 1) + 1;
    return tuple({integer(y), integer(mo), integer(d), integer(rem / 3600), integer(rem / 60 % 60),
                  integer(rem % 60), integer(wday), integer(yday)});
  };
  fn(*m, "localtime", broken_down);
  fn(*m, "gmtime", broken_down);
  (void)in;
  return m;
}

Value machine_module(Interp& in, FirmwareApi& fw) {
  auto m = module("machine");
  fn(*m, "reset", [&fw](Interp&, Args&) -> Value {
    fw.machine_reset();
    return none();
  });
  fn(*m, "reset_cause", [&fw](Interp&, Args&) { return integer(static_cast<int>(fw.reset_cause())); });
  fn(*m, "unique_id", [&fw](Interp&, Args&) { return bytes(fw.unique_id()); });
  fn(*m, "freq", [](Interp&, Args&) { return integer(160000000); });
  fn(*m, "idle", [&fw](Interp&, Args&) {
    fw.sleep_us(1000);
    return none();
  });
  fn(*m, "main", [&fw](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "main");
    fw.set_main_script(i.as_text(a.pos[0]));
    return none();
  });
  fn(*m, "RTC", [&fw](Interp& i, Args& a) {
    i.check_args(a, 0, 1, "RTC");
    auto rtc = std::make_shared<NativeObj>("RTC");
    auto now = [&fw](Interp&, Args&) {
      std::int64_t us = fw.rtc_us();
      std::int64_t secs = us / 1'000'000;
      std::int64_t days = secs / 86400, rem = secs % 86400;
      int y, mo, d;
      civil_from_days(days, &y, &mo, &d);
      return tuple({integer(y), integer(mo), integer(d), integer(rem / 3600), integer(rem / 60 % 60),
                    integer(rem % 60), integer(us % 1'000'000), none()});
    };
    fn(*rtc, "now", now);
    fn(*rtc, "init", [&fw](Interp& in2, Args& args) {
      in2.check_args(args, 0, 1, "init");
      if (args.pos.empty()) {
        fw.set_rtc_us(0);
        return none();
      }
      auto v = in2.to_vector(args.pos[0]);
      if (v.size() < 3) in2.raise("ValueError", "invalid argument(s) value");
      auto get = [&](std::size_t k) { return k < v.size() && !is_none(v[k]) ? in2.as_int(v[k]) : 0; };
      std::int64_t days =
          days_from_civil(static_cast<int>(get(0)), static_cast<int>(get(1)), static_cast<int>(get(2)));
      fw.set_rtc_us(((days * 86400) + get(3) * 3600 + get(4) * 60 + get(5)) * 1'000'000 + get(6));
      return none();
    });
    rtc->repr = [] { return std::string("<RTC>"); };
    (void)i;
    return Value(rtc);
  });
  fn(*m, "UART", [&fw](Interp& i, Args& a) {
    i.check_args(a, 1, 2, "UART");
    std::int64_t id = i.as_int(a.pos[0]);
    if (id < 0 || id > 2) i.raise("ValueError", "UART(" + std::to_string(id) + ") does not exist");
    std::int64_t baud = a.pos.size() > 1 ? i.as_int(a.pos[1]) : 9600;
    if (const Value* b = a.keyword("baudrate")) baud = i.as_int(*b);
    auto u = std::make_shared<NativeObj>("UART");
    bool uart0 = id == 0;
    fn(*u, "write", [&fw, uart0](Interp& in2, Args& args) {
      in2.check_args(args, 1, 1, "write");
      const std::string& b = in2.as_buffer(args.pos[0]);
      if (uart0) fw.uart_write(b);
      return integer(static_cast<std::int64_t>(b.size()));
    });
    fn(*u, "read", [&fw, uart0](Interp& in2, Args& args) -> Value {
      in2.check_args(args, 0, 1, "read");
      std::size_t n = args.pos.empty()
                          ? 4096
                          : static_cast<std::size_t>(std::max<std::int64_t>(0, in2.as_int(args.pos[0])));
      std::string got = uart0 ? fw.uart_read(n) : std::string();
      if (got.empty()) return none();
      return bytes(got);
    });
    fn(*u, "any", [&fw, uart0](Interp&, Args&) {
      return integer(uart0 ? static_cast<std::int64_t>(fw.uart_any()) : 0);
    });
    fn(*u, "deinit", [](Interp&, Args&) { return none(); });
    u->repr = [id, baud] {
      return "UART(" + std::to_string(id) + ", baudrate=" + std::to_string(baud) +
             ", bits=8, parity=None, stop=1)";
    };
    return Value(u);
  });
  m->attrs["PWRON_RESET"] = integer(0);
  m->attrs["HARD_RESET"] = integer(1);
  m->attrs["WDT_RESET"] = integer(2);
  m->attrs["DEEPSLEEP_RESET"] = integer(3);
  m->attrs["SOFT_RESET"] = integer(4);
  m->attrs["BROWN_OUT_RESET"] = integer(5);
  (void)in;
  return m;
}

Value pycom_module(Interp& in, FirmwareApi& fw) {
  auto m = module("pycom");
  fn(*m, "heartbeat", [&fw](Interp& i, Args& a) {
    i.check_args(a, 0, 1, "heartbeat");
    if (a.pos.empty()) return boolean(fw.heartbeat());
    fw.set_heartbeat(i.truthy(a.pos[0]));
    return none();
  });
  fn(*m, "heartbeat_on_boot", [&fw](Interp& i, Args& a) {
    i.check_args(a, 0, 1, "heartbeat_on_boot");
    if (a.pos.empty()) return boolean(fw.heartbeat_on_boot());
    fw.set_heartbeat_on_boot(i.truthy(a.pos[0]));
    return none();
  });
  fn(*m, "rgbled", [&fw](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "rgbled");
    std::int64_t c = i.as_int(a.pos[0]);
    if (!fw.rgbled(static_cast<std::uint32_t>(c) & 0xFFFFFF))
      i.raise("OSError", "the requested operation is not possible");
    return none();
  });
  fn(*m, "bootmgr", [&fw](Interp& i, Args& a) -> Value {
    if (!a.pos.empty()) i.raise("TypeError", "function doesn't take positional arguments");
    auto kw_int = [&](const char* name) -> std::int64_t {
      const Value* v = a.keyword(name);
      return v ? i.as_int(*v) : 255;
    };
    for (const auto& [k, v] : a.kw)
      if (k != "boot_partition" && k != "fs_type" && k != "safeboot" && k != "reset")
        i.raise("TypeError", "unexpected keyword argument '" + k + "'");
    std::int64_t part = kw_int("boot_partition"), fs_type = kw_int("fs_type"), safeboot = kw_int("safeboot");
    const Value* reset_v = a.keyword("reset");
    bool reset = reset_v && i.truthy(*reset_v);
    BootInfo bi = fw.boot_info();
    if (part == 255 && fs_type == 255 && safeboot == 255) {
      return tuple({str(bi.active_img == BootInfo::kImgOta0 ? "ota_0" : "Factory"), str("LittleFS"),
                    str(bi.safeboot == 0 ? "SafeBoot: False" : "SafeBoot: True"),
                    str(bi.status == BootInfo::kStatusCheck   ? "Status: Check"
                        : bi.status == BootInfo::kStatusPatch ? "Status: Patch"
                                                              : "Status: Ready")});
    }
    // modpycom_bootmgr: a partition change is written and resets at once; a safe-boot or filesystem
    // change resets only with reset=True.
    bool update_part = false, update_safeboot = false, update_fs = false;
    if (part != 255) {
      if (part > 1) i.raise("ValueError", "Error invalid boot partition!");
      if (bi.active_img != static_cast<std::uint32_t>(part)) {
        bi.prev_img = bi.active_img;
        bi.active_img = static_cast<std::uint32_t>(part);
        bi.status = BootInfo::kStatusCheck;
        update_part = true;
      }
    }
    if (safeboot != 255) {
      std::uint32_t want = safeboot ? BootInfo::kSafeBootSw : 0;
      if (safeboot > 1 || (safeboot ? bi.safeboot != 0 : bi.safeboot == 0))
        i.raise("ValueError", "Error safeboot must be True or False!");
      bi.safeboot = want;
      update_safeboot = true;
    }
    if (fs_type != 255) {
      if (fs_type > 1) i.raise("ValueError", "Error invalid filesystem type!");
      update_fs = fs_type != 1;
    }
    if (update_part || update_safeboot) {
      fw.write_boot_info(bi);
      if (update_part) fw.machine_reset();
    }
    if ((update_fs || update_safeboot) && reset) fw.machine_reset();
    return none();
  });
  fn(*m, "ota_slot", [&fw](Interp& i, Args& a) {
    i.check_args(a, 0, 0, "ota_slot");
    return integer(fw.ota_slot());
  });
  constexpr const char* kOtaFailed = "the requested operation failed";
  fn(*m, "ota_start", [&fw, kOtaFailed](Interp& i, Args& a) {
    i.check_args(a, 0, 0, "ota_start");
    if (!fw.ota_start()) i.raise("OSError", kOtaFailed);
    return none();
  });
  fn(*m, "ota_write", [&fw, kOtaFailed](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "ota_write");
    const std::string& buf = i.as_buffer(a.pos[0]);
    if (!fw.ota_write(buf)) i.raise("OSError", kOtaFailed);
    return none();
  });
  fn(*m, "ota_finish", [&fw, kOtaFailed](Interp& i, Args& a) {
    i.check_args(a, 0, 0, "ota_finish");
    if (!fw.ota_finish()) i.raise("OSError", kOtaFailed);
    i.hooks().write("Full Update Image detected. Restart the device to load the new firmware.\n");
    return none();
  });
  fn(*m, "ota_verify", [&fw](Interp& i, Args& a) {
    i.check_args(a, 0, 0, "ota_verify");
    return boolean(fw.ota_verify());
  });
  m->attrs["FACTORY"] = integer(0);
  m->attrs["OTA_0"] = integer(1);
  m->attrs["FAT"] = integer(0);
  m->attrs["LittleFS"] = integer(1);
  (void)in;
  return m;
}

Value sys_module(Interp& in, FirmwareApi& fw) {
  auto m = module("sys");
  fn(*m, "exit", [](Interp& i, Args& a) -> Value {
    i.check_args(a, 0, 1, "exit");
    throw i.make_error("SystemExit", a.pos);
  });
  fn(*m, "print_exception", [](Interp& i, Args& a) {
    i.check_args(a, 1, 2, "print_exception");
    auto* e = as<ExcObj>(a.pos[0]);
    if (!e) i.raise("TypeError", "print_exception expects an exception");
    i.hooks().write(i.format_exception(*e));
    return none();
  });
  auto out = std::make_shared<NativeObj>("FileIO");
  fn(*out, "write", [](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "write");
    const std::string& s = i.as_buffer(a.pos[0]);
    i.hooks().write(s);
    return integer(static_cast<std::int64_t>(s.size()));
  });
  m->attrs["stdout"] = out;
  // sys.stdin and its binary buffer read from the REPL's UART (MICROPY_PY_SYS_STDIO_BUFFER): what tools
  // use to move binary data through the raw REPL without escaping it.
  auto read_count = [](Interp& i, Args& a, const char* name) {
    i.check_args(a, 1, 1, name);
    std::int64_t n = i.as_int(a.pos[0]);
    if (n < 0) i.raise("ValueError", "negative count");
    return static_cast<std::size_t>(n);
  };
  auto stdin_buffer = std::make_shared<NativeObj>("FileIO");
  fn(*stdin_buffer, "read",
     [&fw, read_count](Interp& i, Args& a) { return bytes(fw.stdin_read(read_count(i, a, "read"))); });
  fn(*stdin_buffer, "readinto", [&fw](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "readinto");
    auto* b = as<BytesObj>(a.pos[0]);
    if (!b || !b->is_bytearray) i.raise("TypeError", "object with buffer protocol required");
    std::string got = fw.stdin_read(b->value.size());
    b->value.replace(0, got.size(), got);
    return integer(static_cast<std::int64_t>(got.size()));
  });
  auto stdin_text = std::make_shared<NativeObj>("FileIO");
  fn(*stdin_text, "read",
     [&fw, read_count](Interp& i, Args& a) { return str(fw.stdin_read(read_count(i, a, "read"))); });
  stdin_text->attrs["buffer"] = stdin_buffer;
  m->attrs["stdin"] = stdin_text;
  m->attrs["stderr"] = out;
  m->attrs["platform"] = str("esp32");
  m->attrs["version"] = str("3.4.0");
  m->attrs["byteorder"] = str("little");
  m->attrs["maxsize"] = integer(2147483647);
  m->attrs["path"] = list({str(""), str("/flash"), str("/flash/lib")});
  m->attrs["argv"] = list();
  (void)in;
  (void)fw;
  return m;
}

Value micropython_module(Interp& in, FirmwareApi& fw) {
  auto m = module("micropython");
  fn(*m, "kbd_intr", [&fw](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "kbd_intr");
    fw.set_kbd_intr(static_cast<int>(i.as_int(a.pos[0])));
    return none();
  });
  fn(*m, "const", [](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "const");
    return a.pos[0];
  });
  fn(*m, "mem_info", [](Interp& i, Args&) {
    i.hooks().write("stack: 736 out of 11264\nGC: total: 67008, used: 8736, free: 58272\n");
    return none();
  });
  fn(*m, "alloc_emergency_exception_buf", [](Interp&, Args&) { return none(); });
  (void)in;
  return m;
}

// uhashlib as the firmware has it (Pycom's is the ESP32's hardware SHA): sha256([data]) with update() and
// digest().
Value hashlib_module(Interp& in, FirmwareApi&) {
  auto m = module("uhashlib");
  fn(*m, "sha256", [](Interp& i, Args& a) {
    i.check_args(a, 0, 1, "sha256");
    auto h = std::make_shared<Sha256>();
    if (!a.pos.empty()) h->update(i.as_buffer(a.pos[0]));
    auto o = std::make_shared<AttrObj>(Kind::object, "sha256");
    fn(*o, "update", [h](Interp& j, Args& b) {
      j.check_args(b, 1, 1, "update");
      h->update(j.as_buffer(b.pos[0]));
      return none();
    });
    fn(*o, "digest", [h](Interp& j, Args& b) {
      j.check_args(b, 0, 0, "digest");
      auto d = h->finish();
      return bytes(std::string(d.begin(), d.end()));
    });
    return Value(o);
  });
  (void)in;
  return m;
}

Value binascii_module(Interp& in, FirmwareApi&) {
  auto m = module("ubinascii");
  fn(*m, "hexlify", [](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "hexlify");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (char ch : i.as_buffer(a.pos[0])) {
      auto c = static_cast<unsigned char>(ch);
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
    return bytes(out);
  });
  fn(*m, "unhexlify", [](Interp& i, Args& a) {
    i.check_args(a, 1, 1, "unhexlify");
    const std::string& hex = i.as_buffer(a.pos[0]);
    if (hex.size() % 2) i.raise("ValueError", "odd-length string");
    auto val = [&](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      i.raise("ValueError", "non-hex digit found");
    };
    std::string out;
    for (std::size_t k = 0; k < hex.size(); k += 2) out += static_cast<char>(val(hex[k]) << 4 | val(hex[k + 1]));
    return bytes(out);
  });
  (void)in;
  return m;
}

Value gc_module(Interp& in, FirmwareApi&) {
  auto m = module("gc");
  for (const char* n : {"collect", "enable", "disable"}) fn(*m, n, [](Interp&, Args&) { return none(); });
  fn(*m, "mem_free", [](Interp&, Args&) { return integer(58272); });
  fn(*m, "mem_alloc", [](Interp&, Args&) { return integer(8736); });
  (void)in;
  return m;
}

}  // namespace

void civil_from_days(std::int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yoe + era * 400 + (*m <= 2 ? 1 : 0));
}

std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string banner_line(const ImageDescriptor& image, Dialect dialect) {
  if (dialect == Dialect::pycom)
    return "Pycom MicroPython " + image.version + " [" + image.micropython + "] on " + image.build_date +
           "; " + image.board + " with ESP32";
  return "MicroPython v" + image.version + " on " + image.build_date + "; " + image.board + " with ESP32";
}

void install_firmware_modules(Interp& interp, FirmwareApi& fw) {
  interp.add_native_module(
      "os", [&fw](Interp& in) { return std::static_pointer_cast<ModuleObj>(os_module(in, fw)); });
  interp.add_native_module(
      "time", [&fw](Interp& in) { return std::static_pointer_cast<ModuleObj>(time_module(in, fw)); });
  interp.add_native_module(
      "machine", [&fw](Interp& in) { return std::static_pointer_cast<ModuleObj>(machine_module(in, fw)); });
  interp.add_native_module(
      "pycom", [&fw](Interp& in) { return std::static_pointer_cast<ModuleObj>(pycom_module(in, fw)); });
  interp.add_native_module(
      "sys", [&fw](Interp& in) { return std::static_pointer_cast<ModuleObj>(sys_module(in, fw)); });
  interp.add_native_module("micropython", [&fw](Interp& in) {
    return std::static_pointer_cast<ModuleObj>(micropython_module(in, fw));
  });
  interp.add_native_module(
      "gc", [&fw](Interp& in) { return std::static_pointer_cast<ModuleObj>(gc_module(in, fw)); });
  // Both spellings: Pycom 1.20 has uhashlib/ubinascii with hashlib/binascii as weak links (mpconfigport.h).
  for (const char* name : {"uhashlib", "hashlib"})
    interp.add_native_module(
        name, [&fw](Interp& in) { return std::static_pointer_cast<ModuleObj>(hashlib_module(in, fw)); });
  for (const char* name : {"ubinascii", "binascii"})
    interp.add_native_module(
        name, [&fw](Interp& in) { return std::static_pointer_cast<ModuleObj>(binascii_module(in, fw)); });
  interp.set_builtin("open",
                     interp.make_fn("open", [&fw](Interp& in, Args& a) { return open_file(in, fw, a); }));
  interp.set_builtin("help", interp.make_fn("help", [](Interp& in, Args& a) {
    if (!a.pos.empty()) {
      in.hooks().write("object " + in.repr(a.pos[0]) + " is of type " + in.type_name(a.pos[0]) + "\n");
      return none();
    }
    in.hooks().write(in.dialect() == Dialect::pycom
                         ? "Welcome to MicroPython!\n\nFor online docs please visit http://docs.pycom.io\n\n"
                           "Control commands:\n  CTRL-A        -- on a blank line, enter raw REPL mode\n"
                           "  CTRL-B        -- on a blank line, enter normal REPL mode\n"
                           "  CTRL-C        -- interrupt a running program\n"
                           "  CTRL-D        -- on a blank line, do a soft reset of the board\n"
                           "  CTRL-E        -- on a blank line, enter paste mode\n"
                           "  CTRL-F        -- on a blank line, enter safe boot mode\n"
                         : "Welcome to MicroPython on the ESP32!\n\nFor generic online docs please visit "
                           "http://docs.micropython.org/\n\n"
                           "Control commands:\n  CTRL-A        -- on a blank line, enter raw REPL mode\n"
                           "  CTRL-B        -- on a blank line, enter normal REPL mode\n"
                           "  CTRL-C        -- interrupt a running program\n"
                           "  CTRL-D        -- on a blank line, do a soft reset of the board\n"
                           "  CTRL-E        -- on a blank line, enter paste mode\n");
    return none();
  }));
}

}  // namespace bootrig::sim
