// The C ABI's scoring calls: per-token log-probabilities of given ids, and perplexity.
#include <cmath>
#include <span>

#include "capi_support.hpp"
#include "inkling/scoring.hpp"

using inkling::capi::fail;
using inkling::capi::guard;
using inkling::capi::null_arg;

extern "C" {

ink_status ink_score_tokens(const ink_model* model, const int32_t* ids, size_t n_ids, float* logprobs, size_t cap) {
  return guard([&]() -> ink_status {
    constexpr const char* fn = "ink_score_tokens";
    if (!model) return null_arg(fn, "model");
    if (!ids && n_ids > 0) return null_arg(fn, "ids");
    if (!logprobs && cap > 0) return null_arg(fn, "logprobs");
    if (cap < n_ids)
      return fail(INK_ERR_BUFFER_TOO_SMALL, std::string(fn) + ": room for " + std::to_string(cap) + " logprobs, " +
                                                std::to_string(n_ids) + " needed");
    const auto scores = inkling::score_tokens(*model->model, std::span<const int32_t>(ids, n_ids), 0);
    logprobs[0] = NAN;
    for (std::size_t i = 0; i < scores.size(); ++i) logprobs[i + 1] = scores[i].logprob;
    return INK_OK;
  });
}

ink_status ink_perplexity(const ink_model* model, const int32_t* ids, size_t n_ids, int32_t n_ctx, int32_t stride,
                          double* perplexity_out) {
  return guard([&]() -> ink_status {
    constexpr const char* fn = "ink_perplexity";
    if (!model) return null_arg(fn, "model");
    if (!ids && n_ids > 0) return null_arg(fn, "ids");
    if (!perplexity_out) return null_arg(fn, "perplexity_out");
    inkling::PerplexityOptions o;
    o.n_ctx = n_ctx;
    o.stride = stride;
    *perplexity_out = inkling::perplexity(*model->model, std::span<const int32_t>(ids, n_ids), o).perplexity;
    return INK_OK;
  });
}

}  // extern "C"
