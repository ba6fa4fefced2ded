// Reading ModelConfig from a GGUF file's <arch>.* metadata, with every value checked.
#pragma once

#include "inkling/model.hpp"

namespace inkling {
class GgufFile;
}

namespace inkling::detail {

// Architectures whose forward pass this version implements.
bool is_supported_architecture(std::string_view arch) noexcept;
std::string supported_architectures();  // "llama, ..." for error messages

// Throws Error(Unsupported) for an unknown architecture and Error(Format) for missing
// or out-of-range hyper-parameters, naming the key.
ModelConfig read_config(const GgufFile& file);

}  // namespace inkling::detail
