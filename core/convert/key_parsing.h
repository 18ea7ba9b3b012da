#pragma once
// Small parsers for dotted checkpoint key names, shared by the key tables (unet_keys, vae_keys).

#include <charconv>
#include <string>
#include <string_view>
#include <system_error>

namespace kiln::convert::key_parsing {

inline bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Consumes `lit` at the front of `s`.
inline bool take(std::string_view& s, std::string_view lit) {
  if (!starts_with(s, lit)) return false;
  s.remove_prefix(lit.size());
  return true;
}

// Consumes "N." at the front of `s`.
inline bool take_index(std::string_view& s, int& n) {
  const char* first = s.data();
  const char* last = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(first, last, n);
  if (ec != std::errc{} || ptr == first || ptr == last || *ptr != '.' || n < 0) return false;
  s.remove_prefix(static_cast<std::size_t>(ptr - first) + 1);
  return true;
}

inline std::string str(std::string_view s) { return std::string(s); }
inline std::string num(int n) { return std::to_string(n); }

}  // namespace kiln::convert::key_parsing
