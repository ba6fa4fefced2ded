// KVCache: the keys and values of past positions, per layer and per sequence, plus the
// scratch memory of the forward passes that use it. Owned by one thread at a time.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "inkling/tensor.hpp"

namespace inkling {

class Model;
namespace detail {
struct KVCacheAccess;
}

// The context used when none is asked for: a model's training context may be 128k
// positions, which for an 8B model is a cache of tens of GiB.
inline constexpr int kDefaultContextLimit = 4096;

struct KVCacheOptions {
  // Positions per sequence; 0 = the model's training context, at most
  // kDefaultContextLimit. More than the training context is refused (the model never saw
  // those positions) unless rope_scale stretches the positions to cover it.
  int n_ctx = 0;
  // Linear RoPE scaling asked for by the user, on top of the file's own (llama.cpp's
  // --rope-scale): positions are divided by it, so a model trained on N positions may
  // have a context of up to N * rope_scale. Output quality drops unless the model was
  // tuned for it. 1 = off; must be in [1, 64]; models with learned positions (GPT-2) or
  // without RoPE cannot be stretched.
  float rope_scale = 1.0f;
  int n_seq = 1;              // independent sequences (beams, parallel requests)
  // F32; F16 (half the memory, llama.cpp's default); Q8_0 (34 bytes per 32 values, about
  // a quarter of F32; needs a head size that is a multiple of 32)
  DType type = DType::F32;
  // > 0: refuse (Error(OutOfMemory), before allocating anything) a cache whose K/V
  // storage would exceed this many bytes, instead of being killed by the OS.
  std::size_t memory_budget = 0;
};

class KVCache {
 public:
  // Sizes the cache for `model`. Throws Error(InvalidArgument) for n_ctx/n_seq out of
  // range or an unsupported type, Error(OutOfMemory) when the cache would be larger than
  // the memory budget or the machine's available memory. Memory is committed as
  // positions fill, not up front.
  KVCache(const Model& model, KVCacheOptions options = {});
  ~KVCache();
  KVCache(KVCache&&) noexcept;
  KVCache& operator=(KVCache&&) noexcept;

  int n_ctx() const noexcept;
  int n_seq() const noexcept;
  DType type() const noexcept;
  // Number of positions stored for `seq` (positions 0..length-1 are filled).
  int length(int seq = 0) const;
  std::size_t bytes() const noexcept;  // memory of the K/V storage

  void clear(int seq = -1);                   // -1: every sequence
  void truncate(int seq, int new_length);     // drop positions >= new_length
  void copy(int src_seq, int dst_seq);        // dst becomes a copy of src (fork)
  // Drops positions [p0, p1) of `seq`; the positions after them move down by p1 - p0,
  // their keys re-rotated for their new positions (RoPE), so generation can go on past
  // the context by dropping old tokens. Error(InvalidArgument) for a range outside the
  // cached positions.
  void remove(int seq, int p0, int p1);

  // Serialization of one sequence's first `n` positions, as raw rows in the cache's type:
  // for each layer, n key rows then n value rows. row_bytes() is one position's key (or
  // value) row in one layer, so the whole is 2 * n_layer * n * row_bytes() bytes.
  // save_rows: Error(InvalidArgument) if n exceeds the sequence's length or `out` has
  // another size. load_rows replaces the sequence with the rows and sets its length to n:
  // Error(InvalidArgument) if n exceeds n_ctx or `in` has another size.
  std::size_t row_bytes() const noexcept;
  std::size_t rows_bytes(int n) const noexcept;
  void save_rows(int seq, int n, std::span<std::byte> out) const;
  void load_rows(int seq, int n, std::span<const std::byte> in);

 private:
  struct Impl;
  friend struct detail::KVCacheAccess;  // the forward pass: the storage and its workspace
  std::unique_ptr<Impl> impl_;
};

}  // namespace inkling
