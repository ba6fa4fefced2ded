#include "default_model.hpp"

#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "inkling/gguf.hpp"

namespace inkling::cli {

// Written at build time by cmake/EmbedFile.cmake from models/stories260K.gguf.
std::string_view default_model_bytes() noexcept;

std::shared_ptr<const Model> load_model_or_default(const std::string& path, const ModelOptions& options,
                                                   const char* command) {
  if (!path.empty()) return Model::load(path, options);
  std::fprintf(stderr, "inkling %s: no -m MODEL given, using the built-in stories260K (TinyStories, 128 positions)\n",
               command);
  // GgufFile owns its bytes; 1.1 MB copied once is cheaper than a second loader path.
  const std::string_view embedded = default_model_bytes();
  std::vector<std::byte> bytes(embedded.size());
  std::memcpy(bytes.data(), embedded.data(), bytes.size());
  return Model::from_file(GgufFile::from_bytes(std::move(bytes), kDefaultModelName), options);
}

}  // namespace inkling::cli
