// Reading a whole file whose size the caller can bound in advance (state files): the
// bound is checked against the file's size before anything is allocated, and only
// regular files are read (a directory, a FIFO or /dev/zero would otherwise hang or
// exhaust memory).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string_view>
#include <vector>

namespace inkling::detail {

// Throws Error(Io) if `path` is not a readable regular file, Error(Format) naming
// `what` if it is larger than `max_bytes`.
std::vector<std::byte> read_bounded_file(const std::filesystem::path& path, std::size_t max_bytes,
                                         std::string_view what);

}  // namespace inkling::detail
