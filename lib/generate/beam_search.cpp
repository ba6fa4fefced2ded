// Beam search: keeps the num_beams best partial sequences by summed log-probability.
// All live beams advance in one batched forward pass; a beam's KV entries (the prompt
// and its own tokens) are copied to its children's cache slots, never recomputed.
// Each beam scores tokens on logits adjusted by the same processors sampling applies
// (logit bias, penalties over its own history, the ban on ending tokens before
// min_new_tokens), decodes its own text and ends by the same stop rules. With a grammar,
// each beam has its own grammar state and scores only the tokens it allows (log-
// probabilities renormalized over them); a beam the grammar completes ends there.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <string>

#include "generate/generator_impl.hpp"
#include "generate/grammar_step.hpp"
#include "inkling/error.hpp"

namespace inkling {
namespace {

struct Beam {
  std::vector<TokenId> tokens;
  double logprob = 0;
  int slot = 0;
  Sampler processors;  // its own copy: a step with per-sequence state follows this beam
  Detokenizer detok;
  detail::StopText stop;  // the stop strings over this beam's own text
  std::string text;       // released so far (complete UTF-8, no part of a stop string)
  std::optional<TokenConstraint> grammar;  // the beam's own grammar state

  // The text when the beam ends other than by a stop string.
  std::string final_text() const {
    Detokenizer d = detok;
    detail::StopText st = stop;
    std::string t = text + st.push(d.flush(), false).release;
    return t + st.flush();
  }
};

struct Candidate {
  int beam;
  TokenId token;
  double logprob;
};

double beam_score(double logprob, int length, float length_penalty) {
  return length > 0 ? logprob / std::pow(static_cast<double>(length), static_cast<double>(length_penalty)) : logprob;
}

// The 2 * n_beams best continuations of one beam (its logits row already adjusted).
void expand(std::span<const float> row, int beam, double base_logprob, int n_beams, std::vector<TokenId>& order,
            std::vector<Candidate>& out) {
  const float mx = *std::max_element(row.begin(), row.end());
  if (mx == -INFINITY) return;  // every token banned: this beam cannot continue
  double sum = 0;
  for (float l : row) sum += std::exp(static_cast<double>(l - mx));
  const double lse = mx + std::log(sum);
  std::iota(order.begin(), order.end(), 0);
  const auto k = std::min<std::size_t>(row.size(), static_cast<std::size_t>(2 * n_beams));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](TokenId x, TokenId y) { return row[x] > row[y] || (row[x] == row[y] && x < y); });
  for (std::size_t i = 0; i < k; ++i)
    if (row[order[i]] > -INFINITY) out.push_back({beam, order[i], base_logprob + (row[order[i]] - lse)});
}

// The search's state between steps, and its steps.
struct BeamRun {
  Generator::Impl& g;
  const Tokenizer& tok;
  const int n_beams;
  const std::size_t n_vocab;
  std::vector<Beam> live;
  std::vector<int> parent_slots;  // of each live beam, whose cache entries it extends
  std::vector<float> rows;        // one logits row per live beam
  std::vector<Sequence> finished;
  std::vector<Candidate> cands;
  std::vector<TokenId> order, history;
  std::vector<std::size_t> stuck;  // beams the grammar lets no token continue
  int base = 0;  // live beams use slots [base, base + n_beams), children the other half

  void finish(const Beam& b, double lp, int length, StopReason r, std::string text) {
    Sequence s;
    s.tokens = b.tokens;
    s.text = std::move(text);
    s.logprob = lp;
    s.length = length;
    s.score = beam_score(lp, length, g.config.length_penalty);
    s.stop_reason = r;
    finished.push_back(std::move(s));
  }

  // Every live beam's best continuations, best first.
  void score(bool may_end) {
    cands.clear();
    for (std::size_t b = 0; b < live.size(); ++b) {
      std::span<float> row(rows.data() + b * n_vocab, n_vocab);
      if (!may_end) detail::ban_ending_tokens(tok, g.config, row);
      history.assign(g.history.begin(), g.history.end());  // the prompt
      history.insert(history.end(), live[b].tokens.begin(), live[b].tokens.end());
      live[b].processors.adjust_logits(row, history);
      if (live[b].grammar && !detail::mask_logits(*live[b].grammar, row)) {
        stuck.push_back(b);
        continue;
      }
      expand(row, static_cast<int>(b), live[b].logprob, n_beams, order, cands);
    }
    std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) { return a.logprob > b.logprob; });
    for (std::size_t b : stuck) {
      const Beam& sb = live[b];
      finish(sb, sb.logprob, static_cast<int>(sb.tokens.size()),
             sb.grammar->can_end() ? StopReason::EndOfSequence : StopReason::GrammarIncomplete, sb.final_text());
    }
    stuck.clear();
  }

  // The next live beams from the candidates; the ones that end go to `finished`. With an
  // observer, `trace` gets every candidate and its fate (those not reached: pruned).
  void select(bool may_end, BeamStep* trace) {
    std::vector<Beam> next;
    std::vector<int> slots;
    if (trace)
      for (const Candidate& c : cands) {
        const int length = static_cast<int>(live[static_cast<std::size_t>(c.beam)].tokens.size()) + 1;
        trace->candidates.push_back({c.beam, c.token, c.logprob, beam_score(c.logprob, length, g.config.length_penalty),
                                     BeamCandidate::Fate::Pruned, StopReason::None});
      }
    auto ended = [&](std::size_t i, StopReason r) {
      if (!trace) return;
      trace->candidates[i].fate = BeamCandidate::Fate::Finished;
      trace->candidates[i].stop_reason = r;
    };
    for (std::size_t i = 0; i < cands.size(); ++i) {
      const Candidate& c = cands[i];
      const Beam& parent = live[static_cast<std::size_t>(c.beam)];
      if (const auto ending = may_end ? detail::ending_token(tok, g.config, c.token) : std::nullopt) {
        finish(parent, c.logprob, static_cast<int>(parent.tokens.size()) + 1, *ending, parent.final_text());
        ended(i, *ending);
        continue;
      }
      Beam nb = parent;
      nb.logprob = c.logprob;
      nb.tokens.push_back(c.token);
      const auto released = nb.stop.push(nb.detok.push(c.token), may_end);
      nb.text += released.release;
      if (released.stopped) {
        finish(nb, c.logprob, static_cast<int>(nb.tokens.size()), StopReason::StopString, nb.text);
        ended(i, StopReason::StopString);
        continue;
      }
      if (nb.grammar) {
        nb.grammar->accept(c.token);
        if (may_end && nb.grammar->finished()) {  // nothing can follow: complete
          finish(nb, c.logprob, static_cast<int>(nb.tokens.size()), StopReason::EndOfSequence, nb.final_text());
          ended(i, StopReason::EndOfSequence);
          continue;
        }
      }
      next.push_back(std::move(nb));
      slots.push_back(parent.slot);
      if (trace) trace->candidates[i].fate = BeamCandidate::Fate::Kept;
      if (static_cast<int>(next.size()) == n_beams) break;
    }
    live.swap(next);
    parent_slots.swap(slots);
  }

  // Whether the finished hypotheses are final: no live beam can still beat them (a live
  // score only falls as it grows when length_penalty <= 0; otherwise its current score
  // is used, as common practice does).
  bool done() const {
    if (static_cast<int>(finished.size()) < n_beams) return false;
    if (g.config.early_stopping) return true;
    std::vector<double> scores;
    for (const auto& s : finished) scores.push_back(s.score);
    std::sort(scores.rbegin(), scores.rend());
    double best_live = -INFINITY;
    for (const Beam& b : live)
      best_live = std::max(best_live, beam_score(b.logprob, static_cast<int>(b.tokens.size()), g.config.length_penalty));
    return best_live <= scores[static_cast<std::size_t>(n_beams) - 1];
  }

  // The best hypothesis so far, live or finished, by score (for the beam listener).
  Sequence best() const {
    Sequence s;
    s.score = -INFINITY;
    for (const Sequence& f : finished)
      if (f.score > s.score) s = f;
    for (const Beam& b : live) {
      const int length = static_cast<int>(b.tokens.size());
      const double score = beam_score(b.logprob, length, g.config.length_penalty);
      if (score > s.score) {
        s = Sequence{b.tokens, b.text, b.logprob, score, length, StopReason::None};
      }
    }
    return s;
  }

  // One batched pass: each live beam's last token at `position`, in its own cache slot.
  void advance() {
    const int child_base = base == 0 ? n_beams : 0;
    Batch batch;
    for (std::size_t i = 0; i < live.size(); ++i) {
      const int slot = child_base + static_cast<int>(i);
      g.cache.copy(parent_slots[i], slot);
      batch.add(live[i].tokens.back(), g.position, slot, true);
    }
    rows.resize(live.size() * n_vocab);
    g.model->forward(batch, g.cache, rows);
    ++g.metrics.target_passes;
    for (std::size_t i = 0; i < live.size(); ++i) live[i].slot = child_base + static_cast<int>(i);
    base = child_base;
    ++g.position;
  }
};

}  // namespace

GenerationResult Generator::Impl::beam_search(std::span<const TokenId> prompt) {
  begin(prompt);
  cached.clear();  // beams reuse every cache slot: nothing of sequence 0 survives
  const auto n_vocab = static_cast<std::size_t>(model->config().n_vocab);
  BeamRun run{*this, model->tokenizer(), config.num_beams, n_vocab, {}, {}, logits, {}, {}, std::vector<TokenId>(n_vocab), {}, {}};
  run.live.push_back(Beam{{}, 0.0, 0, sampler, Detokenizer(model->tokenizer(), config.special_text, false),
                          detail::StopText(config.stop), {}, grammar});
  StopReason end_reason = StopReason::MaxTokens;
  std::optional<Sequence> reported;  // what the listener last received
  for (int step = 0; step < config.max_new_tokens; ++step) {
    if (cancel_requested) {
      end_reason = StopReason::Cancelled;
      break;
    }
    const bool may_end = step >= config.min_new_tokens;
    run.score(may_end);
    const auto now = Clock::now();
    if (step == 0) {
      t_first = now;
      metrics.ttft_ms = detail::ms_between(t_start, now);
    } else {
      token_ms.push_back(detail::ms_between(t_prev, now));
    }
    t_prev = now;
    BeamStep trace;
    trace.index = step;
    run.select(may_end, beam_observer ? &trace : nullptr);
    if (beam_observer) beam_observer(trace);
    if (beam_listener) {
      Sequence best = run.best();
      const bool changed = !reported || best.tokens != reported->tokens || best.text != reported->text ||
                           best.stop_reason != reported->stop_reason;
      if (changed && !beam_listener(best, step)) {
        end_reason = StopReason::Cancelled;
        break;
      }
      reported = std::move(best);
    }
    if (run.live.empty()) {
      end_reason = StopReason::EndOfSequence;
      break;
    }
    if (run.done() || step + 1 >= config.max_new_tokens) break;  // no forward needed
    if (position >= cache.n_ctx()) {
      if (config.on_context_full == ContextFullPolicy::Error)
        throw Error(ErrorCode::ContextFull, "beam search: the context of " + std::to_string(cache.n_ctx()) + " positions is full");
      end_reason = StopReason::ContextFull;
      break;
    }
    run.advance();
  }
  for (Beam& b : run.live) {
    const bool incomplete = b.grammar && !b.grammar->can_end() && end_reason != StopReason::Cancelled;
    run.finish(b, b.logprob, static_cast<int>(b.tokens.size()), incomplete ? StopReason::GrammarIncomplete : end_reason,
               b.final_text());
  }
  auto& finished = run.finished;
  std::stable_sort(finished.begin(), finished.end(), [](const Sequence& a, const Sequence& b) { return a.score > b.score; });
  finished.resize(std::min<std::size_t>(finished.size(), static_cast<std::size_t>(config.num_return_sequences)));

  GenerationResult r;
  if (!finished.empty()) {
    r.text = finished[0].text;
    r.tokens = finished[0].tokens;
    r.stop_reason = finished[0].stop_reason;
    generated = finished[0].tokens;
    text = finished[0].text;
  }
  reason = r.stop_reason;
  active = false;
  finish_metrics();
  r.metrics = metrics;
  r.sequences = std::move(finished);
  return r;
}

}  // namespace inkling
