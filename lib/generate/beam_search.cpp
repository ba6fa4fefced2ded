// Beam search: keeps the num_beams best partial sequences by summed log-probability.
// All live beams advance in one batched forward pass; a beam's KV entries (the prompt
// and its own tokens) are copied to its children's cache slots, never recomputed.
// Each beam decodes its own text so that stop strings end it like they end sampling.
#include <algorithm>
#include <cmath>
#include <numeric>
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
  Detokenizer detok;
  std::string text;           // decoded so far (complete UTF-8 characters)
  std::size_t stop_from = 0;  // stop strings are searched from here (set at min_new_tokens)
  std::optional<TokenConstraint> grammar;  // the beam's own grammar state
};

struct Candidate {
  int beam;
  TokenId token;
  double logprob;
};

double beam_score(double logprob, int length, float length_penalty) {
  return length > 0 ? logprob / std::pow(static_cast<double>(length), static_cast<double>(length_penalty)) : logprob;
}

}  // namespace

GenerationResult Generator::Impl::beam_search(std::span<const TokenId> prompt) {
  begin(prompt);
  cached.clear();  // beams reuse every cache slot: nothing of sequence 0 survives
  const Tokenizer& tok = model->tokenizer();
  const int n_beams = config.num_beams;
  const auto n_vocab = static_cast<std::size_t>(model->config().n_vocab);
  std::vector<Beam> live{Beam{{}, 0.0, 0, Detokenizer(tok, config.special_text, false), {}, 0, grammar}};
  std::vector<float> beam_logits = logits;  // one row per live beam
  std::vector<Sequence> finished;
  std::vector<Candidate> cands;
  std::vector<TokenId> order(n_vocab);
  std::vector<std::size_t> stuck;  // beams no token can continue (complete, or the grammar is stuck)
  int base = 0;  // live beams use slots [base, base + n_beams), children the other half
  StopReason end_reason = StopReason::MaxTokens;

  auto finish = [&](const Beam& b, double lp, int length, StopReason r, std::string text) {
    Sequence s;
    s.tokens = b.tokens;
    s.text = std::move(text);
    s.logprob = lp;
    s.length = length;
    s.score = beam_score(lp, length, config.length_penalty);
    s.stop_reason = r;
    finished.push_back(std::move(s));
  };
  auto worst_kept_score = [&]() {
    std::vector<double> scores;
    for (const auto& s : finished) scores.push_back(s.score);
    std::sort(scores.rbegin(), scores.rend());
    return scores[static_cast<std::size_t>(n_beams) - 1];
  };

  for (int step = 0; step < config.max_new_tokens; ++step) {
    if (cancel_requested) {
      end_reason = StopReason::Cancelled;
      break;
    }
    const bool may_end = step >= config.min_new_tokens;
    cands.clear();
    stuck.clear();
    if (step == config.min_new_tokens)
      for (Beam& b : live) b.stop_from = b.text.size();
    for (std::size_t b = 0; b < live.size(); ++b) {
      std::span<float> row(beam_logits.data() + b * n_vocab, n_vocab);
      if (!may_end) detail::ban_ending_tokens(tok, config, row);
      const float mx = *std::max_element(row.begin(), row.end());
      double sum = 0;
      for (float l : row) sum += std::exp(static_cast<double>(l - mx));
      const double lse = mx + std::log(sum);  // before the grammar's mask: the model's own log-probabilities
      if (live[b].grammar && !detail::mask_logits(*live[b].grammar, row)) {
        stuck.push_back(b);
        continue;
      }
      std::iota(order.begin(), order.end(), 0);
      const auto k = std::min<std::size_t>(n_vocab, static_cast<std::size_t>(2 * n_beams));
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                        [&](TokenId x, TokenId y) { return row[x] > row[y] || (row[x] == row[y] && x < y); });
      for (std::size_t i = 0; i < k; ++i)
        if (row[order[i]] > -INFINITY)
          cands.push_back({static_cast<int>(b), order[i], live[b].logprob + (row[order[i]] - lse)});
    }
    std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) { return a.logprob > b.logprob; });
    for (std::size_t b : stuck) {
      const Beam& sb = live[b];
      Detokenizer d = sb.detok;
      finish(sb, sb.logprob, static_cast<int>(sb.tokens.size()),
             sb.grammar->can_end() ? StopReason::EndOfSequence : StopReason::GrammarIncomplete, sb.text + d.flush());
    }

    std::vector<Beam> next;
    std::vector<int> parent_slots;
    for (const Candidate& c : cands) {
      const Beam& parent = live[static_cast<std::size_t>(c.beam)];
      const bool is_eog = config.stop_at_eog && tok.is_eog(c.token);
      const bool is_stop = std::find(config.stop_tokens.begin(), config.stop_tokens.end(), c.token) != config.stop_tokens.end();
      if (may_end && (is_eog || is_stop)) {
        Detokenizer d = parent.detok;
        finish(parent, c.logprob, static_cast<int>(parent.tokens.size()) + 1,
               is_eog ? StopReason::EndOfSequence : StopReason::StopToken, parent.text + d.flush());
        continue;
      }
      Beam nb{parent.tokens, c.logprob, 0, parent.detok, parent.text, parent.stop_from, parent.grammar};
      nb.tokens.push_back(c.token);
      nb.text += nb.detok.push(c.token);
      if (nb.grammar) {
        nb.grammar->accept(c.token);
        if (may_end && nb.grammar->finished()) {  // nothing can follow: complete
          finish(nb, c.logprob, static_cast<int>(nb.tokens.size()), StopReason::EndOfSequence, nb.text + nb.detok.flush());
          continue;
        }
      }
      if (may_end) {
        std::size_t at = std::string::npos;
        for (const auto& stop : config.stop) at = std::min(at, nb.text.find(stop, nb.stop_from));
        if (at != std::string::npos) {
          finish(nb, c.logprob, static_cast<int>(nb.tokens.size()), StopReason::StopString, nb.text.substr(0, at));
          continue;
        }
      }
      next.push_back(std::move(nb));
      parent_slots.push_back(parent.slot);
      if (static_cast<int>(next.size()) == n_beams) break;
    }
    live.swap(next);
    const bool enough = static_cast<int>(finished.size()) >= n_beams;
    if (live.empty()) {
      end_reason = StopReason::EndOfSequence;
      break;
    }
    if (enough && config.early_stopping) break;
    if (enough) {
      // No live beam can still beat the finished ones (its score only falls as it grows
      // when length_penalty <= 0; otherwise use its current score, as common practice does).
      double best_live = -INFINITY;
      for (const Beam& b : live)
        best_live = std::max(best_live, beam_score(b.logprob, static_cast<int>(b.tokens.size()), config.length_penalty));
      if (best_live <= worst_kept_score()) break;
    }
    if (step + 1 >= config.max_new_tokens) break;  // the live beams end here: no forward needed
    if (position >= cache.n_ctx()) {
      if (config.on_context_full == ContextFullPolicy::Error)
        throw Error(ErrorCode::ContextFull, "beam search: the context of " + std::to_string(cache.n_ctx()) + " positions is full");
      end_reason = StopReason::ContextFull;
      break;
    }
    const int child_base = base == 0 ? n_beams : 0;
    Batch batch;
    for (std::size_t i = 0; i < live.size(); ++i) {
      const int slot = child_base + static_cast<int>(i);
      cache.copy(parent_slots[i], slot);
      batch.add(live[i].tokens.back(), position, slot, true);
    }
    beam_logits.resize(live.size() * n_vocab);
    model->forward(batch, cache, beam_logits);
    for (std::size_t i = 0; i < live.size(); ++i) live[i].slot = child_base + static_cast<int>(i);
    base = child_base;
    ++position;
  }
  for (Beam& b : live) {
    const bool incomplete = b.grammar && !b.grammar->can_end() && end_reason != StopReason::Cancelled;
    finish(b, b.logprob, static_cast<int>(b.tokens.size()), incomplete ? StopReason::GrammarIncomplete : end_reason,
           b.text + b.detok.flush());
  }
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
