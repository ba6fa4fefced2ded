// CandidateSet::keep_best (the bounded-heap top-m) against a full sort in ranks_before
// order: with every logit finite, and with fewer finite logits than m (a grammar's mask
// leaves a few), where -inf items fill in by ascending id.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "sampling/candidates.hpp"

using inkling::sampling::Candidate;
using inkling::sampling::CandidateSet;
using inkling::sampling::ranks_before;

namespace {

std::vector<float> logits_with_finite(std::size_t vocab, std::size_t finite, std::mt19937& rng) {
  std::vector<float> l(vocab, -INFINITY);
  std::vector<std::size_t> ids(vocab);
  for (std::size_t i = 0; i < vocab; ++i) ids[i] = i;
  std::shuffle(ids.begin(), ids.end(), rng);
  std::uniform_int_distribution<int> level(-8, 8);  // few levels: many ties
  for (std::size_t i = 0; i < finite; ++i) l[ids[i]] = static_cast<float>(level(rng)) * 0.5f;
  return l;
}

}  // namespace

TEST_CASE("keep_best equals the first m of a full sort, -inf fill-ins included") {
  std::mt19937 rng(7);
  for (std::size_t finite : {0u, 1u, 3u, 39u, 40u, 41u, 500u, 1000u}) {
    for (std::size_t m : {1u, 5u, 40u, 100u}) {
      const std::vector<float> logits = logits_with_finite(1000, finite, rng);
      if (finite == 0) continue;  // every logit -inf is refused by softmax, not here
      CandidateSet set;
      set.reset(logits);
      set.keep_best(m);
      std::vector<Candidate> want;
      for (std::size_t i = 0; i < logits.size(); ++i) want.push_back({static_cast<inkling::TokenId>(i), logits[i], 0.0f});
      std::sort(want.begin(), want.end(), ranks_before);
      want.resize(m);
      CAPTURE(finite);
      CAPTURE(m);
      REQUIRE(set.size() == m);
      CHECK(set.sorted_prefix() == m);
      for (std::size_t i = 0; i < m; ++i) {
        CHECK(set.items()[i].id == want[i].id);
        CHECK(set.items()[i].logit == want[i].logit);
      }
    }
  }
}
