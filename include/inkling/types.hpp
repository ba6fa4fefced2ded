// The vocabulary's basic types, shared by the tokenizer, the sampler and the generators
// without pulling in any of them.
#pragma once

#include <cstdint>

namespace inkling {

using TokenId = std::int32_t;
inline constexpr TokenId kNoToken = -1;

}  // namespace inkling
