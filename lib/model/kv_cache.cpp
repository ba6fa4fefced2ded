#include <algorithm>
#include <cstring>
#include <string>

#include "common/lazy_buffer.hpp"
#include "inkling/error.hpp"
#include "kernels/quantize_row.hpp"
#include "model/kv_cache_impl.hpp"
#include "model/arch.hpp"
#include "model/layers.hpp"
#include "model/model_impl.hpp"

namespace inkling {

void KVCache::Impl::check_seq(int seq, const char* what) const {
  if (seq < 0 || seq >= n_seq)
    throw Error(ErrorCode::InvalidArgument, std::string("KVCache::") + what + ": sequence " +
                                                std::to_string(seq) + " is out of range [0, " +
                                                std::to_string(n_seq) + ")");
}

namespace {

// A context longer than the training one is refused, naming both and the way beyond it
// (a user-set RoPE scale); returns the config whose RoPE the cache uses.
ModelConfig check_context_length(const ModelConfig& c, int n_ctx, float rope_scale) {
  const auto* arch = detail::find_arch(c.architecture);  // the model loaded, so it exists
  if (!(rope_scale >= 1.0f && rope_scale <= 64.0f))
    throw Error(ErrorCode::InvalidArgument, "KVCache: rope_scale must be in [1, 64], got " + std::to_string(rope_scale));
  const bool stretchable = arch->rope && !arch->position_embedding;
  if (rope_scale != 1.0f && !stretchable)
    throw Error(ErrorCode::InvalidArgument, "KVCache: rope_scale " + std::to_string(rope_scale) + " cannot apply to " +
                                                c.architecture + ": it has no rotary positions to stretch");
  const double limit = static_cast<double>(c.n_ctx_train) * rope_scale;
  if (n_ctx > limit) {
    std::string msg = "KVCache: n_ctx " + std::to_string(n_ctx) + " exceeds this model's training context of " +
                      std::to_string(c.n_ctx_train) + " positions";
    if (rope_scale != 1.0f) msg += " x rope_scale " + std::to_string(rope_scale);
    if (!stretchable)
      msg += " (it has learned positions, one per trained position: it cannot go beyond)";
    else
      msg += "; to go beyond it, stretch the positions with a linear RoPE scale of at least " +
             std::to_string((n_ctx + c.n_ctx_train - 1) / c.n_ctx_train) +
             " (rope_scale; CLI --rope-scale), which degrades output unless the model was tuned for it";
    throw Error(ErrorCode::InvalidArgument, msg);
  }
  ModelConfig scaled = c;
  scaled.rope_freq_scale = c.rope_freq_scale / rope_scale;
  return scaled;
}

}  // namespace

KVCache::KVCache(const Model& model, KVCacheOptions options) : impl_(std::make_unique<Impl>()) {
  const ModelConfig& c = model.config();
  const int n_ctx = options.n_ctx == 0 ? std::min(c.n_ctx_train, kDefaultContextLimit) : options.n_ctx;
  if (n_ctx < 1 || n_ctx > (1 << 24))
    throw Error(ErrorCode::InvalidArgument,
                "KVCache: n_ctx " + std::to_string(options.n_ctx) + " is out of range");
  if (options.n_seq < 1 || options.n_seq > 4096)
    throw Error(ErrorCode::InvalidArgument,
                "KVCache: n_seq " + std::to_string(options.n_seq) + " is out of range [1, 4096]");
  if (options.type != DType::F32 && options.type != DType::F16 && options.type != DType::Q8_0)
    throw Error(ErrorCode::InvalidArgument, "KVCache: cache type " +
                                                std::string(dtype_name(options.type)) +
                                                " is not supported (F32, F16, Q8_0)");
  // Q8_0 blocks must not straddle heads: each head's keys are dotted on their own.
  if (options.type == DType::Q8_0 && c.head_dim % 32 != 0)
    throw Error(ErrorCode::InvalidArgument, "KVCache: a Q8_0 cache needs a head size that is a multiple of 32; this "
                                            "model's is " + std::to_string(c.head_dim) + " (use F16)");
  // Encoders attend over the whole input at once and keep no cache (inkling::Embedder).
  if (const auto* arch = detail::find_arch(c.architecture); arch && arch->encoder)
    throw Error(ErrorCode::Unsupported, "KVCache: " + c.architecture +
                                            " is an encoder model; it embeds (inkling::Embedder), it does not generate");
  const ModelConfig scaled = check_context_length(c, n_ctx, options.rope_scale);
  Impl& m = *impl_;
  m.owner = detail::model_impl_id(model);
  m.n_ctx = n_ctx;
  m.n_seq = options.n_seq;
  m.n_layer = c.n_layer;
  const detail::ArchTraits& arch = *detail::find_arch(c.architecture);  // the model loaded, so it exists
  m.rope_style = arch.rope_style;
  m.head_dim = c.head_dim;
  m.n_head_kv = c.n_head_kv;
  m.rope = detail::make_rope_setup(scaled, arch, detail::rope_factor_tensor(model, "rope_freqs.weight"),
                                   detail::rope_factor_tensor(model, "rope_factors_long.weight"),
                                   detail::rope_factor_tensor(model, "rope_factors_short.weight"), n_ctx);
  const std::size_t rows = static_cast<std::size_t>(m.n_layer) * m.n_seq * m.n_ctx;
  const std::size_t bytes = 2 * rows * static_cast<std::size_t>(dtype_row_bytes(options.type, c.kv_dim()));
  if (options.memory_budget > 0 && bytes > options.memory_budget)
    throw Error(ErrorCode::OutOfMemory,
                "KVCache: " + std::to_string(n_ctx) + " positions x " + std::to_string(m.n_seq) +
                    " sequences need " + std::to_string(bytes) + " bytes, over the memory budget of " +
                    std::to_string(options.memory_budget) + " bytes (lower n_ctx or raise the budget)");
  detail::check_fits_in_memory(bytes, "KVCache: " + std::to_string(n_ctx) + " positions x " + std::to_string(m.n_seq) + " sequences");
  m.kv.allocate(options.type, m.n_layer, m.n_seq, m.n_ctx, c.kv_dim());
  m.length.assign(static_cast<std::size_t>(m.n_seq), 0);
}

KVCache::~KVCache() = default;
KVCache::KVCache(KVCache&&) noexcept = default;
KVCache& KVCache::operator=(KVCache&&) noexcept = default;

int KVCache::n_ctx() const noexcept { return impl_->n_ctx; }
int KVCache::n_seq() const noexcept { return impl_->n_seq; }
DType KVCache::type() const noexcept { return impl_->kv.type(); }

int KVCache::length(int seq) const {
  impl_->check_seq(seq, "length");
  return impl_->length[static_cast<std::size_t>(seq)];
}

std::size_t KVCache::bytes() const noexcept { return impl_->kv.bytes(); }

void KVCache::clear(int seq) {
  if (seq == -1) {
    std::fill(impl_->length.begin(), impl_->length.end(), 0);
    return;
  }
  impl_->check_seq(seq, "clear");
  impl_->length[static_cast<std::size_t>(seq)] = 0;
}

void KVCache::truncate(int seq, int new_length) {
  impl_->check_seq(seq, "truncate");
  int& len = impl_->length[static_cast<std::size_t>(seq)];
  if (new_length < 0)
    throw Error(ErrorCode::InvalidArgument, "KVCache::truncate: negative length");
  len = std::min(len, new_length);
}

void KVCache::copy(int src, int dst) {
  Impl& m = *impl_;
  m.check_seq(src, "copy");
  m.check_seq(dst, "copy");
  if (src == dst) return;
  const int len = m.length[static_cast<std::size_t>(src)];
  const std::size_t count = static_cast<std::size_t>(len) * m.kv.row_bytes();
  for (int l = 0; l < m.n_layer; ++l) {
    std::memcpy(m.kv.k_row(l, dst, 0), m.kv.k_row(l, src, 0), count);
    std::memcpy(m.kv.v_row(l, dst, 0), m.kv.v_row(l, src, 0), count);
  }
  m.length[static_cast<std::size_t>(dst)] = len;
}

void KVCache::remove(int seq, int p0, int p1) {
  Impl& m = *impl_;
  m.check_seq(seq, "remove");
  const int len = m.length[static_cast<std::size_t>(seq)];
  if (p0 < 0 || p1 < p0 || p1 > len)
    throw Error(ErrorCode::InvalidArgument, "KVCache::remove: range [" + std::to_string(p0) + ", " +
                                                std::to_string(p1) + ") is not within the " + std::to_string(len) +
                                                " cached positions");
  const int gap = p1 - p0;
  if (gap == 0) return;
  // Later entries move down by `gap` positions; their keys were rotated for their old
  // positions, so rotate them back by `gap` (rotations by angles add up).
  const int kv_dim = m.kv.kv_dim();
  const DType type = m.kv.type();
  const int half = m.rope.sets[0].n_rot / 2;
  std::vector<float> cos_v(static_cast<std::size_t>(2 * half)), sin_v(cos_v.size()), row(static_cast<std::size_t>(kv_dim));
  for (int s = 0; s < m.rope.n_sets; ++s)  // rotations by angles add up: rotate by -gap, unscaled
    detail::rope_angles(-gap, m.rope.sets[s], /*unit=*/true, cos_v.data() + s * half, sin_v.data() + s * half);
  for (int l = 0; l < m.n_layer; ++l) {
    const int set = m.rope.layer_set[static_cast<std::size_t>(l)];
    for (int p = p1; p < len; ++p) {
      // Decode, rotate, encode again (exact for F32; F16/Q8_0 round once more, as they
      // did when the key was first stored).
      kernels::dequantize_row(type, m.kv.k_row(l, seq, p), row.data(), kv_dim);
      if (set >= 0)
        detail::rope_apply(row.data(), m.n_head_kv, m.head_dim, 2 * half, m.rope_style, cos_v.data() + set * half,
                           sin_v.data() + set * half);
      kernels::quantize_row(type, row.data(), m.kv.k_row(l, seq, p - gap), kv_dim);
      std::memcpy(m.kv.v_row(l, seq, p - gap), m.kv.v_row(l, seq, p), m.kv.row_bytes());
    }
  }
  m.length[static_cast<std::size_t>(seq)] = len - gap;
}

std::size_t KVCache::row_bytes() const noexcept { return impl_->kv.row_bytes(); }

std::size_t KVCache::rows_bytes(int n) const noexcept {
  return n < 0 ? 0 : 2 * static_cast<std::size_t>(impl_->n_layer) * static_cast<std::size_t>(n) * row_bytes();
}

void KVCache::save_rows(int seq, int n, std::span<std::byte> out) const {
  const Impl& m = *impl_;
  m.check_seq(seq, "save_rows");
  if (n < 0 || n > m.length[static_cast<std::size_t>(seq)])
    throw Error(ErrorCode::InvalidArgument, "KVCache::save_rows: " + std::to_string(n) + " positions requested, " +
                                                std::to_string(m.length[static_cast<std::size_t>(seq)]) + " cached");
  if (out.size() != rows_bytes(n))
    throw Error(ErrorCode::InvalidArgument, "KVCache::save_rows: the buffer holds " + std::to_string(out.size()) +
                                                " bytes, " + std::to_string(rows_bytes(n)) + " needed");
  const std::size_t count = static_cast<std::size_t>(n) * m.kv.row_bytes();
  std::byte* dst = out.data();
  for (int l = 0; l < m.n_layer; ++l) {
    if (count == 0) break;
    std::memcpy(dst, m.kv.k_row(l, seq, 0), count);
    std::memcpy(dst + count, m.kv.v_row(l, seq, 0), count);
    dst += 2 * count;
  }
}

void KVCache::load_rows(int seq, int n, std::span<const std::byte> in) {
  Impl& m = *impl_;
  m.check_seq(seq, "load_rows");
  if (n < 0 || n > m.n_ctx)
    throw Error(ErrorCode::InvalidArgument, "KVCache::load_rows: " + std::to_string(n) +
                                                " positions do not fit in a context of " + std::to_string(m.n_ctx));
  if (in.size() != rows_bytes(n))
    throw Error(ErrorCode::InvalidArgument, "KVCache::load_rows: " + std::to_string(in.size()) + " bytes given, " +
                                                std::to_string(rows_bytes(n)) + " expected");
  const std::size_t count = static_cast<std::size_t>(n) * m.kv.row_bytes();
  const std::byte* src = in.data();
  for (int l = 0; l < m.n_layer; ++l) {
    if (count == 0) break;
    std::memcpy(m.kv.k_row(l, seq, 0), src, count);
    std::memcpy(m.kv.v_row(l, seq, 0), src + count, count);
    src += 2 * count;
  }
  m.length[static_cast<std::size_t>(seq)] = n;
}

}  // namespace inkling
