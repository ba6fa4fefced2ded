// GrammarVocab, TokenMaskCache and TokenConstraint: which tokens may come next.
#include "grammar/token_mask.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace inkling {
namespace detail {

void VocabData::build(std::vector<std::string> pieces, std::span<const TokenId> end_tokens) {
  n_vocab = static_cast<int>(pieces.size());
  is_end.assign(pieces.size(), 0);
  for (TokenId id : end_tokens)
    if (id >= 0 && id < n_vocab) is_end[static_cast<std::size_t>(id)] = 1;
  offsets.assign(1, 0);
  for (const std::string& p : pieces) {
    bytes += p;
    offsets.push_back(static_cast<std::uint32_t>(bytes.size()));
  }
  end_ids.clear();
  for (TokenId id = 0; id < n_vocab; ++id)
    if (is_end[static_cast<std::size_t>(id)]) end_ids.push_back(id);
  sorted.clear();
  for (TokenId id = 0; id < n_vocab; ++id)
    if (!is_end[static_cast<std::size_t>(id)] && !pieces[static_cast<std::size_t>(id)].empty()) sorted.push_back(id);
  std::sort(sorted.begin(), sorted.end(), [&](TokenId a, TokenId b) {
    const auto pa = piece(a), pb = piece(b);
    return pa != pb ? pa < pb : a < b;
  });
  lcp.assign(sorted.size(), 0);
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    const auto a = piece(sorted[i - 1]), b = piece(sorted[i]);
    std::uint32_t l = 0;
    while (l < a.size() && l < b.size() && a[l] == b[l]) ++l;
    lcp[i] = l;
  }
}

void walk_tokens(StackWalker& w, std::uint32_t start, const VocabData& v, const std::vector<std::uint32_t>* subset,
                 std::vector<std::uint64_t>& accepted, std::vector<std::uint32_t>* uncertain) {
  // states[d]: the set after the first d bytes of the current token; esc[d]: whether
  // one of states[0..d-1] had run past the known frames.
  std::vector<std::uint32_t> states{start};
  std::vector<char> esc{0};
  std::size_t valid = 0;
  std::string_view prev;
  const std::size_t n = subset ? subset->size() : v.sorted.size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint32_t idx = subset ? (*subset)[k] : static_cast<std::uint32_t>(k);
    const TokenId id = v.sorted[idx];
    const std::string_view bytes = v.piece(id);
    std::size_t shared = 0;
    if (!subset) {
      shared = k == 0 ? 0 : v.lcp[idx];
    } else {
      while (shared < prev.size() && shared < bytes.size() && prev[shared] == bytes[shared]) ++shared;
    }
    prev = bytes;
    if (states.size() < bytes.size() + 1) {
      states.resize(bytes.size() + 1);
      esc.resize(bytes.size() + 1);
    }
    std::size_t d = std::min(valid, shared);
    while (d < bytes.size() && states[d] != StackWalker::kDead) {
      esc[d + 1] = static_cast<char>(esc[d] || w.set(states[d]).escape);
      states[d + 1] = w.step(states[d], static_cast<std::uint8_t>(bytes[d]));
      ++d;
    }
    valid = d;
    if (d == bytes.size() && states[d] != StackWalker::kDead)
      accepted[static_cast<std::size_t>(id) >> 6] |= std::uint64_t{1} << (id & 63);
    else if (uncertain && esc[d])
      uncertain->push_back(idx);
  }
}

const MaskEntry& MaskCacheImpl::entry_for(const StackWalker& w, std::int32_t node) {
  std::vector<std::uint32_t> key;
  std::int32_t n = node;
  while (n >= 0 && key.size() < kFrames) {
    key.push_back(w.node(n).pos);
    n = w.node(n).parent;
  }
  const bool complete = n == kBottom;
  const std::size_t n_frames = key.size();
  key.push_back(complete ? 1 : 0);
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = entries_[key];
  if (!slot) {
    auto e = std::make_unique<MaskEntry>();
    const VocabData& v = vocab->data();
    e->accepted.assign((static_cast<std::size_t>(v.n_vocab) + 63) / 64, 0);
    StackWalker local(grammar.shared_data());
    const std::uint32_t start = local.from_frames(std::span(key.data(), n_frames), complete);
    walk_tokens(local, start, v, nullptr, e->accepted, &e->uncertain);
    slot = std::move(e);
  }
  return *slot;
}

std::size_t MaskCacheImpl::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

std::shared_ptr<StackWalker> MaskCacheImpl::take_walker() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::shared_ptr<StackWalker> w = std::move(idle_.back());
      idle_.pop_back();
      return w;
    }
  }
  return std::make_shared<StackWalker>(grammar.shared_data());
}

void MaskCacheImpl::give_back(std::shared_ptr<StackWalker> walker) {
  if (walker->size() > kMaxWalkerSize) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(walker));
}

}  // namespace detail

namespace {
std::vector<std::string> pieces_of(const Tokenizer& tok) {
  std::vector<std::string> pieces(static_cast<std::size_t>(tok.n_vocab()));
  for (int i = 0; i < tok.n_vocab(); ++i) pieces[static_cast<std::size_t>(i)] = tok.token_to_piece(i, false);
  return pieces;
}
}  // namespace

GrammarVocab::GrammarVocab(const Tokenizer& tokenizer, std::span<const TokenId> end_tokens)
    : GrammarVocab(pieces_of(tokenizer), end_tokens) {}

GrammarVocab::GrammarVocab(std::vector<std::string> pieces, std::span<const TokenId> end_tokens)
    : data_(std::make_unique<detail::VocabData>()) {
  data_->build(std::move(pieces), end_tokens);
}
GrammarVocab::~GrammarVocab() = default;
int GrammarVocab::n_vocab() const noexcept { return data_->n_vocab; }
bool GrammarVocab::is_end(TokenId id) const noexcept {
  return id >= 0 && id < data_->n_vocab && data_->is_end[static_cast<std::size_t>(id)];
}
std::string_view GrammarVocab::piece(TokenId id) const {
  if (id < 0 || id >= data_->n_vocab)
    throw Error(ErrorCode::InvalidArgument, "grammar: token id " + std::to_string(id) + " is outside the vocabulary of " +
                                                std::to_string(data_->n_vocab));
  return data_->piece(id);
}

TokenMaskCache::TokenMaskCache(Grammar grammar, std::shared_ptr<const GrammarVocab> vocab) {
  if (!vocab) throw Error(ErrorCode::InvalidArgument, "grammar: TokenMaskCache needs a vocabulary");
  impl_ = std::make_unique<detail::MaskCacheImpl>(std::move(grammar), std::move(vocab));
}
TokenMaskCache::~TokenMaskCache() = default;
const Grammar& TokenMaskCache::grammar() const noexcept { return impl_->grammar; }
const GrammarVocab& TokenMaskCache::vocab() const noexcept { return *impl_->vocab; }
std::size_t TokenMaskCache::entries() const { return impl_->size(); }

TokenConstraint::TokenConstraint(std::shared_ptr<TokenMaskCache> cache)
    : cache_(cache ? std::move(cache) : throw Error(ErrorCode::InvalidArgument, "grammar: TokenConstraint needs a mask cache")),
      matcher_(cache_->grammar(), cache_->impl_->take_walker()) {}

TokenConstraint::~TokenConstraint() {
  if (!cache_ || !matcher_.walker_ || matcher_.walker_.use_count() != 1) return;
  try {
    cache_->impl_->give_back(std::move(matcher_.walker_));
  } catch (...) {  // out of memory keeping it: the walker is just freed
  }
}

void TokenConstraint::allowed(std::vector<std::uint64_t>& bits) {
  const detail::VocabData& v = cache_->vocab().data();
  bits.assign((static_cast<std::size_t>(v.n_vocab) + 63) / 64, 0);
  detail::StackWalker& w = *matcher_.walker_;
  const std::uint32_t state = matcher_.state_;
  const std::vector<std::int32_t> members = w.set(state).members;  // copy: walking grows the walker
  const bool partial = w.set(state).partial != 0;
  if (partial) {
    detail::walk_tokens(w, state, v, nullptr, bits, nullptr);  // rare: a token ended inside a character
    return;
  }
  const bool known = w.extras(state).known;
  scratch_.clear();
  for (std::int32_t m : members) {
    if (m < 0) continue;
    const detail::MaskEntry*& entry = w.node_entries()[static_cast<std::size_t>(m)];
    if (!entry) entry = &cache_->impl_->entry_for(w, m);
    for (std::size_t i = 0; i < bits.size(); ++i) bits[i] |= entry->accepted[i];
    if (!known) scratch_.insert(scratch_.end(), entry->uncertain.begin(), entry->uncertain.end());
  }
  if (known) {
    for (std::int32_t id : w.extras(state).allowed) bits[static_cast<std::size_t>(id) >> 6] |= std::uint64_t{1} << (id & 63);
  } else {  // the state's first mask: walk its uncertain tokens, remember which passed
    std::sort(scratch_.begin(), scratch_.end());
    scratch_.erase(std::unique(scratch_.begin(), scratch_.end()), scratch_.end());
    std::erase_if(scratch_, [&](std::uint32_t idx) {
      const auto id = static_cast<std::size_t>(v.sorted[idx]);
      return (bits[id >> 6] >> (id & 63)) & 1;
    });
    if (!scratch_.empty()) detail::walk_tokens(w, state, v, &scratch_, bits, nullptr);
    std::vector<std::int32_t> passed;
    for (std::uint32_t idx : scratch_) {
      const TokenId id = v.sorted[idx];
      if ((bits[static_cast<std::size_t>(id) >> 6] >> (id & 63)) & 1) passed.push_back(id);
    }
    detail::StackWalker::Extras& e = w.extras(state);  // after the walk: it may have grown the table
    e.allowed = std::move(passed);
    e.known = true;
  }
  if (matcher_.can_end())
    for (TokenId id : v.end_ids) bits[static_cast<std::size_t>(id) >> 6] |= std::uint64_t{1} << (id & 63);
}

bool TokenConstraint::apply(std::span<float> logits) {
  allowed(bits_);
  const std::size_t n = std::min(logits.size(), static_cast<std::size_t>(cache_->vocab().n_vocab()));
  bool left = false;
  // Word by word: most words of a mask are all forbidden (filled) or, less often, all
  // allowed (skipped); only mixed words go bit by bit.
  for (std::size_t base = 0; base < n; base += 64) {
    const std::size_t len = std::min<std::size_t>(64, n - base);
    const std::uint64_t word = bits_[base >> 6];
    float* row = logits.data() + base;
    if (word == 0) {
      std::fill(row, row + len, -INFINITY);
      continue;
    }
    for (std::size_t i = 0; i < len; ++i) {
      if ((word >> i) & 1) left = left || row[i] != -INFINITY;
      else row[i] = -INFINITY;
    }
  }
  std::fill(logits.begin() + static_cast<std::ptrdiff_t>(n), logits.end(), -INFINITY);
  return left;
}

bool TokenConstraint::is_end_token(TokenId id) const noexcept { return cache_->vocab().is_end(id); }

bool TokenConstraint::is_allowed(TokenId id) const {
  if (id < 0 || id >= cache_->vocab().n_vocab()) return false;
  if (is_end_token(id)) return matcher_.can_end();
  const std::string_view piece = cache_->vocab().piece(id);
  return !piece.empty() && matcher_.can_accept(piece);
}

void TokenConstraint::accept(TokenId id) {
  const std::string_view piece = cache_->vocab().piece(id);  // throws outside the vocabulary
  if (is_end_token(id)) {
    if (!matcher_.can_end())
      throw Error(ErrorCode::InvalidArgument, "grammar: end token " + std::to_string(id) + " comes before the grammar can end");
    return;
  }
  if (piece.empty() || !matcher_.accept(piece))
    throw Error(ErrorCode::InvalidArgument, "grammar: token " + std::to_string(id) + " ('" + std::string(piece) +
                                                "') does not continue the grammar");
}

}  // namespace inkling
