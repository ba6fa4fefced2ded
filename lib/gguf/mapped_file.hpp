// The bytes of a file: memory-mapped read-only, or read into memory, or handed over.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace inkling::detail {

class MappedFile {
 public:
  // Throws Error(Io) naming the path and the system's reason.
  static MappedFile open(const std::filesystem::path& path, bool use_mmap);
  static MappedFile from_bytes(std::vector<std::byte> bytes);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }

 private:
  MappedFile() = default;
  void unmap() noexcept;  // releases the mapping, if any (munmap / UnmapViewOfFile)
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  void* mapping_ = nullptr;  // non-null when mapped (mmap / MapViewOfFile)
  std::vector<std::byte> owned_;
};

}  // namespace inkling::detail
