// Grammar-constrained decoding: GBNF grammars (as llama.cpp defines them), compiled once,
// matched incrementally on bytes, and turned into per-step token masks.
//
// GBNF, briefly:
//   root   ::= "{" ws pair ("," ws pair)* "}"     # a rule: name ::= alternatives
//   pair   ::= [a-z]+ ":" ws ( num | "null" )     # grouping, alternation with |
//   num    ::= "-"? [0-9]{1,10}                   # * + ? {m} {m,} {m,n}
//   ws     ::= [ \t\n]*                            # comments start with #
// Literals "..." and classes [...] ([^...] negated, a-z ranges) hold UTF-8 text and the
// escapes \n \r \t \\ \" \[ \] \- \xHH \uHHHH \UHHHHHHHH; `.` is any character. Rule
// names are letters, digits, '-' and '_'. A rule may span lines; the next rule begins
// where a name is followed by ::=. Left recursion (also through a repetition of
// something that can be empty) is refused.
//
// Masking: a TokenConstraint says which token ids may come next. Tokens are matched on
// their bytes (as Tokenizer::token_to_piece renders them), across token boundaries and
// through partial UTF-8 characters. For each grammar state reached, the tokens whose
// fate does not depend on the stack below the state's top few frames are classified
// once (always allowed / never allowed) by walking the byte-sorted vocabulary; only the
// remaining ones are checked per step (the idea of XGrammar's adaptive token mask cache).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/tokenizer.hpp"

namespace inkling {

namespace detail {
struct GrammarData;
class StackWalker;
class MaskCacheImpl;
struct VocabData;
}  // namespace detail

// A grammar that does not parse: Error(InvalidArgument) whose message starts with
// "grammar: line L, column C:"; line() and column() (1-based, column in characters) say
// where. Problems of the whole grammar (no root rule) report line 1, column 1.
class GrammarError : public Error {
 public:
  GrammarError(int line, int column, const std::string& message);
  int line() const noexcept { return line_; }
  int column() const noexcept { return column_; }

 private:
  int line_, column_;
};

// A compiled grammar. Immutable; copies share it; safe to use from many threads.
class Grammar {
 public:
  // Throws GrammarError for a syntax error, an undefined or twice-defined rule, a
  // missing root rule, left recursion, or a repetition count above 10000.
  static Grammar parse(std::string_view gbnf, std::string_view root = "root");
  static Grammar parse_file(const std::string& path, std::string_view root = "root");  // Error(Io) if unreadable

  std::size_t rule_count() const noexcept;
  const detail::GrammarData& data() const noexcept { return *data_; }
  const std::shared_ptr<const detail::GrammarData>& shared_data() const noexcept { return data_; }

 private:
  explicit Grammar(std::shared_ptr<const detail::GrammarData> d) : data_(std::move(d)) {}
  std::shared_ptr<const detail::GrammarData> data_;
};

// The grammar's parse state over a byte stream. One thread at a time; a copy continues
// independently from the same state (copies share an internal, append-only table of
// stack frames, so copies must also stay on one thread together).
class GrammarMatcher {
 public:
  explicit GrammarMatcher(Grammar grammar);
  ~GrammarMatcher();
  GrammarMatcher(const GrammarMatcher&);
  GrammarMatcher& operator=(const GrammarMatcher&);
  GrammarMatcher(GrammarMatcher&&) noexcept;
  GrammarMatcher& operator=(GrammarMatcher&&) noexcept;

  // Feeds bytes; all or nothing: false (and no change) if they cannot continue a valid
  // text. A UTF-8 character may be split across calls.
  bool accept(std::string_view bytes);
  // Whether the text so far is a complete sentence of the grammar.
  bool can_end() const noexcept;
  // Whether the text is complete and nothing more can follow it.
  bool finished() const noexcept;
  // Whether `bytes` could follow (accept() without the change).
  bool can_accept(std::string_view bytes) const;
  void reset();  // back to the start of the grammar
  const Grammar& grammar() const noexcept { return grammar_; }

 private:
  friend class TokenConstraint;
  // Continues on a walker that already knows the grammar's states (see TokenMaskCache).
  GrammarMatcher(Grammar grammar, std::shared_ptr<detail::StackWalker> walker);
  Grammar grammar_;
  std::shared_ptr<detail::StackWalker> walker_;
  std::uint32_t state_ = 0;
  void compact_if_large();
};

// A vocabulary as the grammar sees it: each token's bytes, sorted, plus the tokens that
// end generation. Tokens that render no bytes (control tokens) are never allowed as
// text. Immutable; share it between constraints of the same tokenizer.
class GrammarVocab {
 public:
  // end_tokens: the ids allowed exactly when the grammar can end (usually the
  // tokenizer's end-of-generation tokens).
  GrammarVocab(const Tokenizer& tokenizer, std::span<const TokenId> end_tokens);
  // For tests and tools: the vocabulary given directly as byte strings.
  GrammarVocab(std::vector<std::string> pieces, std::span<const TokenId> end_tokens);
  ~GrammarVocab();
  int n_vocab() const noexcept;
  std::string_view piece(TokenId id) const;  // Error(InvalidArgument) outside [0, n_vocab)
  bool is_end(TokenId id) const noexcept;
  const detail::VocabData& data() const noexcept { return *data_; }

 private:
  std::unique_ptr<detail::VocabData> data_;
};

// Per-state token classification for one grammar and one vocabulary, computed lazily on
// first use of each state and kept. Thread-safe: share it between the constraints (and
// requests) that use the same grammar. It also keeps the byte automata of finished
// constraints for the next ones, so that a new request does not rebuild, byte by byte,
// the states the previous requests already went through.
class TokenMaskCache {
 public:
  TokenMaskCache(Grammar grammar, std::shared_ptr<const GrammarVocab> vocab);
  ~TokenMaskCache();
  const Grammar& grammar() const noexcept;
  const GrammarVocab& vocab() const noexcept;
  std::size_t entries() const;  // states classified so far

 private:
  friend class TokenConstraint;
  std::unique_ptr<detail::MaskCacheImpl> impl_;
};

// One sequence's grammar state over tokens. One thread at a time; copyable (beam search
// copies the parent's state to its children).
class TokenConstraint {
 public:
  explicit TokenConstraint(std::shared_ptr<TokenMaskCache> cache);
  ~TokenConstraint();  // hands its automaton back to the cache when no copy shares it
  TokenConstraint(const TokenConstraint&) = default;
  TokenConstraint& operator=(const TokenConstraint&) = default;
  TokenConstraint(TokenConstraint&&) noexcept = default;
  TokenConstraint& operator=(TokenConstraint&&) noexcept = default;

  // The tokens that may come next: bit (id % 64) of word (id / 64) is set when token id
  // is allowed. End tokens are allowed exactly when can_end().
  void allowed(std::vector<std::uint64_t>& bits);
  // Sets the logit of every disallowed token to -inf (logits.size() may exceed the
  // vocabulary: the extra ids are disallowed). Returns whether a logit above -inf is left.
  bool apply(std::span<float> logits);
  // Whether one token may come next (cheaper than allowed() for a single id).
  bool is_allowed(TokenId id) const;
  // Advances over the token. Error(InvalidArgument) naming the token if it is not allowed
  // (the state is unchanged then). An end token is accepted when can_end() and leaves
  // the state as it is.
  void accept(TokenId id);
  bool can_end() const noexcept { return matcher_.can_end(); }
  bool finished() const noexcept { return matcher_.finished(); }
  bool is_end_token(TokenId id) const noexcept;
  void reset() { matcher_.reset(); }
  const GrammarMatcher& matcher() const noexcept { return matcher_; }

 private:
  std::shared_ptr<TokenMaskCache> cache_;
  GrammarMatcher matcher_;
  std::vector<std::uint32_t> scratch_;
  std::vector<std::uint64_t> bits_;
};

}  // namespace inkling
