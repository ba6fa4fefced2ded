// The sampler's random generator: xoshiro256** (Blackman & Vigna, a public-domain
// algorithm) seeded through splitmix64. Both are a few lines of fixed 64-bit arithmetic,
// so a seed gives the same stream on every platform and compiler, unlike <random>'s
// distributions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace inkling::sampling {

class Xoshiro256 {
 public:
  static constexpr std::size_t kWords = 4;

  explicit Xoshiro256(std::uint64_t seed) noexcept { reseed(seed); }

  // splitmix64 is a bijection of its counter, so four consecutive outputs are distinct
  // and the state is never all zero (xoshiro's one forbidden state).
  void reseed(std::uint64_t seed) noexcept {
    std::uint64_t counter = seed;
    for (auto& word : s_) word = splitmix64(counter);
  }

  std::uint64_t next() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1): the top 53 bits of one output times 2^-53, exact in a double.
  double next_double() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  const std::array<std::uint64_t, kWords>& state() const noexcept { return s_; }
  // The caller has checked that not every word is zero.
  void set_state(std::span<const std::uint64_t, kWords> state) noexcept {
    for (std::size_t i = 0; i < kWords; ++i) s_[i] = state[i];
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

  static std::uint64_t splitmix64(std::uint64_t& counter) noexcept {
    std::uint64_t z = (counter += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  std::array<std::uint64_t, kWords> s_{};
};

}  // namespace inkling::sampling
