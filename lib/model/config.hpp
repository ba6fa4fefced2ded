// Reading ModelConfig from a GGUF file's <arch>.* metadata, with every value checked.
#pragma once

#include "inkling/model.hpp"

namespace inkling {
class GgufFile;
}

namespace inkling::detail {

// Throws Error(Unsupported) for an unknown architecture and Error(Format) for missing
// or out-of-range hyper-parameters, naming the key.
ModelConfig read_config(const GgufFile& file);

}  // namespace inkling::detail
