// What differs between operating systems and CPUs, through the same tests everywhere:
// the kernel level choice and its override, file names in UTF-8 (wide-character APIs
// on Windows), the memory mapping, and the peak-memory figure.
#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/peak_memory.hpp"
#include "common/utf8_path.hpp"
#include "gguf/mapped_file.hpp"
#include "inkling.h"
#include "inkling/error.hpp"
#include "inkling/model.hpp"
#include "kernels/kernels.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

void set_env(const char* name, const char* value) {
#if defined(_WIN32)
  _putenv_s(name, value ? value : "");
#else
  if (value) setenv(name, value, 1);
  else unsetenv(name);
#endif
}

// A folder of this test's own, removed at the end.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / detail::path_from_utf8(name)) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("the kernel level is the CPU's best, and INKLING_ISA can only lower it") {
  const char* saved = std::getenv("INKLING_ISA");
  const std::string saved_value = saved ? saved : "";
  set_env("INKLING_ISA", nullptr);
  const kernels::Isa best = kernels::detect_isa();
  CHECK(kernels::isa_supported(best));
  CHECK(kernels::isa_supported(kernels::Isa::Scalar));
  int supported = 0;
  for (kernels::Isa isa : kernels::kAllIsas) {
    const std::string name(kernels::isa_name(isa));
    set_env("INKLING_ISA", name.c_str());
    INFO("INKLING_ISA=" << name << ", best " << kernels::isa_name(best));
    // A supported level is taken as asked; one the CPU lacks (or another family's) is
    // ignored, never trusted.
    CHECK(kernels::detect_isa() == (kernels::isa_supported(isa) ? isa : best));
    supported += kernels::isa_supported(isa);
  }
  set_env("INKLING_ISA", "no-such-level");
  CHECK(kernels::detect_isa() == best);
  set_env("INKLING_ISA", saved ? saved_value.c_str() : nullptr);
  // x86 and ARM64 levels never mix: at most the scalar level plus one family's.
  CHECK(supported <= 4);
#if defined(__aarch64__) || defined(_M_ARM64)
  CHECK(kernels::isa_supported(kernels::Isa::Neon));  // Advanced SIMD is part of ARMv8-A
  CHECK_FALSE(kernels::isa_supported(kernels::Isa::Avx2));
#elif defined(__x86_64__) || defined(_M_X64)
  CHECK_FALSE(kernels::isa_supported(kernels::Isa::Neon));
#endif
  const std::string description = kernels::cpu_description();
  CHECK(description.find(std::string(kernels::isa_name(kernels::detect_isa()))) != std::string::npos);
  MESSAGE("CPU: " << description);
}

TEST_CASE("a model file named in UTF-8 opens through the C++ API and the C ABI") {
  auto source = test::require_shared("models/stories260K-f32.gguf");
  if (!source) return;
  const std::string dir_name = "inkling-\xc3\xbc-\xe6\xa8\xa1\xe5\x9e\x8b";  // "inkling-ü-模型"
  TempDir dir(dir_name);
  const std::string file_utf8 = detail::path_to_utf8(dir.path) + "/mod\xc3\xa8le.gguf";  // "modèle.gguf"
  std::filesystem::copy_file(*source, detail::path_from_utf8(file_utf8));
  // The copy keeps the shared file's read-only mode, which on Windows forbids deleting
  // it: TempDir could not remove the folder, and the next run would find it there.
  std::filesystem::permissions(detail::path_from_utf8(file_utf8), std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);

  for (bool use_mmap : {true, false}) {
    ModelOptions options;
    options.threads = 1;
    options.use_mmap = use_mmap;
    auto model = Model::load(detail::path_from_utf8(file_utf8), options);
    CHECK(model->config().n_vocab == 512);
  }

  ink_model_params params = ink_model_params_default();
  ink_model* model = nullptr;
  REQUIRE(ink_model_load(file_utf8.c_str(), &params, &model) == INK_OK);
  CHECK(model != nullptr);
  ink_model_free(model);

  // A missing file is named in the error exactly as it was given, in UTF-8.
  const std::string missing = detail::path_to_utf8(dir.path) + "/\xc3\xa9t\xc3\xa9.gguf";  // "été.gguf"
  CHECK(ink_model_load(missing.c_str(), &params, &model) == INK_ERR_IO);
  CHECK(std::string(ink_last_error()).find("\xc3\xa9t\xc3\xa9.gguf") != std::string::npos);
}

TEST_CASE("a mapped file and a read file give the same bytes; folders and missing files are refused") {
  TempDir dir("inkling-mapped-file");
  const auto path = dir.path / "bytes.bin";
  std::vector<char> data(100000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 + i / 251);
  {
    std::ofstream f(path, std::ios::binary);
    f.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  const auto mapped = detail::MappedFile::open(path, true);
  const auto read = detail::MappedFile::open(path, false);
  REQUIRE(mapped.bytes().size() == data.size());
  REQUIRE(read.bytes().size() == data.size());
  CHECK(std::memcmp(mapped.bytes().data(), data.data(), data.size()) == 0);
  CHECK(std::memcmp(read.bytes().data(), data.data(), data.size()) == 0);

  auto moved = detail::MappedFile::open(path, true);
  detail::MappedFile target = detail::MappedFile::open(path, false);
  target = std::move(moved);  // releases target's buffer, takes over the mapping
  CHECK(target.bytes().size() == data.size());
  CHECK(std::memcmp(target.bytes().data(), data.data(), data.size()) == 0);

  for (bool use_mmap : {true, false}) {
    try {
      detail::MappedFile::open(dir.path, use_mmap);
      FAIL("a folder was opened as a file");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::Io);
    }
    try {
      detail::MappedFile::open(dir.path / "missing.bin", use_mmap);
      FAIL("a missing file was opened");
    } catch (const Error& e) {
      CHECK(e.code() == ErrorCode::Io);
      CHECK(std::string(e.what()).find("missing.bin") != std::string::npos);
    }
  }
}

TEST_CASE("peak memory is reported and grows with memory the process touches") {
  const std::size_t before = detail::peak_rss_bytes();
  REQUIRE(before > 0);
  constexpr std::size_t kBytes = 96u << 20;
  std::vector<unsigned char> block(kBytes);
  for (std::size_t i = 0; i < kBytes; i += 4096) block[i] = static_cast<unsigned char>(i >> 12);
  const std::size_t after = detail::peak_rss_bytes();
  CHECK(after >= before);
  // The peak can have been higher before (then it need not grow), but never lower than
  // what is resident now.
  CHECK(after >= kBytes);
  CHECK(block[4096 * 5] == 5);
}
