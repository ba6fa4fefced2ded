// libFuzzer target: the metadata section alone. A valid header (no tensors, a key count
// taken from the first input byte) is put in front of the input, so every execution
// reaches the key/value parser instead of failing on the magic.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<std::byte> bytes(24 + size - 1);
  const std::uint32_t magic = 0x46554747, version = 3;
  const std::int64_t n_tensors = 0, n_kv = data[0] % 16;
  std::memcpy(bytes.data(), &magic, 4);
  std::memcpy(bytes.data() + 4, &version, 4);
  std::memcpy(bytes.data() + 8, &n_tensors, 8);
  std::memcpy(bytes.data() + 16, &n_kv, 8);
  if (size > 1) std::memcpy(bytes.data() + 24, data + 1, size - 1);
  try {
    auto file = inkling::GgufFile::from_bytes(std::move(bytes), "fuzz.gguf");
    for (const auto& kv : file->metadata()) {
      (void)kv.value.to_string();
      (void)file->get_uint(kv.key);
    }
  } catch (const inkling::Error&) {
  }
  return 0;
}
