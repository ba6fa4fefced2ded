#include "tokenizer/pre_tokenizer.hpp"

#include <algorithm>
#include <string>

#include "inkling/error.hpp"
#include "tokenizer/unicode.hpp"

namespace inkling::detail {
namespace {

// ---- character classes ------------------------------------------------------------
// \p{L}, \p{N} and \s agree between llama.cpp's two regex engines. \p{P}, \p{S} and
// \p{M} go through its "collapsed" std::regex path, where ASCII characters are classed
// by fixed bracket subsets (so '~' is in neither P nor S) and other code points by
// their general category: the *_c predicates reproduce that.

bool L(char32_t c) { return unicode::is_letter(c); }
bool N(char32_t c) { return unicode::is_number(c); }
bool WS(char32_t c) { return unicode::is_whitespace(c); }
bool NL(char32_t c) { return c == '\r' || c == '\n'; }
bool not_ws_l_n(char32_t c) { return !WS(c) && !L(c) && !N(c); }

bool P_c(char32_t c) {
  if (c >= 0x80) return unicode::flags(c) & unicode::kPunctuation;
  return (c >= '!' && c <= '#') || (c >= '%' && c <= '*') || (c >= ',' && c <= '/') || c == ':' || c == ';' ||
         c == '?' || c == '@' || (c >= '[' && c <= ']') || c == '_' || c == '{' || c == '}';
}
bool S_c(char32_t c) {
  if (c >= 0x80) return unicode::flags(c) & unicode::kSymbol;
  return c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' || c == '`' || c == '|';
}
bool M_c(char32_t c) { return c >= 0x80 && (unicode::flags(c) & unicode::kMark); }

template <bool (*Pred)(char32_t)>
std::size_t run(const char32_t* t, std::size_t pos, std::size_t end) {
  std::size_t i = pos;
  while (i < end && Pred(t[i])) ++i;
  return i - pos;
}

// At most `max` characters of X: a bounded piece must not scan the rest of a long run,
// or splitting a run of n digits into 1-3-digit pieces takes n^2 steps.
template <bool (*Pred)(char32_t)>
std::size_t run_at_most(const char32_t* t, std::size_t pos, std::size_t end, std::size_t max) {
  return run<Pred>(t, pos, std::min(end, pos + max));
}

// " ?X+": an optional ASCII space, then one or more of X.
template <bool (*Pred)(char32_t)>
std::size_t space_opt_run(const char32_t* t, std::size_t pos, std::size_t end) {
  if (t[pos] == ' ' && pos + 1 < end && Pred(t[pos + 1])) return 1 + run<Pred>(t, pos + 1, end);
  return run<Pred>(t, pos, end);
}

// "\s?X+" (any whitespace, not only ' ').
template <bool (*Pred)(char32_t)>
std::size_t ws_opt_run(const char32_t* t, std::size_t pos, std::size_t end) {
  if (WS(t[pos]) && pos + 1 < end && Pred(t[pos + 1])) return 1 + run<Pred>(t, pos + 1, end);
  return run<Pred>(t, pos, end);
}

// "\s+(?!\S)": a whitespace run, minus its last character when a non-space follows.
std::size_t ws_not_before_word(const char32_t* t, std::size_t pos, std::size_t end) {
  const std::size_t n = run<WS>(t, pos, end);
  if (n == 0) return 0;
  if (pos + n < end) return n > 1 ? n - 1 : 0;
  return n;
}

// "\s*[\r\n]+": up to and including the last newline of the whitespace run.
std::size_t ws_to_last_newline(const char32_t* t, std::size_t pos, std::size_t end) {
  const std::size_t n = run<WS>(t, pos, end);
  for (std::size_t k = n; k > 0; --k)
    if (NL(t[pos + k - 1])) return k;
  return 0;
}

char32_t ascii_lower(char32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

// 's 't 're 've 'm 'll 'd, case-sensitive (GPT-2) or not (Llama 3).
template <bool CaseInsensitive>
std::size_t contraction(const char32_t* t, std::size_t pos, std::size_t end) {
  if (t[pos] != '\'' || pos + 1 >= end) return 0;
  auto at = [&](std::size_t i) { return CaseInsensitive ? ascii_lower(t[i]) : t[i]; };
  const char32_t a = at(pos + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 < end) {
    const char32_t b = at(pos + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  }
  return 0;
}

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
std::size_t gpt2(const char32_t* t, std::size_t pos, std::size_t end) {
  if (std::size_t n = contraction<false>(t, pos, end)) return n;
  if (std::size_t n = space_opt_run<L>(t, pos, end)) return n;
  if (std::size_t n = space_opt_run<N>(t, pos, end)) return n;
  if (std::size_t n = space_opt_run<not_ws_l_n>(t, pos, end)) return n;
  return ws_not_before_word(t, pos, end);
}

// (?:'[sS]|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,MaxDigits}| ?[^\s\p{L}\p{N}]+[\r\n]*|
// \s*[\r\n]+|\s+(?!\S)|\s+
template <std::size_t MaxDigits>
std::size_t llama3(const char32_t* t, std::size_t pos, std::size_t end) {
  if (std::size_t n = contraction<true>(t, pos, end)) return n;
  const char32_t c = t[pos];
  if (!NL(c) && !L(c) && !N(c) && pos + 1 < end && L(t[pos + 1])) return 1 + run<L>(t, pos + 1, end);
  if (L(c)) return run<L>(t, pos, end);
  if (N(c)) return run_at_most<N>(t, pos, end, MaxDigits);
  if (std::size_t n = space_opt_run<not_ws_l_n>(t, pos, end)) return n + run<NL>(t, pos + n, end);
  if (std::size_t n = ws_to_last_newline(t, pos, end)) return n;
  if (std::size_t n = ws_not_before_word(t, pos, end)) return n;
  return run<WS>(t, pos, end);
}

// Single-character classes and simple runs used as whole stages.
std::size_t one_newline(const char32_t* t, std::size_t pos, std::size_t) { return NL(t[pos]) ? 1 : 0; }
std::size_t one_number(const char32_t* t, std::size_t pos, std::size_t) { return N(t[pos]) ? 1 : 0; }
std::size_t numbers(const char32_t* t, std::size_t pos, std::size_t end) { return run<N>(t, pos, end); }
std::size_t numbers_1_3(const char32_t* t, std::size_t pos, std::size_t end) {
  return run_at_most<N>(t, pos, end, 3);
}
std::size_t three_ascii_digits(const char32_t* t, std::size_t pos, std::size_t end) {
  auto d = [](char32_t c) { return c >= '0' && c <= '9'; };
  return pos + 3 <= end && d(t[pos]) && d(t[pos + 1]) && d(t[pos + 2]) ? 3 : 0;
}

bool punct_default(char32_t c) {  // [\p{P}\$\+<=>\^~\|]
  return P_c(c) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' || c == '~' || c == '|';
}
bool punct_falcon(char32_t c) { return punct_default(c) || c == '`'; }  // ... plus backtick
std::size_t punct_default_run(const char32_t* t, std::size_t pos, std::size_t end) {
  return run<punct_default>(t, pos, end);
}
std::size_t punct_falcon_run(const char32_t* t, std::size_t pos, std::size_t end) {
  return run<punct_falcon>(t, pos, end);
}

// Code point ranges written literally in DeepSeek's regexes.
struct Range {
  char32_t lo, hi;
};
template <const Range* R, std::size_t N>
bool in_ranges(char32_t c) {
  for (std::size_t i = 0; i < N; ++i)
    if (c >= R[i].lo && c <= R[i].hi) return true;
  return false;
}

constexpr Range kDeepseekLetters[] = {
    {'A', 'Z'}, {'a', 'z'}, {0xB5, 0xB5}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x1BA}, {0x1BC, 0x1BF},
    {0x1C4, 0x293}, {0x295, 0x2AF}, {0x370, 0x373}, {0x376, 0x377}, {0x37B, 0x37D}, {0x37F, 0x37F},
    {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C}, {0x38E, 0x3A1}, {0x3A3, 0x3F5}, {0x3F7, 0x481},
    {0x48A, 0x52F}, {0x531, 0x556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA},
    {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15}, {0x1F18, 0x1F1D},
    {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D},
    {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC},
    {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102},
    {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
    {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149},
    {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3},
    {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F}, {0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF},
    {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3},
    {0x104D8, 0x104FB}, {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943}};
constexpr Range kDeepseekPunct[] = {{'!', '/'}, {':', '~'}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E},
                                    {0x2018, 0x201F}, {0x3000, 0x3002}};
constexpr Range kCjkHangul[] = {{0x4E00, 0x9FA5}, {0x0800, 0x4E00}, {0xAC00, 0xD7FF}};
constexpr Range kCjkKana[] = {{0x4E00, 0x9FA5}, {0x3040, 0x309F}, {0x30A0, 0x30FF}};

constexpr auto ds_letter = in_ranges<kDeepseekLetters, std::size(kDeepseekLetters)>;
constexpr auto ds_punct = in_ranges<kDeepseekPunct, std::size(kDeepseekPunct)>;
constexpr auto cjk_hangul = in_ranges<kCjkHangul, std::size(kCjkHangul)>;
constexpr auto cjk_kana = in_ranges<kCjkKana, std::size(kCjkKana)>;

std::size_t ds_letters(const char32_t* t, std::size_t p, std::size_t e) { return ws_opt_run<ds_letter>(t, p, e); }
std::size_t ds_puncts(const char32_t* t, std::size_t p, std::size_t e) { return ws_opt_run<ds_punct>(t, p, e); }
std::size_t ws_to_end(const char32_t* t, std::size_t p, std::size_t e) {  // \s+$
  const std::size_t n = run<WS>(t, p, e);
  return p + n == e ? n : 0;
}
std::size_t cjk_hangul_run(const char32_t* t, std::size_t p, std::size_t e) { return run<cjk_hangul>(t, p, e); }
std::size_t cjk_kana_run(const char32_t* t, std::size_t p, std::size_t e) { return run<cjk_kana>(t, p, e); }
std::size_t ws_opt_letters(const char32_t* t, std::size_t p, std::size_t e) { return ws_opt_run<L>(t, p, e); }
std::size_t ws_opt_punct(const char32_t* t, std::size_t p, std::size_t e) { return ws_opt_run<P_c>(t, p, e); }

// " ?[^(\s|.,!?…。，、।۔،)]+" (Poro, BLOOM, Viking)
bool not_poro_stop(char32_t c) {
  switch (c) {
    case '(': case '|': case '.': case ',': case '!': case '?': case ')':
    case 0x2026: case 0x3002: case 0xFF0C: case 0x3001: case 0x0964: case 0x06D4: case 0x060C:
      return false;
    default:
      return !WS(c);
  }
}
std::size_t poro(const char32_t* t, std::size_t p, std::size_t e) { return space_opt_run<not_poro_stop>(t, p, e); }

// DeepSeek-V3's third regex:
// [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|
// ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
bool ascii_punct(char32_t c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}
bool ascii_letter(char32_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool letter_or_mark(char32_t c) { return L(c) || M_c(c); }
bool punct_or_symbol(char32_t c) { return P_c(c) || S_c(c); }
std::size_t deepseek3(const char32_t* t, std::size_t pos, std::size_t end) {
  const char32_t c = t[pos];
  if (ascii_punct(c) && pos + 1 < end && ascii_letter(t[pos + 1])) return 1 + run<ascii_letter>(t, pos + 1, end);
  if (!NL(c) && !L(c) && !P_c(c) && !S_c(c) && pos + 1 < end && letter_or_mark(t[pos + 1]))
    return 1 + run<letter_or_mark>(t, pos + 1, end);
  if (letter_or_mark(c)) return run<letter_or_mark>(t, pos, end);
  if (std::size_t n = space_opt_run<punct_or_symbol>(t, pos, end)) return n + run<NL>(t, pos + n, end);
  if (std::size_t n = ws_to_last_newline(t, pos, end)) return n;
  if (std::size_t n = ws_not_before_word(t, pos, end)) return n;
  return run<WS>(t, pos, end);
}

bool is_one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

PreTokenizerSpec pre_tokenizer_spec(std::string_view name) {
  PreTokenizerSpec s;
  if (name.empty() || name == "default") {
    s.stages = {punct_default_run, gpt2, numbers, three_ascii_digits};
  } else if (is_one_of(name, {"llama3", "llama-v3", "llama-bpe", "falcon3"})) {
    s.stages = {llama3<3>};
    s.ignore_merges = true;
    s.add_bos = true;
  } else if (is_one_of(name, {"dbrx", "smaug-bpe", "chatglm-bpe"})) {
    s.stages = {llama3<3>};
  } else if (name == "deepseek-llm") {
    s.stages = {one_newline, ds_letters, ds_puncts, ws_to_end, cjk_hangul_run, numbers};
    s.clean_spaces = false;
  } else if (name == "deepseek-coder") {
    s.stages = {one_newline, ws_opt_letters, ws_opt_punct, cjk_hangul_run, one_number};
    s.clean_spaces = false;
  } else if (name == "deepseek-v3") {
    s.stages = {numbers_1_3, cjk_kana_run, deepseek3};
    s.clean_spaces = false;
  } else if (name == "falcon") {
    s.stages = {punct_falcon_run, gpt2, three_ascii_digits};
  } else if (is_one_of(name, {"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"})) {
    s.stages = {one_number, gpt2};
    s.clean_spaces = !is_one_of(name, {"command-r", "smollm"});
  } else if (is_one_of(name, {"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es",
                              "jina-v2-de", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais"})) {
    s.stages = {gpt2};
  } else if (is_one_of(name, {"stablelm2", "qwen2", "deepseek-r1-qwen", "megrez"})) {
    s.stages = {llama3<1>};
    s.clean_spaces = name == "stablelm2" || name == "megrez";
  } else if (is_one_of(name, {"poro-chat", "bloom", "gpt3-finnish"})) {
    s.stages = {poro};
    s.clean_spaces = name != "poro-chat";
  } else if (name == "viking") {
    s.stages = {poro, one_number};
    s.clean_spaces = false;
  } else {
    throw Error(ErrorCode::Unsupported,
                "tokenizer: pre-tokenizer '" + std::string(name) +
                    "' is not supported (supported: default, llama3, llama-bpe, falcon3, dbrx, smaug-bpe, "
                    "chatglm-bpe, deepseek-llm, deepseek-coder, deepseek-v3, falcon, starcoder, refact, "
                    "command-r, smollm, codeshell, exaone, minerva-7b, gpt-2 and its aliases, mpt, olmo, jais, "
                    "stablelm2, qwen2, deepseek-r1-qwen, megrez, poro-chat, bloom, gpt3-finnish, viking)");
  }
  return s;
}

std::vector<std::pair<std::size_t, std::size_t>> pre_tokenize(const PreTokenizerSpec& spec,
                                                              const std::vector<char32_t>& cps) {
  std::vector<std::pair<std::size_t, std::size_t>> pieces, next;
  if (!cps.empty()) pieces.emplace_back(0, cps.size());
  for (Matcher match : spec.stages) {
    next.clear();
    for (auto [b, e] : pieces) {
      // Matches are searched within the piece: its end is the end of the text for $
      // and lookahead. The text between matches is kept as pieces too.
      const char32_t* t = cps.data() + b;
      const std::size_t n = e - b;
      std::size_t gap = 0, pos = 0;
      while (pos < n) {
        const std::size_t len = match(t, pos, n);
        if (len == 0) {
          ++pos;
          continue;
        }
        if (gap < pos) next.emplace_back(b + gap, b + pos);
        next.emplace_back(b + pos, b + pos + len);
        pos += len;
        gap = pos;
      }
      if (gap < n) next.emplace_back(b + gap, e);
    }
    pieces.swap(next);
  }
  return pieces;
}

}  // namespace inkling::detail
