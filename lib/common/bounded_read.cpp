#include "common/bounded_read.hpp"

#include <fstream>
#include <string>
#include <system_error>

#include "inkling/error.hpp"

namespace inkling::detail {

std::vector<std::byte> read_bounded_file(const std::filesystem::path& path, std::size_t max_bytes,
                                         std::string_view what) {
  const std::string name = path.string();
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status))
    throw Error(ErrorCode::Io, name + ": cannot open the " + std::string(what) + " (no such file)");
  if (!std::filesystem::is_regular_file(status))
    throw Error(ErrorCode::Io, name + ": is not a regular file (a " + std::string(what) + " was expected)");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw Error(ErrorCode::Io, name + ": cannot read the size of the " + std::string(what));
  if (size > max_bytes)
    throw Error(ErrorCode::Format, name + ": " + std::to_string(size) + " bytes is larger than any " + std::string(what) +
                                       " for this generator (at most " + std::to_string(max_bytes) + ")");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::Io, name + ": cannot open the " + std::string(what));
  std::vector<std::byte> bytes(static_cast<std::size_t>(size));
  f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  // The file may have changed between the size check and the read: what was read counts.
  bytes.resize(static_cast<std::size_t>(f.gcount()));
  if (f.bad()) throw Error(ErrorCode::Io, name + ": cannot read the " + std::string(what));
  return bytes;
}

}  // namespace inkling::detail
