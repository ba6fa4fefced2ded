// KVCache internals: the rows (KvStorage), how keys are re-rotated when positions move,
// and the forward passes' workspace. Reached only through KVCacheAccess.
#pragma once

#include <string>
#include <vector>

#include "inkling/kv_cache.hpp"
#include "model/kv_storage.hpp"
#include "model/layers.hpp"
#include "model/rope.hpp"
#include "model/workspace.hpp"

namespace inkling {

struct KVCache::Impl {
  const void* owner = nullptr;  // the Model::Impl this cache was sized for
  int n_ctx = 0, n_seq = 0, n_layer = 0;
  detail::KvStorage kv;
  std::vector<int> length;  // filled positions per sequence
  // RoPE of the model for this context size: the forward pass rotates with it, and
  // remove() re-rotates keys whose position changes.
  detail::RopeSetup rope;
  int head_dim = 0, n_head_kv = 0;
  detail::RopeStyle rope_style = detail::RopeStyle::Normal;
  detail::ForwardWorkspace ws;

  void check_seq(int seq, const char* what) const;
};

namespace detail {

// What the forward pass needs of a cache: its rows, per-sequence lengths and workspace.
struct KVCacheView {
  const void* owner;
  int n_ctx, n_seq;
  KvStorage& kv;
  const RopeSetup& rope;
  std::vector<int>& length;
  ForwardWorkspace& ws;
};

struct KVCacheAccess {
  static KVCacheView view(KVCache& c) noexcept {
    KVCache::Impl& m = *c.impl_;
    return {m.owner, m.n_ctx, m.n_seq, m.kv, m.rope, m.length, m.ws};
  }
};

}  // namespace detail
}  // namespace inkling
