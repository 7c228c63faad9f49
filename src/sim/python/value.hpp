// Objects of the simulator's small Python: the values boot-mode checks need, MicroPython's way of printing
// them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace bootrig::sim::py {

class Interp;
struct Obj;
// Never null: None is an object like any other.
using Value = std::shared_ptr<Obj>;

enum class Kind : std::uint8_t {
  none,
  boolean,
  integer,
  floating,
  str,
  bytes,
  tuple,
  list,
  dict,
  range,
  module,
  builtin,
  function,
  exc_type,
  exception,
  object,  // native objects with an attribute table: files, RTC, UART, named tuples' owners
};

// Releases container items without recursion: a list nested a million deep must not overflow the stack
// when it dies (containers call this from their destructors).
void bury(std::vector<Value>& items);

struct Obj {
  explicit Obj(Kind k) : kind(k) {}
  virtual ~Obj() = default;
  Obj(const Obj&) = delete;
  Obj& operator=(const Obj&) = delete;
  const Kind kind;
};

struct NoneObj : Obj {
  NoneObj() : Obj(Kind::none) {}
};
struct BoolObj : Obj {
  explicit BoolObj(bool v) : Obj(Kind::boolean), value(v) {}
  bool value;
};
struct IntObj : Obj {
  explicit IntObj(std::int64_t v) : Obj(Kind::integer), value(v) {}
  std::int64_t value;
};
struct FloatObj : Obj {
  explicit FloatObj(double v) : Obj(Kind::floating), value(v) {}
  double value;
};
// str holds UTF-8; bytes (and bytearray, flagged) hold raw octets.
struct StrObj : Obj {
  explicit StrObj(std::string v) : Obj(Kind::str), value(std::move(v)) {}
  std::string value;
};
struct BytesObj : Obj {
  explicit BytesObj(std::string v, bool mutable_ = false)
      : Obj(Kind::bytes), value(std::move(v)), is_bytearray(mutable_) {}
  std::string value;
  bool is_bytearray;
};
// A tuple; with field names it prints as MicroPython prints os.uname() (a named tuple).
struct TupleObj : Obj {
  explicit TupleObj(std::vector<Value> v, std::vector<std::string> names = {})
      : Obj(Kind::tuple), items(std::move(v)), fields(std::move(names)) {}
  ~TupleObj() override { bury(items); }
  TupleObj(const TupleObj&) = delete;
  TupleObj& operator=(const TupleObj&) = delete;
  std::vector<Value> items;
  std::vector<std::string> fields;
};
struct ListObj : Obj {
  explicit ListObj(std::vector<Value> v = {}) : Obj(Kind::list), items(std::move(v)) {}
  ~ListObj() override { bury(items); }
  ListObj(const ListObj&) = delete;
  ListObj& operator=(const ListObj&) = delete;
  std::vector<Value> items;
};
// Insertion-ordered; small dictionaries only, so lookup is linear.
struct DictObj : Obj {
  DictObj() : Obj(Kind::dict) {}
  ~DictObj() override {
    std::vector<Value> flat;
    flat.reserve(items.size() * 2);
    for (auto& [k, v] : items) {
      flat.push_back(std::move(k));
      flat.push_back(std::move(v));
    }
    items.clear();
    bury(flat);
  }
  DictObj(const DictObj&) = delete;
  DictObj& operator=(const DictObj&) = delete;
  std::vector<std::pair<Value, Value>> items;
};
struct RangeObj : Obj {
  RangeObj(std::int64_t a, std::int64_t b, std::int64_t s) : Obj(Kind::range), start(a), stop(b), step(s) {}
  std::int64_t start, stop, step;
};

// Positional and keyword arguments of a call.
struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
  const Value* keyword(const std::string& name) const {
    for (const auto& [k, v] : kw)
      if (k == name) return &v;
    return nullptr;
  }
};
using NativeFn = std::function<Value(Interp&, Args&)>;

struct BuiltinObj : Obj {
  BuiltinObj(std::string n, NativeFn f) : Obj(Kind::builtin), name(std::move(n)), fn(std::move(f)) {}
  std::string name;
  NativeFn fn;
};

// Attribute tables: modules and native objects. The type name is what repr and error messages show.
struct AttrObj : Obj {
  AttrObj(Kind k, std::string type) : Obj(k), type_name(std::move(type)) {}
  std::string type_name;
  std::map<std::string, Value> attrs;
  // Optional custom repr, e.g. "<io.TextIOWrapper 3ffe8e40>".
  std::function<std::string()> repr;
};
struct ModuleObj : AttrObj {
  explicit ModuleObj(std::string n) : AttrObj(Kind::module, "module"), name(std::move(n)) {}
  std::string name;
};
struct NativeObj : AttrObj {
  explicit NativeObj(std::string type) : AttrObj(Kind::object, std::move(type)) {}
};

struct ExcTypeObj : Obj {
  ExcTypeObj(std::string n, std::shared_ptr<ExcTypeObj> b)
      : Obj(Kind::exc_type), name(std::move(n)), base(std::move(b)) {}
  std::string name;
  std::shared_ptr<ExcTypeObj> base;
  bool is_subclass_of(const ExcTypeObj& other) const {
    for (const ExcTypeObj* t = this; t; t = t->base.get())
      if (t == &other) return true;
    return false;
  }
};

struct TracebackEntry {
  std::string file;
  int line = 0;
  std::string block;  // "<module>" or the function's name
};

struct ExcObj : Obj {
  ExcObj(std::shared_ptr<ExcTypeObj> t, std::vector<Value> a)
      : Obj(Kind::exception), type(std::move(t)), args(std::move(a)) {}
  std::shared_ptr<ExcTypeObj> type;
  std::vector<Value> args;
  std::vector<TracebackEntry> traceback;  // innermost first
  bool syntax_error_frame = false;        // SyntaxError frames print without ", in <module>"
};

// A Python exception travelling through C++ frames. Only this is caught by try/except; a hard reset of
// the chip is a different C++ type and unwinds through everything.
class PyException : public std::exception {
 public:
  explicit PyException(std::shared_ptr<ExcObj> e) : exc(std::move(e)) {}
  const char* what() const noexcept override { return "python exception"; }
  std::shared_ptr<ExcObj> exc;
  // The frame that last recorded a traceback line, so outer statements of one frame do not add lines.
  const void* recorded_by = nullptr;
};

// Constructors for common values.
Value none();
Value boolean(bool b);
Value integer(std::int64_t v);
Value floating(double v);
Value str(std::string s);
Value bytes(std::string s);
Value tuple(std::vector<Value> v);
Value list(std::vector<Value> v = {});

bool is_none(const Value& v);
// Typed views; nullptr when the value is of another kind.
template <typename T>
T* as(const Value& v) {
  return dynamic_cast<T*>(v.get());
}

}  // namespace bootrig::sim::py
