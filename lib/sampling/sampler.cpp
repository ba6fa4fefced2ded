// The sampler chain. Each step is a small function over the candidate array
// (REFERENCE.md §5 gives llama.cpp's semantics, which these follow).
#include "inkling/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "inkling/error.hpp"

namespace inkling {
namespace {

[[noreturn]] void bad(const std::string& what) { throw Error(ErrorCode::InvalidArgument, "sampler: " + what); }

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

bool by_logit(const Sampler::Candidate& a, const Sampler::Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

// Sorted top-n (by probability) of a probability vector given as (id, p) pairs.
void take_top(std::vector<TokenProb>& out, std::span<const Sampler::Candidate> c, int n) {
  out.clear();
  for (const auto& x : c) out.push_back({x.id, x.p, x.p > 0 ? std::log(x.p) : -INFINITY});
  const auto k = std::min<std::size_t>(static_cast<std::size_t>(n), out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(k), out.end(),
                    [](const TokenProb& a, const TokenProb& b) { return a.prob > b.prob || (a.prob == b.prob && a.id < b.id); });
  out.resize(k);
}

float entropy_of(std::span<const Sampler::Candidate> c) {
  double h = 0;
  for (const auto& x : c)
    if (x.p > 0) h -= static_cast<double>(x.p) * std::log(static_cast<double>(x.p));
  return static_cast<float>(h);
}

}  // namespace

std::string_view sampler_step_name(SamplerStep step) noexcept {
  switch (step) {
    case SamplerStep::LogitBias: return "logit_bias";
    case SamplerStep::Penalties: return "penalties";
    case SamplerStep::TopK: return "top_k";
    case SamplerStep::TypicalP: return "typical_p";
    case SamplerStep::TopP: return "top_p";
    case SamplerStep::MinP: return "min_p";
    case SamplerStep::Temperature: return "temperature";
  }
  return "?";
}

std::vector<SamplerStep> SamplerConfig::default_order() {
  return {SamplerStep::LogitBias, SamplerStep::Penalties, SamplerStep::TopK, SamplerStep::TypicalP,
          SamplerStep::TopP,      SamplerStep::MinP,      SamplerStep::Temperature};
}

void SamplerConfig::validate() const {
  auto finite = [](float v) { return std::isfinite(v); };
  if (!finite(temperature) || temperature < 0) bad("temperature must be a finite number >= 0, got " + num(temperature));
  if (top_k < 0) bad("top_k must be >= 0 (0 = off), got " + std::to_string(top_k));
  if (!finite(top_p) || top_p <= 0 || top_p > 1) bad("top_p must be in (0, 1], got " + num(top_p));
  if (!finite(min_p) || min_p < 0 || min_p > 1) bad("min_p must be in [0, 1], got " + num(min_p));
  if (!finite(typical_p) || typical_p <= 0 || typical_p > 1) bad("typical_p must be in (0, 1], got " + num(typical_p));
  if (!finite(repeat_penalty) || repeat_penalty <= 0) bad("repeat_penalty must be a finite number > 0, got " + num(repeat_penalty));
  if (!finite(presence_penalty)) bad("presence_penalty must be finite, got " + num(presence_penalty));
  if (!finite(frequency_penalty)) bad("frequency_penalty must be finite, got " + num(frequency_penalty));
  if (penalty_window < -1) bad("penalty_window must be >= -1 (-1 = whole history), got " + std::to_string(penalty_window));
  if (min_keep < 1) bad("min_keep must be >= 1, got " + std::to_string(min_keep));
  if (top_n < 0 || top_n > 100) bad("top_n must be in [0, 100], got " + std::to_string(top_n));
  for (const auto& [id, b] : logit_bias) {
    if (id < 0) bad("logit_bias token id " + std::to_string(id) + " is negative");
    if (std::isnan(b) || b == INFINITY) bad("logit_bias for token " + std::to_string(id) + " must be a number or -inf, got " + num(b));
  }
}

Sampler::Sampler(SamplerConfig config) : config_(std::move(config)) {
  config_.validate();
  reseed(config_.seed);
}

void Sampler::reseed(std::uint64_t seed) noexcept {
  std::uint64_t s = seed;
  for (auto& w : rng_) w = splitmix64(s);
}

std::vector<std::uint64_t> Sampler::rng_state() const { return {rng_[0], rng_[1], rng_[2], rng_[3]}; }

void Sampler::set_rng_state(std::span<const std::uint64_t> state) {
  if (state.size() != 4 || (state[0] | state[1] | state[2] | state[3]) == 0)
    bad("an RNG state is 4 words, not all zero");
  for (int i = 0; i < 4; ++i) rng_[i] = state[static_cast<std::size_t>(i)];
}

// xoshiro256**: small, fast, and the same on every platform (std:: distributions are not).
double Sampler::next_uniform() noexcept {
  const std::uint64_t result = rotl(rng_[1] * 5, 7) * 9;
  const std::uint64_t t = rng_[1] << 17;
  rng_[2] ^= rng_[0];
  rng_[3] ^= rng_[1];
  rng_[1] ^= rng_[2];
  rng_[0] ^= rng_[3];
  rng_[2] ^= t;
  rng_[3] = rotl(rng_[3], 45);
  return static_cast<double>(result >> 11) * 0x1.0p-53;
}

TokenId Sampler::greedy(std::span<const float> logits) {
  if (logits.empty()) bad("empty logits");
  return static_cast<TokenId>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

void Sampler::softmax(bool sort_first) {
  if (sort_first && !sorted_) {
    std::sort(cand_.begin(), cand_.end(), by_logit);
    sorted_ = true;
  }
  float mx = -INFINITY;
  for (const auto& c : cand_) mx = std::max(mx, c.logit);
  float sum = 0;
  for (auto& c : cand_) {
    c.p = std::exp(c.logit - mx);
    sum += c.p;
  }
  for (auto& c : cand_) c.p /= sum;
}

void Sampler::apply(SamplerStep step, std::span<const TokenId> history) {
  const SamplerConfig& k = config_;
  const std::size_t n = cand_.size();
  switch (step) {
    case SamplerStep::LogitBias: {
      if (k.logit_bias.empty()) return;
      for (auto& c : cand_) c.logit += bias_[static_cast<std::size_t>(c.id)];
      sorted_ = false;
      return;
    }
    case SamplerStep::Penalties: {
      if (k.penalty_window == 0 || (k.repeat_penalty == 1 && k.frequency_penalty == 0 && k.presence_penalty == 0))
        return;
      const std::size_t window = k.penalty_window < 0 ? history.size()
                                                      : std::min(history.size(), static_cast<std::size_t>(k.penalty_window));
      for (std::size_t i = history.size() - window; i < history.size(); ++i) {
        const TokenId id = history[i];
        if (id < 0 || static_cast<std::size_t>(id) >= counts_.size()) continue;
        if (counts_[static_cast<std::size_t>(id)]++ == 0) touched_.push_back(id);
      }
      for (auto& c : cand_) {
        const int cnt = counts_[static_cast<std::size_t>(c.id)];
        if (cnt == 0) continue;
        c.logit = c.logit <= 0 ? c.logit * k.repeat_penalty : c.logit / k.repeat_penalty;
        c.logit -= static_cast<float>(cnt) * k.frequency_penalty + k.presence_penalty;
      }
      for (TokenId id : touched_) counts_[static_cast<std::size_t>(id)] = 0;
      touched_.clear();
      sorted_ = false;
      return;
    }
    case SamplerStep::TopK: {
      if (k.top_k <= 0 || static_cast<std::size_t>(k.top_k) >= n) return;
      const std::size_t keep = std::max<std::size_t>(static_cast<std::size_t>(k.top_k), static_cast<std::size_t>(k.min_keep));
      if (keep >= n) return;
      std::partial_sort(cand_.begin(), cand_.begin() + static_cast<std::ptrdiff_t>(keep), cand_.end(), by_logit);
      cand_.resize(keep);
      sorted_ = true;
      return;
    }
    case SamplerStep::TypicalP: {
      if (k.typical_p >= 1) return;
      softmax(false);
      double h = 0;
      for (const auto& c : cand_)
        if (c.p > 0) h -= c.p * std::log(static_cast<double>(c.p));
      std::sort(cand_.begin(), cand_.end(), [h](const Candidate& a, const Candidate& b) {
        const double da = std::abs(-std::log(static_cast<double>(a.p)) - h);
        const double db = std::abs(-std::log(static_cast<double>(b.p)) - h);
        return da < db || (da == db && a.id < b.id);
      });
      double cum = 0;
      std::size_t keep = n;
      for (std::size_t i = 0; i < n; ++i) {
        cum += cand_[i].p;
        if (cum > k.typical_p && i + 1 >= static_cast<std::size_t>(k.min_keep)) {
          keep = i + 1;
          break;
        }
      }
      cand_.resize(keep);
      sorted_ = false;
      return;
    }
    case SamplerStep::TopP: {
      if (k.top_p >= 1) return;
      softmax(true);
      float cum = 0;
      std::size_t keep = n;
      for (std::size_t i = 0; i < n; ++i) {
        cum += cand_[i].p;
        if (cum >= k.top_p && i + 1 >= static_cast<std::size_t>(k.min_keep)) {
          keep = i + 1;
          break;
        }
      }
      cand_.resize(keep);
      return;
    }
    case SamplerStep::MinP: {
      if (k.min_p <= 0) return;
      float mx = -INFINITY;
      for (const auto& c : cand_) mx = std::max(mx, c.logit);
      const float floor = mx + std::log(k.min_p);
      std::size_t kept = 0;
      for (const auto& c : cand_) kept += c.logit >= floor ? 1 : 0;
      if (kept < static_cast<std::size_t>(k.min_keep)) {
        std::sort(cand_.begin(), cand_.end(), by_logit);
        sorted_ = true;
        cand_.resize(std::min(n, static_cast<std::size_t>(k.min_keep)));
        return;
      }
      std::erase_if(cand_, [floor](const Candidate& c) { return c.logit < floor; });
      return;
    }
    case SamplerStep::Temperature: {
      if (k.temperature <= 0 || k.temperature == 1) return;
      for (auto& c : cand_) c.logit /= k.temperature;
      return;
    }
  }
}

TokenId Sampler::sample(std::span<const float> logits, std::span<const TokenId> history) {
  const std::size_t n = logits.size();
  if (n == 0) bad("empty logits");
  if (n > static_cast<std::size_t>(INT32_MAX)) bad("too many logits");

  // The raw distribution, before anything touches the logits.
  float mx = -INFINITY;
  for (std::size_t i = 0; i < n; ++i) {
    const float l = logits[i];
    if (std::isnan(l) || l == INFINITY) bad("logit of token " + std::to_string(i) + " is " + num(l));
    mx = std::max(mx, l);
  }
  if (mx == -INFINITY) bad("every logit is -inf");
  cand_.resize(n);
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    cand_[i] = {static_cast<TokenId>(i), logits[i], std::exp(logits[i] - mx)};
    sum += cand_[i].p;
  }
  const double raw_lse = mx + std::log(sum);
  for (auto& c : cand_) c.p = static_cast<float>(c.p / sum);
  take_top(raw_top_, cand_, config_.top_n);
  raw_entropy_ = entropy_of(cand_);

  if (counts_.size() != n) counts_.assign(n, 0);
  if (bias_.size() != n) {
    bias_.assign(n, 0.0f);
    for (const auto& [id, b] : config_.logit_bias)
      if (static_cast<std::size_t>(id) < n) bias_[static_cast<std::size_t>(id)] += b;
  }
  sorted_ = false;
  for (SamplerStep step : config_.order) apply(step, history);
  std::erase_if(cand_, [](const Candidate& c) { return c.logit == -INFINITY; });
  if (cand_.empty()) bad("every token was banned (logit bias or filters left no candidate)");

  softmax(false);
  TokenId chosen = kNoToken;
  std::size_t chosen_index = 0;
  if (config_.temperature <= 0) {
    for (std::size_t i = 0; i < cand_.size(); ++i)
      if (chosen == kNoToken || cand_[i].logit > cand_[chosen_index].logit ||
          (cand_[i].logit == cand_[chosen_index].logit && cand_[i].id < chosen)) {
        chosen = cand_[i].id;
        chosen_index = i;
      }
  } else {
    // Inverse-CDF draw in a fixed order (by id) so the result does not depend on how a
    // filter happened to leave the candidates ordered.
    std::sort(cand_.begin(), cand_.end(), [](const Candidate& a, const Candidate& b) { return a.id < b.id; });
    double total = 0;
    for (const auto& c : cand_) total += c.p;
    const double u = next_uniform() * total;
    double cum = 0;
    chosen_index = cand_.size() - 1;
    for (std::size_t i = 0; i < cand_.size(); ++i) {
      cum += cand_[i].p;
      if (u < cum) {
        chosen_index = i;
        break;
      }
    }
    chosen = cand_[chosen_index].id;
  }
  kept_ = static_cast<int>(cand_.size());
  const float p = cand_[chosen_index].p;
  chosen_ = {chosen, p, std::log(p)};
  const double raw_lp = static_cast<double>(logits[static_cast<std::size_t>(chosen)]) - raw_lse;
  chosen_raw_ = {chosen, static_cast<float>(std::exp(raw_lp)), static_cast<float>(raw_lp)};
  take_top(top_, cand_, config_.top_n);
  entropy_ = entropy_of(cand_);
  return chosen;
}

std::span<const TokenProb> Sampler::top(int n) const {
  return std::span<const TokenProb>(top_).first(std::min<std::size_t>(top_.size(), static_cast<std::size_t>(std::max(n, 0))));
}

std::span<const TokenProb> Sampler::raw_top(int n) const {
  return std::span<const TokenProb>(raw_top_).first(std::min<std::size_t>(raw_top_.size(), static_cast<std::size_t>(std::max(n, 0))));
}

}  // namespace inkling
