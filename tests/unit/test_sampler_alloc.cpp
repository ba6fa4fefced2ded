// sample() allocates nothing once it has seen the vocabulary size: counted through the
// global operator new, which this test program replaces.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <new>
#include <vector>

#include "inkling/sampler.hpp"

namespace {
long g_allocations = 0;
}

void* operator new(std::size_t size) {
  ++g_allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++g_allocations;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new[](std::size_t size, const std::nothrow_t& t) noexcept { return operator new(size, t); }
// Every form of delete matches the malloc above (sanitizers check the pairing).
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

TEST_CASE("no allocation per sample() after the first for a vocabulary size") {
  std::vector<float> logits(5000);
  for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = static_cast<float>((i * 37) % 101) / 16.0f;
  std::vector<inkling::TokenId> history{5, 7, 7, 4999, 12, 5};
  inkling::SamplerConfig sampled;
  sampled.repeat_penalty = 1.2f;
  sampled.frequency_penalty = 0.1f;
  sampled.typical_p = 0.9f;
  sampled.logit_bias = {{3, 1.0f}, {9, -INFINITY}};
  inkling::SamplerConfig greedy = sampled;
  greedy.temperature = 0;
  inkling::SamplerConfig no_filters;
  no_filters.top_k = 0;
  no_filters.top_p = 1;
  no_filters.min_p = 0;
  inkling::SamplerConfig whole_history = sampled;
  whole_history.penalty_window = -1;
  for (const auto& config : {sampled, greedy, no_filters, whole_history}) {
    inkling::Sampler s(config);
    std::vector<inkling::TokenId> grown = history;
    grown.reserve(history.size() + 20);
    s.sample(logits, grown);
    const long before = g_allocations;
    for (int i = 0; i < 20; ++i) grown.push_back(s.sample(logits, grown));  // a new id each time, mostly
    CHECK(g_allocations == before);
  }
}
