// The steps whose cut adapts to the distribution's shape: top-n-sigma (spread of the
// logits), XTC (removes the most likely choices at random), mirostat (a running surprise
// target). Definitions are llama.cpp's (src/llama-sampling.cpp).
#include <algorithm>
#include <cmath>

#include "sampling/steps.hpp"

namespace inkling::sampling {

void apply_top_n_sigma(CandidateSet& set, float n) {
  if (n <= 0 || set.size() <= 1) return;
  double sum = 0;
  std::size_t valid = 0;
  float mx = -INFINITY;
  for (const Candidate& c : set.items()) {
    if (c.logit == -INFINITY) continue;
    sum += c.logit;
    ++valid;
    mx = std::max(mx, c.logit);
  }
  if (valid == 0) return;
  const double mean = sum / static_cast<double>(valid);
  double acc = 0;
  for (const Candidate& c : set.items())
    if (c.logit != -INFINITY) acc += (c.logit - mean) * (c.logit - mean);
  const double sd = std::sqrt(acc / static_cast<double>(valid));
  set.keep_logits_at_least(static_cast<float>(mx - n * sd));
}

void apply_xtc(CandidateSet& set, float probability, float threshold, double draw, std::size_t min_keep) {
  if (probability <= 0 || threshold > 0.5f || set.size() < 2 || draw >= probability) return;
  set.softmax();
  std::size_t above = 0;
  for (const Candidate& c : set.items()) above += c.p >= threshold ? 1 : 0;
  if (above < 2) return;
  set.sort_prefix(above);
  const std::size_t drop = above - 1;  // all of them but the least likely
  if (set.size() - drop >= std::max<std::size_t>(min_keep, 1)) set.drop_first(drop);
}

void apply_mirostat_v2(CandidateSet& set, float mu) {
  const SoftmaxStats st = set.softmax();
  // -log2 p <= mu  <=>  logit >= log_sum_exp - mu * ln 2.
  const auto floor = static_cast<float>(st.log_sum_exp - static_cast<double>(mu) * std::log(2.0));
  if (set.max_logit() >= floor)
    set.keep_logits_at_least(floor);
  else
    set.keep_best(1);
}

void apply_mirostat_v1(CandidateSet& set, float mu, int m) {
  set.softmax();
  const std::size_t top = std::min(set.size(), static_cast<std::size_t>(m));
  set.sort_prefix(top);
  const auto items = set.items();
  double sum_ti_bi = 0, sum_ti_sq = 0;
  for (std::size_t i = 0; i + 1 < top; ++i) {
    if (!(items[i + 1].p > 0)) break;
    const double t_i = std::log(static_cast<double>(i + 2) / static_cast<double>(i + 1));
    const double b_i = std::log(static_cast<double>(items[i].p) / items[i + 1].p);
    sum_ti_bi += t_i * b_i;
    sum_ti_sq += t_i * t_i;
  }
  const double s_hat = sum_ti_sq > 0 ? sum_ti_bi / sum_ti_sq : 0;
  const double eps_hat = s_hat - 1;
  const double k = std::pow(eps_hat * std::pow(2.0, static_cast<double>(mu)) /
                                (1 - std::pow(static_cast<double>(set.vocab_size()), -eps_hat)),
                            1 / s_hat);
  // A flat or degenerate head (s_hat <= 0, k not finite) keeps everything, as a huge k would.
  const std::size_t keep = std::isfinite(k) && k < static_cast<double>(set.size()) ? std::max<std::size_t>(1, static_cast<std::size_t>(k)) : set.size();
  set.keep_best(keep);
}

float mirostat_update(float mu, float tau, float eta, float p) {
  const float surprise = -std::log2(p);
  return mu - eta * (surprise - tau);
}

}  // namespace inkling::sampling
