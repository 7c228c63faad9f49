// A value or the reason there is none: how expected device failures (timeout, no prompt) are returned.
#pragma once

#include <stdexcept>
#include <utility>
#include <variant>

namespace bootrig {

// std::expected is not in g++ 12. A Result holds either the value or an error describing an expected
// failure of the device (never a rig fault: those are RigError exceptions). Reading the wrong side is a
// programming error and throws std::logic_error.
template <class T, class E>
class Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    if (!ok()) throw std::logic_error("Result::value() on a failure");
    return std::get<0>(v_);
  }
  const T& value() const& {
    if (!ok()) throw std::logic_error("Result::value() on a failure");
    return std::get<0>(v_);
  }
  T&& value() && {
    if (!ok()) throw std::logic_error("Result::value() on a failure");
    return std::get<0>(std::move(v_));
  }
  const E& error() const {
    if (ok()) throw std::logic_error("Result::error() on a success");
    return std::get<1>(v_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, E> v_;
};

}  // namespace bootrig
