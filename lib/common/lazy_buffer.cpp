#include "common/lazy_buffer.hpp"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>

#if defined(_WIN32)
#include "common/windows_api.hpp"
#elif defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define INKLING_LAZY_MMAP 1
#endif

#include "inkling/error.hpp"

namespace inkling::detail {

#if INKLING_LAZY_MMAP
void* reserve_zeroed(std::size_t bytes) noexcept {
  if (bytes == 0) return nullptr;
  // MAP_NORESERVE: no swap is set aside for pages never touched; untouched pages read
  // as zero and cost nothing.
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}
void release_zeroed(void* p, std::size_t bytes) noexcept {
  if (p) munmap(p, bytes);
}
#elif defined(_WIN32)
// Committed pages of VirtualAlloc read as zero and enter the working set only when
// first touched (the commit is charged to the page file up front, not to RAM).
void* reserve_zeroed(std::size_t bytes) noexcept {
  return bytes ? VirtualAlloc(nullptr, bytes, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE) : nullptr;
}
void release_zeroed(void* p, std::size_t) noexcept {
  if (p) VirtualFree(p, 0, MEM_RELEASE);
}
#else
// Without mmap: calloc, which large-allocation allocators also serve with fresh
// (lazily committed) pages.
void* reserve_zeroed(std::size_t bytes) noexcept { return bytes ? std::calloc(bytes, 1) : nullptr; }
void release_zeroed(void* p, std::size_t) noexcept { std::free(p); }
#endif

std::size_t available_memory() noexcept {
#if defined(_WIN32)
  MEMORYSTATUSEX m{};
  m.dwLength = sizeof m;
  return GlobalMemoryStatusEx(&m) ? static_cast<std::size_t>(m.ullAvailPhys) : 0;
#else
  try {
    std::ifstream f("/proc/meminfo");
    for (std::string line; std::getline(f, line);)
      if (line.rfind("MemAvailable:", 0) == 0) return std::strtoull(line.c_str() + 13, nullptr, 10) * 1024;  // in kB
  } catch (...) {
  }
#if defined(_SC_AVPHYS_PAGES) && defined(_SC_PAGESIZE)
  const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) return static_cast<std::size_t>(pages) * static_cast<std::size_t>(page);
#endif
  return 0;
#endif
}

void check_fits_in_memory(std::size_t bytes, const std::string& what) {
  const std::size_t available = available_memory();
  if (available > 0 && bytes > available)
    throw Error(ErrorCode::OutOfMemory, what + " need " + std::to_string(bytes) + " bytes, more than the " +
                                            std::to_string(available) + " bytes of memory available");
}

LazyBuffer::LazyBuffer(std::size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  data_ = static_cast<std::byte*>(reserve_zeroed(bytes));
  if (!data_) {
    size_ = 0;
    throw Error(ErrorCode::OutOfMemory, "cannot reserve " + std::to_string(bytes) + " bytes of address space");
  }
}

LazyBuffer::~LazyBuffer() { release_zeroed(data_, size_); }

LazyBuffer::LazyBuffer(LazyBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

LazyBuffer& LazyBuffer::operator=(LazyBuffer&& o) noexcept {
  if (this != &o) {
    release_zeroed(data_, size_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

}  // namespace inkling::detail
