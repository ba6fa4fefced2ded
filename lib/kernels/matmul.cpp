// The collective matrix multiply (see the threading contract in kernels.hpp).
#include <algorithm>
#include <cstdint>
#include <string>

#include "inkling/error.hpp"
#include "kernels/formats/f16.hpp"
#include "kernels/kernel_table.hpp"

namespace inkling::kernels {
namespace {

// Output rows per work item: a block of weight rows small enough to stay in L1/L2 while
// every token of the batch is multiplied with it, so prefill reads each weight once.
constexpr std::int64_t kRowBlock = 16;
// With a gemm tile, larger blocks: the tile reads each block's weights from L2 once per
// few tokens, and its per-call setup (activation-scale tables) is shared by more rows.
constexpr std::int64_t kGemmRowBlock = 64;
// Work items a gemm is cut into per thread at least (row blocks x token parts), and the
// fewest tokens a part is cut down to for that.
constexpr std::int64_t kMinItemsPerThread = 4;
constexpr std::int64_t kMinPartTokens = 16;

}  // namespace

void matmul(Isa isa, const TensorView& w, const float* x, int n_tokens, float* y, Workspace& ws,
            detail::TeamMember& team) {
  const KernelTable& table = table_for(isa);
  const WeightKernels* wk = table.for_tensor(w.type, w.layout);
  // Type support is checked when a model binds its weights; this guards direct callers.
  // It cannot throw inside a team job, so report it before any thread work.
  if (!wk) {
    if (team.size() > 1) std::abort();
    throw Error(ErrorCode::Unsupported, "matmul: tensor '" + std::string(w.name) + "' has type " +
                                            std::string(dtype_name(w.type)) + ", which has no kernel");
  }
  const std::int64_t k = w.shape[0];
  const std::int64_t m = w.rows();

  const std::byte* act = reinterpret_cast<const std::byte*>(x);
  std::size_t act_row = static_cast<std::size_t>(k) * sizeof(float);
  if (wk->quantize)
    act_row = wk->activation_row ? wk->activation_row(k) : static_cast<std::size_t>(dtype_row_bytes(wk->activation_type, k));
  // Repacked rows have only a gemm; plain ones use it from two tokens on.
  const GemmFn gemm = n_tokens > 1 || w.layout != 0 ? wk->gemm : nullptr;
  // Each thread's gemm scratch: a slice of the workspace, rounded to whole cache lines.
  const std::size_t slot = gemm && wk->gemm_scratch ? (wk->gemm_scratch(k) + 63) / 64 * 64 : 0;
  const std::size_t act_need = wk->quantize ? act_row * static_cast<std::size_t>(n_tokens) : 0;
  const std::size_t scratch_need = slot ? slot * static_cast<std::size_t>(team.size()) + 64 : 0;
  if (act_need || scratch_need) {  // the same on every thread, so all or none meet the single
    team.single([&] {
      if (ws.activations.size() < act_need) ws.activations.resize(act_need);
      if (ws.gemm_scratch.size() < scratch_need) ws.gemm_scratch.resize(scratch_need);
    });
  }
  std::byte* scratch = nullptr;
  if (slot) {
    const auto base = reinterpret_cast<std::uintptr_t>(ws.gemm_scratch.data());
    scratch = ws.gemm_scratch.data() + ((64 - base % 64) % 64) + slot * static_cast<std::size_t>(team.id());
  }
  if (wk->quantize) {
    team.for_static(n_tokens, [&](std::int64_t t) {
      wk->quantize(x + t * k, ws.activations.data() + act_row * static_cast<std::size_t>(t), k);
    });
    act = ws.activations.data();
  }

  const std::size_t w_row = w.row_bytes();
  const VecDotFn dot = wk->vec_dot;
  const std::int64_t row_block = gemm ? kGemmRowBlock : kRowBlock;
  const std::int64_t n_blocks = (m + row_block - 1) / row_block;
  // A small model's matrices have fewer row blocks than a team needs to keep busy (64
  // rows: one block, one thread): the tokens are then split too. Every (row, token) sum
  // is the same whatever tile computes it, so the split changes no result.
  std::int64_t token_parts = 1;
  if (gemm && team.size() > 1)
    while (n_blocks * token_parts < kMinItemsPerThread * team.size() && n_tokens / (2 * token_parts) >= kMinPartTokens)
      token_parts *= 2;
  team.for_dynamic(n_blocks * token_parts, [&](std::int64_t item) {
    const std::int64_t blk = item % n_blocks, part = item / n_blocks;
    const std::int64_t r0 = blk * row_block, r1 = std::min(m, r0 + row_block);
    if (gemm) {
      const std::int64_t t0 = n_tokens * part / token_parts, t1 = n_tokens * (part + 1) / token_parts;
      gemm(k, w.data + w_row * static_cast<std::size_t>(r0), w_row, static_cast<int>(r1 - r0),
           act + act_row * static_cast<std::size_t>(t0), act_row, static_cast<int>(t1 - t0), y + t0 * m + r0, m, scratch);
      return;
    }
    for (int t = 0; t < n_tokens; ++t) {
      const std::byte* a = act + act_row * static_cast<std::size_t>(t);
      float* yt = y + static_cast<std::int64_t>(t) * m;
      for (std::int64_t r = r0; r < r1; ++r) yt[r] = dot(k, w.data + w_row * static_cast<std::size_t>(r), a);
    }
  });
}

float dot_f32(Isa isa, const float* a, const float* b, std::int64_t n) { return table_for(isa).dot_f32(a, b, n); }

void axpy_f32(Isa isa, float a, const float* x, float* y, std::int64_t n) { table_for(isa).axpy_f32(a, x, y, n); }

void dot_rows_f32(Isa isa, const float* q, const float* k, std::int64_t stride, int n, std::int64_t len, float* out) {
  table_for(isa).dot_rows_f32(q, k, stride, n, len, out);
}

void weighted_sum_f32(Isa isa, const float* w, const float* v, std::int64_t stride, int n, std::int64_t len,
                      float* out) {
  table_for(isa).weighted_sum_f32(w, v, stride, n, len, out);
}

float dot_f16(Isa isa, const std::uint16_t* a, const std::uint16_t* b, std::int64_t n) {
  return table_for(isa).for_type(DType::F16)->vec_dot(n, a, b);
}

void axpy_f16(Isa isa, float a, const std::uint16_t* x, float* y, std::int64_t n) { table_for(isa).axpy_f16(a, x, y, n); }

float dot_q8_0(Isa isa, const std::byte* a, const std::byte* b, std::int64_t n) {
  return table_for(isa).for_type(DType::Q8_0)->vec_dot(n, a, b);
}

std::uint32_t repack_layout(Isa isa, DType type) noexcept {
  const WeightKernels* wk = table_for(isa).for_type(type);
  return wk && wk->repack ? wk->repack_layout : 0;
}

void repack(Isa isa, const TensorView& w, std::byte* data) {
  const WeightKernels* wk = table_for(isa).for_type(w.type);
  if (wk && wk->repack) wk->repack(data, w.shape[0], w.rows());
}

void to_f16(const float* x, std::uint16_t* y, std::int64_t n) { ref::quantize_f16(x, y, n); }

}  // namespace inkling::kernels
