// LazyBuffer: a zero-filled byte buffer whose pages the OS commits only when they are
// first written, so a KV cache sized for a long context costs memory only for the
// positions actually filled (a 2M-position cache holding 4 tokens stays small).
// The OS call sits behind reserve_zeroed()/release_zeroed() (lazy_buffer.cpp): POSIX
// anonymous mmap, VirtualAlloc on Windows; another OS needs only those two functions.
#pragma once

#include <cstddef>
#include <string>

namespace inkling::detail {

// Zero-filled, page-aligned memory of `bytes` bytes whose pages are committed on first
// touch; nullptr when the address space cannot be reserved. release_zeroed() frees it.
void* reserve_zeroed(std::size_t bytes) noexcept;
void release_zeroed(void* p, std::size_t bytes) noexcept;

// Bytes of memory the machine can still give without swapping (Linux: MemAvailable
// from /proc/meminfo; Windows: GlobalMemoryStatusEx's available physical memory;
// elsewhere the free physical pages); 0 when unknown.
std::size_t available_memory() noexcept;

// Throws Error(OutOfMemory) "<what> need N bytes, more than the M bytes of memory
// available" when `bytes` exceeds available_memory() (nothing when that is unknown):
// a clear error before allocating, instead of the OS killing the process later.
void check_fits_in_memory(std::size_t bytes, const std::string& what);

class LazyBuffer {
 public:
  LazyBuffer() = default;
  // Throws Error(OutOfMemory) when the address space cannot be reserved.
  explicit LazyBuffer(std::size_t bytes);
  ~LazyBuffer();
  LazyBuffer(LazyBuffer&& o) noexcept;
  LazyBuffer& operator=(LazyBuffer&& o) noexcept;
  LazyBuffer(const LazyBuffer&) = delete;
  LazyBuffer& operator=(const LazyBuffer&) = delete;

  std::byte* data() noexcept { return data_; }
  const std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace inkling::detail
