#include "sampling/candidates.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "inkling/error.hpp"

namespace inkling::sampling {

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();
}

void CandidateSet::reset(std::span<const float> logits) {
  if (logits.empty()) throw Error(ErrorCode::InvalidArgument, "sampler: empty logits");
  if (logits.size() > static_cast<std::size_t>(std::numeric_limits<TokenId>::max()))
    throw Error(ErrorCode::InvalidArgument, "sampler: more logits than token ids can name");
  items_.resize(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const float l = logits[i];
    if (!(l < kInf))
      throw Error(ErrorCode::InvalidArgument,
                  "sampler: logit of token " + std::to_string(i) + " is " + (std::isnan(l) ? "nan" : "+inf"));
    items_[i] = {static_cast<TokenId>(i), l, 0.0f};
  }
  vocab_ = logits.size();
  sorted_ = 0;
  identity_ = true;
  modified_ = false;
}

void CandidateSet::sort_prefix(std::size_t m) {
  m = std::min(m, items_.size());
  if (m <= sorted_) return;
  const auto first = items_.begin() + static_cast<std::ptrdiff_t>(sorted_);
  const auto middle = items_.begin() + static_cast<std::ptrdiff_t>(m);
  if (middle != items_.end()) std::nth_element(first, middle - 1, items_.end(), ranks_before);
  std::sort(first, middle, ranks_before);
  sorted_ = m;
  identity_ = false;
}

namespace {

// Appends to `best` the items at -inf with the lowest ids until it holds m: a bounded
// max-heap on the id, one pass.
void fill_with_lowest_ids_at_minus_inf(std::span<const Candidate> items, std::size_t m, std::vector<Candidate>& best) {
  const std::size_t want = m - best.size();
  std::vector<Candidate> low;
  low.reserve(want);
  auto higher_id_first = [](const Candidate& a, const Candidate& b) { return a.id < b.id; };
  for (const Candidate& c : items) {
    if (c.logit != -kInf) continue;
    if (low.size() < want) {
      low.push_back(c);
      std::push_heap(low.begin(), low.end(), higher_id_first);
    } else if (c.id < low.front().id) {
      std::pop_heap(low.begin(), low.end(), higher_id_first);
      low.back() = c;
      std::push_heap(low.begin(), low.end(), higher_id_first);
    }
  }
  std::sort_heap(low.begin(), low.end(), higher_id_first);
  best.insert(best.end(), low.begin(), low.end());
}

}  // namespace

void CandidateSet::keep_best(std::size_t m) {
  constexpr std::size_t kHeapLimit = 1024;
  if (m >= items_.size()) return sort_prefix(m);
  if (m <= kHeapLimit && sorted_ == 0) {
    select_best(items_, m, best_);
    // Fewer than m finite logits (a grammar's mask often leaves a handful): -inf ones fill
    // in, and among equal logits the lower ids rank first.
    if (best_.size() < m) fill_with_lowest_ids_at_minus_inf(items_, m, best_);
    std::copy(best_.begin(), best_.end(), items_.begin());
    items_.resize(m);
    sorted_ = m;
    identity_ = false;
    return;
  }
  sort_prefix(m);
  keep_first(m);
}

void CandidateSet::keep_first(std::size_t m) {
  if (m >= items_.size()) return;
  items_.resize(m);
  sorted_ = std::min(sorted_, m);
  identity_ = false;
}

void CandidateSet::drop_first(std::size_t n) {
  n = std::min(n, items_.size());
  items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(n));
  sorted_ = sorted_ > n ? sorted_ - n : 0;
  identity_ = identity_ && n == 0;
}

void CandidateSet::keep_logits_at_least(float floor) {
  const std::size_t before = items_.size();
  std::erase_if(items_, [floor](const Candidate& c) { return !(c.logit >= floor); });
  // Items below the floor rank after every item above it, so a sorted prefix can only lose
  // its tail.
  sorted_ = std::min(sorted_, items_.size());
  if (items_.size() != before) identity_ = false;
}

float CandidateSet::max_logit() const noexcept {
  if (sorted_ > 0) return items_.front().logit;
  float mx = -kInf;
  for (const Candidate& c : items_) mx = std::max(mx, c.logit);
  return mx;
}

SoftmaxStats CandidateSet::softmax() {
  const float mx = max_logit();
  if (mx == -kInf) throw Error(ErrorCode::InvalidArgument, "sampler: no token left to sample (every logit is -inf)");
  double sum = 0;
  double weighted = 0;  // sum of e_i * (l_i - max), for the entropy
  for (Candidate& c : items_) {
    const float shifted = c.logit - mx;
    const float e = std::exp(shifted);
    c.p = e;
    sum += e;
    if (e > 0) weighted += static_cast<double>(e) * shifted;
  }
  const double inv = 1.0 / sum;
  for (Candidate& c : items_) c.p = static_cast<float>(c.p * inv);
  const double log_sum = std::log(sum);
  // H = -sum p_i log p_i with log p_i = (l_i - max) - log(sum): no log per token.
  return {mx + log_sum, std::max(0.0, log_sum - weighted * inv)};
}

void select_best(std::span<const Candidate> items, std::size_t n, std::vector<Candidate>& out) {
  out.clear();
  if (n == 0) return;
  // As a heap under ranks_before, `out` keeps its worst item at the front, ready to go.
  for (const Candidate& c : items) {
    if (c.logit == -kInf) continue;
    if (out.size() < n) {
      out.push_back(c);
      std::push_heap(out.begin(), out.end(), ranks_before);
    } else if (ranks_before(c, out.front())) {
      std::pop_heap(out.begin(), out.end(), ranks_before);
      out.back() = c;
      std::push_heap(out.begin(), out.end(), ranks_before);
    }
  }
  std::sort_heap(out.begin(), out.end(), ranks_before);
}

}  // namespace inkling::sampling
