// Constructors for the simulator's Python values; None, True and False are shared singletons.
#include "sim/python/value.hpp"

namespace bootrig::sim::py {

Value none() {
  static const Value v = std::make_shared<NoneObj>();
  return v;
}

Value boolean(bool b) {
  static const Value t = std::make_shared<BoolObj>(true);
  static const Value f = std::make_shared<BoolObj>(false);
  return b ? t : f;
}

Value integer(std::int64_t v) { return std::make_shared<IntObj>(v); }
Value floating(double v) { return std::make_shared<FloatObj>(v); }
Value str(std::string s) { return std::make_shared<StrObj>(std::move(s)); }
Value bytes(std::string s) { return std::make_shared<BytesObj>(std::move(s)); }
Value tuple(std::vector<Value> v) { return std::make_shared<TupleObj>(std::move(v)); }
Value list(std::vector<Value> v) { return std::make_shared<ListObj>(std::move(v)); }

bool is_none(const Value& v) { return v->kind == Kind::none; }

namespace {
thread_local std::vector<Value>* g_graveyard = nullptr;
}

void bury(std::vector<Value>& items) {
  if (g_graveyard) {
    // Already unwinding a container: hand the items to the outermost one's loop instead of recursing.
    for (auto& v : items)
      if (v) g_graveyard->push_back(std::move(v));
    items.clear();
    return;
  }
  std::vector<Value> yard;
  g_graveyard = &yard;
  for (auto& v : items)
    if (v) yard.push_back(std::move(v));
  items.clear();
  while (!yard.empty()) {
    Value v = std::move(yard.back());
    yard.pop_back();
    v.reset();  // may destroy a container, whose items land in `yard`
  }
  g_graveyard = nullptr;
}

}  // namespace bootrig::sim::py
