#include "embed/pooling.hpp"

#include <cmath>

#include "model/encoder_weights.hpp"

namespace inkling {

std::string_view pooling_name(Pooling pooling) noexcept {
  switch (pooling) {
    case Pooling::Default: return "default";
    case Pooling::None: return "none";
    case Pooling::Mean: return "mean";
    case Pooling::Cls: return "cls";
    case Pooling::Last: return "last";
    case Pooling::Rank: return "rank";
  }
  return "?";
}

std::optional<Pooling> parse_pooling(std::string_view name) noexcept {
  for (Pooling p : {Pooling::Default, Pooling::None, Pooling::Mean, Pooling::Cls, Pooling::Last, Pooling::Rank})
    if (pooling_name(p) == name) return p;
  return std::nullopt;
}

}  // namespace inkling

namespace inkling::detail {

void pool(Pooling pooling, const float* hidden, int n_tokens, int n_embd, std::vector<float>& out) {
  const auto row = [&](int t) { return hidden + static_cast<std::size_t>(t) * n_embd; };
  switch (pooling) {
    case Pooling::None:
      out.assign(hidden, row(n_tokens));
      return;
    case Pooling::Mean: {
      // As ggml's mat-mul with a 1/n column: each token's row weighted by 1/n, summed.
      out.assign(static_cast<std::size_t>(n_embd), 0.0f);
      const float inv = 1.0f / static_cast<float>(n_tokens);
      for (int t = 0; t < n_tokens; ++t)
        for (int i = 0; i < n_embd; ++i) out[static_cast<std::size_t>(i)] += row(t)[i] * inv;
      return;
    }
    case Pooling::Last:
      out.assign(row(n_tokens - 1), row(n_tokens));
      return;
    default:  // Cls (Rank's head input is the same row, taken by the caller)
      out.assign(row(0), row(1));
      return;
  }
}

void classify(kernels::Isa isa, const EncoderWeights& w, const float* h, int n_embd, kernels::Workspace& ws,
              std::vector<float>& out) {
  std::vector<float> hidden(static_cast<std::size_t>(n_embd));
  kernels::matmul(isa, *w.cls, h, 1, hidden.data(), ws);
  const auto* cls_b = reinterpret_cast<const float*>(w.cls_b->data);
  for (int i = 0; i < n_embd; ++i) hidden[static_cast<std::size_t>(i)] = std::tanh(hidden[static_cast<std::size_t>(i)] + cls_b[i]);
  if (!w.cls_out) {
    out = std::move(hidden);
    return;
  }
  out.assign(static_cast<std::size_t>(w.n_cls_out), 0.0f);
  kernels::matmul(isa, *w.cls_out, hidden.data(), 1, out.data(), ws);
  const auto* b = reinterpret_cast<const float*>(w.cls_out_b->data);
  for (int i = 0; i < w.n_cls_out; ++i) out[static_cast<std::size_t>(i)] += b[i];
}

void normalize_rows(std::vector<float>& v, int dim) {
  for (std::size_t r = 0; r + static_cast<std::size_t>(dim) <= v.size(); r += static_cast<std::size_t>(dim)) {
    double sum = 0.0;
    for (int i = 0; i < dim; ++i) sum += static_cast<double>(v[r + static_cast<std::size_t>(i)]) * v[r + static_cast<std::size_t>(i)];
    const float scale = sum > 0.0 ? static_cast<float>(1.0 / std::sqrt(sum)) : 0.0f;
    for (int i = 0; i < dim; ++i) v[r + static_cast<std::size_t>(i)] *= scale;
  }
}

}  // namespace inkling::detail
