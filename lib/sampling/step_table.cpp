#include "sampling/step_table.hpp"

#include <algorithm>
#include <string>

#include "inkling/error.hpp"

namespace inkling::sampling {

ChainState::ChainState(const SamplerConfig& c, std::uint64_t seed)
    : rng(seed),
      bias(merge_logit_bias(c.logit_bias)),
      penalties{c.repeat_penalty, c.frequency_penalty, c.presence_penalty, c.penalty_window},
      min_keep(static_cast<std::size_t>(c.min_keep)),
      dry{c.dry_multiplier, c.dry_base, c.dry_allowed_length, c.dry_penalty_last_n},
      dry_breakers(c.dry_breaker_tokens),
      mirostat_mu(2 * c.mirostat_tau) {
  std::sort(dry_breakers.begin(), dry_breakers.end());
  dry_breakers.erase(std::unique(dry_breakers.begin(), dry_breakers.end()), dry_breakers.end());
}

namespace {

using History = std::span<const TokenId>;
using Config = const SamplerConfig&;

// The order of the rows is the default chain order (llama.cpp's).
constexpr StepDef kSteps[] = {
    {SamplerStep::LogitBias, "logit_bias", "logit-bias bias", false,
     [](Config, ChainState& s, CandidateSet& set, History) { apply_logit_bias(set, s.bias); }},
    {SamplerStep::Penalties, "penalties", "penalty repeat", false,
     [](Config, ChainState& s, CandidateSet& set, History h) { apply_penalties(set, h, s.penalties, s.penalty_scratch); }},
    {SamplerStep::Dry, "dry", "", false,
     [](Config, ChainState& s, CandidateSet& set, History h) { apply_dry(set, h, s.dry, s.dry_breakers, s.dry_scratch); }},
    {SamplerStep::TopNSigma, "top_n_sigma", "top-n-sigma top_nsigma top-nsigma", true,
     [](Config c, ChainState&, CandidateSet& set, History) { apply_top_n_sigma(set, c.top_n_sigma); }},
    {SamplerStep::TopK, "top_k", "top-k", true,
     [](Config c, ChainState& s, CandidateSet& set, History) { apply_top_k(set, c.top_k, s.min_keep); }},
    {SamplerStep::TypicalP, "typical_p", "typ_p typ typical typical-p typ-p", true,
     [](Config c, ChainState& s, CandidateSet& set, History) { apply_typical_p(set, c.typical_p, s.min_keep); }},
    {SamplerStep::TopP, "top_p", "top-p nucleus", true,
     [](Config c, ChainState& s, CandidateSet& set, History) { apply_top_p(set, c.top_p, s.min_keep); }},
    {SamplerStep::MinP, "min_p", "min-p", true,
     [](Config c, ChainState& s, CandidateSet& set, History) { apply_min_p(set, c.min_p, s.min_keep); }},
    {SamplerStep::Xtc, "xtc", "", true,
     [](Config c, ChainState& s, CandidateSet& set, History) {
       if (c.xtc_probability <= 0) return;  // no draw: an unused XTC leaves the random sequence alone
       apply_xtc(set, c.xtc_probability, c.xtc_threshold, s.rng.next_double(), s.min_keep);
     }},
    {SamplerStep::Temperature, "temperature", "temp", true,
     [](Config c, ChainState&, CandidateSet& set, History) { apply_temperature(set, c.temperature); }},
    {SamplerStep::Mirostat, "mirostat", "", true,
     [](Config c, ChainState& s, CandidateSet& set, History) {
       if (c.mirostat == 1) apply_mirostat_v1(set, s.mirostat_mu, c.mirostat_m);
       if (c.mirostat == 2) apply_mirostat_v2(set, s.mirostat_mu);
     },
     [](Config c, ChainState& s, const TokenProb& chosen) {
       if (c.mirostat != 0) s.mirostat_mu = mirostat_update(s.mirostat_mu, c.mirostat_tau, c.mirostat_eta, chosen.prob);
     }},
};

bool has_alias(std::string_view aliases, std::string_view name) {
  while (!aliases.empty()) {
    const auto space = aliases.find(' ');
    if (aliases.substr(0, space) == name) return true;
    if (space == std::string_view::npos) break;
    aliases.remove_prefix(space + 1);
  }
  return false;
}

}  // namespace

std::span<const StepDef> step_table() noexcept { return kSteps; }

const StepDef* find_step(SamplerStep step) noexcept {
  for (const StepDef& d : kSteps)
    if (d.step == step) return &d;
  return nullptr;
}

const StepDef* find_step(std::string_view name) noexcept {
  for (const StepDef& d : kSteps)
    if (d.name == name || has_alias(d.aliases, name)) return &d;
  return nullptr;
}

}  // namespace inkling::sampling

namespace inkling {

std::string_view sampler_step_name(SamplerStep step) noexcept {
  const sampling::StepDef* d = sampling::find_step(step);
  return d ? d->name : "unknown";
}

std::vector<SamplerStep> SamplerConfig::default_order() {
  std::vector<SamplerStep> order;
  for (const sampling::StepDef& d : sampling::step_table()) order.push_back(d.step);
  return order;
}

std::vector<SamplerStep> parse_sampler_order(std::string_view names) {
  auto bad = [](const std::string& m) { throw Error(ErrorCode::InvalidArgument, "sampler order: " + m); };
  std::vector<SamplerStep> order;
  while (!names.empty()) {
    const auto sep = names.find_first_of(";,");
    std::string_view name = names.substr(0, sep);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (!name.empty()) {
      const sampling::StepDef* d = sampling::find_step(name);
      if (!d) {
        std::string known;
        for (const auto& row : sampling::step_table()) known += (known.empty() ? "" : ", ") + std::string(row.name);
        bad("unknown sampler '" + std::string(name) + "' (known: " + known + ")");
      }
      if (std::find(order.begin(), order.end(), d->step) != order.end()) bad("'" + std::string(name) + "' is listed twice");
      order.push_back(d->step);
    }
    if (sep == std::string_view::npos) break;
    names.remove_prefix(sep + 1);
  }
  if (order.empty()) bad("no sampler named");
  if (std::find(order.begin(), order.end(), SamplerStep::LogitBias) == order.end())
    order.insert(order.begin(), SamplerStep::LogitBias);
  return order;
}

}  // namespace inkling
