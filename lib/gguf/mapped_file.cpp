#include "gguf/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "inkling/error.hpp"

namespace inkling::detail {
namespace {

[[noreturn]] void io_error(const std::filesystem::path& path, const std::string& what, int err) {
  throw Error(ErrorCode::Io, path.string() + ": " + what + ": " + std::strerror(err));
}

// Closes the descriptor on every path out of open().
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

MappedFile MappedFile::open(const std::filesystem::path& path, bool use_mmap) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) io_error(path, "cannot open", errno);
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) io_error(path, "cannot stat", errno);
  if (!S_ISREG(st.st_mode)) io_error(path, "not a regular file", EINVAL);
  const auto size = static_cast<std::size_t>(st.st_size);

  MappedFile m;
  if (size == 0) return m;  // the parser reports the empty file
  if (use_mmap) {
    void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, f.fd, 0);
    if (p == MAP_FAILED) io_error(path, "cannot map", errno);
    m.mapping_ = p;
    m.data_ = static_cast<const std::byte*>(p);
    m.size_ = size;
    return m;
  }
  try {
    m.owned_.resize(size);
  } catch (const std::bad_alloc&) {
    throw Error(ErrorCode::OutOfMemory,
                path.string() + ": cannot allocate " + std::to_string(size) + " bytes to read it");
  }
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(f.fd, m.owned_.data() + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_error(path, "cannot read", errno);
    if (n == 0) io_error(path, "file shrank while reading", EIO);
    done += static_cast<std::size_t>(n);
  }
  m.data_ = m.owned_.data();
  m.size_ = size;
  return m;
}

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
    if (mapping_) ::munmap(mapping_, size_);
    const bool owned = o.mapping_ == nullptr;
    owned_ = std::move(o.owned_);
    mapping_ = std::exchange(o.mapping_, nullptr);
    size_ = std::exchange(o.size_, 0);
    data_ = owned ? owned_.data() : std::exchange(o.data_, nullptr);
    o.data_ = nullptr;
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (mapping_) ::munmap(mapping_, size_);
}

}  // namespace inkling::detail
