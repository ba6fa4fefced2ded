// Pooling the final hidden states of one sequence into one vector, and the rerankers'
// classification head, as llama.cpp computes them (build_pooling).
#pragma once

#include <cstdint>
#include <vector>

#include "inkling/embedder.hpp"
#include "kernels/kernels.hpp"

namespace inkling::detail {

struct EncoderWeights;

// Rows [0, n_tokens) of `hidden` (n_embd floats each) pooled into `out`: None copies
// every row, Mean averages, Cls takes row 0, Last the final row. Not Rank.
void pool(Pooling pooling, const float* hidden, int n_tokens, int n_embd, std::vector<float>& out);

// out = cls_out · tanh(cls · h + cls_b) + cls_out_b (without cls_out: the tanh vector),
// `w.n_cls_out` floats.
void classify(kernels::Isa isa, const EncoderWeights& w, const float* h, int n_embd, kernels::Workspace& ws,
              std::vector<float>& out);

// Divides each `dim`-float vector of v by its Euclidean norm (sum of squares in double,
// as llama.cpp's common_embd_normalize); a zero vector stays zero.
void normalize_rows(std::vector<float>& v, int dim);

}  // namespace inkling::detail
