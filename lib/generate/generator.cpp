#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "generate/context_shift.hpp"
#include "generate/generator_impl.hpp"
#include "generate/grammar_step.hpp"
#include "generate/prefix.hpp"
#include "inkling/error.hpp"

namespace inkling {


std::string_view stop_reason_name(StopReason r) noexcept {
  switch (r) {
    case StopReason::None: return "none";
    case StopReason::MaxTokens: return "max_tokens";
    case StopReason::EndOfSequence: return "end_of_sequence";
    case StopReason::StopString: return "stop_string";
    case StopReason::StopToken: return "stop_token";
    case StopReason::ContextFull: return "context_full";
    case StopReason::Cancelled: return "cancelled";
    case StopReason::GrammarIncomplete: return "grammar_incomplete";
  }
  return "?";
}

void GenerationConfig::validate() const {
  auto bad = [](const std::string& m) { throw Error(ErrorCode::InvalidArgument, "generation: " + m); };
  if (max_new_tokens < 0) bad("max_new_tokens must be >= 0, got " + std::to_string(max_new_tokens));
  if (min_new_tokens < 0 || min_new_tokens > max_new_tokens)
    bad("min_new_tokens must be in [0, max_new_tokens], got " + std::to_string(min_new_tokens));
  if (n_ctx < 0) bad("n_ctx must be >= 0 (0 = the model's context), got " + std::to_string(n_ctx));
  if (!(rope_scale >= 1 && rope_scale <= 64)) bad("rope_scale must be in [1, 64] (1 = off), got " + std::to_string(rope_scale));
  if (n_keep < -1) bad("n_keep must be >= -1 (-1 = the whole prompt), got " + std::to_string(n_keep));
  if (num_beams < 1 || num_beams > 64) bad("num_beams must be in [1, 64], got " + std::to_string(num_beams));
  if (num_beams > 1 && on_context_full == ContextFullPolicy::Shift)
    bad("num_beams > 1 cannot combine with on_context_full = shift (beams end when the context is full)");
  if (num_beams > 1 && (lookup_draft > 0 || draft_model))
    bad(std::string("num_beams > 1 cannot combine with ") + (draft_model ? "draft_model" : "lookup_draft") +
        " (speculation checks one sequence's tokens; beam search keeps several)");
  if (num_return_sequences < 1 || num_return_sequences > num_beams)
    bad("num_return_sequences must be in [1, num_beams], got " + std::to_string(num_return_sequences));
  if (!std::isfinite(length_penalty)) bad("length_penalty must be finite");
  if (lookup_draft < 0 || lookup_draft > 64) bad("lookup_draft must be in [0, 64], got " + std::to_string(lookup_draft));
  if (draft_tokens < 1 || draft_tokens > 64) bad("draft_tokens must be in [1, 64], got " + std::to_string(draft_tokens));
  if (!(draft_p_min >= 0 && draft_p_min <= 1)) bad("draft_p_min must be in [0, 1], got " + std::to_string(draft_p_min));
  if (top_n_alternatives < 0 || top_n_alternatives > 100)
    bad("top_n_alternatives must be in [0, 100], got " + std::to_string(top_n_alternatives));
  for (const auto& s : stop)
    if (s.empty()) bad("stop strings must not be empty");
  sampling.validate();
}


Generator::Impl::Impl(std::shared_ptr<const Model> m, GenerationConfig c)
    : detail::Decoding(std::move(m), std::move(c)),
      cache(*model, {.n_ctx = config.n_ctx,
                     .rope_scale = config.rope_scale,
                     .n_seq = config.num_beams > 1 ? 2 * config.num_beams : 1,
                     .type = config.kv_type,
                     .memory_budget = config.memory_budget}) {
  kv_bytes = cache.bytes();
  if (config.draft_model) {
    if (config.draft_model->config().n_vocab != model->config().n_vocab)
      throw Error(ErrorCode::InvalidArgument, "generation: the draft model's vocabulary (" +
                                                  std::to_string(config.draft_model->config().n_vocab) +
                                                  " tokens) differs from the model's (" +
                                                  std::to_string(model->config().n_vocab) + ")");
    draft_cache.emplace(*config.draft_model, KVCacheOptions{.n_ctx = cache.n_ctx(), .rope_scale = config.rope_scale});
    draft_logits.resize(static_cast<std::size_t>(model->config().n_vocab));
  }
}

// Greedy tokens of the draft model after `context` + `id`, up to max_tokens. The draft's
// cache keeps what it computed before; only the part of the context it has not seen (or
// saw differently) is fed again.
void Generator::Impl::draft_with_model(TokenId id, int max_tokens, std::vector<TokenId>& out) {
  out.clear();
  if (max_tokens <= 0) return;
  const Model& dm = *config.draft_model;
  KVCache& dc = *draft_cache;
  std::vector<TokenId> context = cached;
  context.push_back(id);
  const std::size_t same = detail::reusable_prefix(draft_cached, context);
  dc.truncate(0, static_cast<int>(same));
  draft_cached.resize(same);
  Batch b;
  for (std::size_t i = same; i < context.size(); ++i) b.add(context[i], static_cast<int>(i), 0, i + 1 == context.size());
  dm.forward(b, dc, draft_logits);
  draft_cached = context;
  for (int k = 0; k < max_tokens; ++k) {
    const auto best = std::max_element(draft_logits.begin(), draft_logits.end());
    const auto next = static_cast<TokenId>(best - draft_logits.begin());
    if (config.draft_p_min > 0) {
      // p(best) = 1 / sum(exp(l - l_best)).
      double sum = 0;
      for (float l : draft_logits) sum += std::exp(static_cast<double>(l - *best));
      if (1.0 / sum < config.draft_p_min) break;
    }
    out.push_back(next);
    if (k + 1 == max_tokens) break;
    b.clear();
    b.add(next, static_cast<int>(draft_cached.size()), 0, true);
    dm.forward(b, dc, draft_logits);
    draft_cached.push_back(next);
  }
}

Generator::Generator(std::shared_ptr<const Model> model, GenerationConfig config) {
  if (!model) throw Error(ErrorCode::InvalidArgument, "Generator: null model");
  impl_ = std::make_unique<Impl>(std::move(model), std::move(config));
}

Generator::~Generator() = default;

void Generator::Impl::begin(std::span<const TokenId> prompt) {
  start(prompt, cache.n_ctx(), Clock::now());
  spec_budget = config.draft_model ? config.draft_tokens : config.lookup_draft;
  draft_skip = 0;
  draft_backoff = 1;
  draft_misses = 0;
  drop_speculation();
  const int n = static_cast<int>(prompt.size());
  logits.resize(static_cast<std::size_t>(model->config().n_vocab));
  const int reuse = static_cast<int>(std::min(detail::reusable_prefix(cached, prompt), exact_prefix));
  exact_prefix = SIZE_MAX;
  cache.truncate(0, reuse);
  cached.assign(prompt.begin(), prompt.begin() + reuse);
  Batch batch;
  for (int i = reuse; i < n; ++i) batch.add(prompt[static_cast<std::size_t>(i)], i, 0, i + 1 == n);
  model->forward(batch, cache, logits);
  cached.assign(prompt.begin(), prompt.end());
  position = n;
  prefilled(reuse);
}

std::optional<StepInfo> Generator::Impl::next() {
  std::optional<StepInfo> s;
  if (active && config.on_context_full == ContextFullPolicy::Shift && position >= cache.n_ctx()) {
    drop_speculation();  // the shift needs the cache to end at `position`
    const auto shift = detail::plan_shift(config, model->tokenizer(), cached, metrics.prompt_tokens);
    detail::apply_shift(cache, 0, cached, shift);
    position -= shift.discard;
    exact_prefix = std::min(exact_prefix, static_cast<std::size_t>(shift.keep));  // later K/V saw dropped tokens
  }
  try {
    s = choose(logits, position, cache.n_ctx());
  } catch (...) {
    drop_speculation();
    throw;
  }
  if (!active)
    drop_speculation();
  else if (s)
    advance(s->token);
  return s;
}

// Puts `id` at `position` and leaves the logits that follow it in `logits`. With prompt
// lookup on, a continuation seen earlier in the context is checked in the same pass: the
// draft tokens the model agrees with are kept in the cache, and their logits rows are
// used by the next steps without another pass over the weights.
void Generator::Impl::advance(TokenId id) {
  const auto n_vocab = static_cast<std::size_t>(model->config().n_vocab);
  if (!spec_tokens.empty()) {
    if (id == spec_tokens.front()) {  // already computed in an earlier pass
      std::copy_n(spec_rows.begin() + static_cast<std::ptrdiff_t>(spec_next * n_vocab), n_vocab, logits.begin());
      spec_tokens.erase(spec_tokens.begin());
      ++spec_next;
      cached.push_back(id);
      ++position;
      ++metrics.accepted_draft_tokens;
      return;
    }
    drop_speculation();  // the sampler chose otherwise: those entries are wrong now
  }
  std::vector<TokenId>& draft = spec_draft;
  draft.clear();
  const int room = cache.n_ctx() - position - 1;
  bool drafted_with_model = false;
  if (config.draft_model && config.num_beams == 1) {
    if (draft_skip > 0) {
      --draft_skip;  // backing off: this step runs no draft pass at all
    } else {
      draft_with_model(id, std::min(spec_budget, room), draft);
      drafted_with_model = true;
    }
  } else if (config.lookup_draft > 0 && config.num_beams == 1) {
    detail::lookup_draft(history, std::min(spec_budget, room), draft);
  }
  if (grammar) detail::trim_draft(*grammar, draft);  // a draft the grammar forbids could never be used
  Batch& batch = spec_batch;
  batch.clear();
  batch.add(id, position, 0, true);
  for (std::size_t i = 0; i < draft.size(); ++i) batch.add(draft[i], position + 1 + static_cast<int>(i), 0, true);
  spec_rows.resize(batch.size() * n_vocab);
  model->forward(batch, cache, spec_rows);
  ++metrics.target_passes;
  std::copy_n(spec_rows.begin(), n_vocab, logits.begin());
  // Keep the drafts whose previous row's argmax agrees with them.
  std::size_t accepted = 0;
  while (accepted < draft.size()) {
    const auto row = spec_rows.begin() + static_cast<std::ptrdiff_t>(accepted * n_vocab);
    const auto best = static_cast<TokenId>(std::max_element(row, row + static_cast<std::ptrdiff_t>(n_vocab)) - row);
    if (best != draft[accepted]) break;
    ++accepted;
  }
  metrics.draft_tokens += static_cast<int>(draft.size());
  // Draft length follows how well drafts do (as Hugging Face's assisted generation
  // does): longer after a fully accepted draft, shorter after a rejection, so a draft
  // that keeps missing costs little and one that keeps hitting saves more passes.
  const int max_budget = config.draft_model ? config.draft_tokens : config.lookup_draft;
  if (!draft.empty()) spec_budget = accepted == draft.size() ? std::min(max_budget, spec_budget + 2) : std::max(1, spec_budget - 1);
  // A draft model costs a pass of its own even when it proposes nothing useful. After a
  // rejected draft, or two steps in a row where it was too unsure to propose anything,
  // it sits out 1, 2, 4, ... 16 steps (reset by the next accepted token); when it drafts
  // again it catches up on the skipped tokens in one batched pass.
  if (drafted_with_model) {
    if (accepted > 0) {
      draft_backoff = 1;
      draft_misses = 0;
    } else if (!draft.empty() || ++draft_misses >= 2) {
      draft_skip = draft_backoff;
      draft_backoff = std::min(16, 2 * draft_backoff);
      draft_misses = 0;
    }
  }
  cache.truncate(0, position + 1 + static_cast<int>(accepted));
  spec_tokens.assign(draft.begin(), draft.begin() + static_cast<std::ptrdiff_t>(accepted));
  spec_next = 1;
  cached.push_back(id);
  ++position;
}

void Generator::Impl::drop_speculation() {
  if (!spec_tokens.empty()) cache.truncate(0, position);
  spec_tokens.clear();
}

namespace detail {

void lookup_draft(std::span<const TokenId> context, int max_tokens, std::vector<TokenId>& out) {
  out.clear();
  const auto n = static_cast<int>(context.size());
  for (int ngram = 3; ngram >= 1 && out.empty(); --ngram) {
    if (n <= ngram) continue;
    // The most recent earlier place where the last `ngram` tokens occurred.
    for (int start = n - ngram - 1; start >= 0; --start) {
      bool match = true;
      for (int k = 0; k < ngram && match; ++k) match = context[start + k] == context[n - ngram + k];
      if (!match) continue;
      for (int k = start + ngram; k < n && static_cast<int>(out.size()) < max_tokens; ++k) out.push_back(context[k]);
      break;
    }
  }
}

}  // namespace detail

void Generator::prompt(std::string_view text) {
  const auto ids = impl_->model->tokenizer().encode(text, true, false);
  prompt_tokens(ids);
}

void Generator::prompt_tokens(std::span<const TokenId> ids) {
  if (impl_->config.num_beams > 1)
    throw Error(ErrorCode::InvalidArgument, "generation: beam search runs through run(), not prompt()/step()");
  impl_->begin(ids);
}

std::optional<StepInfo> Generator::step() { return impl_->next(); }

void Generator::on_beam_update(BeamListener listener) { impl_->beam_listener = std::move(listener); }

GenerationResult Generator::run(std::string_view prompt, std::function<bool(const StepInfo&)> on_step) {
  const auto ids = impl_->model->tokenizer().encode(prompt, true, false);
  return run_tokens(ids, std::move(on_step));
}

GenerationResult Generator::run_tokens(std::span<const TokenId> prompt, std::function<bool(const StepInfo&)> on_step) {
  Impl& m = *impl_;
  if (m.config.num_beams > 1) return m.beam_search(prompt);
  m.begin(prompt);
  while (auto s = m.next()) {
    if (on_step && !on_step(*s) && !s->final) {
      m.end(StopReason::Cancelled);
      m.drop_speculation();
      break;
    }
  }
  return m.result();
}

void Generator::on_beam_step(std::function<void(const BeamStep&)> observer) { impl_->beam_observer = std::move(observer); }

void Generator::cancel() noexcept { impl_->cancel_requested = true; }

void Generator::reset() {
  Impl& m = *impl_;
  m.spec_tokens.clear();
  m.draft_cached.clear();
  m.cache.clear();
  m.cached.clear();
  m.exact_prefix = SIZE_MAX;
  m.generated.clear();
  m.history.clear();
  m.text.clear();
  m.detok.reset();
  m.stop_text.reset();
  m.metrics = Metrics{};
  m.reason = StopReason::None;
  m.active = false;
  m.position = 0;
}
StopReason Generator::stop_reason() const noexcept { return impl_->reason; }
const Metrics& Generator::metrics() const noexcept { return impl_->metrics; }
const std::string& Generator::text() const noexcept { return impl_->text; }
const std::vector<TokenId>& Generator::tokens() const noexcept { return impl_->generated; }
const GenerationConfig& Generator::config() const noexcept { return impl_->config; }
std::uint64_t Generator::seed() const noexcept { return impl_->sampler.seed(); }
const KVCache& Generator::cache() const noexcept { return impl_->cache; }
const Model& Generator::model() const noexcept { return *impl_->model; }

}  // namespace inkling
