#include "grammar/stack_walker.hpp"

#include <algorithm>

namespace inkling::detail {
namespace {

// A partial UTF-8 character, packed: bit 31 set, bits 0-20 the value so far, bits 21-22
// the continuation bytes still missing, bits 23-25 the character's length in bytes.
constexpr std::uint32_t kPartialFlag = 1u << 31;
std::uint32_t pack(std::uint32_t value, std::uint32_t missing, std::uint32_t length) {
  return kPartialFlag | value | (missing << 21) | (length << 23);
}
std::uint32_t value_of(std::uint32_t p) { return p & 0x1FFFFF; }
std::uint32_t missing_of(std::uint32_t p) { return (p >> 21) & 3; }
std::uint32_t length_of(std::uint32_t p) { return (p >> 23) & 7; }

constexpr std::uint32_t kMinOfLength[5] = {0, 0, 0x80, 0x800, 0x10000};

// The code points a partial character can still become, or false if none is valid.
bool completions(std::uint32_t p, std::uint32_t& lo, std::uint32_t& hi) {
  const std::uint32_t shift = 6 * missing_of(p);
  lo = std::max(value_of(p) << shift, kMinOfLength[length_of(p)]);
  hi = std::min((value_of(p) << shift) | ((1u << shift) - 1), kMaxCodePoint);
  return lo <= hi;
}

}  // namespace

std::size_t StackWalker::SetKeyHash::operator()(const Set& s) const noexcept {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ s.partial;
  for (std::int32_t m : s.members) h = (h ^ static_cast<std::uint32_t>(m)) * 0x100000001B3ull;
  return static_cast<std::size_t>(h ^ (h >> 29));
}

StackWalker::StackWalker(std::shared_ptr<const GrammarData> grammar) : g_(std::move(grammar)) {
  std::vector<std::int32_t> none;
  intern_set(none, 0);  // id 0 = kDead
}

std::int32_t StackWalker::intern_node(std::uint32_t pos, std::int32_t parent) {
  const std::uint64_t key = (std::uint64_t{pos} << 32) | static_cast<std::uint32_t>(parent);
  auto [it, added] = node_ids_.try_emplace(key, static_cast<std::int32_t>(nodes_.size()));
  if (added) {
    nodes_.push_back({pos, parent});
    node_entries_.push_back(nullptr);
  }
  return it->second;
}

std::uint32_t StackWalker::intern_set(std::vector<std::int32_t>& members, std::uint32_t partial) {
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  Set s;
  s.members = members;
  s.partial = partial;
  s.bottom = std::binary_search(members.begin(), members.end(), kBottom);
  s.escape = std::binary_search(members.begin(), members.end(), kEscape);
  if (auto it = set_ids_.find(s); it != set_ids_.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(sets_.size());
  set_ids_.emplace(s, id);
  sets_.push_back(std::move(s));
  return id;
}

// Expands "continue at pos, then return to parent" until every stack's top is a
// character set (or the stack ran out: kBottom / kEscape).
void StackWalker::normalize(std::uint32_t pos, std::int32_t parent, std::vector<std::int32_t>& out) {
  const Elem& e = g_->elems[pos];
  switch (e.kind) {
    case ElemKind::Chars:
      out.push_back(intern_node(pos, parent));
      return;
    case ElemKind::End:
      if (parent < 0) {
        out.push_back(parent);
      } else {
        const Node p = nodes_[static_cast<std::size_t>(parent)];
        normalize(p.pos, p.parent, out);
      }
      return;
    case ElemKind::Ref: {
      const std::int32_t cont = g_->elems[pos + 1].kind == ElemKind::End ? parent : intern_node(pos + 1, parent);
      for (std::uint32_t alt : g_->alts[e.value]) normalize(alt, cont, out);
      return;
    }
  }
}

std::uint32_t StackWalker::initial() {
  std::vector<std::int32_t> out;
  for (std::uint32_t alt : g_->alts[g_->root]) normalize(alt, kBottom, out);
  return intern_set(out, 0);
}

std::uint32_t StackWalker::from_frames(std::span<const std::uint32_t> frames, bool complete) {
  std::int32_t parent = complete ? kBottom : kEscape;
  for (std::size_t i = frames.size(); i-- > 1;) parent = intern_node(frames[i], parent);
  std::vector<std::int32_t> out{intern_node(frames[0], parent)};
  return intern_set(out, 0);
}

std::uint32_t StackWalker::step(std::uint32_t set, std::uint8_t byte) {
  const std::uint64_t key = (std::uint64_t{set} << 8) | byte;
  if (auto it = steps_.find(key); it != steps_.end()) return it->second;
  const std::uint32_t next = compute_step(set, byte);
  steps_.emplace(key, next);
  return next;
}

std::uint32_t StackWalker::compute_step(std::uint32_t set, std::uint8_t b) {
  if (set == kDead) return kDead;
  const std::vector<std::int32_t> members = sets_[set].members;  // copy: interning may grow sets_
  std::uint32_t partial = sets_[set].partial;
  std::vector<std::int32_t> out;
  auto advance = [&](std::uint32_t cp) {
    for (std::int32_t m : members) {
      if (m < 0) continue;
      const Node n = nodes_[static_cast<std::size_t>(m)];
      if (g_->sets[g_->elems[n.pos].value].contains(cp)) normalize(n.pos + 1, n.parent, out);
    }
  };
  auto keep_possible = [&]() {
    std::uint32_t lo, hi;
    if (!completions(partial, lo, hi)) return;
    for (std::int32_t m : members)
      if (m >= 0 && g_->sets[g_->elems[nodes_[static_cast<std::size_t>(m)].pos].value].intersects(lo, hi)) out.push_back(m);
  };
  if (partial == 0) {
    if (b < 0x80) {
      advance(b);
    } else {
      const std::uint32_t len = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
      if (len == 0) return kDead;
      partial = pack(b & (0x7Fu >> len), len - 1, len);
      keep_possible();
    }
  } else {
    if ((b & 0xC0) != 0x80) return kDead;
    const std::uint32_t value = (value_of(partial) << 6) | (b & 0x3Fu);
    const std::uint32_t missing = missing_of(partial) - 1;
    if (missing == 0) {
      if (value < kMinOfLength[length_of(partial)] || value > kMaxCodePoint || (value >= 0xD800 && value <= 0xDFFF)) return kDead;
      partial = 0;
      advance(value);
    } else {
      partial = pack(value, missing, length_of(partial));
      keep_possible();
    }
  }
  if (out.empty()) return kDead;
  return intern_set(out, partial);
}

std::int32_t StackWalker::copy_node(const StackWalker& from, std::int32_t id, std::unordered_map<std::int32_t, std::int32_t>& done) {
  if (id < 0) return id;
  if (auto it = done.find(id); it != done.end()) return it->second;
  const Node n = from.node(id);
  const std::int32_t copied = intern_node(n.pos, copy_node(from, n.parent, done));
  done.emplace(id, copied);
  return copied;
}

std::uint32_t StackWalker::transplant(const StackWalker& from, std::uint32_t id) {
  std::unordered_map<std::int32_t, std::int32_t> done;
  std::vector<std::int32_t> members;
  for (std::int32_t m : from.set(id).members) members.push_back(copy_node(from, m, done));
  if (members.empty() && from.set(id).partial == 0) return kDead;
  return intern_set(members, from.set(id).partial);
}

}  // namespace inkling::detail
