// libFuzzer target: any bytes as a GGUF file, then as a model. Only inkling::Error may
// come out; a crash, a sanitizer report or another exception is a finding.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(data), reinterpret_cast<const std::byte*>(data) + size);
  try {
    auto file = inkling::GgufFile::from_bytes(std::move(bytes), "fuzz.gguf");
    for (const auto& kv : file->metadata()) (void)kv.value.to_string();
    auto model = inkling::Model::from_file(file, {.threads = 1});
    (void)model->config();
  } catch (const inkling::Error&) {
  }
  return 0;
}
