// SamplerConfig: parameter validation (the steps, their names and the default order are
// the step table's, sampling/step_table.cpp).
#include <cmath>
#include <cstdio>
#include <string>

#include "inkling/error.hpp"
#include "inkling/sampler.hpp"
#include "sampling/step_table.hpp"

namespace inkling {
namespace {

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorCode::InvalidArgument, "sampler: " + what); }

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

void SamplerConfig::validate() const {
  auto finite = [](float v) { return std::isfinite(v); };
  if (!finite(temperature) || temperature < 0)
    bad("temperature must be a finite number >= 0 (0 = greedy), got " + num(temperature));
  if (top_k < 0) bad("top_k must be >= 0 (0 = off), got " + std::to_string(top_k));
  if (!finite(top_p) || top_p <= 0 || top_p > 1) bad("top_p must be in (0, 1], got " + num(top_p));
  if (!finite(min_p) || min_p < 0 || min_p > 1) bad("min_p must be in [0, 1], got " + num(min_p));
  if (!finite(typical_p) || typical_p <= 0 || typical_p > 1) bad("typical_p must be in (0, 1], got " + num(typical_p));
  if (!finite(repeat_penalty) || repeat_penalty <= 0)
    bad("repeat_penalty must be a finite number > 0 (1 = off), got " + num(repeat_penalty));
  if (!finite(presence_penalty)) bad("presence_penalty must be finite, got " + num(presence_penalty));
  if (!finite(frequency_penalty)) bad("frequency_penalty must be finite, got " + num(frequency_penalty));
  if (penalty_window < -1)
    bad("penalty_window must be >= -1 (-1 = whole history, 0 = off), got " + std::to_string(penalty_window));
  if (min_keep < 1) bad("min_keep must be >= 1, got " + std::to_string(min_keep));
  if (top_n < 0 || top_n > 100) bad("top_n must be in [0, 100], got " + std::to_string(top_n));
  for (const auto& [id, b] : logit_bias) {
    if (id < 0) bad("logit_bias token id must be >= 0, got " + std::to_string(id));
    if (std::isnan(b) || b == INFINITY)
      bad("logit_bias for token " + std::to_string(id) + " must be a number or -inf, got " + num(b));
  }
  if (!finite(dry_multiplier) || dry_multiplier < 0) bad("dry_multiplier must be a finite number >= 0 (0 = off), got " + num(dry_multiplier));
  if (!finite(dry_base) || dry_base < 1) bad("dry_base must be a finite number >= 1, got " + num(dry_base));
  if (dry_allowed_length < 1) bad("dry_allowed_length must be >= 1, got " + std::to_string(dry_allowed_length));
  if (dry_penalty_last_n < -1)
    bad("dry_penalty_last_n must be >= -1 (-1 = whole history, 0 = off), got " + std::to_string(dry_penalty_last_n));
  for (const auto& b : dry_sequence_breakers)
    if (b.empty()) bad("dry_sequence_breakers must not contain an empty string");
  if (std::isnan(top_n_sigma) || top_n_sigma == INFINITY) bad("top_n_sigma must be a finite number (<= 0 = off), got " + num(top_n_sigma));
  if (!finite(xtc_probability) || xtc_probability < 0 || xtc_probability > 1)
    bad("xtc_probability must be in [0, 1], got " + num(xtc_probability));
  if (!finite(xtc_threshold) || xtc_threshold < 0 || xtc_threshold > 1) bad("xtc_threshold must be in [0, 1], got " + num(xtc_threshold));
  if (mirostat < 0 || mirostat > 2) bad("mirostat must be 0 (off), 1 or 2, got " + std::to_string(mirostat));
  if (!finite(mirostat_tau) || mirostat_tau < 0) bad("mirostat_tau must be a finite number >= 0, got " + num(mirostat_tau));
  if (!finite(mirostat_eta) || mirostat_eta < 0) bad("mirostat_eta must be a finite number >= 0, got " + num(mirostat_eta));
  if (mirostat_m < 2) bad("mirostat_m must be >= 2, got " + std::to_string(mirostat_m));
  for (std::size_t i = 0; i < order.size(); ++i)
    if (!sampling::find_step(order[i]))
      bad("order[" + std::to_string(i) + "] is not a SamplerStep (value " +
          std::to_string(static_cast<int>(order[i])) + ")");
}

}  // namespace inkling
