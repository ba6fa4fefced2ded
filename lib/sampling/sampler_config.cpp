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
  for (std::size_t i = 0; i < order.size(); ++i)
    if (!sampling::find_step(order[i]))
      bad("order[" + std::to_string(i) + "] is not a SamplerStep (value " +
          std::to_string(static_cast<int>(order[i])) + ")");
}

}  // namespace inkling
