// Tokenizer: reading tokenizer.ggml.* (REFERENCE.md §4.1-4.2), special-token
// partitioning (§4.3), and dispatch to the algorithm of the vocabulary.
#include <algorithm>
#include <string>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "tokenizer/tokenizer_impl.hpp"

namespace inkling {
namespace {

constexpr std::string_view kEogTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                          "<|endoftext|>", "<|eom_id|>", "<EOT>"};
constexpr std::string_view kEotTexts[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
                                          "<|endoftext|>", "<EOT>", "<｜end▁of▁sentence｜>"};

std::uint32_t attr_from_type(std::int64_t type) {
  switch (type) {
    case 1: return kAttrNormal;
    case 2: return kAttrUnknown;
    case 3: return kAttrControl;
    case 4: return kAttrUserDefined;
    case 5: return kAttrUnused;
    case 6: return kAttrByte;
    default: return kAttrUndefined;
  }
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The vocabulary: tokenizer kind, token texts, scores and types.
void read_vocabulary(const GgufFile& f, Tokenizer::Impl& m) {
  const std::string model(f.get_string("tokenizer.ggml.model").value_or(""));
  if (model.empty())
    throw Error(ErrorCode::Format, f.name() + ": missing key 'tokenizer.ggml.model' (the file has no vocabulary)");
  if (model == "llama") m.kind = TokenizerKind::Spm;
  else if (model == "gpt2") m.kind = TokenizerKind::Bpe;
  else if (model == "bert") m.kind = TokenizerKind::Wpm;
  else
    throw Error(ErrorCode::Unsupported, f.name() + ": tokenizer model '" + model +
                                            "' is not supported (llama, gpt2, bert)");

  const GgufArray* tokens = f.get_array("tokenizer.ggml.tokens");
  if (!tokens || tokens->items.empty())
    throw Error(ErrorCode::Format, f.name() + ": missing or empty 'tokenizer.ggml.tokens'");
  if (tokens->items.size() > (1u << 24))
    throw Error(ErrorCode::Format, f.name() + ": 'tokenizer.ggml.tokens' has an absurd size");
  const std::size_t n = tokens->items.size();
  const GgufArray* scores = f.get_array("tokenizer.ggml.scores");
  const GgufArray* types = f.get_array("tokenizer.ggml.token_type");
  if (scores && scores->items.size() != n)
    throw Error(ErrorCode::Format, f.name() + ": 'tokenizer.ggml.scores' has " + std::to_string(scores->items.size()) +
                                       " entries for " + std::to_string(n) + " tokens");
  if (types && types->items.size() != n)
    throw Error(ErrorCode::Format, f.name() + ": 'tokenizer.ggml.token_type' has " + std::to_string(types->items.size()) +
                                       " entries for " + std::to_string(n) + " tokens");
  m.vocab.tokens.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    detail::VocabEntry& e = m.vocab.tokens[i];
    e.text = std::string(tokens->items[i].as_string("tokenizer.ggml.tokens"));
    if (e.text.empty()) e.text = "[EMPTY_" + std::to_string(i) + "]";
    if (scores) e.score = static_cast<float>(scores->items[i].as_float("tokenizer.ggml.scores"));
    e.attr = types ? attr_from_type(types->items[i].as_int("tokenizer.ggml.token_type")) : kAttrNormal;
    m.max_token_bytes = std::max(m.max_token_bytes, static_cast<int>(e.text.size()));
  }
  m.vocab.build_index();

}

// Special token ids (per-kind defaults, then the file's keys), BPE merges, add_* flags.
void read_special_tokens(const GgufFile& f, Tokenizer::Impl& m) {
  const std::size_t n = m.vocab.tokens.size();
  // Per-type defaults, then the file's keys (ids outside the vocabulary are ignored).
  SpecialTokens& s = m.special;
  switch (m.kind) {
    case TokenizerKind::Spm:
      s.bos = 1; s.eos = 2; s.unk = 0; s.add_bos = true; m.add_space_prefix = true; m.clean_spaces = false;
      break;
    case TokenizerKind::Bpe:
      s.bos = 11; s.eos = 11; s.add_bos = false; m.add_space_prefix = false; m.clean_spaces = true;
      break;
    case TokenizerKind::Wpm:
      s.bos = 101; s.unk = 100; s.sep = 102; s.pad = 0; s.mask = 103; s.add_bos = true;
      m.add_space_prefix = false; m.clean_spaces = true;
      break;
  }
  auto id_key = [&](const char* key, TokenId& slot) {
    if (auto v = f.get_uint(key)) slot = *v < n ? static_cast<TokenId>(*v) : kNoToken;
  };
  id_key("tokenizer.ggml.bos_token_id", s.bos);
  id_key("tokenizer.ggml.eos_token_id", s.eos);
  id_key("tokenizer.ggml.eot_token_id", s.eot);
  id_key("tokenizer.ggml.eom_token_id", s.eom);
  id_key("tokenizer.ggml.unknown_token_id", s.unk);
  id_key("tokenizer.ggml.seperator_token_id", s.sep);
  id_key("tokenizer.ggml.padding_token_id", s.pad);
  id_key("tokenizer.ggml.cls_token_id", s.cls);
  id_key("tokenizer.ggml.mask_token_id", s.mask);
  for (TokenId* id : {&s.bos, &s.eos, &s.unk, &s.sep, &s.pad, &s.mask})
    if (*id >= static_cast<TokenId>(n)) *id = kNoToken;

  if (auto pre = f.get_string("tokenizer.ggml.pre")) m.pre = std::string(*pre);
  if (m.kind == TokenizerKind::Bpe) {
    const GgufArray* merges = f.get_array("tokenizer.ggml.merges");
    if (!merges) throw Error(ErrorCode::Format, f.name() + ": byte-level BPE vocabulary without 'tokenizer.ggml.merges'");
    std::vector<std::string_view> merge_views;
    merge_views.reserve(merges->items.size());
    for (const auto& v : merges->items) merge_views.push_back(v.as_string("tokenizer.ggml.merges"));
    m.bpe = std::make_unique<detail::BpeEncoder>(m.vocab, merge_views, m.pre);
    m.clean_spaces = m.bpe->clean_spaces();
    if (m.bpe->forces_add_bos()) s.add_bos = true;
  }
  if (auto v = f.get_bool("tokenizer.ggml.add_bos_token")) s.add_bos = *v;
  if (auto v = f.get_bool("tokenizer.ggml.add_eos_token")) s.add_eos = *v;
  if (auto v = f.get_bool("tokenizer.ggml.add_space_prefix")) m.add_space_prefix = *v;

}

// EOT auto-detection and the end-of-generation set; these tokens become CONTROL.
void mark_end_of_generation(Tokenizer::Impl& m) {
  const std::size_t n = m.vocab.tokens.size();
  SpecialTokens& s = m.special;
  for (std::size_t i = 0; i < n && s.eot == kNoToken; ++i)
    for (auto t : kEotTexts)
      if (m.vocab.tokens[i].text == t) s.eot = static_cast<TokenId>(i);
  if (s.eom == kNoToken) s.eom = m.vocab.find("<|eom_id|>");
  for (std::size_t i = 0; i < n; ++i)
    for (auto t : kEogTexts)
      if (m.vocab.tokens[i].text == t) m.eog.push_back(static_cast<TokenId>(i));
  for (TokenId id : {s.eos, s.eot, s.eom})
    if (id != kNoToken) m.eog.push_back(id);
  std::sort(m.eog.begin(), m.eog.end());
  m.eog.erase(std::unique(m.eog.begin(), m.eog.end()), m.eog.end());
  for (TokenId id : m.eog) {
    auto& a = m.vocab.tokens[static_cast<std::size_t>(id)].attr;
    a = (a & ~kAttrNormal) | kAttrControl;
  }
  if (s.eot != kNoToken) {
    auto& a = m.vocab.tokens[static_cast<std::size_t>(s.eot)].attr;
    a = (a & ~kAttrNormal) | kAttrControl;
  }

}

// Vocabulary quirks llama.cpp applies, and the special tokens longest first (for parsing).
void finish_special_texts(const GgufFile& f, Tokenizer::Impl& m) {
  const std::size_t n = m.vocab.tokens.size();
  // Phi-3 vocabularies strip whitespace after special tokens (llama.cpp quirk).
  const std::string name = lower(f.get_string("general.name").value_or(""));
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (auto& e : m.vocab.tokens)
      if (e.attr & (kAttrControl | kAttrUserDefined | kAttrUnknown)) e.attr |= kAttrRstrip;
    for (auto t : {"</s>"})
      if (TokenId id = m.vocab.find(t); id != kNoToken) m.vocab.tokens[static_cast<std::size_t>(id)].attr |= kAttrRstrip;
    for (auto t : {"<unk>", "<s>", "<|endoftext|>"})
      if (TokenId id = m.vocab.find(t); id != kNoToken) m.vocab.tokens[static_cast<std::size_t>(id)].attr &= ~kAttrRstrip;
  }

  for (std::size_t i = 0; i < n; ++i)
    if (m.vocab.tokens[i].attr & (kAttrControl | kAttrUserDefined | kAttrUnknown))
      m.special_by_length.push_back(static_cast<TokenId>(i));
  std::stable_sort(m.special_by_length.begin(), m.special_by_length.end(), [&](TokenId a, TokenId b) {
    return m.vocab.tokens[static_cast<std::size_t>(a)].text.size() > m.vocab.tokens[static_cast<std::size_t>(b)].text.size();
  });
}

}  // namespace

Tokenizer::Tokenizer(const GgufFile& f) : impl_(std::make_unique<Impl>()) {
  read_vocabulary(f, *impl_);
  read_special_tokens(f, *impl_);
  mark_end_of_generation(*impl_);
  finish_special_texts(f, *impl_);
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

TokenizerKind Tokenizer::kind() const noexcept { return impl_->kind; }
std::string_view Tokenizer::pre_tokenizer() const noexcept { return impl_->pre; }
int Tokenizer::n_vocab() const noexcept { return impl_->vocab.size(); }
const SpecialTokens& Tokenizer::special() const noexcept { return impl_->special; }
bool Tokenizer::cleans_spaces() const noexcept { return impl_->clean_spaces; }

namespace {
void check_id(const Tokenizer::Impl& m, TokenId id) {
  if (id < 0 || id >= m.vocab.size())
    throw Error(ErrorCode::InvalidArgument, "tokenizer: token id " + std::to_string(id) + " is out of range [0, " +
                                                std::to_string(m.vocab.size()) + ")");
}
}  // namespace

std::string_view Tokenizer::token_text(TokenId id) const {
  check_id(*impl_, id);
  return impl_->vocab.tokens[static_cast<std::size_t>(id)].text;
}
std::uint32_t Tokenizer::token_attr(TokenId id) const {
  check_id(*impl_, id);
  return impl_->vocab.tokens[static_cast<std::size_t>(id)].attr;
}
float Tokenizer::token_score(TokenId id) const {
  check_id(*impl_, id);
  return impl_->vocab.tokens[static_cast<std::size_t>(id)].score;
}
bool Tokenizer::is_eog(TokenId id) const noexcept {
  return std::binary_search(impl_->eog.begin(), impl_->eog.end(), id);
}
bool Tokenizer::is_control(TokenId id) const noexcept {
  return id >= 0 && id < impl_->vocab.size() && (impl_->vocab.tokens[static_cast<std::size_t>(id)].attr & kAttrControl);
}
TokenId Tokenizer::find(std::string_view text) const noexcept { return impl_->vocab.find(text); }

// ---- encoding ----------------------------------------------------------------------

namespace {

struct Fragment {
  TokenId token;          // kNoToken for raw text
  std::size_t begin, len;  // raw text span in the input
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

}  // namespace

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  const TextSpan all{0, text.size()};
  return encode_impl(text, add_special, parse_special ? std::span<const TextSpan>(&all, 1) : std::span<const TextSpan>());
}

std::vector<TokenId> Tokenizer::encode_with_control_spans(std::string_view text, bool add_special,
                                                          std::span<const TextSpan> control_spans) const {
  for (std::size_t i = 0; i < control_spans.size(); ++i)
    if (control_spans[i].begin > control_spans[i].end || control_spans[i].end > text.size() ||
        (i > 0 && control_spans[i].begin < control_spans[i - 1].end))
      throw Error(ErrorCode::InvalidArgument, "Tokenizer::encode_with_control_spans: span " + std::to_string(i) +
                                                  " is not within the text or not in order");
  return encode_impl(text, add_special, control_spans);
}

std::vector<TokenId> Tokenizer::encode_impl(std::string_view text, bool add_special,
                                            std::span<const TextSpan> control_spans) const {
  const Impl& m = *impl_;
  // Control tokens count only where they lie wholly inside a control span; user-defined
  // tokens are ordinary words and count everywhere (as in llama.cpp).
  auto control_allowed = [&](std::size_t at, std::size_t len) {
    const auto it = std::upper_bound(control_spans.begin(), control_spans.end(), at,
                                     [](std::size_t p, const TextSpan& s) { return p < s.end; });
    return it != control_spans.end() && it->begin <= at && at + len <= it->end;
  };
  std::vector<Fragment> frags{{kNoToken, 0, text.size()}};
  if (text.empty()) frags.clear();
  for (TokenId sid : m.special_by_length) {
    const auto& e = m.vocab.tokens[static_cast<std::size_t>(sid)];
    const bool user_defined = (e.attr & kAttrUserDefined) != 0;
    if (control_spans.empty() && !user_defined) continue;
    const std::string_view needle = e.text;
    std::vector<Fragment> next;
    next.reserve(frags.size());
    for (const Fragment& fr : frags) {
      if (fr.token != kNoToken) {
        next.push_back(fr);
        continue;
      }
      std::size_t pos = fr.begin, search = fr.begin;
      const std::size_t end = fr.begin + fr.len;
      while (search < end) {
        const std::size_t hit = text.substr(0, end).find(needle, search);
        if (hit == std::string_view::npos) break;
        if (!user_defined && !control_allowed(hit, needle.size())) {  // typed by a user: stays text
          search = hit + 1;
          continue;
        }
        std::size_t left_end = hit;
        if (e.attr & kAttrLstrip)
          while (left_end > pos && is_space(text[left_end - 1])) --left_end;
        if (left_end > pos) next.push_back({kNoToken, pos, left_end - pos});
        next.push_back({sid, hit, needle.size()});
        pos = hit + needle.size();
        if (e.attr & kAttrRstrip)
          while (pos < end && is_space(text[pos])) ++pos;
        search = pos;
      }
      if (pos < end) next.push_back({kNoToken, pos, end - pos});
    }
    frags.swap(next);
  }

  std::vector<TokenId> out;
  if (add_special && m.special.add_bos && m.special.bos != kNoToken) out.push_back(m.special.bos);
  if (m.kind == TokenizerKind::Wpm && add_special) {
    out.clear();
    if (m.special.bos != kNoToken) out.push_back(m.special.bos);
  }
  bool after_special = true;  // the first fragment counts as following a special token
  for (const Fragment& fr : frags) {
    if (fr.token != kNoToken) {
      out.push_back(fr.token);
      after_special = true;
      continue;
    }
    m.encode_fragment(text.substr(fr.begin, fr.len), after_special, out);
    after_special = false;
  }
  if (m.kind == TokenizerKind::Wpm) {
    if (add_special && m.special.sep != kNoToken) out.push_back(m.special.sep);
  } else if (add_special && m.special.add_eos && m.special.eos != kNoToken) {
    out.push_back(m.special.eos);
  }
  return out;
}

void Tokenizer::Impl::encode_fragment(std::string_view text, bool after_special_or_first,
                                      std::vector<TokenId>& out) const {
  switch (kind) {
    case TokenizerKind::Spm: {
      std::string s;
      s.reserve(text.size() + 4);
      if (add_space_prefix && after_special_or_first) s += "\xE2\x96\x81";
      for (char c : text) {
        if (c == ' ') s += "\xE2\x96\x81";
        else s += c;
      }
      detail::spm_encode(vocab, s, out);
      return;
    }
    case TokenizerKind::Bpe: bpe->encode(text, out); return;
    case TokenizerKind::Wpm: detail::wpm_encode(vocab, special.unk, static_cast<std::size_t>(max_token_bytes), text, out); return;
  }
}

}  // namespace inkling
