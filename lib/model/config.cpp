#include "model/config.hpp"

#include "model/arch.hpp"

#include <cmath>
#include <string>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"

namespace inkling::detail {
namespace {

// Upper bounds that no real model comes near; they stop absurd files before any
// allocation is sized from them.
constexpr std::uint64_t kMaxDim = 1u << 20;
constexpr std::uint64_t kMaxLayers = 4096;
constexpr std::uint64_t kMaxCtx = 1u << 24;

[[noreturn]] void bad(const GgufFile& f, const std::string& what) {
  throw Error(ErrorCode::Format, f.name() + ": " + what);
}

// Reads a u32-like key that may also be stored as a per-layer array whose entries are
// all equal (llama.cpp allows arrays for head counts and FFN sizes).
std::optional<std::uint64_t> get_count(const GgufFile& f, const std::string& key) {
  const GgufValue* value = f.find(key);
  if (value && value->type() == GgufType::Array) {
    const GgufArray* arr = &value->as_array(key);
    if (arr->items.empty()) bad(f, "key '" + key + "' is an empty array");
    const std::uint64_t first = arr->items[0].as_uint(key);
    for (const auto& item : arr->items)
      if (item.as_uint(key) != first)
        throw Error(ErrorCode::Unsupported,
                    f.name() + ": key '" + key + "' varies per layer, which is not supported");
    return first;
  }
  return f.get_uint(key);
}

int checked_count(const GgufFile& f, const std::string& key, std::uint64_t value,
                  std::uint64_t max) {
  if (value == 0 || value > max)
    bad(f, "key '" + key + "' = " + std::to_string(value) + " is out of range [1, " +
               std::to_string(max) + "]");
  return static_cast<int>(value);
}

int require_count(const GgufFile& f, const std::string& key, std::uint64_t max) {
  auto v = get_count(f, key);
  if (!v) bad(f, "missing required key '" + key + "'");
  return checked_count(f, key, *v, max);
}

float checked_float(const GgufFile& f, const std::string& key, double value, bool positive) {
  if (!std::isfinite(value) || (positive && !(value > 0)))
    bad(f, "key '" + key + "' = " + std::to_string(value) + " is not a " +
               (positive ? "positive " : "") + "finite number");
  return static_cast<float>(value);
}

}  // namespace

ModelConfig read_config(const GgufFile& f) {
  ModelConfig c;
  c.architecture = std::string(f.require_string("general.architecture"));
  const ArchTraits* arch = find_arch(c.architecture);
  if (!arch)
    throw Error(ErrorCode::Unsupported, f.name() + ": architecture '" + c.architecture +
                                            "' is not supported (supported: " +
                                            supported_architectures() + ")");
  c.name = std::string(f.get_string("general.name").value_or(""));
  const std::string a = c.architecture + ".";

  c.n_embd = require_count(f, a + "embedding_length", kMaxDim);
  c.n_layer = require_count(f, a + "block_count", kMaxLayers);
  c.n_ctx_train = require_count(f, a + "context_length", kMaxCtx);
  c.n_ff = require_count(f, a + "feed_forward_length", kMaxDim);
  c.n_head = require_count(f, a + "attention.head_count", kMaxDim);
  c.n_head_kv = checked_count(f, a + "attention.head_count_kv",
                              get_count(f, a + "attention.head_count_kv").value_or(c.n_head),
                              kMaxDim);
  if (c.n_head % c.n_head_kv != 0)
    bad(f, "attention.head_count (" + std::to_string(c.n_head) +
               ") is not a multiple of attention.head_count_kv (" +
               std::to_string(c.n_head_kv) + ")");

  if (auto k = f.get_uint(a + "attention.key_length")) {
    c.head_dim = checked_count(f, a + "attention.key_length", *k, kMaxDim);
    auto v = f.get_uint(a + "attention.value_length");
    if (v && *v != *k)
      throw Error(ErrorCode::Unsupported,
                  f.name() + ": attention.key_length != attention.value_length is not supported");
  } else {
    if (c.n_embd % c.n_head != 0)
      bad(f, "embedding_length (" + std::to_string(c.n_embd) +
                 ") is not a multiple of attention.head_count (" + std::to_string(c.n_head) + ")");
    c.head_dim = c.n_embd / c.n_head;
  }
  if (c.head_dim % 2 != 0) bad(f, "head size " + std::to_string(c.head_dim) + " is odd");

  c.n_rot = checked_count(f, a + "rope.dimension_count",
                          f.get_uint(a + "rope.dimension_count").value_or(c.head_dim), kMaxDim);
  if (c.n_rot != c.head_dim && (!arch->partial_rotary || c.n_rot > c.head_dim || c.n_rot % 2))
    throw Error(ErrorCode::Unsupported,
                f.name() + ": rope.dimension_count (" + std::to_string(c.n_rot) +
                    ") differs from the head size (" + std::to_string(c.head_dim) +
                    "); partial rotary embeddings are not supported for " + c.architecture);

  const std::string eps_key =
      a + (arch->norm == NormKind::Rms ? "attention.layer_norm_rms_epsilon" : "attention.layer_norm_epsilon");
  auto eps = f.get_float(eps_key);
  if (!eps) bad(f, "missing required key '" + eps_key + "'");
  c.norm_eps = checked_float(f, eps_key, *eps, true);
  if (arch->window != SlidingWindow::None)
    if (auto w = f.get_uint(a + "attention.sliding_window"); w && *w != 0)  // 0: no window (Phi-4)
      c.sliding_window = checked_count(f, a + "attention.sliding_window", *w, kMaxCtx);
  if (auto cap = f.get_float(a + "attn_logit_softcapping"))
    c.attn_logit_softcap = checked_float(f, a + "attn_logit_softcapping", *cap, true);
  if (auto cap = f.get_float(a + "final_logit_softcapping"))
    c.final_logit_softcap = checked_float(f, a + "final_logit_softcapping", *cap, true);
  c.rope_freq_base = checked_float(f, a + "rope.freq_base",
                                   f.get_float(a + "rope.freq_base").value_or(10000.0), true);

  const std::string scaling(f.get_string(a + "rope.scaling.type").value_or("linear"));
  if (scaling != "none" && scaling != "linear")
    throw Error(ErrorCode::Unsupported,
                f.name() + ": rope scaling type '" + scaling + "' is not supported (none, linear)");
  auto factor = f.get_float(a + "rope.scaling.factor");
  if (!factor) factor = f.get_float(a + "rope.scale_linear");
  if (scaling == "linear" && factor && *factor != 0.0)
    c.rope_freq_scale = 1.0f / checked_float(f, a + "rope.scaling.factor", *factor, true);

  if (f.get_uint(a + "expert_count").value_or(0) > 0)
    throw Error(ErrorCode::Unsupported, f.name() + ": mixture-of-experts models are not supported");
  return c;
}

}  // namespace inkling::detail
