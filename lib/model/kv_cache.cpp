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
  // Learned absolute positions (GPT-2) have one embedding row per training position:
  // a longer context would read past the table.
  const auto* learned = detail::find_arch(c.architecture);
  if (learned && learned->position_embedding && n_ctx > c.n_ctx_train)
    throw Error(ErrorCode::InvalidArgument, "KVCache: n_ctx " + std::to_string(n_ctx) + " exceeds this model's training context of " +
                                                std::to_string(c.n_ctx_train) + " (it has learned positions, one per trained position)");
  Impl& m = *impl_;
  m.owner = detail::model_impl_id(model);
  m.n_ctx = n_ctx;
  m.n_seq = options.n_seq;
  m.n_layer = c.n_layer;
  m.kv_dim = c.kv_dim();
  m.type = options.type;
  if (const auto* arch = detail::find_arch(c.architecture)) {
    m.rope = arch->rope;
    m.rope_style = static_cast<int>(arch->rope_style);
  }
  m.n_rot = c.n_rot;
  m.head_dim = c.head_dim;
  m.n_head_kv = c.n_head_kv;
  m.rope_base = c.rope_freq_base;
  m.rope_scale = c.rope_freq_scale;
  m.row_bytes = static_cast<std::size_t>(dtype_row_bytes(m.type, m.kv_dim));
  const std::size_t rows = static_cast<std::size_t>(m.n_layer) * m.n_seq * m.n_ctx;
  const std::size_t bytes = 2 * rows * m.row_bytes;
  if (options.memory_budget > 0 && bytes > options.memory_budget)
    throw Error(ErrorCode::OutOfMemory,
                "KVCache: " + std::to_string(n_ctx) + " positions x " + std::to_string(m.n_seq) +
                    " sequences need " + std::to_string(bytes) + " bytes, over the memory budget of " +
                    std::to_string(options.memory_budget) + " bytes (lower n_ctx or raise the budget)");
  detail::check_fits_in_memory(bytes, "KVCache: " + std::to_string(n_ctx) + " positions x " + std::to_string(m.n_seq) + " sequences");
  m.kb = detail::LazyBuffer(rows * m.row_bytes);
  m.vb = detail::LazyBuffer(rows * m.row_bytes);
  m.length.assign(static_cast<std::size_t>(m.n_seq), 0);
}

KVCache::~KVCache() = default;
KVCache::KVCache(KVCache&&) noexcept = default;
KVCache& KVCache::operator=(KVCache&&) noexcept = default;

int KVCache::n_ctx() const noexcept { return impl_->n_ctx; }
int KVCache::n_seq() const noexcept { return impl_->n_seq; }
DType KVCache::type() const noexcept { return impl_->type; }

int KVCache::length(int seq) const {
  impl_->check_seq(seq, "length");
  return impl_->length[static_cast<std::size_t>(seq)];
}

std::size_t KVCache::bytes() const noexcept { return impl_->kb.size() + impl_->vb.size(); }

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
  const std::size_t count = static_cast<std::size_t>(len) * m.row_bytes;
  for (int l = 0; l < m.n_layer; ++l) {
    std::memcpy(m.k_row(l, dst, 0), m.k_row(l, src, 0), count);
    std::memcpy(m.v_row(l, dst, 0), m.v_row(l, src, 0), count);
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
  std::vector<float> cos_v(static_cast<std::size_t>(m.n_rot / 2)), sin_v(cos_v.size()), row(static_cast<std::size_t>(m.kv_dim));
  if (m.rope) detail::rope_angles(-gap, m.n_rot, m.rope_base, m.rope_scale, cos_v.data(), sin_v.data());
  const auto style = static_cast<detail::RopeStyle>(m.rope_style);
  for (int l = 0; l < m.n_layer; ++l) {
    for (int p = p1; p < len; ++p) {
      // Decode, rotate, encode again (exact for F32; F16/Q8_0 round once more, as they
      // did when the key was first stored).
      kernels::dequantize_row(m.type, m.k_row(l, seq, p), row.data(), m.kv_dim);
      if (m.rope) detail::rope_apply(row.data(), m.n_head_kv, m.head_dim, m.n_rot, style, cos_v.data(), sin_v.data());
      kernels::quantize_row(m.type, row.data(), m.k_row(l, seq, p - gap), m.kv_dim);
      std::memcpy(m.v_row(l, seq, p - gap), m.v_row(l, seq, p), m.row_bytes);
    }
  }
  m.length[static_cast<std::size_t>(seq)] = len - gap;
}

}  // namespace inkling
