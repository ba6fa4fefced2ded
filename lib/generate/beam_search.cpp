// Beam search: keeps the num_beams best partial sequences by summed log-probability.
// All live beams advance in one batched forward pass; a beam's KV entries (the prompt
// and its own tokens) are copied to its children's cache slots, never recomputed.
// Each beam decodes its own text so that stop strings end it like they end sampling.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "generate/generator_impl.hpp"
#include "inkling/error.hpp"

namespace inkling {
namespace {

struct Beam {
  std::vector<TokenId> tokens;
  double logprob = 0;
  int slot = 0;
  Detokenizer detok;
  detail::StopText stop;  // the stop strings over this beam's own text
  std::string text;       // released so far (complete UTF-8, no part of a stop string)

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

}  // namespace

GenerationResult Generator::Impl::beam_search(std::span<const TokenId> prompt) {
  begin(prompt);
  cached.clear();  // beams reuse every cache slot: nothing of sequence 0 survives
  const Tokenizer& tok = model->tokenizer();
  const int n_beams = config.num_beams;
  const auto n_vocab = static_cast<std::size_t>(model->config().n_vocab);
  std::vector<Beam> live{Beam{{}, 0.0, 0, Detokenizer(tok, config.special_text, false), detail::StopText(config.stop), {}}};
  std::vector<float> beam_logits = logits;  // one row per live beam
  std::vector<Sequence> finished;
  std::vector<Candidate> cands;
  std::vector<TokenId> order(n_vocab);
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
    for (std::size_t b = 0; b < live.size(); ++b) {
      std::span<float> row(beam_logits.data() + b * n_vocab, n_vocab);
      if (!may_end) detail::ban_ending_tokens(tok, config, row);
      const float mx = *std::max_element(row.begin(), row.end());
      double sum = 0;
      for (float l : row) sum += std::exp(static_cast<double>(l - mx));
      const double lse = mx + std::log(sum);
      std::iota(order.begin(), order.end(), 0);
      const auto k = std::min<std::size_t>(n_vocab, static_cast<std::size_t>(2 * n_beams));
      std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                        [&](TokenId x, TokenId y) { return row[x] > row[y] || (row[x] == row[y] && x < y); });
      for (std::size_t i = 0; i < k; ++i)
        if (row[order[i]] > -INFINITY)
          cands.push_back({static_cast<int>(b), order[i], live[b].logprob + (row[order[i]] - lse)});
    }
    std::stable_sort(cands.begin(), cands.end(), [](const Candidate& a, const Candidate& b) { return a.logprob > b.logprob; });

    std::vector<Beam> next;
    std::vector<int> parent_slots;
    for (const Candidate& c : cands) {
      const Beam& parent = live[static_cast<std::size_t>(c.beam)];
      if (const auto ending = may_end ? detail::ending_token(tok, config, c.token) : std::nullopt) {
        finish(parent, c.logprob, static_cast<int>(parent.tokens.size()) + 1, *ending, parent.final_text());
        continue;
      }
      Beam nb = parent;
      nb.logprob = c.logprob;
      nb.tokens.push_back(c.token);
      const auto released = nb.stop.push(nb.detok.push(c.token), may_end);
      nb.text += released.release;
      if (released.stopped) {
        finish(nb, c.logprob, static_cast<int>(nb.tokens.size()), StopReason::StopString, nb.text);
        continue;
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
  for (Beam& b : live) finish(b, b.logprob, static_cast<int>(b.tokens.size()), end_reason, b.final_text());
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
