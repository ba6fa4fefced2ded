// Model internals shared by loading and the forward pass.
#pragma once

#include <memory>
#include <optional>

#include "inkling/gguf.hpp"
#include "inkling/model.hpp"
#include "inkling/tokenizer.hpp"
#include "kernels/kernels.hpp"
#include "model/arch.hpp"
#include "model/encoder_weights.hpp"
#include "model/weights.hpp"

namespace inkling {

struct Model::Impl {
  std::shared_ptr<const GgufFile> file;
  ModelConfig config;
  const detail::ArchTraits* arch = nullptr;
  detail::Weights weights;                        // decoders (arch->encoder == false)
  std::optional<detail::EncoderWeights> encoder;  // encoders: bert, nomic-bert
  std::optional<Tokenizer> tokenizer;
  kernels::Isa isa = kernels::Isa::Scalar;
  int threads = 1;
  std::size_t weight_bytes = 0;
};

namespace detail {
// Identity of a model's internals, so a KVCache can check it is used with its model.
const void* model_impl_id(const Model& model) noexcept;
// The data of a RoPE factor tensor of the model (rope_freqs, rope_factors_long/short;
// bound and checked at load), or nullptr when the file has none.
const float* rope_factor_tensor(const Model& model, const char* name) noexcept;
// Number of physical cores (hyper-threads counted once), at least 1.
int physical_cores() noexcept;
}  // namespace detail

}  // namespace inkling
