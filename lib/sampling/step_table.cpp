#include "sampling/step_table.hpp"

namespace inkling::sampling {

ChainState::ChainState(const SamplerConfig& c)
    : bias(merge_logit_bias(c.logit_bias)),
      penalties{c.repeat_penalty, c.frequency_penalty, c.presence_penalty, c.penalty_window},
      min_keep(static_cast<std::size_t>(c.min_keep)) {}

namespace {

using History = std::span<const TokenId>;

constexpr StepDef kSteps[] = {
    {SamplerStep::LogitBias, "logit_bias", false,
     [](const SamplerConfig&, ChainState& s, CandidateSet& set, History) { apply_logit_bias(set, s.bias); }},
    {SamplerStep::Penalties, "penalties", false,
     [](const SamplerConfig&, ChainState& s, CandidateSet& set, History h) {
       apply_penalties(set, h, s.penalties, s.penalty_scratch);
     }},
    {SamplerStep::TopK, "top_k", true,
     [](const SamplerConfig& c, ChainState& s, CandidateSet& set, History) { apply_top_k(set, c.top_k, s.min_keep); }},
    {SamplerStep::TypicalP, "typical_p", true,
     [](const SamplerConfig& c, ChainState& s, CandidateSet& set, History) {
       apply_typical_p(set, c.typical_p, s.min_keep);
     }},
    {SamplerStep::TopP, "top_p", true,
     [](const SamplerConfig& c, ChainState& s, CandidateSet& set, History) { apply_top_p(set, c.top_p, s.min_keep); }},
    {SamplerStep::MinP, "min_p", true,
     [](const SamplerConfig& c, ChainState& s, CandidateSet& set, History) { apply_min_p(set, c.min_p, s.min_keep); }},
    {SamplerStep::Temperature, "temperature", true,
     [](const SamplerConfig& c, ChainState&, CandidateSet& set, History) { apply_temperature(set, c.temperature); }},
};

}  // namespace

std::span<const StepDef> step_table() noexcept { return kSteps; }

const StepDef* find_step(SamplerStep step) noexcept {
  for (const StepDef& d : kSteps)
    if (d.step == step) return &d;
  return nullptr;
}

const StepDef* find_step(std::string_view name) noexcept {
  for (const StepDef& d : kSteps)
    if (d.name == name) return &d;
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

}  // namespace inkling
