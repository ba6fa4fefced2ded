// Model internals shared by loading and the forward pass.
#pragma once

#include <memory>
#include <optional>

#include "inkling/gguf.hpp"
#include "inkling/model.hpp"
#include "inkling/tokenizer.hpp"
#include "kernels/kernels.hpp"
#include "model/arch.hpp"
#include "model/weights.hpp"

namespace inkling {

struct Model::Impl {
  std::shared_ptr<const GgufFile> file;
  ModelConfig config;
  const detail::ArchTraits* arch = nullptr;
  detail::Weights weights;
  std::optional<Tokenizer> tokenizer;
  kernels::Isa isa = kernels::Isa::Scalar;
  int threads = 1;
  std::size_t weight_bytes = 0;
};

namespace detail {
// Identity of a model's internals, so a KVCache can check it is used with its model.
const void* model_impl_id(const Model& model) noexcept;
// The model's RoPE frequency factors (Llama 3's rope_freqs), or nullptr.
const float* rope_freq_factors(const Model& model) noexcept;
// Number of physical cores (hyper-threads counted once), at least 1.
int physical_cores() noexcept;
}  // namespace detail

}  // namespace inkling
