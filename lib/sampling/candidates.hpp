// The sampler's working set: one (id, logit, p) entry per token still in the race, plus
// what is known about its order, so that a step sorts only as much as it needs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "inkling/types.hpp"

namespace inkling::sampling {

struct Candidate {
  TokenId id;
  float logit;
  float p;  // valid after softmax(), until the logits change
};

// Higher logit first, lower id on ties. A strict total order (ids are unique and logits
// are never NaN), so every sort under it has exactly one result on every platform.
inline bool ranks_before(const Candidate& a, const Candidate& b) noexcept {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

struct SoftmaxStats {
  double log_sum_exp;  // logprob of a candidate = its logit - this
  double entropy;      // nats
};

// Invariants: the first sorted_prefix() items are the best ones in ranks_before order and
// rank before every later item; while identity() holds, item i is token i (nothing
// removed or moved), which lets per-token steps index directly instead of scanning.
class CandidateSet {
 public:
  // Item i = token i. Throws Error(InvalidArgument) for an empty span or a NaN / +inf
  // logit, naming the token.
  void reset(std::span<const float> logits);

  std::span<Candidate> items() noexcept { return items_; }
  std::span<const Candidate> items() const noexcept { return items_; }
  std::size_t size() const noexcept { return items_.size(); }
  std::size_t vocab_size() const noexcept { return vocab_; }
  bool identity() const noexcept { return identity_; }
  std::size_t sorted_prefix() const noexcept { return sorted_; }
  // True once a step changed a logit since reset().
  bool modified() const noexcept { return modified_; }

  // A step changed logits in place: the order is no longer known.
  void logits_changed() noexcept {
    sorted_ = 0;
    modified_ = true;
  }
  // Makes the first min(m, size) items the best ones, in order: nth_element over the
  // unsorted rest, then a sort of only the newly placed part.
  void sort_prefix(std::size_t m);
  // Keeps only the min(m, size) best, in order. For small m a bounded heap (one pass, one
  // comparison per item) beats nth_element's several passes over the vocabulary.
  void keep_best(std::size_t m);
  // Sorts every item by another strict total order (typical-p).
  template <class Less>
  void sort_by(Less less) {
    std::sort(items_.begin(), items_.end(), less);
    sorted_ = 0;
    identity_ = false;
  }
  void keep_first(std::size_t m);
  // Removes the first n items (n < size), keeping the rest in order.
  void drop_first(std::size_t n);
  // Keeps the items whose logit is >= floor, in their current order.
  void keep_logits_at_least(float floor);

  float max_logit() const noexcept;
  // Fills p with the softmax of the current logits (exp in float, sums in double).
  // Throws Error(InvalidArgument) when every logit is -inf: nothing is left to sample.
  SoftmaxStats softmax();

 private:
  std::vector<Candidate> items_;
  std::vector<Candidate> best_;  // keep_best's heap
  std::size_t vocab_ = 0;
  std::size_t sorted_ = 0;
  bool identity_ = true;
  bool modified_ = false;
};

// The n best of `items` with a finite logit, in ranks_before order, written to `out`,
// which serves as a bounded heap: O(size * log n), no allocation once out has capacity n.
void select_best(std::span<const Candidate> items, std::size_t n, std::vector<Candidate>& out);

}  // namespace inkling::sampling
