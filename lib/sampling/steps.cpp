#include "sampling/steps.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include "inkling/error.hpp"

namespace inkling::sampling {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

void check_logit(const Candidate& c, std::string_view step) {
  if (c.logit < kInf || c.logit == -kInf) return;
  throw Error(ErrorCode::InvalidArgument, "sampler: " + std::string(step) + " made the logit of token " +
                                              std::to_string(c.id) + (std::isnan(c.logit) ? " nan" : " +inf") +
                                              " (a parameter too extreme for float)");
}

std::size_t at_least_one(std::size_t min_keep) { return std::max<std::size_t>(min_keep, 1); }

}  // namespace

std::vector<TokenBias> merge_logit_bias(std::span<const TokenBias> bias) {
  std::vector<TokenBias> merged(bias.begin(), bias.end());
  std::stable_sort(merged.begin(), merged.end(), [](const TokenBias& a, const TokenBias& b) { return a.first < b.first; });
  std::size_t out = 0;
  for (std::size_t i = 0; i < merged.size(); ++i) {
    if (out > 0 && merged[out - 1].first == merged[i].first)
      merged[out - 1].second += merged[i].second;
    else
      merged[out++] = merged[i];
    if (!(merged[out - 1].second < kInf))
      throw Error(ErrorCode::InvalidArgument,
                  "sampler: logit_bias entries for token " + std::to_string(merged[out - 1].first) + " add up to +inf");
  }
  merged.resize(out);
  return merged;
}

void apply_logit_bias(CandidateSet& set, std::span<const TokenBias> bias) {
  if (bias.empty()) return;
  auto items = set.items();
  if (set.identity()) {
    for (const auto& [id, b] : bias) {
      if (static_cast<std::size_t>(id) >= items.size()) break;  // sorted: the rest are beyond too
      items[static_cast<std::size_t>(id)].logit += b;
      check_logit(items[static_cast<std::size_t>(id)], "logit_bias");
    }
  } else {
    for (Candidate& c : items) {
      const auto it = std::lower_bound(bias.begin(), bias.end(), c.id,
                                       [](const TokenBias& e, TokenId id) { return e.first < id; });
      if (it == bias.end() || it->first != c.id) continue;
      c.logit += it->second;
      check_logit(c, "logit_bias");
    }
  }
  set.logits_changed();
}

void apply_penalties(CandidateSet& set, std::span<const TokenId> history, const PenaltyParams& params,
                     PenaltyScratch& scratch) {
  if (params.window == 0 || (params.repeat == 1 && params.frequency == 0 && params.presence == 0)) return;
  const std::size_t window =
      params.window < 0 ? history.size() : std::min(history.size(), static_cast<std::size_t>(params.window));
  const std::size_t vocab = set.vocab_size();
  if (scratch.counts.size() != vocab) {
    scratch.counts.assign(vocab, 0);
    scratch.seen.reserve(vocab);  // at most one entry per token: never grows again
  }
  for (const TokenId id : history.subspan(history.size() - window)) {
    if (id < 0 || static_cast<std::size_t>(id) >= vocab) continue;
    if (scratch.counts[static_cast<std::size_t>(id)]++ == 0) scratch.seen.push_back(id);
  }
  if (scratch.seen.empty()) return;

  auto penalise = [&](Candidate& c, int count) {
    if (c.logit == -kInf) return;  // banned stays banned (and -inf - -inf would be NaN)
    c.logit = c.logit <= 0 ? c.logit * params.repeat : c.logit / params.repeat;
    c.logit -= static_cast<float>(count) * params.frequency + params.presence;
    check_logit(c, "penalties");
  };
  auto items = set.items();
  if (set.identity()) {
    for (const TokenId id : scratch.seen)
      penalise(items[static_cast<std::size_t>(id)], scratch.counts[static_cast<std::size_t>(id)]);
  } else {
    for (Candidate& c : items)
      if (const int count = scratch.counts[static_cast<std::size_t>(c.id)]; count > 0) penalise(c, count);
  }
  for (const TokenId id : scratch.seen) scratch.counts[static_cast<std::size_t>(id)] = 0;
  scratch.seen.clear();
  set.logits_changed();
}

void apply_top_k(CandidateSet& set, int k, std::size_t min_keep) {
  if (k <= 0) return;
  const std::size_t keep = std::max(static_cast<std::size_t>(k), at_least_one(min_keep));
  if (keep >= set.size()) return;
  set.keep_best(keep);
}

void apply_typical_p(CandidateSet& set, float p, std::size_t min_keep) {
  if (p >= 1) return;
  const SoftmaxStats stats = set.softmax();
  // -log p_i = lse - l_i exactly, so no log per token; ties fall back to ranks_before.
  auto distance = [&](const Candidate& c) { return std::abs(stats.log_sum_exp - c.logit - stats.entropy); };
  set.sort_by([&](const Candidate& a, const Candidate& b) {
    const double da = distance(a), db = distance(b);
    return da < db || (da == db && ranks_before(a, b));
  });
  const auto items = set.items();
  const std::size_t min_n = at_least_one(min_keep);
  double cum = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    cum += items[i].p;
    if (cum > p && i + 1 >= min_n) {
      set.keep_first(i + 1);
      return;
    }
  }
}

void apply_top_p(CandidateSet& set, float p, std::size_t min_keep) {
  if (p >= 1) return;
  set.softmax();
  const std::size_t min_n = at_least_one(min_keep);
  constexpr std::size_t kFirstChunk = 64;  // the nucleus is usually small: sort a little at a time
  double cum = 0;
  std::size_t i = 0;
  for (std::size_t reach = kFirstChunk;; reach *= 4) {
    set.sort_prefix(reach);
    const auto items = set.items();
    const std::size_t end = std::min(reach, items.size());
    for (; i < end; ++i) {
      cum += items[i].p;
      if (cum >= p && i + 1 >= min_n) {
        set.keep_first(i + 1);
        return;
      }
    }
    if (end == items.size()) return;
  }
}

void apply_min_p(CandidateSet& set, float p, std::size_t min_keep) {
  if (p <= 0) return;
  const float mx = set.max_logit();
  if (mx == -kInf) return;  // nothing left; the final softmax reports it
  const float floor = mx + std::log(p);
  std::size_t passing = 0;
  for (const Candidate& c : set.items()) passing += c.logit >= floor ? 1 : 0;
  const std::size_t min_n = at_least_one(min_keep);
  if (passing >= min_n) {
    set.keep_logits_at_least(floor);
  } else {
    set.sort_prefix(min_n);
    set.keep_first(min_n);
  }
}

void apply_temperature(CandidateSet& set, float t) {
  if (t == 1) return;
  for (Candidate& c : set.items()) {
    c.logit /= t;
    check_logit(c, "temperature");
  }
  set.logits_changed();
}

}  // namespace inkling::sampling
