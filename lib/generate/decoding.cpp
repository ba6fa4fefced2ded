#include "generate/decoding.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "common/peak_memory.hpp"
#include "generate/grammar_step.hpp"
#include "inkling/error.hpp"

namespace inkling::detail {

double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

namespace {
SamplerConfig sampler_config(const GenerationConfig& c, const Tokenizer& tok) {
  c.validate();
  SamplerConfig s = c.sampling;
  s.top_n = std::max(s.top_n, c.top_n_alternatives);
  // DRY's breakers are text: every token whose text contains one breaks a repeat.
  if (s.dry_multiplier > 0 && !s.dry_sequence_breakers.empty())
    for (TokenId id = 0; id < tok.n_vocab(); ++id) {
      const std::string piece = tok.token_to_piece(id, true);
      for (const auto& b : s.dry_sequence_breakers)
        if (piece.find(b) != std::string::npos) {
          s.dry_breaker_tokens.push_back(id);
          break;
        }
    }
  return s;
}
}  // namespace

Decoding::Decoding(std::shared_ptr<const Model> m, GenerationConfig c)
    : model(std::move(m)),
      config(std::move(c)),
      sampler(sampler_config(config, model->tokenizer())),
      detok(model->tokenizer(), config.special_text, false),
      stop_text(config.stop),
      grammar(make_constraint(*model, config)) {}

StopReason Decoding::unless_incomplete(StopReason r) const {
  return grammar && !grammar->can_end() ? StopReason::GrammarIncomplete : r;
}

void Decoding::start(std::span<const TokenId> prompt, int n_ctx, Clock::time_point t0) {
  const int n = static_cast<int>(prompt.size());
  if (n == 0) throw Error(ErrorCode::InvalidArgument, "generation: the prompt has no tokens (this vocabulary adds no BOS)");
  if (n >= n_ctx)
    throw Error(ErrorCode::ContextFull, "generation: the prompt has " + std::to_string(n) +
                                            " tokens but the context holds " + std::to_string(n_ctx) +
                                            " (at least one more is needed to generate)");
  t_start = t0;
  t_prev = t0;
  cancel_requested = false;
  reason = StopReason::None;
  active = false;
  generated.clear();
  text.clear();
  token_ms.clear();
  logprob_sum = 0;
  logprob_count = 0;
  detok.reset();
  stop_text.reset();
  if (grammar) grammar->reset();
  metrics = Metrics{};
  metrics.model_bytes = model->weight_bytes();
  metrics.kv_bytes = kv_bytes;
  metrics.prompt_tokens = n;
  history.assign(prompt.begin(), prompt.end());
}

void Decoding::prefilled(int reused) {
  metrics.cached_prompt_tokens = reused;
  metrics.prefill_ms = ms_between(t_start, Clock::now());
  const int computed = metrics.prompt_tokens - reused;
  metrics.prompt_tps = metrics.prefill_ms > 0 ? computed / (metrics.prefill_ms / 1000.0) : 0;
  active = true;
}

std::vector<Alternative> Decoding::alternatives(std::span<const TokenProb> probs) const {
  std::vector<Alternative> out;
  out.reserve(probs.size());
  for (const TokenProb& p : probs)
    out.push_back({p.id, model->tokenizer().token_to_piece(p.id, true), p.prob, p.logprob, p.logit});
  return out;
}

// The n most likely tokens of a logits row (temperature-1 softmax over every finite
// logit; ties: lower id first). Only runs with a grammar, once per step: one pass over
// the row for the normaliser and the n best, nothing allocated beyond them.
std::vector<Alternative> Decoding::top_alternatives(std::span<const float> logits, int n) const {
  const float mx = *std::max_element(logits.begin(), logits.end());
  if (mx == -INFINITY || n <= 0) return {};
  auto better = [&](TokenId a, TokenId b) {
    const float la = logits[static_cast<std::size_t>(a)], lb = logits[static_cast<std::size_t>(b)];
    return la > lb || (la == lb && a < b);
  };
  const auto k = static_cast<std::size_t>(n);
  std::vector<TokenId> best;  // sorted, at most k
  best.reserve(k + 1);
  double sum = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] == -INFINITY) continue;
    sum += std::exp(static_cast<double>(logits[i] - mx));
    const auto id = static_cast<TokenId>(i);
    if (best.size() == k && !better(id, best.back())) continue;
    best.insert(std::upper_bound(best.begin(), best.end(), id, better), id);
    if (best.size() > k) best.pop_back();
  }
  const double lse = mx + std::log(sum);
  std::vector<Alternative> out;
  for (TokenId id : best) {
    const float l = logits[static_cast<std::size_t>(id)];
    const double lp = static_cast<double>(l) - lse;
    out.push_back({id, model->tokenizer().token_to_piece(id, true), static_cast<float>(std::exp(lp)), static_cast<float>(lp), l, false});
  }
  return out;
}

void Decoding::end(StopReason r) {
  reason = r;
  active = false;
  finish_metrics();
}

std::optional<StepInfo> Decoding::choose(std::span<float> logits, int position, int n_ctx) {
  if (!active) return std::nullopt;
  const Tokenizer& tok = model->tokenizer();
  const int index = static_cast<int>(generated.size());
  if (cancel_requested) {
    end(StopReason::Cancelled);
    return std::nullopt;
  }
  if (index >= config.max_new_tokens) {
    end(unless_incomplete(StopReason::MaxTokens));
    return std::nullopt;
  }
  const bool may_end = index >= config.min_new_tokens;
  if (!may_end) ban_ending_tokens(tok, config, logits);
  // What the model wanted before the grammar's mask, flagged with what the mask forbade.
  std::vector<Alternative> wanted;
  if (grammar && config.top_n_alternatives > 0) wanted = top_alternatives(logits, config.top_n_alternatives);
  if (grammar && !mask_logits(*grammar, logits)) {  // complete with no end token to say so, or stuck
    end(grammar->can_end() ? StopReason::EndOfSequence : StopReason::GrammarIncomplete);
    return std::nullopt;
  }
  for (Alternative& a : wanted) a.masked = logits[static_cast<std::size_t>(a.id)] == -INFINITY;
  const TokenId id = sampler.sample(logits, history);
  const auto now = Clock::now();

  StepInfo s;
  s.index = index;
  s.token = id;
  s.prob = sampler.chosen().prob;
  s.logprob = sampler.chosen().logprob;
  s.raw_prob = sampler.chosen_raw().prob;
  s.raw_logprob = sampler.chosen_raw().logprob;
  s.logit = sampler.chosen().logit;
  s.raw_logit = sampler.chosen_raw().logit;
  s.entropy = sampler.entropy();
  s.raw_entropy = sampler.raw_entropy();
  s.alternatives = alternatives(sampler.top(config.top_n_alternatives));
  s.raw_alternatives = alternatives(sampler.raw_top(config.top_n_alternatives));
  s.grammar_alternatives = std::move(wanted);
  s.ms_since_prev = ms_between(t_prev, now);
  logprob_sum += s.raw_logprob;
  ++logprob_count;
  if (index == 0) {
    t_first = now;
    metrics.ttft_ms = ms_between(t_start, now);
  } else {
    token_ms.push_back(s.ms_since_prev);
  }
  t_prev = now;

  if (const auto ending = may_end ? ending_token(tok, config, id) : std::nullopt) {
    s.text = stop_text.flush() + detok.flush();
    text += s.text;
    s.final = true;
    end(*ending);
    return s;
  }

  if (grammar) grammar->accept(id);
  generated.push_back(id);
  history.push_back(id);
  const auto released = stop_text.push(detok.push(id), may_end);
  s.text = released.release;
  if (released.stopped) {
    text += s.text;
    s.final = true;
    end(StopReason::StopString);
    return s;
  }
  if (grammar && grammar->finished() && may_end) {  // nothing can follow: as if the end token came
    s.text += stop_text.push(detok.flush(), may_end).release + stop_text.flush();
    text += s.text;
    s.final = true;
    end(StopReason::EndOfSequence);
    return s;
  }
  const bool at_max = static_cast<int>(generated.size()) >= config.max_new_tokens;
  const bool ctx_full = position >= n_ctx;
  if (at_max || ctx_full) {
    if (ctx_full && !at_max && config.on_context_full == ContextFullPolicy::Error) {
      text += s.text;
      end(StopReason::ContextFull);
      throw Error(ErrorCode::ContextFull, "generation: the context of " + std::to_string(n_ctx) +
                                              " positions is full after " + std::to_string(generated.size()) +
                                              " generated tokens");
    }
    s.text += stop_text.push(detok.flush(), may_end).release + stop_text.flush();
    text += s.text;
    s.final = true;
    end(unless_incomplete(at_max ? StopReason::MaxTokens : StopReason::ContextFull));
    return s;
  }
  text += s.text;
  return s;
}

void Decoding::finish_metrics() {
  const auto now = Clock::now();
  metrics.total_ms = ms_between(t_start, now);
  metrics.gen_tokens = static_cast<int>(generated.size());
  if (!token_ms.empty()) {
    double sum = 0;
    for (double t : token_ms) sum += t;
    metrics.tpot_ms_mean = sum / static_cast<double>(token_ms.size());
    std::vector<double> sorted = token_ms;
    const std::size_t k = static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(sorted.size()))) - 1;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(k), sorted.end());
    metrics.tpot_ms_p90 = sorted[k];
  }
  const double gen_ms = metrics.total_ms - metrics.prefill_ms;
  metrics.gen_tps = gen_ms > 0 ? metrics.gen_tokens / (gen_ms / 1000.0) : 0;
  metrics.kv_bytes = kv_bytes;
  metrics.peak_rss = peak_rss_bytes();
}

GenerationResult Decoding::result() const {
  GenerationResult r;
  r.text = text;
  r.tokens = generated;
  r.stop_reason = reason;
  r.metrics = metrics;
  Sequence seq;
  seq.tokens = generated;
  seq.text = text;
  seq.stop_reason = reason;
  seq.logprob = logprob_sum;
  seq.length = logprob_count;
  seq.score = seq.length > 0 ? seq.logprob / std::pow(static_cast<double>(seq.length), static_cast<double>(config.length_penalty))
                             : seq.logprob;
  r.sequences.push_back(std::move(seq));
  return r;
}

}  // namespace inkling::detail
