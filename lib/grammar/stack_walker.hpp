// The grammar as a lazily built automaton over bytes.
//
// A parse position is a stack of frames: the top frame points at the character set to
// match next, the frames below at where each enclosing rule continues (a frame whose
// continuation would be the end of its alternative is never pushed: tail calls keep
// repetitions flat). Stacks are interned as nodes (position, parent), so a set of stacks
// is a sorted vector of node ids; sets are interned too, and step(set, byte) is memoized,
// which turns the pushdown automaton into a DFA built on demand. A UTF-8 character is
// consumed byte by byte: a set may carry a partial character, and keeps only the stacks
// whose character set can still hold a character that starts with those bytes.
//
// The bottom of a stack is either kBottom (the grammar's end: reaching it means the text
// may end here) or kEscape (used when classifying tokens for a state known only by its
// top frames: reaching it means the outcome depends on frames we did not look at).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "grammar/grammar_data.hpp"

namespace inkling::detail {

struct MaskEntry;

inline constexpr std::int32_t kBottom = -1;
inline constexpr std::int32_t kEscape = -2;

class StackWalker {
 public:
  struct Node {
    std::uint32_t pos;     // element index
    std::int32_t parent;   // node id, kBottom or kEscape
  };
  struct Set {
    std::vector<std::int32_t> members;  // sorted node ids (kBottom / kEscape included)
    std::uint32_t partial = 0;          // 0, or an incomplete UTF-8 character (see .cpp)
    bool bottom = false;                // kBottom is a member: the text may end here
    bool escape = false;                // kEscape is a member
  };
  static constexpr std::uint32_t kDead = 0;  // the empty set: nothing can follow

  explicit StackWalker(std::shared_ptr<const GrammarData> grammar);

  std::uint32_t initial();  // the root rule, over kBottom
  // A single stack given by its top frames (frames[0] the top, a character set);
  // below them kBottom when `complete`, else kEscape.
  std::uint32_t from_frames(std::span<const std::uint32_t> frames, bool complete);
  std::uint32_t step(std::uint32_t set, std::uint8_t byte);
  const Set& set(std::uint32_t id) const { return sets_[id]; }
  const Node& node(std::int32_t id) const { return nodes_[static_cast<std::size_t>(id)]; }
  std::size_t size() const noexcept { return nodes_.size() + sets_.size(); }
  // Copies set `id` of `from` into this walker (to drop everything else from memory).
  std::uint32_t transplant(const StackWalker& from, std::uint32_t id);
  const GrammarData& grammar() const noexcept { return *g_; }

  // The mask cache entry of each node's top frames, filled in by TokenConstraint.
  std::vector<const MaskEntry*>& node_entries() { return node_entries_; }
  // Per set, filled in by TokenConstraint on the set's first mask: the tokens its
  // members' entries left uncertain that the set does allow (the rest of them it does
  // not). A set is a whole parse state, so this settles them for good: later masks of
  // the same state only OR the entries' bitsets and set these bits.
  struct Extras {
    bool known = false;
    std::vector<std::int32_t> allowed;  // token ids
  };
  Extras& extras(std::uint32_t set) {
    if (extras_.size() <= set) extras_.resize(sets_.size());
    return extras_[set];
  }

 private:
  struct SetKeyHash {
    std::size_t operator()(const Set& s) const noexcept;
  };
  struct SetKeyEq {
    bool operator()(const Set& a, const Set& b) const noexcept {
      return a.partial == b.partial && a.members == b.members;
    }
  };

  std::shared_ptr<const GrammarData> g_;
  std::vector<Node> nodes_;
  std::unordered_map<std::uint64_t, std::int32_t> node_ids_;
  std::vector<Set> sets_;
  std::unordered_map<Set, std::uint32_t, SetKeyHash, SetKeyEq> set_ids_;
  std::unordered_map<std::uint64_t, std::uint32_t> steps_;
  std::vector<const MaskEntry*> node_entries_;
  std::vector<Extras> extras_;  // by set id (grown on demand)
  std::vector<std::int32_t> scratch_;

  std::int32_t intern_node(std::uint32_t pos, std::int32_t parent);
  std::uint32_t intern_set(std::vector<std::int32_t>& members, std::uint32_t partial);
  void normalize(std::uint32_t pos, std::int32_t parent, std::vector<std::int32_t>& out);
  std::uint32_t compute_step(std::uint32_t set, std::uint8_t byte);
  std::int32_t copy_node(const StackWalker& from, std::int32_t id, std::unordered_map<std::int32_t, std::int32_t>& done);
};

}  // namespace inkling::detail
