#include "gguf/mapped_file.hpp"

#if defined(_WIN32)
#include "common/windows_api.hpp"
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/utf8_path.hpp"
#include "inkling/error.hpp"

namespace inkling::detail {
namespace {

[[noreturn]] void io_error(const std::filesystem::path& path, const std::string& what, const std::string& reason) {
  throw Error(ErrorCode::Io, path_to_utf8(path) + ": " + what + ": " + reason);
}

std::vector<std::byte> allocate(const std::filesystem::path& path, std::size_t size) {
  try {
    return std::vector<std::byte>(size);
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::OutOfMemory,
                path_to_utf8(path) + ": cannot allocate " + std::to_string(size) + " bytes to read it");
  }
}

#if defined(_WIN32)
std::string system_message(DWORD code) {
  char buf[256] = {};
  const DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, code, 0, buf,
                                 sizeof buf, nullptr);
  std::string s(buf, n);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '.')) s.pop_back();
  return s.empty() ? "error " + std::to_string(code) : s;
}

// Closes the handle on every path out of open().
struct Handle {
  HANDLE h = INVALID_HANDLE_VALUE;
  ~Handle() {
    if (h != INVALID_HANDLE_VALUE && h != nullptr) CloseHandle(h);
  }
};
#else
// Closes the descriptor on every path out of open().
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
#endif

}  // namespace

#if defined(_WIN32)
// The wide-character API takes the name as UTF-16, so any UTF-8 name opens.
MappedFile MappedFile::open(const std::filesystem::path& path, bool use_mmap) {
  Handle f;
  f.h = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (f.h == INVALID_HANDLE_VALUE) io_error(path, "cannot open", system_message(GetLastError()));
  BY_HANDLE_FILE_INFORMATION info{};
  if (!GetFileInformationByHandle(f.h, &info)) io_error(path, "cannot stat", system_message(GetLastError()));
  if (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) io_error(path, "not a regular file", "a directory");
  const std::uint64_t size64 = (static_cast<std::uint64_t>(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
  if (size64 > SIZE_MAX) io_error(path, "cannot map", "larger than the address space");
  const auto size = static_cast<std::size_t>(size64);

  MappedFile m;
  if (size == 0) return m;  // the parser reports the empty file
  if (use_mmap) {
    Handle mapping;  // the view keeps the mapping alive after this handle closes
    mapping.h = CreateFileMappingW(f.h, nullptr, PAGE_READONLY, 0, 0, nullptr);
    if (mapping.h == nullptr) io_error(path, "cannot map", system_message(GetLastError()));
    // A copy-on-write view (as MAP_PRIVATE), read-only until weights are repacked in
    // place (model/repack.cpp makes their pages writable, each then a private copy).
    void* p = MapViewOfFile(mapping.h, FILE_MAP_COPY, 0, 0, 0);
    if (p == nullptr) io_error(path, "cannot map", system_message(GetLastError()));
    DWORD old = 0;
    if (!VirtualProtect(p, size, PAGE_READONLY, &old)) {
      const DWORD err = GetLastError();
      UnmapViewOfFile(p);
      io_error(path, "cannot map", system_message(err));
    }
    m.mapping_ = p;
    m.data_ = static_cast<const std::byte*>(p);
    m.size_ = size;
    return m;
  }
  m.owned_ = allocate(path, size);
  std::size_t done = 0;
  while (done < size) {
    const DWORD want = static_cast<DWORD>(std::min<std::size_t>(size - done, 1u << 30));
    DWORD got = 0;
    if (!ReadFile(f.h, m.owned_.data() + done, want, &got, nullptr))
      io_error(path, "cannot read", system_message(GetLastError()));
    if (got == 0) io_error(path, "cannot read", "file shrank while reading");
    done += got;
  }
  m.data_ = m.owned_.data();
  m.size_ = size;
  return m;
}

void MappedFile::unmap() noexcept {
  if (mapping_) UnmapViewOfFile(mapping_);
}

#else

MappedFile MappedFile::open(const std::filesystem::path& path, bool use_mmap) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) io_error(path, "cannot open", std::strerror(errno));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) io_error(path, "cannot stat", std::strerror(errno));
  if (!S_ISREG(st.st_mode)) io_error(path, "not a regular file", std::strerror(EINVAL));
  const auto size = static_cast<std::size_t>(st.st_size);

  MappedFile m;
  if (size == 0) return m;  // the parser reports the empty file
  if (use_mmap) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, f.fd, 0);
    if (p == MAP_FAILED) io_error(path, "cannot map", std::strerror(errno));
    m.mapping_ = p;
    m.data_ = static_cast<const std::byte*>(p);
    m.size_ = size;
    return m;
  }
  m.owned_ = allocate(path, size);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(f.fd, m.owned_.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_error(path, "cannot read", std::strerror(errno));
    if (n == 0) io_error(path, "cannot read", "file shrank while reading");
    done += static_cast<std::size_t>(n);
  }
  m.data_ = m.owned_.data();
  m.size_ = size;
  return m;
}

void MappedFile::unmap() noexcept {
  if (mapping_) ::munmap(mapping_, size_);
}

#endif

MappedFile MappedFile::from_bytes(std::vector<std::byte> bytes) {
  MappedFile m;
  m.owned_ = std::move(bytes);
  m.data_ = m.owned_.data();
  m.size_ = m.owned_.size();
  return m;
}

MappedFile::MappedFile(MappedFile&& o) noexcept { *this = std::move(o); }

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    unmap();
    const bool owned = o.mapping_ == nullptr;
    owned_ = std::move(o.owned_);
    mapping_ = std::exchange(o.mapping_, nullptr);
    size_ = std::exchange(o.size_, 0);
    data_ = owned ? owned_.data() : std::exchange(o.data_, nullptr);
    o.data_ = nullptr;
  }
  return *this;
}

MappedFile::~MappedFile() { unmap(); }

}  // namespace inkling::detail
