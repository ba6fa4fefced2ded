#include "model/rope.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "model/arch.hpp"

namespace inkling::detail {
namespace {

// ggml_rope_yarn_corr_dim: the pair index whose wavelength fits n_rot_turns turns into
// the original context.
float yarn_corr_dim(int n_rot, int n_ctx_orig, float turns, float base) {
  return static_cast<float>(n_rot) * std::log(static_cast<float>(n_ctx_orig) / (turns * 2.0f * std::numbers::pi_v<float>)) /
         (2.0f * std::log(base));
}

float yarn_ramp(float low, float high, int pair) {
  const float y = (static_cast<float>(pair) - low) / std::max(0.001f, high - low);
  return 1.0f - std::min(1.0f, std::max(0.0f, y));
}

}  // namespace

void rope_angles(int position, const RopeFreqs& f, bool unit, float* cos_out, float* sin_out) {
  const float theta_scale = std::pow(f.base, -2.0f / static_cast<float>(f.n_rot));
  float mscale = unit ? 1.0f : f.attn_factor;
  if (!unit && f.ext_factor != 0.0f) mscale *= 1.0f + 0.1f * std::log(1.0f / f.freq_scale);
  float theta = static_cast<float>(position);
  for (int i = 0; i < f.n_rot / 2; ++i) {
    const float extrap = f.factors ? theta / f.factors[i] : theta;
    float angle = f.freq_scale * extrap;
    if (f.ext_factor != 0.0f) {
      const float mix = yarn_ramp(f.corr_low, f.corr_high, i) * f.ext_factor;
      angle = angle * (1.0f - mix) + extrap * mix;
    }
    cos_out[i] = std::cos(angle) * mscale;
    sin_out[i] = std::sin(angle) * mscale;
    theta *= theta_scale;
  }
}

RopeSetup make_rope_setup(const ModelConfig& c, const ArchTraits& arch, const float* rope_freqs,
                          const float* factors_long, const float* factors_short, int n_ctx) {
  RopeSetup s;
  RopeFreqs& g = s.sets[0];
  g.n_rot = c.n_rot;
  g.base = c.rope_freq_base;
  g.freq_scale = c.rope_freq_scale;
  g.attn_factor = c.rope_attn_factor;
  g.factors = rope_freqs;
  // LongRoPE: long factors once the context exceeds the original one (llama.cpp compares
  // the context per sequence, which is our cache's n_ctx).
  if (factors_long) g.factors = n_ctx > c.rope_n_ctx_orig ? factors_long : factors_short;
  if (c.yarn_ext_factor != 0.0f) {
    g.ext_factor = c.yarn_ext_factor;
    const float lo = std::floor(yarn_corr_dim(c.n_rot, c.rope_n_ctx_orig, c.yarn_beta_fast, c.rope_freq_base));
    const float hi = std::ceil(yarn_corr_dim(c.n_rot, c.rope_n_ctx_orig, c.yarn_beta_slow, c.rope_freq_base));
    g.corr_low = std::max(0.0f, lo);
    g.corr_high = std::min(static_cast<float>(c.n_rot - 1), hi);
  }
  const bool local = c.rope_freq_base_swa > 0 && c.sliding_window > 0;
  if (local) {  // Gemma 3's window layers: their own base, no scaling (llama.cpp's defaults)
    s.sets[1] = RopeFreqs{.n_rot = c.n_rot, .base = c.rope_freq_base_swa, .attn_factor = c.rope_attn_factor};
    s.n_sets = 2;
  }
  s.layer_set.assign(static_cast<std::size_t>(c.n_layer), 0);
  for (int il = 0; il < c.n_layer; ++il) {
    std::int8_t& set = s.layer_set[static_cast<std::size_t>(il)];
    if (!arch.rope || (arch.nope_every > 0 && (il + 1) % arch.nope_every == 0))
      set = -1;
    else if (local && layer_windowed(arch, c.sliding_window, il))
      set = 1;
  }
  return s;
}

}  // namespace inkling::detail
