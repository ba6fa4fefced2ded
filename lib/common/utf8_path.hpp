// File names as UTF-8 on every platform. A std::filesystem::path built from a narrow
// string takes the bytes in the system's code page on Windows (not UTF-8), and
// path::string() converts back the same way (throwing for characters the code page
// lacks); these helpers go through char8_t, which is UTF-8 everywhere, so a UTF-8 name
// reaches the wide-character file APIs intact.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace inkling::detail {

inline std::filesystem::path path_from_utf8(std::string_view utf8) {
  return std::filesystem::path(std::u8string(utf8.begin(), utf8.end()));
}

inline std::string path_to_utf8(const std::filesystem::path& path) {
  const std::u8string s = path.u8string();
  return std::string(s.begin(), s.end());
}

}  // namespace inkling::detail
