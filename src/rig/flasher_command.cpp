// Splitting an external flasher's arguments at their placeholders, for the rig-file check and the run.
#include <algorithm>
#include <iterator>

#include "bootrig/rig/rig_config.hpp"

namespace bootrig {

bool is_flasher_placeholder(std::string_view name) {
  return std::find(std::begin(kFlasherPlaceholders), std::end(kFlasherPlaceholders), name) !=
         std::end(kFlasherPlaceholders);
}

std::string flasher_placeholder_list() {
  std::string s;
  constexpr std::size_t n = std::size(kFlasherPlaceholders);
  for (std::size_t i = 0; i < n; ++i)
    s += (i == 0 ? "" : i + 1 == n ? " or " : ", ") + ("{" + std::string(kFlasherPlaceholders[i]) + "}");
  return s;
}

FlasherArg split_flasher_arg(std::string_view arg) {
  FlasherArg out;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) out.parts.push_back({std::move(literal), false});
    literal.clear();
  };
  for (std::size_t i = 0; i < arg.size(); ++i) {
    char c = arg[i];
    if ((c == '{' || c == '}') && i + 1 < arg.size() && arg[i + 1] == c) {
      literal += c;
      ++i;
    } else if (c == '{') {
      auto close = arg.find('}', i + 1);
      if (close == std::string_view::npos) {
        out.problem = "unclosed \"{\" in \"" + std::string(arg) + "\"; write {{ for a literal brace";
        return out;
      }
      flush();
      out.parts.push_back({std::string(arg.substr(i + 1, close - i - 1)), true});
      i = close;
    } else if (c == '}') {
      out.problem = "stray \"}\" in \"" + std::string(arg) + "\"; write }} for a literal brace";
      return out;
    } else {
      literal += c;
    }
  }
  flush();
  return out;
}

}  // namespace bootrig
