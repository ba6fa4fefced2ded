// Internals of token masking: the byte-sorted vocabulary and the per-state cache.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "grammar/stack_walker.hpp"
#include "inkling/grammar.hpp"

namespace inkling::detail {

struct VocabData {
  int n_vocab = 0;
  std::string bytes;                   // every piece, concatenated
  std::vector<std::uint32_t> offsets;  // n_vocab + 1
  std::vector<char> is_end;            // per id
  // The ids matched as text (non-empty pieces, not end tokens), sorted by their bytes,
  // and lcp[i]: the length of the prefix sorted[i] shares with sorted[i - 1].
  std::vector<TokenId> sorted;
  std::vector<std::uint32_t> lcp;
  std::vector<TokenId> end_ids;        // the ids with is_end set

  std::string_view piece(TokenId id) const {
    const auto i = static_cast<std::size_t>(id);
    return std::string_view(bytes).substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
  void build(std::vector<std::string> pieces, std::span<const TokenId> end_tokens);
};

// The fate of every text token when the stack's top frames are known: allowed whatever
// lies below, never allowed, or depends on the frames below (checked per step).
struct MaskEntry {
  std::vector<std::uint64_t> accepted;  // bitset over token ids
  std::vector<std::uint32_t> uncertain; // indices into VocabData::sorted, ascending
};

// Walks the sorted tokens (all, or the indices in `subset`) from `start`: sets the bit of
// every token that can be consumed completely; a token whose walk died after reaching
// kEscape goes to `uncertain` (when given).
void walk_tokens(StackWalker& w, std::uint32_t start, const VocabData& v, const std::vector<std::uint32_t>* subset,
                 std::vector<std::uint64_t>& accepted, std::vector<std::uint32_t>* uncertain);

class MaskCacheImpl {
 public:
  // How many frames of a stack key a cache entry: more frames, fewer uncertain tokens
  // (a string's closing quote is two frames below its characters), more entries.
  static constexpr std::size_t kFrames = 4;

  MaskCacheImpl(Grammar g, std::shared_ptr<const GrammarVocab> v) : grammar(std::move(g)), vocab(std::move(v)) {}
  // The entry of this node's top frames (thread-safe; computed on first use).
  const MaskEntry& entry_for(const StackWalker& w, std::int32_t node);
  std::size_t size() const;
  // A walker for a new constraint: one a finished constraint gave back (its memoized
  // steps and mask entries warm), else a new one.
  std::shared_ptr<StackWalker> take_walker();
  void give_back(std::shared_ptr<StackWalker> walker);

  Grammar grammar;
  std::shared_ptr<const GrammarVocab> vocab;

 private:
  // Idle walkers kept: as many as constraints finish at the same time (a server's
  // parallel requests), bounded; a walker past kMaxWalkerSize is dropped instead.
  static constexpr std::size_t kMaxIdle = 16;
  static constexpr std::size_t kMaxWalkerSize = 1u << 19;
  mutable std::mutex mu_;
  std::map<std::vector<std::uint32_t>, std::unique_ptr<MaskEntry>> entries_;
  std::vector<std::shared_ptr<StackWalker>> idle_;
};

}  // namespace inkling::detail
