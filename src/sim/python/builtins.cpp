// Built-in functions, methods of the built-in types, printing and formatting, MicroPython's wording.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "sim/python/interp.hpp"

namespace bootrig::sim::py {

namespace {

const char* errno_name(std::int64_t e) {
  switch (e) {
    case 1:
      return "EPERM";
    case 2:
      return "ENOENT";
    case 5:
      return "EIO";
    case 9:
      return "EBADF";
    case 11:
      return "EAGAIN";
    case 12:
      return "ENOMEM";
    case 13:
      return "EACCES";
    case 17:
      return "EEXIST";
    case 19:
      return "ENODEV";
    case 20:
      return "ENOTDIR";
    case 21:
      return "EISDIR";
    case 22:
      return "EINVAL";
    case 28:
      return "ENOSPC";
    case 39:
      return "ENOTEMPTY";
    case 110:
      return "ETIMEDOUT";
    case 115:
      return "EINPROGRESS";
    default:
      return nullptr;
  }
}

// Offsets of each code point of a UTF-8 string, plus the end; MicroPython's str indexes by character.
std::vector<std::size_t> code_points(const std::string& s) {
  std::vector<std::size_t> out;
  out.reserve(s.size() + 1);
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) out.push_back(i);
  out.push_back(s.size());
  return out;
}

struct SliceIdx {
  std::int64_t start, stop, step;
};

bool is_slice(const Value& v) {
  auto* t = as<TupleObj>(v);
  return t && t->fields.size() == 1 && t->fields[0] == "<slice>";
}

std::string pad(const std::string& s, int width, char align, char fill) {
  // Width counts characters, not bytes.
  int len = static_cast<int>(code_points(s).size() - 1);
  if (width <= len) return s;
  int n = width - len;
  if (align == '<') return s + std::string(static_cast<std::size_t>(n), fill);
  if (align == '^')
    return std::string(static_cast<std::size_t>(n / 2), fill) + s +
           std::string(static_cast<std::size_t>(n - n / 2), fill);
  return std::string(static_cast<std::size_t>(n), fill) + s;
}

}  // namespace

std::string format_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.7g", v);
  std::string s = buf;
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string repr_str(const std::string& s) {
  char q = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, q);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (ch == q || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += ch;
    }
  }
  out += q;
  return out;
}

std::string repr_bytes(const std::string& s) {
  char q = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out = "b";
  out += q;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (ch == q || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7F) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += ch;
    }
  }
  out += q;
  return out;
}

std::string Interp::type_name(const Value& v) const {
  switch (v->kind) {
    case Kind::none:
      return "NoneType";
    case Kind::boolean:
      return "bool";
    case Kind::integer:
      return "int";
    case Kind::floating:
      return "float";
    case Kind::str:
      return "str";
    case Kind::bytes:
      return static_cast<const BytesObj&>(*v).is_bytearray ? "bytearray" : "bytes";
    case Kind::tuple:
      return "tuple";
    case Kind::list:
      return "list";
    case Kind::dict:
      return "dict";
    case Kind::range:
      return "range";
    case Kind::module:
      return "module";
    case Kind::builtin:
    case Kind::function:
      return "function";
    case Kind::exc_type:
      return "type";
    case Kind::exception:
      return static_cast<const ExcObj&>(*v).type->name;
    case Kind::object:
      return static_cast<const NativeObj&>(*v).type_name;
  }
  return "object";
}

std::string Interp::exc_text(const ExcObj& e) const {
  if (e.args.empty()) return "";
  if (e.type->name == "OSError" && e.args.size() == 1) {
    if (auto* i = as<IntObj>(e.args[0])) {
      if (const char* n = errno_name(i->value)) return "[Errno " + std::to_string(i->value) + "] " + n;
    }
  }
  if (e.args.size() == 1) return to_str(e.args[0]);
  return repr(tuple(e.args));
}

// Containers nest (and can contain themselves): printing and comparing them recurse, so the depth is
// bounded and too deep a structure is a RuntimeError, never a host stack overflow.
class DepthGuard {
 public:
  explicit DepthGuard(const Interp& in) {
    if (++depth_ > 200) {
      --depth_;
      in.raise("RuntimeError", "maximum recursion depth exceeded");
    }
  }
  ~DepthGuard() { --depth_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;

 private:
  static thread_local int depth_;
};
thread_local int DepthGuard::depth_ = 0;

std::string Interp::repr(const Value& v) const {
  DepthGuard guard(*this);
  switch (v->kind) {
    case Kind::none:
      return "None";
    case Kind::boolean:
      return static_cast<const BoolObj&>(*v).value ? "True" : "False";
    case Kind::integer:
      return std::to_string(static_cast<const IntObj&>(*v).value);
    case Kind::floating:
      return format_float(static_cast<const FloatObj&>(*v).value);
    case Kind::str:
      return repr_str(static_cast<const StrObj&>(*v).value);
    case Kind::bytes: {
      auto& b = static_cast<const BytesObj&>(*v);
      return b.is_bytearray ? "bytearray(" + repr_bytes(b.value) + ")" : repr_bytes(b.value);
    }
    case Kind::tuple: {
      auto& t = static_cast<const TupleObj&>(*v);
      std::string out = "(";
      bool named = t.fields.size() == t.items.size() && !t.fields.empty();
      for (std::size_t i = 0; i < t.items.size(); ++i) {
        if (i) out += ", ";
        if (named) out += t.fields[i] + "=";
        out += repr(t.items[i]);
      }
      if (t.items.size() == 1 && !named) out += ",";
      return out + ")";
    }
    case Kind::list: {
      std::string out = "[";
      const auto& items = static_cast<const ListObj&>(*v).items;
      for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + repr(items[i]);
      return out + "]";
    }
    case Kind::dict: {
      std::string out = "{";
      const auto& items = static_cast<const DictObj&>(*v).items;
      for (std::size_t i = 0; i < items.size(); ++i)
        out += (i ? ", " : "") + repr(items[i].first) + ": " + repr(items[i].second);
      return out + "}";
    }
    case Kind::range: {
      auto& r = static_cast<const RangeObj&>(*v);
      std::string out = "range(" + std::to_string(r.start) + ", " + std::to_string(r.stop);
      if (r.step != 1) out += ", " + std::to_string(r.step);
      return out + ")";
    }
    case Kind::module:
      return "<module '" + static_cast<const ModuleObj&>(*v).name + "'>";
    case Kind::builtin:
      return "<function " + static_cast<const BuiltinObj&>(*v).name + ">";
    case Kind::function:
      return "<function>";
    case Kind::exc_type:
      return "<class '" + static_cast<const ExcTypeObj&>(*v).name + "'>";
    case Kind::exception: {
      auto& e = static_cast<const ExcObj&>(*v);
      std::string out = e.type->name + "(";
      for (std::size_t i = 0; i < e.args.size(); ++i) out += (i ? ", " : "") + repr(e.args[i]);
      if (e.args.size() == 1) out += ",";
      return out + ")";
    }
    case Kind::object: {
      auto& o = static_cast<const NativeObj&>(*v);
      if (o.repr) return o.repr();
      return "<" + o.type_name + ">";
    }
  }
  return "<object>";
}

std::string Interp::to_str(const Value& v) const {
  if (auto* s = as<StrObj>(v)) return s->value;
  if (v->kind == Kind::exception) return exc_text(static_cast<const ExcObj&>(*v));
  return repr(v);
}

bool Interp::truthy(const Value& v) const {
  switch (v->kind) {
    case Kind::none:
      return false;
    case Kind::boolean:
      return static_cast<const BoolObj&>(*v).value;
    case Kind::integer:
      return static_cast<const IntObj&>(*v).value != 0;
    case Kind::floating:
      return static_cast<const FloatObj&>(*v).value != 0.0;
    case Kind::str:
      return !static_cast<const StrObj&>(*v).value.empty();
    case Kind::bytes:
      return !static_cast<const BytesObj&>(*v).value.empty();
    case Kind::tuple:
      return !static_cast<const TupleObj&>(*v).items.empty();
    case Kind::list:
      return !static_cast<const ListObj&>(*v).items.empty();
    case Kind::dict:
      return !static_cast<const DictObj&>(*v).items.empty();
    case Kind::range: {
      auto& r = static_cast<const RangeObj&>(*v);
      return r.step > 0 ? r.start < r.stop : r.start > r.stop;
    }
    default:
      return true;
  }
}

void Interp::check_args(const Args& a, std::size_t min, std::size_t max, const std::string& fn) const {
  (void)fn;
  if (a.pos.size() < min || a.pos.size() > max) {
    if (min == max)
      raise("TypeError", "function takes " + std::to_string(min) + " positional arguments but " +
                             std::to_string(a.pos.size()) + " were given");
    if (a.pos.size() < min)
      raise("TypeError",
            "function missing " + std::to_string(min - a.pos.size()) + " required positional arguments");
    raise("TypeError", "function expected at most " + std::to_string(max) + " arguments, got " +
                           std::to_string(a.pos.size()));
  }
}

std::int64_t Interp::as_int(const Value& v) const {
  if (auto* i = as<IntObj>(v)) return i->value;
  if (auto* b = as<BoolObj>(v)) return b->value ? 1 : 0;
  raise("TypeError", "can't convert " + type_name(v) + " to int");
}

double Interp::as_number(const Value& v) const {
  if (auto* f = as<FloatObj>(v)) return f->value;
  if (auto* i = as<IntObj>(v)) return static_cast<double>(i->value);
  if (auto* b = as<BoolObj>(v)) return b->value ? 1.0 : 0.0;
  raise("TypeError", "can't convert " + type_name(v) + " to float");
}

const std::string& Interp::as_text(const Value& v) const {
  if (auto* s = as<StrObj>(v)) return s->value;
  raise("TypeError", "can't convert '" + type_name(v) + "' object to str implicitly");
}

const std::string& Interp::as_buffer(const Value& v) const {
  if (auto* b = as<BytesObj>(v)) return b->value;
  if (auto* s = as<StrObj>(v)) return s->value;
  raise("TypeError", "object with buffer protocol required");
}

Value Interp::make_fn(const std::string& name, NativeFn fn) const {
  return std::make_shared<BuiltinObj>(name, std::move(fn));
}

// ---------------------------------------------------------------------------------------------------
// Iteration, attributes, subscripts

void Interp::for_each(const Value& v, const std::function<bool(const Value&)>& fn) {
  switch (v->kind) {
    case Kind::list: {
      auto l = std::static_pointer_cast<ListObj>(v);
      for (std::size_t i = 0; i < l->items.size(); ++i)
        if (!fn(l->items[i])) return;
      return;
    }
    case Kind::tuple: {
      auto t = std::static_pointer_cast<TupleObj>(v);
      for (const auto& x : t->items)
        if (!fn(x)) return;
      return;
    }
    case Kind::dict: {
      auto keys = std::static_pointer_cast<DictObj>(v)->items;
      for (const auto& kv : keys)
        if (!fn(kv.first)) return;
      return;
    }
    case Kind::range: {
      auto& r = static_cast<const RangeObj&>(*v);
      for (std::int64_t i = r.start; r.step > 0 ? i < r.stop : i > r.stop; i += r.step)
        if (!fn(integer(i))) return;
      return;
    }
    case Kind::str: {
      std::string s = static_cast<const StrObj&>(*v).value;
      auto cp = code_points(s);
      for (std::size_t i = 0; i + 1 < cp.size(); ++i)
        if (!fn(str(s.substr(cp[i], cp[i + 1] - cp[i])))) return;
      return;
    }
    case Kind::bytes: {
      std::string s = static_cast<const BytesObj&>(*v).value;
      for (char c : s)
        if (!fn(integer(static_cast<unsigned char>(c)))) return;
      return;
    }
    case Kind::object: {
      auto& o = static_cast<NativeObj&>(*v);
      auto it = o.attrs.find("__iter_values__");
      if (it != o.attrs.end()) {
        Args a;
        Value items = call(it->second, a);
        for_each(items, fn);
        return;
      }
      break;
    }
    default:
      break;
  }
  raise("TypeError", "'" + type_name(v) + "' object isn't iterable");
}

std::vector<Value> Interp::to_vector(const Value& v) {
  if (auto* l = as<ListObj>(v)) return l->items;
  if (auto* t = as<TupleObj>(v)) return t->items;
  std::vector<Value> out;
  for_each(v, [&](const Value& x) {
    out.push_back(x);
    if (out.size() > 1'000'000) raise("MemoryError", "memory allocation failed");
    return true;
  });
  return out;
}

Value Interp::get_attr(const Value& obj, const std::string& name) {
  if (auto* ao = dynamic_cast<AttrObj*>(obj.get())) {
    auto it = ao->attrs.find(name);
    if (it != ao->attrs.end()) return it->second;
    if (obj->kind == Kind::module && name == "__name__") return str(static_cast<ModuleObj&>(*obj).name);
    raise("AttributeError", "'" + type_name(obj) + "' object has no attribute '" + name + "'");
  }
  if (auto* e = as<ExcObj>(obj)) {
    if (name == "__class__") return e->type;
    if (name == "args") return tuple(e->args);
    if (name == "errno" && e->type->name == "OSError") return e->args.empty() ? none() : e->args[0];
    if (name == "value" && e->type->name == "SystemExit") return e->args.empty() ? none() : e->args[0];
  }
  if (auto* t = as<ExcTypeObj>(obj); t && name == "__name__") return str(t->name);
  return method(obj, name);
}

namespace {
SliceIdx slice_indices(const Interp& in, const Value& sl, std::int64_t len) {
  auto& parts = static_cast<const TupleObj&>(*sl).items;
  std::int64_t step = is_none(parts[2]) ? 1 : in.as_int(parts[2]);
  if (step == 0) in.raise("ValueError", "slice step cannot be zero");
  auto clamp = [&](const Value& v, std::int64_t dflt) {
    if (is_none(v)) return dflt;
    std::int64_t i = in.as_int(v);
    if (i < 0) i += len;
    if (step > 0) return std::clamp<std::int64_t>(i, 0, len);
    return std::clamp<std::int64_t>(i, -1, len - 1);
  };
  std::int64_t start = clamp(parts[0], step > 0 ? 0 : len - 1);
  std::int64_t stop = clamp(parts[1], step > 0 ? len : -1);
  return SliceIdx{start, stop, step};
}

template <typename F>
void walk(const SliceIdx& s, F f) {
  for (std::int64_t i = s.start; s.step > 0 ? i < s.stop : i > s.stop; i += s.step) f(i);
}
}  // namespace

Value Interp::subscript(const Value& obj, const Value& index) {
  auto norm = [&](std::int64_t len, const char* what) {
    std::int64_t i = as_int(index);
    if (i < 0) i += len;
    if (i < 0 || i >= len) raise("IndexError", std::string(what) + " index out of range");
    return static_cast<std::size_t>(i);
  };
  switch (obj->kind) {
    case Kind::list:
    case Kind::tuple: {
      const auto& items = obj->kind == Kind::list ? as<ListObj>(obj)->items : as<TupleObj>(obj)->items;
      if (is_slice(index)) {
        std::vector<Value> out;
        walk(slice_indices(*this, index, static_cast<std::int64_t>(items.size())),
             [&](std::int64_t i) { out.push_back(items[static_cast<std::size_t>(i)]); });
        return obj->kind == Kind::list ? list(std::move(out)) : tuple(std::move(out));
      }
      return items[norm(static_cast<std::int64_t>(items.size()), obj->kind == Kind::list ? "list" : "tuple")];
    }
    case Kind::str: {
      const std::string& s = as<StrObj>(obj)->value;
      auto cp = code_points(s);
      auto n = static_cast<std::int64_t>(cp.size() - 1);
      if (is_slice(index)) {
        std::string out;
        walk(slice_indices(*this, index, n), [&](std::int64_t i) {
          auto k = static_cast<std::size_t>(i);
          out += s.substr(cp[k], cp[k + 1] - cp[k]);
        });
        return str(out);
      }
      std::size_t k = norm(n, "string");
      return str(s.substr(cp[k], cp[k + 1] - cp[k]));
    }
    case Kind::bytes: {
      auto* b = as<BytesObj>(obj);
      if (is_slice(index)) {
        std::string out;
        walk(slice_indices(*this, index, static_cast<std::int64_t>(b->value.size())),
             [&](std::int64_t i) { out += b->value[static_cast<std::size_t>(i)]; });
        return std::make_shared<BytesObj>(out, b->is_bytearray);
      }
      return integer(
          static_cast<unsigned char>(b->value[norm(static_cast<std::int64_t>(b->value.size()), "bytes")]));
    }
    case Kind::dict: {
      for (const auto& kv : as<DictObj>(obj)->items)
        if (equal(kv.first, index)) return kv.second;
      throw make_error("KeyError", std::vector<Value>{index});
    }
    case Kind::range: {
      auto* r = as<RangeObj>(obj);
      std::int64_t len = 0;
      if (r->step > 0 && r->stop > r->start) len = (r->stop - r->start + r->step - 1) / r->step;
      if (r->step < 0 && r->stop < r->start) len = (r->start - r->stop - r->step - 1) / -r->step;
      return integer(r->start + static_cast<std::int64_t>(norm(len, "range")) * r->step);
    }
    default:
      raise("TypeError", "'" + type_name(obj) + "' object isn't subscriptable");
  }
}

void Interp::store_subscript(const Value& obj, const Value& index, const Value& v) {
  if (auto* l = as<ListObj>(obj)) {
    if (is_slice(index))
      raise("NotImplementedError", "slice assignment is not supported by the bootrig simulator");
    std::int64_t i = as_int(index);
    auto n = static_cast<std::int64_t>(l->items.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) raise("IndexError", "list index out of range");
    l->items[static_cast<std::size_t>(i)] = v;
    return;
  }
  if (auto* d = as<DictObj>(obj)) {
    for (auto& kv : d->items)
      if (equal(kv.first, index)) {
        kv.second = v;
        return;
      }
    d->items.emplace_back(index, v);
    return;
  }
  if (auto* b = as<BytesObj>(obj); b && b->is_bytearray) {
    std::int64_t i = as_int(index);
    auto n = static_cast<std::int64_t>(b->value.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) raise("IndexError", "bytearray index out of range");
    std::int64_t c = as_int(v);
    if (c < 0 || c > 255) raise("ValueError", "byte must be in range(0, 256)");
    b->value[static_cast<std::size_t>(i)] = static_cast<char>(c);
    return;
  }
  raise("TypeError", "'" + type_name(obj) + "' object doesn't support item assignment");
}

// ---------------------------------------------------------------------------------------------------
// Formatting

namespace {

struct Spec {
  char fill = ' ';
  char align = 0;
  char sign = '-';
  bool zero = false;
  int width = -1;
  int precision = -1;
  char type = 0;
};

Spec parse_spec(const Interp& in, const std::string& s) {
  Spec sp;
  std::size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (s.size() >= 2 && is_align(s[1])) {
    sp.fill = s[0];
    sp.align = s[1];
    i = 2;
  } else if (!s.empty() && is_align(s[0])) {
    sp.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) sp.sign = s[i++];
  if (i < s.size() && s[i] == '0') {
    sp.zero = true;
    ++i;
  }
  if (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    sp.width = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      sp.width = sp.width * 10 + (s[i++] - '0');
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    sp.precision = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      sp.precision = sp.precision * 10 + (s[i++] - '0');
  }
  if (i < s.size()) sp.type = s[i++];
  if (i != s.size() || sp.width > 1000 || sp.precision > 100)
    in.raise("ValueError", "invalid format specifier");
  return sp;
}

std::string format_number(const Interp& in, const Value& v, const Spec& sp) {
  char t = sp.type;
  std::string body;
  bool neg = false;
  bool is_float = v->kind == Kind::floating;
  if (t == 0) t = is_float ? 'g' : 'd';
  if (t == 'd' || t == 'x' || t == 'X' || t == 'o' || t == 'b' || t == 'c') {
    if (is_float)
      in.raise("ValueError", "unknown format code '" + std::string(1, t) + "' for object of type 'float'");
    std::int64_t i = in.as_int(v);
    if (t == 'c') return std::string(1, static_cast<char>(i));
    neg = i < 0;
    std::uint64_t u =
        neg ? static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(i) : static_cast<std::uint64_t>(i);
    if (t == 'd') {
      body = std::to_string(u);
    } else {
      int base = t == 'o' ? 8 : t == 'b' ? 2 : 16;
      const char* digits = t == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
      do {
        body.insert(body.begin(), digits[u % static_cast<unsigned>(base)]);
        u /= static_cast<unsigned>(base);
      } while (u);
    }
  } else if (t == 'f' || t == 'F' || t == 'e' || t == 'E' || t == 'g' || t == 'G' || t == '%') {
    double d = in.as_number(v);
    if (t == '%') d *= 100;
    neg = std::signbit(d) && d != 0;
    int prec = sp.precision < 0 ? 6 : sp.precision;
    char buf[512];
    double x = std::fabs(d);
    switch (t) {
      case 'e':
        std::snprintf(buf, sizeof buf, "%.*e", prec, x);
        break;
      case 'E':
        std::snprintf(buf, sizeof buf, "%.*E", prec, x);
        break;
      case 'g':
        std::snprintf(buf, sizeof buf, "%.*g", prec, x);
        break;
      case 'G':
        std::snprintf(buf, sizeof buf, "%.*G", prec, x);
        break;
      case 'F':
        std::snprintf(buf, sizeof buf, "%.*F", prec, x);
        break;
      default:
        std::snprintf(buf, sizeof buf, "%.*f", prec, x);
        break;
    }
    body = buf;
    if (t == '%') body += '%';
    if (sp.type == 0 && sp.precision < 0) body = format_float(std::fabs(d));
  } else {
    in.raise("ValueError", "unknown format code '" + std::string(1, t) + "'");
  }
  std::string sign = neg ? "-" : sp.sign == '+' ? "+" : sp.sign == ' ' ? " " : "";
  if (sp.zero && sp.width > 0 && !sp.align) {
    int n = sp.width - static_cast<int>(sign.size() + body.size());
    if (n > 0) body = std::string(static_cast<std::size_t>(n), '0') + body;
    return sign + body;
  }
  return pad(sign + body, sp.width, sp.align ? sp.align : '>', sp.fill);
}

std::string apply_spec(Interp& in, const Value& v, const std::string& spec) {
  if (spec.empty()) return in.to_str(v);
  Spec sp = parse_spec(in, spec);
  if (v->kind == Kind::integer || v->kind == Kind::floating || v->kind == Kind::boolean) {
    if (sp.type == 's')
      in.raise("ValueError", "unknown format code 's' for object of type '" + in.type_name(v) + "'");
    return format_number(in, v, sp);
  }
  std::string s = in.to_str(v);
  if (sp.precision >= 0 && static_cast<std::size_t>(sp.precision) < s.size())
    s = s.substr(0, static_cast<std::size_t>(sp.precision));
  return pad(s, sp.width, sp.align ? sp.align : '<', sp.fill);
}

}  // namespace

Value Interp::percent_format(const std::string& fmt, const Value& argv) {
  std::vector<Value> args;
  if (auto* t = as<TupleObj>(argv))
    args = t->items;
  else
    args.push_back(argv);
  std::size_t ai = 0;
  std::string out;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) raise("ValueError", "incomplete format");
    if (fmt[i] == '%') {
      out += '%';
      continue;
    }
    Spec sp;
    while (i < fmt.size() && std::string("-+ 0#").find(fmt[i]) != std::string::npos) {
      if (fmt[i] == '-') sp.align = '<';
      if (fmt[i] == '0') sp.zero = true;
      if (fmt[i] == '+') sp.sign = '+';
      if (fmt[i] == ' ') sp.sign = ' ';
      ++i;
    }
    auto number = [&]() {
      int n = 0;
      while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])))
        n = n * 10 + (fmt[i++] - '0');
      return std::min(n, 1000);
    };
    if (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i]))) sp.width = number();
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      sp.precision = number();
    }
    if (i >= fmt.size()) raise("ValueError", "incomplete format");
    char c = fmt[i];
    if (ai >= args.size()) raise("TypeError", "format string needs more arguments");
    const Value& a = args[ai++];
    if (sp.zero && sp.align) sp.zero = false;
    if (c == 's' || c == 'r') {
      std::string s = c == 's' ? to_str(a) : repr(a);
      if (sp.precision >= 0 && static_cast<std::size_t>(sp.precision) < s.size())
        s = s.substr(0, static_cast<std::size_t>(sp.precision));
      out += pad(s, sp.width, sp.align ? '<' : '>', ' ');
    } else if (c == 'd' || c == 'i' || c == 'u' || c == 'x' || c == 'X' || c == 'o' || c == 'c' || c == 'f' ||
               c == 'F' || c == 'e' || c == 'E' || c == 'g' || c == 'G') {
      sp.type = (c == 'i' || c == 'u') ? 'd' : c;
      Value num = a;
      if (sp.type == 'd' && a->kind == Kind::floating) num = integer(static_cast<std::int64_t>(as_number(a)));
      if (sp.type == 'c' && a->kind == Kind::str) {
        out += as<StrObj>(a)->value;
        continue;
      }
      if (a->kind != Kind::integer && a->kind != Kind::floating && a->kind != Kind::boolean)
        raise("TypeError", "%" + std::string(1, c) + " format requires a number, not " + type_name(a));
      out += format_number(*this, num, sp);
    } else {
      raise("ValueError", "unsupported format character '" + std::string(1, c) + "'");
    }
  }
  if (ai < args.size()) raise("TypeError", "format string didn't convert all arguments");
  return str(out);
}

Value Interp::str_format(const std::string& fmt, Args& args) {
  std::string out;
  std::size_t auto_index = 0;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    std::size_t close = fmt.find('}', i);
    if (close == std::string::npos) raise("ValueError", "unmatched '{' in format");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close;
    std::string spec, conv;
    if (auto colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    if (auto bang = field.find('!'); bang != std::string::npos) {
      conv = field.substr(bang + 1);
      field = field.substr(0, bang);
    }
    Value v;
    if (field.empty()) {
      if (auto_index >= args.pos.size()) raise("IndexError", "tuple index out of range");
      v = args.pos[auto_index++];
    } else if (std::isdigit(static_cast<unsigned char>(field[0]))) {
      std::size_t k = static_cast<std::size_t>(std::strtoul(field.c_str(), nullptr, 10));
      if (k >= args.pos.size()) raise("IndexError", "tuple index out of range");
      v = args.pos[k];
    } else {
      const Value* kv = args.keyword(field);
      if (!kv) throw make_error("KeyError", std::vector<Value>{str(field)});
      v = *kv;
    }
    if (conv == "r")
      v = str(repr(v));
    else if (conv == "s")
      v = str(to_str(v));
    out += apply_spec(*this, v, spec);
  }
  return str(out);
}

// ---------------------------------------------------------------------------------------------------
// Methods of the built-in types

Value Interp::method(const Value& self, const std::string& name) {
  auto bind = [&](NativeFn fn) { return make_fn(name, std::move(fn)); };
  auto no_attr = [&]() -> Value {
    raise("AttributeError", "'" + type_name(self) + "' object has no attribute '" + name + "'");
  };
  auto split_ws = [](const std::string& s, std::int64_t maxsplit) {
    std::vector<Value> out;
    std::size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      if (i >= s.size()) break;
      if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) == maxsplit) {
        std::string rest = s.substr(i);
        while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) rest.pop_back();
        out.push_back(str(rest));
        return out;
      }
      std::size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      out.push_back(str(s.substr(i, j - i)));
      i = j;
    }
    return out;
  };

  if (self->kind == Kind::str || self->kind == Kind::bytes) {
    bool is_str = self->kind == Kind::str;
    const std::string s = is_str ? as<StrObj>(self)->value : as<BytesObj>(self)->value;
    auto same = [is_str](std::string v) { return is_str ? str(std::move(v)) : bytes(std::move(v)); };
    auto arg_text = [this, is_str](const Value& v) -> const std::string& {
      return is_str ? as_text(v) : as_buffer(v);
    };
    if (name == "startswith" || name == "endswith") {
      return bind([=](Interp& in, Args& a) {
        in.check_args(a, 1, 1, name);
        const std::string& p = arg_text(a.pos[0]);
        if (name == "startswith") return boolean(s.compare(0, p.size(), p) == 0);
        return boolean(s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0);
      });
    }
    if (name == "strip" || name == "lstrip" || name == "rstrip") {
      return bind([=](Interp& in, Args& a) {
        in.check_args(a, 0, 1, name);
        std::string chars =
            (a.pos.empty() || is_none(a.pos[0])) ? std::string(" \t\n\r\f\v") : arg_text(a.pos[0]);
        std::size_t b = 0, e = s.size();
        if (name != "rstrip")
          while (b < e && chars.find(s[b]) != std::string::npos) ++b;
        if (name != "lstrip")
          while (e > b && chars.find(s[e - 1]) != std::string::npos) --e;
        return same(s.substr(b, e - b));
      });
    }
    if (name == "split") {
      return bind([=](Interp& in, Args& a) {
        in.check_args(a, 0, 2, name);
        std::int64_t maxsplit = a.pos.size() > 1 ? in.as_int(a.pos[1]) : -1;
        if (a.pos.empty() || is_none(a.pos[0])) {
          auto parts = split_ws(s, maxsplit);
          if (!is_str)
            for (auto& p : parts) p = bytes(as<StrObj>(p)->value);
          return list(std::move(parts));
        }
        const std::string& sep = arg_text(a.pos[0]);
        if (sep.empty()) in.raise("ValueError", "empty separator");
        std::vector<Value> out;
        std::size_t start = 0;
        for (;;) {
          if (maxsplit >= 0 && static_cast<std::int64_t>(out.size()) == maxsplit) break;
          std::size_t p = s.find(sep, start);
          if (p == std::string::npos) break;
          out.push_back(same(s.substr(start, p - start)));
          start = p + sep.size();
        }
        out.push_back(same(s.substr(start)));
        return list(std::move(out));
      });
    }
    if (name == "splitlines") {
      return bind([=](Interp&, Args&) {
        std::vector<Value> out;
        std::size_t start = 0;
        for (std::size_t i = 0; i < s.size(); ++i) {
          if (s[i] == '\n' || s[i] == '\r') {
            out.push_back(same(s.substr(start, i - start)));
            if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
            start = i + 1;
          }
        }
        if (start < s.size()) out.push_back(same(s.substr(start)));
        return list(std::move(out));
      });
    }
    if (name == "join") {
      return bind([=](Interp& in, Args& a) {
        in.check_args(a, 1, 1, name);
        std::string out;
        bool first = true;
        in.for_each(a.pos[0], [&](const Value& v) {
          if (!first) out += s;
          first = false;
          if (is_str && v->kind != Kind::str)
            in.raise("TypeError", "join expects a list of str/bytes objects consistent with self object");
          if (!is_str && v->kind != Kind::bytes)
            in.raise("TypeError", "join expects a list of str/bytes objects consistent with self object");
          out += in.as_buffer(v);
          return true;
        });
        return same(out);
      });
    }
    if (name == "replace") {
      return bind([=](Interp& in, Args& a) {
        in.check_args(a, 2, 3, name);
        const std::string& from = arg_text(a.pos[0]);
        const std::string& to = arg_text(a.pos[1]);
        std::int64_t count = a.pos.size() > 2 ? in.as_int(a.pos[2]) : -1;
        if (from.empty()) return same(s);
        std::string out;
        std::size_t start = 0;
        while (count != 0) {
          std::size_t p = s.find(from, start);
          if (p == std::string::npos) break;
          out += s.substr(start, p - start) + to;
          start = p + from.size();
          --count;
        }
        return same(out + s.substr(start));
      });
    }
    if (name == "find" || name == "index" || name == "rfind" || name == "count") {
      return bind([=](Interp& in, Args& a) {
        in.check_args(a, 1, 1, name);
        const std::string& p = arg_text(a.pos[0]);
        if (name == "count") {
          if (p.empty()) return integer(static_cast<std::int64_t>(s.size() + 1));
          std::int64_t n = 0;
          for (std::size_t k = s.find(p); k != std::string::npos; k = s.find(p, k + p.size())) ++n;
          return integer(n);
        }
        std::size_t k = name == "rfind" ? s.rfind(p) : s.find(p);
        if (k == std::string::npos) {
          if (name == "index") in.raise("ValueError", "substring not found");
          return integer(-1);
        }
        return integer(static_cast<std::int64_t>(k));
      });
    }
    if (name == "upper" || name == "lower") {
      return bind([=](Interp&, Args&) {
        std::string out = s;
        for (auto& c : out)
          c = static_cast<char>(name == "upper" ? std::toupper(static_cast<unsigned char>(c))
                                                : std::tolower(static_cast<unsigned char>(c)));
        return same(out);
      });
    }
    if (name == "isdigit" || name == "isalpha" || name == "isspace") {
      return bind([=](Interp&, Args&) {
        if (s.empty()) return boolean(false);
        for (char c : s) {
          auto u = static_cast<unsigned char>(c);
          bool ok = name == "isdigit"   ? std::isdigit(u) != 0
                    : name == "isalpha" ? std::isalpha(u) != 0
                                        : std::isspace(u) != 0;
          if (!ok) return boolean(false);
        }
        return boolean(true);
      });
    }
    if (is_str && name == "encode") return bind([=](Interp&, Args&) { return bytes(s); });
    if (is_str && name == "format") return bind([=](Interp& in, Args& a) { return in.str_format(s, a); });
    if (!is_str && name == "decode") return bind([=](Interp&, Args&) { return str(s); });
    if (!is_str && name == "hex") {
      return bind([=](Interp&, Args&) {
        std::string out;
        char b[4];
        for (char c : s) {
          std::snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(c));
          out += b;
        }
        return str(out);
      });
    }
    if (!is_str && name == "append" && as<BytesObj>(self)->is_bytearray) {
      return bind([self](Interp& in, Args& a) {
        in.check_args(a, 1, 1, "append");
        std::int64_t c = in.as_int(a.pos[0]);
        if (c < 0 || c > 255) in.raise("ValueError", "byte must be in range(0, 256)");
        as<BytesObj>(self)->value += static_cast<char>(c);
        return none();
      });
    }
    if (!is_str && name == "extend" && as<BytesObj>(self)->is_bytearray) {
      return bind([self](Interp& in, Args& a) {
        in.check_args(a, 1, 1, "extend");
        as<BytesObj>(self)->value += in.as_buffer(a.pos[0]);
        return none();
      });
    }
    return no_attr();
  }

  if (auto* l = as<ListObj>(self)) {
    (void)l;
    auto lp = std::static_pointer_cast<ListObj>(self);
    if (name == "append")
      return bind([lp](Interp& in, Args& a) {
        in.check_args(a, 1, 1, "append");
        lp->items.push_back(a.pos[0]);
        return none();
      });
    if (name == "extend")
      return bind([lp](Interp& in, Args& a) {
        in.check_args(a, 1, 1, "extend");
        auto v = in.to_vector(a.pos[0]);
        lp->items.insert(lp->items.end(), v.begin(), v.end());
        return none();
      });
    if (name == "insert")
      return bind([lp](Interp& in, Args& a) {
        in.check_args(a, 2, 2, "insert");
        auto n = static_cast<std::int64_t>(lp->items.size());
        std::int64_t i = in.as_int(a.pos[0]);
        if (i < 0) i = std::max<std::int64_t>(0, i + n);
        i = std::min(i, n);
        lp->items.insert(lp->items.begin() + i, a.pos[1]);
        return none();
      });
    if (name == "pop")
      return bind([lp](Interp& in, Args& a) {
        in.check_args(a, 0, 1, "pop");
        if (lp->items.empty()) in.raise("IndexError", "pop from empty list");
        auto n = static_cast<std::int64_t>(lp->items.size());
        std::int64_t i = a.pos.empty() ? n - 1 : in.as_int(a.pos[0]);
        if (i < 0) i += n;
        if (i < 0 || i >= n) in.raise("IndexError", "list index out of range");
        Value v = lp->items[static_cast<std::size_t>(i)];
        lp->items.erase(lp->items.begin() + i);
        return v;
      });
    if (name == "remove" || name == "index" || name == "count")
      return bind([lp, name](Interp& in, Args& a) {
        in.check_args(a, 1, 1, name);
        std::int64_t n = 0;
        for (std::size_t i = 0; i < lp->items.size(); ++i) {
          if (!in.equal(lp->items[i], a.pos[0])) continue;
          if (name == "remove") {
            lp->items.erase(lp->items.begin() + static_cast<std::ptrdiff_t>(i));
            return none();
          }
          if (name == "index") return integer(static_cast<std::int64_t>(i));
          ++n;
        }
        if (name == "count") return integer(n);
        in.raise("ValueError", "object not in sequence");
      });
    if (name == "clear")
      return bind([lp](Interp&, Args&) {
        lp->items.clear();
        return none();
      });
    if (name == "reverse")
      return bind([lp](Interp&, Args&) {
        std::reverse(lp->items.begin(), lp->items.end());
        return none();
      });
    if (name == "sort")
      return bind([lp](Interp& in, Args& a) {
        const Value* rev = a.keyword("reverse");
        std::stable_sort(lp->items.begin(), lp->items.end(),
                         [&](const Value& x, const Value& y) { return in.compare("<", x, y); });
        if (rev && in.truthy(*rev)) std::reverse(lp->items.begin(), lp->items.end());
        return none();
      });
    return no_attr();
  }

  if (self->kind == Kind::tuple) {
    auto tp = std::static_pointer_cast<TupleObj>(self);
    for (std::size_t i = 0; i < tp->fields.size() && i < tp->items.size(); ++i)
      if (tp->fields[i] == name) return tp->items[i];
    if (name == "count" || name == "index")
      return bind([tp, name](Interp& in, Args& a) {
        in.check_args(a, 1, 1, name);
        std::int64_t n = 0;
        for (std::size_t i = 0; i < tp->items.size(); ++i)
          if (in.equal(tp->items[i], a.pos[0])) {
            if (name == "index") return integer(static_cast<std::int64_t>(i));
            ++n;
          }
        if (name == "index") in.raise("ValueError", "object not in sequence");
        return integer(n);
      });
    return no_attr();
  }

  if (self->kind == Kind::dict) {
    auto dp = std::static_pointer_cast<DictObj>(self);
    if (name == "get")
      return bind([dp](Interp& in, Args& a) {
        in.check_args(a, 1, 2, "get");
        for (const auto& kv : dp->items)
          if (in.equal(kv.first, a.pos[0])) return kv.second;
        return a.pos.size() > 1 ? a.pos[1] : none();
      });
    if (name == "keys" || name == "values" || name == "items")
      return bind([dp, name](Interp&, Args&) {
        std::vector<Value> out;
        for (const auto& kv : dp->items)
          out.push_back(name == "keys"     ? kv.first
                        : name == "values" ? kv.second
                                           : tuple({kv.first, kv.second}));
        return list(std::move(out));
      });
    if (name == "pop")
      return bind([dp](Interp& in, Args& a) {
        in.check_args(a, 1, 2, "pop");
        for (auto it = dp->items.begin(); it != dp->items.end(); ++it)
          if (in.equal(it->first, a.pos[0])) {
            Value v = it->second;
            dp->items.erase(it);
            return v;
          }
        if (a.pos.size() > 1) return a.pos[1];
        throw in.make_error("KeyError", std::vector<Value>{a.pos[0]});
      });
    if (name == "update")
      return bind([dp](Interp& in, Args& a) {
        in.check_args(a, 1, 1, "update");
        auto* other = as<DictObj>(a.pos[0]);
        if (!other) in.raise("TypeError", "dict.update needs a dict");
        auto copy = other->items;
        for (const auto& kv : copy) {
          bool done = false;
          for (auto& mine : dp->items)
            if (in.equal(mine.first, kv.first)) {
              mine.second = kv.second;
              done = true;
            }
          if (!done) dp->items.push_back(kv);
        }
        return none();
      });
    if (name == "clear")
      return bind([dp](Interp&, Args&) {
        dp->items.clear();
        return none();
      });
    if (name == "setdefault")
      return bind([dp](Interp& in, Args& a) {
        in.check_args(a, 1, 2, "setdefault");
        for (const auto& kv : dp->items)
          if (in.equal(kv.first, a.pos[0])) return kv.second;
        Value v = a.pos.size() > 1 ? a.pos[1] : none();
        dp->items.emplace_back(a.pos[0], v);
        return v;
      });
    return no_attr();
  }
  return no_attr();
}

// ---------------------------------------------------------------------------------------------------
// Built-in functions

void Interp::install_builtins() {
  auto def = [this](const std::string& name, NativeFn fn) { builtins_[name] = make_fn(name, std::move(fn)); };

  def("print", [](Interp& in, Args& a) {
    std::string sep = " ", end = "\n";
    if (const Value* v = a.keyword("sep"); v && !is_none(*v)) sep = in.as_text(*v);
    if (const Value* v = a.keyword("end"); v && !is_none(*v)) end = in.as_text(*v);
    std::string out;
    for (std::size_t i = 0; i < a.pos.size(); ++i) out += (i ? sep : "") + in.to_str(a.pos[i]);
    out += end;
    if (const Value* file = a.keyword("file"); file && !is_none(*file)) {
      Args w;
      w.pos.push_back(str(out));
      in.call(in.get_attr(*file, "write"), w);
      return none();
    }
    in.hooks().write(out);
    return none();
  });
  def("len", [](Interp& in, Args& a) {
    in.check_args(a, 1, 1, "len");
    const Value& v = a.pos[0];
    switch (v->kind) {
      case Kind::str:
        return integer(static_cast<std::int64_t>(code_points(as<StrObj>(v)->value).size() - 1));
      case Kind::bytes:
        return integer(static_cast<std::int64_t>(as<BytesObj>(v)->value.size()));
      case Kind::tuple:
        return integer(static_cast<std::int64_t>(as<TupleObj>(v)->items.size()));
      case Kind::list:
        return integer(static_cast<std::int64_t>(as<ListObj>(v)->items.size()));
      case Kind::dict:
        return integer(static_cast<std::int64_t>(as<DictObj>(v)->items.size()));
      case Kind::range: {
        auto* r = as<RangeObj>(v);
        std::int64_t n = 0;
        if (r->step > 0 && r->stop > r->start) n = (r->stop - r->start + r->step - 1) / r->step;
        if (r->step < 0 && r->stop < r->start) n = (r->start - r->stop - r->step - 1) / -r->step;
        return integer(n);
      }
      default:
        in.raise("TypeError", "object of type '" + in.type_name(v) + "' has no len()");
    }
  });
  def("str", [](Interp& in, Args& a) {
    in.check_args(a, 0, 3, "str");
    if (a.pos.empty()) return str("");
    if (a.pos.size() >= 2 && a.pos[0]->kind == Kind::bytes) return str(as<BytesObj>(a.pos[0])->value);
    return str(in.to_str(a.pos[0]));
  });
  def("repr", [](Interp& in, Args& a) {
    in.check_args(a, 1, 1, "repr");
    return str(in.repr(a.pos[0]));
  });
  def("int", [](Interp& in, Args& a) {
    in.check_args(a, 0, 2, "int");
    if (a.pos.empty()) return integer(0);
    const Value& v = a.pos[0];
    if (auto* f = as<FloatObj>(v)) {
      if (!std::isfinite(f->value) || std::fabs(f->value) > 9.2e18)
        in.raise("OverflowError", "can't convert float to int");
      return integer(static_cast<std::int64_t>(f->value));
    }
    if (auto* s = as<StrObj>(v)) {
      int base = a.pos.size() > 1 ? static_cast<int>(in.as_int(a.pos[1])) : 10;
      std::string t = s->value;
      while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
      std::size_t b = 0;
      while (b < t.size() && std::isspace(static_cast<unsigned char>(t[b]))) ++b;
      t = t.substr(b);
      char* endp = nullptr;
      errno = 0;
      long long r = t.empty() ? 0 : std::strtoll(t.c_str(), &endp, base == 0 ? 0 : base);
      if (t.empty() || *endp != '\0' || errno == ERANGE)
        in.raise("ValueError",
                 "invalid syntax for integer with base " + std::to_string(base) + ": " + repr_str(s->value));
      return integer(r);
    }
    return integer(in.as_int(v));
  });
  def("float", [](Interp& in, Args& a) {
    in.check_args(a, 0, 1, "float");
    if (a.pos.empty()) return floating(0);
    if (auto* s = as<StrObj>(a.pos[0])) {
      char* endp = nullptr;
      double d = std::strtod(s->value.c_str(), &endp);
      if (s->value.empty() || *endp != '\0') in.raise("ValueError", "invalid syntax for number");
      return floating(d);
    }
    return floating(in.as_number(a.pos[0]));
  });
  def("bool", [](Interp& in, Args& a) {
    in.check_args(a, 0, 1, "bool");
    return boolean(!a.pos.empty() && in.truthy(a.pos[0]));
  });
  auto make_bytes = [](Interp& in, Args& a, bool mutable_) -> Value {
    in.check_args(a, 0, 2, mutable_ ? "bytearray" : "bytes");
    std::string out;
    if (!a.pos.empty()) {
      const Value& v = a.pos[0];
      if (auto* s = as<StrObj>(v)) {
        out = s->value;
      } else if (auto* b = as<BytesObj>(v)) {
        out = b->value;
      } else if (v->kind == Kind::integer) {
        std::int64_t n = in.as_int(v);
        if (n < 0 || n > 1'000'000) in.raise("ValueError", "negative count");
        out.assign(static_cast<std::size_t>(n), '\0');
      } else {
        in.for_each(v, [&](const Value& x) {
          std::int64_t c = in.as_int(x);
          if (c < 0 || c > 255) in.raise("ValueError", "bytes must be in range(0, 256)");
          out += static_cast<char>(c);
          return true;
        });
      }
    }
    return std::make_shared<BytesObj>(out, mutable_);
  };
  def("bytes", [make_bytes](Interp& in, Args& a) { return make_bytes(in, a, false); });
  def("bytearray", [make_bytes](Interp& in, Args& a) { return make_bytes(in, a, true); });
  def("list", [](Interp& in, Args& a) {
    in.check_args(a, 0, 1, "list");
    return a.pos.empty() ? list() : list(in.to_vector(a.pos[0]));
  });
  def("tuple", [](Interp& in, Args& a) {
    in.check_args(a, 0, 1, "tuple");
    return a.pos.empty() ? tuple({}) : tuple(in.to_vector(a.pos[0]));
  });
  def("dict", [](Interp& in, Args& a) {
    in.check_args(a, 0, 0, "dict");
    auto d = std::make_shared<DictObj>();
    for (const auto& [k, v] : a.kw) d->items.emplace_back(str(k), v);
    return Value(d);
  });
  def("range", [](Interp& in, Args& a) {
    in.check_args(a, 1, 3, "range");
    std::int64_t start = 0, stop, step = 1;
    if (a.pos.size() == 1) {
      stop = in.as_int(a.pos[0]);
    } else {
      start = in.as_int(a.pos[0]);
      stop = in.as_int(a.pos[1]);
      if (a.pos.size() == 3) step = in.as_int(a.pos[2]);
    }
    if (step == 0) in.raise("ValueError", "zero step");
    return Value(std::make_shared<RangeObj>(start, stop, step));
  });
  def("hex", [](Interp& in, Args& a) {
    in.check_args(a, 1, 1, "hex");
    std::int64_t v = in.as_int(a.pos[0]);
    char b[32];
    std::snprintf(b, sizeof b, "%s0x%" PRIx64, v < 0 ? "-" : "",
                  v < 0 ? static_cast<std::uint64_t>(0) - static_cast<std::uint64_t>(v)
                        : static_cast<std::uint64_t>(v));
    return str(b);
  });
  def("ord", [](Interp& in, Args& a) {
    in.check_args(a, 1, 1, "ord");
    const std::string& s = in.as_buffer(a.pos[0]);
    auto cp = code_points(s);
    if (cp.size() != 2) in.raise("TypeError", "ord expects a character");
    auto c0 = static_cast<unsigned char>(s[0]);
    if (c0 < 0x80 || a.pos[0]->kind == Kind::bytes) return integer(c0);
    unsigned long v = c0 >= 0xF0 ? c0 & 0x07 : c0 >= 0xE0 ? c0 & 0x0F : c0 & 0x1F;
    for (std::size_t i = 1; i < s.size(); ++i) v = (v << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
    return integer(static_cast<std::int64_t>(v));
  });
  def("chr", [](Interp& in, Args& a) {
    in.check_args(a, 1, 1, "chr");
    std::int64_t c = in.as_int(a.pos[0]);
    if (c < 0 || c > 0x10FFFF) in.raise("ValueError", "chr() arg not in range(0x110000)");
    std::string out;
    auto cp = static_cast<unsigned long>(c);
    if (cp < 0x80)
      out += static_cast<char>(cp);
    else if (cp < 0x800)
      out = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    else if (cp < 0x10000)
      out = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
             static_cast<char>(0x80 | (cp & 0x3F))};
    else
      out = {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
             static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    return str(out);
  });
  def("abs", [](Interp& in, Args& a) {
    in.check_args(a, 1, 1, "abs");
    if (auto* f = as<FloatObj>(a.pos[0])) return floating(std::fabs(f->value));
    std::int64_t v = in.as_int(a.pos[0]);
    if (v == INT64_MIN) in.raise("OverflowError", "small int overflow");
    return integer(v < 0 ? -v : v);
  });
  auto minmax = [](Interp& in, Args& a, bool is_min) -> Value {
    std::vector<Value> items = a.pos.size() == 1 ? in.to_vector(a.pos[0]) : a.pos;
    if (items.empty()) in.raise("ValueError", "arg is an empty sequence");
    Value best = items[0];
    for (std::size_t i = 1; i < items.size(); ++i)
      if (in.compare(is_min ? "<" : ">", items[i], best)) best = items[i];
    return best;
  };
  def("min", [minmax](Interp& in, Args& a) { return minmax(in, a, true); });
  def("max", [minmax](Interp& in, Args& a) { return minmax(in, a, false); });
  def("sum", [](Interp& in, Args& a) {
    in.check_args(a, 1, 2, "sum");
    Value acc = a.pos.size() > 1 ? a.pos[1] : integer(0);
    in.for_each(a.pos[0], [&](const Value& v) {
      acc = in.binop("+", acc, v);
      return true;
    });
    return acc;
  });
  def("sorted", [](Interp& in, Args& a) {
    in.check_args(a, 1, 1, "sorted");
    auto v = in.to_vector(a.pos[0]);
    std::stable_sort(v.begin(), v.end(),
                     [&](const Value& x, const Value& y) { return in.compare("<", x, y); });
    if (const Value* rev = a.keyword("reverse"); rev && in.truthy(*rev)) std::reverse(v.begin(), v.end());
    return list(std::move(v));
  });
  def("enumerate", [](Interp& in, Args& a) {
    in.check_args(a, 1, 2, "enumerate");
    std::int64_t i = a.pos.size() > 1 ? in.as_int(a.pos[1]) : 0;
    std::vector<Value> out;
    in.for_each(a.pos[0], [&](const Value& v) {
      out.push_back(tuple({integer(i++), v}));
      return true;
    });
    return list(std::move(out));
  });
  def("zip", [](Interp& in, Args& a) {
    std::vector<std::vector<Value>> cols;
    for (const auto& p : a.pos) cols.push_back(in.to_vector(p));
    std::vector<Value> out;
    for (std::size_t r = 0;; ++r) {
      std::vector<Value> row;
      for (const auto& c : cols) {
        if (r >= c.size()) return list(std::move(out));
        row.push_back(c[r]);
      }
      if (cols.empty()) return list(std::move(out));
      out.push_back(tuple(std::move(row)));
    }
  });
  def("getattr", [](Interp& in, Args& a) {
    in.check_args(a, 2, 3, "getattr");
    try {
      return in.get_attr(a.pos[0], in.as_text(a.pos[1]));
    } catch (PyException& e) {
      if (a.pos.size() > 2 && in.is_instance(*e.exc, "AttributeError")) return a.pos[2];
      throw;
    }
  });
  def("hasattr", [](Interp& in, Args& a) {
    in.check_args(a, 2, 2, "hasattr");
    try {
      in.get_attr(a.pos[0], in.as_text(a.pos[1]));
      return boolean(true);
    } catch (PyException& e) {
      if (in.is_instance(*e.exc, "AttributeError")) return boolean(false);
      throw;
    }
  });
  def("dir", [](Interp& in, Args& a) {
    in.check_args(a, 0, 1, "dir");
    std::vector<Value> out;
    if (a.pos.empty()) {
      for (const auto& [k, v] : in.globals_) out.push_back(str(k));
    } else if (auto* ao = dynamic_cast<AttrObj*>(a.pos[0].get())) {
      for (const auto& [k, v] : ao->attrs)
        if (k.rfind("__", 0) != 0) out.push_back(str(k));
    }
    return list(std::move(out));
  });
  def("exec", [](Interp& in, Args& a) {
    in.check_args(a, 1, 1, "exec");
    in.exec_nested(in.as_buffer(a.pos[0]));
    return none();
  });
  def("isinstance", [](Interp& in, Args& a) {
    in.check_args(a, 2, 2, "isinstance");
    auto* t = as<ExcTypeObj>(a.pos[1]);
    auto* e = as<ExcObj>(a.pos[0]);
    if (!t)
      in.raise("NotImplementedError",
               "isinstance() only works with exception classes in the bootrig simulator");
    return boolean(e && e->type->is_subclass_of(*t));
  });
}

}  // namespace bootrig::sim::py
