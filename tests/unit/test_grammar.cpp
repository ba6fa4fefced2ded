// The GBNF parser (valid grammars, errors with their positions), the byte matcher on
// strings, and token masks against a brute-force check of every token.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/grammar.hpp"
#include "inkling/tokenizer.hpp"
#include "shared_data.hpp"

using namespace inkling;

namespace {

bool matches(const Grammar& g, std::string_view text) {
  GrammarMatcher m(g);
  return m.accept(text) && m.can_end();
}

bool prefix_ok(const Grammar& g, std::string_view text) {
  GrammarMatcher m(g);
  return m.accept(text);
}

struct Pos {
  int line, column;
  std::string message;
};

Pos error_of(std::string_view gbnf) {
  try {
    Grammar::parse(gbnf);
  } catch (const GrammarError& e) {
    CHECK(e.code() == ErrorCode::InvalidArgument);
    return {e.line(), e.column(), e.what()};
  }
  return {0, 0, ""};
}

const char* kJsonGbnf = R"(
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws

object ::=
  "{" ws (
            string ":" ws value
    ("," ws string ":" ws value)*
  )? "}" ws

array  ::=
  "[" ws (
            value
    ("," ws value)*
  )? "]" ws

string ::=
  "\"" (
    [^"\\\x7F\x00-\x1F] |
    "\\" (["\\bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
  )* "\"" ws

number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws
ws ::= | " " | "\n" [ \t]{0,20}
)";

}  // namespace

TEST_CASE("grammar: literals, classes, alternation and repetition") {
  const Grammar g = Grammar::parse(R"(root ::= "ab" [0-9]+ ("x" | "yz")? [^a-c]{2,3} "!"*)");
  CHECK(matches(g, "ab1dd"));
  CHECK(matches(g, "ab123xddd!!"));
  CHECK(matches(g, "ab9yzZZ!"));
  CHECK_FALSE(matches(g, "ab"));
  CHECK_FALSE(matches(g, "abx"));        // needs a digit
  CHECK_FALSE(matches(g, "ab1aa"));      // [^a-c]
  CHECK_FALSE(matches(g, "ab1dddd"));    // at most 3
  CHECK_FALSE(matches(g, "ab1d"));       // at least 2
  CHECK(prefix_ok(g, "ab1d"));
  CHECK_FALSE(prefix_ok(g, "ac"));
}

TEST_CASE("grammar: exact repetition counts") {
  const Grammar g = Grammar::parse("root ::= \"a\"{3} \"b\"{2,} \"c\"{0,1}");
  CHECK(matches(g, "aaabb"));
  CHECK(matches(g, "aaabbbbc"));
  CHECK_FALSE(matches(g, "aabb"));
  CHECK_FALSE(matches(g, "aaaab"));
  CHECK_FALSE(matches(g, "aaabbcc"));
}

TEST_CASE("grammar: escapes, UTF-8 literals, any character, comments") {
  const Grammar g = Grammar::parse(
      "# a comment\n"
      "root ::= \"\\x41\\u00e9\\t\" \"ü→\" [\\u4e00-\\u9fff] . \"\\\"\\\\\"  # trailing comment\n");
  CHECK(matches(g, "A\xC3\xA9\t\xC3\xBC\xE2\x86\x92\xE4\xB8\xAD\xF0\x9F\x98\x80\"\\"));
  CHECK_FALSE(matches(g, "A\xC3\xA9\t\xC3\xBC\xE2\x86\x92" "a" "x\"\\"));
  // A character split across calls is matched byte by byte.
  GrammarMatcher m(Grammar::parse("root ::= \"\xE2\x86\x92\" [\\u00e0-\\u00ff]"));
  CHECK(m.accept("\xE2"));
  CHECK(m.accept("\x86"));
  CHECK_FALSE(m.accept("\x87"));  // U+2187 is not the literal
  CHECK(m.accept("\x92\xC3"));
  CHECK_FALSE(m.can_end());        // inside a character
  CHECK_FALSE(m.accept("\x9F"));   // U+00DF is below the range
  CHECK(m.accept("\xA9"));
  CHECK(m.can_end());
}

TEST_CASE("grammar: invalid UTF-8 never matches") {
  const Grammar g = Grammar::parse("root ::= .*");
  CHECK(matches(g, "ok \xC3\xA9"));
  CHECK_FALSE(prefix_ok(g, "\xC0\x80"));      // overlong
  CHECK_FALSE(prefix_ok(g, "\xED\xA0\x80"));  // surrogate
  CHECK_FALSE(prefix_ok(g, "\x80"));          // stray continuation
  CHECK_FALSE(prefix_ok(g, "\xF5"));          // beyond U+10FFFF
}

TEST_CASE("grammar: rules across lines, recursion, the JSON grammar") {
  const Grammar g = Grammar::parse(kJsonGbnf);
  CHECK(matches(g, R"({"a": [1, 2.5e3, {"b": null}], "c\n": "\u00e9"})"));
  CHECK(matches(g, "{}"));
  CHECK_FALSE(matches(g, R"({"a": [1, 2,]})"));
  CHECK_FALSE(matches(g, R"({"a" 1})"));
  CHECK(prefix_ok(g, R"({"a": [[[[[[)"));
  const Grammar paren = Grammar::parse("root ::= \"(\" root \")\" | \"x\"");
  CHECK(matches(paren, "((((x))))"));
  CHECK_FALSE(matches(paren, "((x)"));
  const Grammar other = Grammar::parse("start ::= \"s\"\nroot ::= \"r\"", "start");
  CHECK(matches(other, "s"));
}

TEST_CASE("grammar: errors name the line and column") {
  auto e = error_of("root ::= \"abc");
  CHECK(e.line == 1);
  CHECK(e.column == 10);
  CHECK(e.message.find("unterminated string") != std::string::npos);
  CHECK(e.message.rfind("grammar: line 1, column 10:", 0) == 0);

  e = error_of("root ::= a\na ::= [a-z\n");
  CHECK(e.line == 2);
  CHECK(e.column == 7);

  e = error_of("root ::= \"x\" undefined-rule");
  CHECK(e.line == 1);
  CHECK(e.column == 14);
  CHECK(e.message.find("undefined rule 'undefined-rule'") != std::string::npos);

  e = error_of("root ::= \"a\"\nroot ::= \"b\"");
  CHECK(e.line == 2);
  CHECK(e.message.find("defined twice") != std::string::npos);

  e = error_of("root ::= (\"a\" | \"b\"");
  CHECK(e.column == 10);
  CHECK(e.message.find("missing ')'") != std::string::npos);

  e = error_of("root ::= * \"a\"");
  CHECK(e.column == 10);
  e = error_of("root ::= \"a\"{5,2}");
  CHECK(e.column == 13);
  e = error_of("root ::= \"a\"{20000}");
  CHECK(e.message.find("above 10000") != std::string::npos);
  e = error_of("root ::= [z-a]");
  CHECK(e.column == 11);
  e = error_of("root ::= \"\\q\"");
  CHECK(e.message.find("unknown escape") != std::string::npos);
  e = error_of("root ::= \"\\u12\"");
  CHECK(e.message.find("hex digits") != std::string::npos);
  e = error_of("root ::= \"a\" )");
  CHECK(e.column == 14);
  e = error_of("root = \"a\"");
  CHECK(e.message.find("expected '::='") != std::string::npos);
  e = error_of("root ::= \"\xC3\"");
  CHECK(e.message.find("invalid UTF-8") != std::string::npos);
  e = error_of("");
  CHECK(e.message.find("empty") != std::string::npos);
  e = error_of("other ::= \"a\"");
  CHECK(e.line == 1);
  CHECK(e.message.find("no rule named 'root'") != std::string::npos);
  e = error_of("root ::= \"x\"\n\nexpr ::= expr \"+\" \"1\" | \"1\"");
  CHECK(e.line == 3);
  CHECK(e.column == 1);
  CHECK(e.message.find("left-recursive") != std::string::npos);
  e = error_of("root ::= (\"a\"?)*");
  CHECK(e.message.find("left-recursive") != std::string::npos);
  e = error_of("root ::= \"a\" $");
  CHECK(e.column == 14);
  CHECK_THROWS_AS(Grammar::parse_file("/nonexistent/g.gbnf"), Error);
}

namespace {

void check_mask_path(TokenConstraint& c, const GrammarVocab& v, const std::vector<std::string>& pieces, int steps,
                     std::uint64_t seed);

// The mask must equal checking every token's bytes on its own, and the end tokens must
// be allowed exactly when the grammar can end. Twice over the same path: the second
// constraint takes the first one's automaton back from the cache, so its masks come from
// what the first pass remembered per state (the uncertain tokens settled), not from walks.
void check_masks_by_brute_force(const Grammar& g, const std::vector<std::string>& pieces, const std::vector<TokenId>& ends,
                                int steps, std::uint64_t seed) {
  auto vocab = std::make_shared<const GrammarVocab>(pieces, ends);
  auto cache = std::make_shared<TokenMaskCache>(g, vocab);
  for (int pass = 0; pass < 2; ++pass) {
    CAPTURE(pass);
    TokenConstraint c(cache);
    check_mask_path(c, *vocab, pieces, steps, seed);
  }
}

void check_mask_path(TokenConstraint& c, const GrammarVocab& v, const std::vector<std::string>& pieces, int steps,
                     std::uint64_t seed) {
  const GrammarVocab* vocab = &v;
  std::mt19937_64 rng(seed);
  std::vector<std::uint64_t> bits;
  for (int step = 0; step < steps; ++step) {
    c.allowed(bits);
    std::vector<TokenId> allowed;
    for (TokenId id = 0; id < static_cast<TokenId>(pieces.size()); ++id) {
      const bool bit = (bits[static_cast<std::size_t>(id) >> 6] >> (id & 63)) & 1;
      bool expect;
      if (vocab->is_end(id)) {
        expect = c.can_end();
      } else {
        GrammarMatcher m = c.matcher();
        expect = !pieces[static_cast<std::size_t>(id)].empty() && m.accept(pieces[static_cast<std::size_t>(id)]);
      }
      if (bit != expect) {
        FAIL_CHECK("token " << id << " '" << pieces[static_cast<std::size_t>(id)] << "' mask " << bit << " expected " << expect
                            << " at step " << step);
        return;
      }
      CHECK(c.is_allowed(id) == expect);
      if (bit && !vocab->is_end(id)) allowed.push_back(id);
    }
    if (allowed.empty()) break;
    c.accept(allowed[rng() % allowed.size()]);
  }
}

std::vector<std::string> pieces_of(const Tokenizer& tok) {
  std::vector<std::string> p;
  for (int i = 0; i < tok.n_vocab(); ++i) p.push_back(tok.token_to_piece(i));
  return p;
}

std::vector<TokenId> eog_of(const Tokenizer& tok) {
  std::vector<TokenId> e;
  for (int i = 0; i < tok.n_vocab(); ++i)
    if (tok.is_eog(i)) e.push_back(i);
  return e;
}

}  // namespace

TEST_CASE("grammar masks: hand-made vocabulary with split characters") {
  const std::vector<std::string> pieces{"a", "b", "ab", "\"", "\",", "\xC3", "\xA9", "\xC3\xA9", "{", "}", "{\"", "", "xyz", " "};
  const Grammar g = Grammar::parse("root ::= \"{\" pair (\",\" pair)* \"}\"\npair ::= \"\\\"\" [a-b\\u00e9]* \"\\\"\"");
  for (std::uint64_t seed = 0; seed < 20; ++seed) check_masks_by_brute_force(g, pieces, {11}, 30, seed);
}

TEST_CASE("grammar masks: tokens that reach below the cached frames") {
  // Six frames deep at "q": tokens running past the cache entry's four frames are
  // settled per state (and remembered: the second pass of the check reuses that).
  const Grammar deep = Grammar::parse(
      "root ::= (a \",\")+\na ::= b \"x\"\nb ::= c \"y\"\nc ::= d \"z\"\nd ::= e \"w\"\ne ::= f \"v\"\nf ::= \"q\" | \"r\"");
  const std::vector<std::string> pieces{"q", "r", "v", "w", "z", "y", "x", ",", "qvwzyx", "qvwzyx,", "rvwzyz", "qvwzy",
                                        "vwzyx,q", "x,q", "x,r", "zyx,", "wzyq", ""};
  for (std::uint64_t seed = 0; seed < 10; ++seed) check_masks_by_brute_force(deep, pieces, {17}, 40, seed);
}

TEST_CASE("grammar masks: equal brute force on the shared vocabularies") {
  const Grammar json = Grammar::parse(kJsonGbnf);
  const Grammar list = Grammar::parse(
      "root ::= item+\nitem ::= \"- \" [a-zA-Z\\u00c0-\\u024f ]{1,12} (\" (\" [0-9]+ \")\")? \"\\n\"");
  for (const char* rel : {"vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-gpt-2.gguf"}) {
    auto path = test::require_shared(rel);
    if (!path) return;
    const auto file = GgufFile::open(*path);
    const Tokenizer tok(*file);
    const auto pieces = pieces_of(tok);
    const auto ends = eog_of(tok);
    INFO(rel);
    for (std::uint64_t seed = 0; seed < 3; ++seed) {
      check_masks_by_brute_force(json, pieces, ends, 25, seed);
      check_masks_by_brute_force(list, pieces, ends, 25, seed);
    }
  }
}

TEST_CASE("grammar constraint: accept refuses what the mask forbids") {
  const std::vector<std::string> pieces{"a", "b", ""};
  auto vocab = std::make_shared<const GrammarVocab>(pieces, std::vector<TokenId>{2});
  TokenConstraint c(std::make_shared<TokenMaskCache>(Grammar::parse("root ::= \"ab\""), vocab));
  CHECK_THROWS_AS(c.accept(1), Error);
  CHECK_THROWS_AS(c.accept(2), Error);  // cannot end yet
  CHECK_THROWS_AS(c.accept(7), Error);  // outside the vocabulary
  c.accept(0);
  c.accept(1);
  CHECK(c.can_end());
  std::vector<float> logits{1, 1, 1, 1};
  c.apply(logits);
  CHECK(std::isinf(logits[0]));
  CHECK(std::isinf(logits[1]));
  CHECK(logits[2] == 1);
  CHECK(std::isinf(logits[3]));  // beyond the vocabulary
  c.accept(2);
}
