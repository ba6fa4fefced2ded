// Sampler: runs the configured steps over the candidate set, then the softmax and our
// own seeded draw, and keeps what the caller may want to see about both distributions.
#include "inkling/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>

#include "inkling/error.hpp"
#include "sampling/candidates.hpp"
#include "sampling/rng.hpp"
#include "sampling/step_table.hpp"

namespace inkling {

using sampling::Candidate;

struct Sampler::Impl {
  explicit Impl(SamplerConfig c)
      : config((c.validate(), std::move(c))), seed(resolve_seed(config.seed)), state(config, seed) {
    build_chain();
  }

  // config.order's rows; with mirostat, its logit adjusters, then temperature and mirostat.
  void build_chain() {
    for (const SamplerStep step : config.order) {
      const sampling::StepDef* d = sampling::find_step(step);
      if (config.mirostat == 0 || !d->shapes_distribution) chain.push_back(d);
    }
    if (config.mirostat != 0) {
      chain.push_back(sampling::find_step(SamplerStep::Temperature));
      chain.push_back(sampling::find_step(SamplerStep::Mirostat));
    }
  }

  static std::uint64_t resolve_seed(std::uint64_t s) {
    if (s != SamplerConfig::kRandomSeed) return s;
    std::random_device dev;
    std::uint64_t drawn = SamplerConfig::kRandomSeed;
    while (drawn == SamplerConfig::kRandomSeed) drawn = (static_cast<std::uint64_t>(dev()) << 32) | dev();
    return drawn;
  }

  std::size_t draw();
  // TokenProbs of `best`, against a softmax with this log-sum-exp.
  void report(std::vector<TokenProb>& out, std::size_t n, double log_sum_exp) const;

  SamplerConfig config;
  std::uint64_t seed;
  sampling::ChainState state;
  std::vector<const sampling::StepDef*> chain;  // config.order's rows (validated above)

  sampling::CandidateSet set;
  std::vector<Candidate> best;  // select_best's output
  std::vector<TokenProb> top, raw_top;
  TokenProb chosen{}, chosen_raw{};
  float entropy = 0, raw_entropy = 0;
  int kept = 0;
};

// Inverse CDF: one uniform in [0, total), then walk the cumulative mass in the current
// (deterministic) order. Zero-probability candidates can never be picked.
std::size_t Sampler::Impl::draw() {
  const auto items = set.items();
  double total = 0;
  for (const Candidate& c : items) total += c.p;
  const double u = state.rng.next_double() * total;
  double cum = 0;
  std::size_t last_positive = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!(items[i].p > 0)) continue;
    last_positive = i;
    cum += items[i].p;
    if (u < cum) return i;
  }
  return last_positive;  // u fell past the rounded total
}

void Sampler::Impl::report(std::vector<TokenProb>& out, std::size_t n, double log_sum_exp) const {
  out.clear();
  for (std::size_t i = 0; i < std::min(n, best.size()); ++i)
    out.push_back({best[i].id, best[i].p, static_cast<float>(best[i].logit - log_sum_exp)});
}

Sampler::Sampler(SamplerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {
  impl_->top.reserve(static_cast<std::size_t>(impl_->config.top_n));
  impl_->raw_top.reserve(static_cast<std::size_t>(impl_->config.top_n));
  impl_->best.reserve(static_cast<std::size_t>(impl_->config.top_n) + 1);
}

Sampler::~Sampler() = default;
Sampler::Sampler(const Sampler& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
Sampler& Sampler::operator=(const Sampler& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
Sampler::Sampler(Sampler&&) noexcept = default;
Sampler& Sampler::operator=(Sampler&&) noexcept = default;

TokenId Sampler::sample(std::span<const float> logits, std::span<const TokenId> history) {
  Impl& s = *impl_;
  const auto top_n = static_cast<std::size_t>(s.config.top_n);

  // The model's own distribution, before any step touches the logits.
  s.set.reset(logits);
  const sampling::SoftmaxStats raw = s.set.softmax();
  sampling::select_best(s.set.items(), top_n, s.best);
  s.report(s.raw_top, top_n, raw.log_sum_exp);
  s.raw_entropy = static_cast<float>(raw.entropy);

  const bool greedy = s.config.temperature <= 0;
  for (const sampling::StepDef* step : s.chain) {
    if (greedy && step->shapes_distribution) continue;  // see sampler.hpp: greedy is the plain argmax
    step->apply(s.config, s.state, s.set, history);
  }

  Candidate pick{};
  sampling::SoftmaxStats final_stats = raw;
  if (greedy) {
    if (s.set.modified()) final_stats = s.set.softmax();  // else p still holds the raw softmax
    sampling::select_best(s.set.items(), std::max<std::size_t>(top_n, 1), s.best);
    if (s.best.empty()) throw Error(ErrorCode::InvalidArgument, "sampler: no token left to sample (every logit is -inf)");
    pick = s.best.front();
  } else {
    final_stats = s.set.softmax();
    pick = s.set.items()[s.draw()];
    sampling::select_best(s.set.items(), top_n, s.best);
  }
  s.report(s.top, top_n, final_stats.log_sum_exp);
  s.entropy = static_cast<float>(final_stats.entropy);
  s.kept = static_cast<int>(std::count_if(s.set.items().begin(), s.set.items().end(),
                                          [](const Candidate& c) { return c.logit != -INFINITY; }));
  s.chosen = {pick.id, pick.p, static_cast<float>(pick.logit - final_stats.log_sum_exp)};
  for (const sampling::StepDef* step : s.chain)
    if (step->accept && !(greedy && step->shapes_distribution)) step->accept(s.config, s.state, s.chosen);
  const double raw_logprob = logits[static_cast<std::size_t>(pick.id)] - raw.log_sum_exp;
  s.chosen_raw = {pick.id, static_cast<float>(std::exp(raw_logprob)), static_cast<float>(raw_logprob)};
  return pick.id;
}

void Sampler::adjust_logits(std::span<float> logits, std::span<const TokenId> history) {
  Impl& s = *impl_;
  s.set.reset(logits);
  for (const sampling::StepDef* step : s.chain)
    if (!step->shapes_distribution) step->apply(s.config, s.state, s.set, history);
  if (!s.set.modified()) return;
  for (const Candidate& c : s.set.items()) logits[static_cast<std::size_t>(c.id)] = c.logit;
}

std::uint64_t Sampler::seed() const noexcept { return impl_->seed; }

std::span<const TokenProb> Sampler::top(int n) const {
  const auto& v = impl_->top;
  return std::span<const TokenProb>(v).first(std::min(v.size(), static_cast<std::size_t>(std::max(n, 0))));
}

std::span<const TokenProb> Sampler::raw_top(int n) const {
  const auto& v = impl_->raw_top;
  return std::span<const TokenProb>(v).first(std::min(v.size(), static_cast<std::size_t>(std::max(n, 0))));
}

TokenProb Sampler::chosen() const noexcept { return impl_->chosen; }
TokenProb Sampler::chosen_raw() const noexcept { return impl_->chosen_raw; }
float Sampler::entropy() const noexcept { return impl_->entropy; }
float Sampler::raw_entropy() const noexcept { return impl_->raw_entropy; }
int Sampler::candidates_kept() const noexcept { return impl_->kept; }
const SamplerConfig& Sampler::config() const noexcept { return impl_->config; }

void Sampler::reseed(std::uint64_t seed) noexcept {
  impl_->seed = seed;
  impl_->state.rng.reseed(seed);
}

std::vector<std::uint64_t> Sampler::rng_state() const {
  const auto& s = impl_->state.rng.state();
  return {s.begin(), s.end()};
}

void Sampler::set_rng_state(std::span<const std::uint64_t> state) {
  if (state.size() != kRngStateWords)
    throw Error(ErrorCode::InvalidArgument, "sampler: an RNG state is " + std::to_string(kRngStateWords) +
                                                " words, got " + std::to_string(state.size()));
  if (std::all_of(state.begin(), state.end(), [](std::uint64_t w) { return w == 0; }))
    throw Error(ErrorCode::InvalidArgument, "sampler: an RNG state must not be all zero");
  impl_->state.rng.set_state(state.first<kRngStateWords>());
}

TokenId Sampler::greedy(std::span<const float> logits) {
  if (logits.empty()) throw Error(ErrorCode::InvalidArgument, "sampler: empty logits");
  std::size_t best = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (std::isnan(logits[i]))
      throw Error(ErrorCode::InvalidArgument, "sampler: logit of token " + std::to_string(i) + " is nan");
    if (logits[i] > logits[best]) best = i;  // strict: the lowest id wins a tie
  }
  return static_cast<TokenId>(best);
}

}  // namespace inkling
