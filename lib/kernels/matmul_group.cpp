// The collective product of a group of matrices of one type (see kernels.hpp): one loop
// converts every product's activations, one loop hands out every product's row blocks.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "inkling/error.hpp"
#include "kernels/kernel_table.hpp"

namespace inkling::kernels {
namespace {

// As matmul's: 16 rows per item for vec_dot, 64 for a gemm tile.
constexpr std::int64_t kRowBlock = 16;
constexpr std::int64_t kGemmRowBlock = 64;

// Repacked rows have only a gemm; plain ones use it from two tokens on (as matmul).
GemmFn gemm_for(const WeightKernels& wk, const GroupProduct& p) {
  return p.n_tokens > 1 || p.w->layout != 0 ? wk.gemm : nullptr;
}

// Row blocks of a product (none without tokens).
std::int64_t items_of(const WeightKernels& wk, const GroupProduct& p) {
  if (p.n_tokens <= 0) return 0;
  const std::int64_t block = gemm_for(wk, p) ? kGemmRowBlock : kRowBlock;
  return (p.w->rows() + block - 1) / block;
}

// The product an index falls in (the last of those starting there: the ones before it
// have no rows or items), given each product's first index (ascending).
int find_product(const std::int64_t* first, int n, std::int64_t i) {
  return static_cast<int>(std::upper_bound(first, first + n, i) - first) - 1;
}

// Checks the group before any thread work (nothing may throw inside a team job).
const WeightKernels& check_group(const KernelTable& table, const GroupProduct* group, int n,
                                 detail::TeamMember& team) {
  const TensorView& w0 = *group[0].w;
  const WeightKernels* wk = table.for_tensor(w0.type, w0.layout);
  bool same = true;
  for (int i = 1; i < n; ++i)
    same = same && group[i].w->type == w0.type && group[i].w->layout == w0.layout && group[i].w->shape[0] == w0.shape[0];
  if (!wk || !same) {
    if (team.size() > 1) std::abort();
    throw Error(ErrorCode::Unsupported, "matmul_group: tensor '" + std::string(w0.name) +
                                            (wk ? "' is grouped with tensors of another type, layout or width"
                                                : "' has a type with no kernel"));
  }
  return *wk;
}

}  // namespace

void matmul_group(Isa isa, const GroupProduct* group, int n, Workspace& ws, detail::TeamMember& team) {
  if (n <= 0) return;
  const WeightKernels& wk = check_group(table_for(isa), group, n, team);
  const std::int64_t k = group[0].w->shape[0];
  std::size_t act_row = static_cast<std::size_t>(k) * sizeof(float);
  if (wk.quantize)
    act_row = wk.activation_row ? wk.activation_row(k) : static_cast<std::size_t>(dtype_row_bytes(wk.activation_type, k));
  bool any_gemm = false;
  std::int64_t rows = 0, items = 0;
  for (int i = 0; i < n; ++i) {
    const GemmFn gemm = gemm_for(wk, group[i]);
    any_gemm = any_gemm || gemm;
    rows += group[i].n_tokens;
    items += items_of(wk, group[i]);
  }
  const std::size_t slot = any_gemm && wk.gemm_scratch ? (wk.gemm_scratch(k) + 63) / 64 * 64 : 0;
  const std::size_t act_need = wk.quantize ? act_row * static_cast<std::size_t>(rows) : 0;
  const std::size_t scratch_need = slot ? slot * static_cast<std::size_t>(team.size()) + 64 : 0;
  team.single([&] {
    if (ws.activations.size() < act_need) ws.activations.resize(act_need);
    if (ws.gemm_scratch.size() < scratch_need) ws.gemm_scratch.resize(scratch_need);
    ws.group_rows.resize(static_cast<std::size_t>(n));
    ws.group_items.resize(static_cast<std::size_t>(n));
    std::int64_t r = 0, it = 0;
    for (int i = 0; i < n; ++i) {
      ws.group_rows[static_cast<std::size_t>(i)] = r;
      ws.group_items[static_cast<std::size_t>(i)] = it;
      r += group[i].n_tokens;
      it += items_of(wk, group[i]);
    }
  });
  std::byte* scratch = nullptr;
  if (slot) {
    const auto base = reinterpret_cast<std::uintptr_t>(ws.gemm_scratch.data());
    scratch = ws.gemm_scratch.data() + ((64 - base % 64) % 64) + slot * static_cast<std::size_t>(team.id());
  }
  const std::int64_t* first_row = ws.group_rows.data();
  const std::int64_t* first_item = ws.group_items.data();
  // Activation row j of the group: its product's token j - first_row[product].
  const auto act_of = [&](int p, int t) -> const std::byte* {
    if (!wk.quantize) return reinterpret_cast<const std::byte*>(group[p].x + static_cast<std::int64_t>(t) * k);
    return ws.activations.data() + act_row * static_cast<std::size_t>(first_row[p] + t);
  };
  if (wk.quantize) {
    team.for_static(rows, [&](std::int64_t j) {
      const int p = find_product(first_row, n, j);
      const std::int64_t t = j - first_row[p];
      wk.quantize(group[p].x + t * k, ws.activations.data() + act_row * static_cast<std::size_t>(j), k);
    });
  }
  team.for_dynamic(items, [&](std::int64_t item) {
    const int p = find_product(first_item, n, item);
    const GroupProduct& g = group[p];
    const GemmFn gemm = gemm_for(wk, g);
    const std::int64_t m = g.w->rows(), block = gemm ? kGemmRowBlock : kRowBlock;
    const std::int64_t r0 = (item - first_item[p]) * block, r1 = std::min(m, r0 + block);
    const std::size_t w_row = g.w->row_bytes();
    if (gemm) {
      gemm(k, g.w->data + w_row * static_cast<std::size_t>(r0), w_row, static_cast<int>(r1 - r0), act_of(p, 0), act_row,
           g.n_tokens, g.y + r0, m, scratch);
      return;
    }
    for (int t = 0; t < g.n_tokens; ++t) {
      const std::byte* a = act_of(p, t);
      float* yt = g.y + static_cast<std::int64_t>(t) * m;
      for (std::int64_t r = r0; r < r1; ++r) yt[r] = wk.vec_dot(k, g.w->data + w_row * static_cast<std::size_t>(r), a);
    }
  });
}

}  // namespace inkling::kernels
