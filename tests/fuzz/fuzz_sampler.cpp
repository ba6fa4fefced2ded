// libFuzzer target: arbitrary sampler parameters, logits (NaN, inf, huge) and history.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/sampler.hpp"

namespace {
struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  template <typename T>
  T get() {
    T v{};
    if (n >= sizeof(T)) {
      std::memcpy(&v, p, sizeof(T));
      p += sizeof(T);
      n -= sizeof(T);
    }
    return v;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Reader r{data, size};
  inkling::SamplerConfig c;
  c.temperature = r.get<float>();
  c.top_k = r.get<std::int16_t>();
  c.top_p = r.get<float>();
  c.min_p = r.get<float>();
  c.typical_p = r.get<float>();
  c.repeat_penalty = r.get<float>();
  c.presence_penalty = r.get<float>();
  c.frequency_penalty = r.get<float>();
  c.penalty_window = r.get<std::int8_t>();
  c.seed = r.get<std::uint64_t>();
  c.min_keep = r.get<std::uint8_t>() % 8;
  const int n_bias = r.get<std::uint8_t>() % 4;
  for (int i = 0; i < n_bias; ++i) c.logit_bias.emplace_back(r.get<std::uint8_t>(), r.get<float>());
  const std::size_t n_vocab = 1 + r.get<std::uint8_t>();
  std::vector<float> logits(n_vocab);
  for (auto& l : logits) l = r.get<float>();
  std::vector<inkling::TokenId> history;
  while (r.n > 0) history.push_back(r.get<std::int8_t>());
  try {
    inkling::Sampler s(c);
    for (int i = 0; i < 3; ++i) {
      const auto id = s.sample(logits, history);
      if (id < 0 || static_cast<std::size_t>(id) >= n_vocab) __builtin_trap();
      if (std::isnan(s.chosen().prob)) __builtin_trap();
      history.push_back(id);
    }
  } catch (const inkling::Error&) {
  }
  return 0;
}
