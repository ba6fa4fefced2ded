// Rotary position embeddings: how a position becomes rotation angles (base, linear
// scale, per-pair frequency factors of Llama 3 and Phi-3 LongRoPE, YaRN), and which
// frequency set each layer uses (Gemma 3's local base on window layers, SmolLM3's layers
// without RoPE). The numerics follow ggml's rope (REFERENCE.md §3).
#pragma once

#include <cstdint>
#include <vector>

#include "inkling/model.hpp"

namespace inkling::detail {

struct ArchTraits;

// One frequency set: θ_i = pos · base^(-2i/n_rot) / factor_i, scaled by freq_scale
// (YaRN: blended with the unscaled angle over pairs [corr_low, corr_high]); cos and sin
// are multiplied by attn_factor (and YaRN's 1 + 0.1 ln(1/freq_scale)).
struct RopeFreqs {
  int n_rot = 0;
  float base = 10000.0f;
  float freq_scale = 1.0f;
  const float* factors = nullptr;  // n_rot/2 divisors, or nullptr
  float ext_factor = 0.0f;         // YaRN mix; 0: off
  float corr_low = 0.0f, corr_high = 0.0f;
  float attn_factor = 1.0f;
};

// cos/sin of the n_rot/2 pairs at `position`. `unit` leaves out the magnitude factors
// (re-rotating stored keys by a position difference must not scale them again).
void rope_angles(int position, const RopeFreqs& f, bool unit, float* cos_out, float* sin_out);

// The frequency sets of a model with a cache of n_ctx positions (LongRoPE picks its
// factors by context size) and the set of each layer: -1 none, 0 global, 1 local.
struct RopeSetup {
  RopeFreqs sets[2];
  int n_sets = 1;
  std::vector<std::int8_t> layer_set;
};
RopeSetup make_rope_setup(const ModelConfig& c, const ArchTraits& arch, const float* rope_freqs,
                          const float* factors_long, const float* factors_short, int n_ctx);

}  // namespace inkling::detail
