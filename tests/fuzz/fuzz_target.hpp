// One fuzz target per parser: built as a libFuzzer program by tests/fuzz/CMakeLists.txt (clang), and
// registered for the corpus replay in the ordinary test build (test_fuzz_corpus.cpp), from the same source.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace bootrig::fuzz {

// Takes arbitrary bytes; returns normally for any input a parser may refuse (by value or by RigError).
// Anything else (a crash, a sanitizer report, another exception, a hang) is a bug the fuzzer reports.
using Target = void (*)(const std::uint8_t* data, std::size_t size);

inline std::map<std::string, Target>& registry() {
  static std::map<std::string, Target> targets;
  return targets;
}
struct Registration {
  Registration(const char* name, Target t) { registry()[name] = t; }
};

// The fuzz input cut into pieces: a reader that never runs past the end.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
  bool empty() const { return n_ == 0; }
  std::size_t size() const { return n_; }
  std::uint8_t byte() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  std::uint32_t u16() { return static_cast<std::uint32_t>(byte()) | static_cast<std::uint32_t>(byte()) << 8; }
  std::string_view take(std::size_t k) {
    k = k < n_ ? k : n_;
    std::string_view s(reinterpret_cast<const char*>(p_), k);
    p_ += k;
    n_ -= k;
    return s;
  }
  std::string_view rest() { return take(n_); }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

}  // namespace bootrig::fuzz

#ifdef BOOTRIG_LIBFUZZER
#define BOOTRIG_FUZZ_TARGET(name, fn)                                                 \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    fn(data, size);                                                                   \
    return 0;                                                                         \
  }
#else
#define BOOTRIG_FUZZ_TARGET(name, fn) \
  static const ::bootrig::fuzz::Registration fuzz_registration_##name(#name, fn);
#endif
