// GgufFile internals: the parsed directory over the file's bytes.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gguf/mapped_file.hpp"
#include "inkling/gguf.hpp"

namespace inkling {

struct GgufFile::Impl {
  std::string name;
  detail::MappedFile file;
  std::uint32_t version = 0;
  std::size_t alignment = 32;
  std::size_t data_offset = 0;
  std::vector<GgufKeyValue> metadata;
  std::unordered_map<std::string_view, std::size_t> key_index;
  std::vector<TensorView> tensors;
  std::unordered_map<std::string_view, std::size_t> tensor_index;

  explicit Impl(std::string n, detail::MappedFile f) : name(std::move(n)), file(std::move(f)) {}
};

namespace detail {
// Parses and validates everything; throws Error naming the file and offset.
void parse_gguf(GgufFile::Impl& impl);
}  // namespace detail

}  // namespace inkling
