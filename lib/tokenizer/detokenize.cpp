// ids -> text (REFERENCE.md §4.6-4.7) and the streaming Detokenizer.
#include <string>

#include "inkling/error.hpp"
#include "tokenizer/tokenizer_impl.hpp"

namespace inkling {
namespace {

constexpr std::string_view kSpmSpace = "\xE2\x96\x81";  // U+2581 "▁"

std::string unescape_spm(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, kSpmSpace.size(), kSpmSpace) == 0) {
      out += ' ';
      i += kSpmSpace.size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The three clean-up passes of llama.cpp's detokenizer for BPE/WordPiece vocabularies.
void clean_up_spaces(std::string& s) {
  std::string t;
  t.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {  // " ?" " !" " ." " ," -> drop the space
    if (s[i] == ' ' && i + 1 < s.size() &&
        (s[i + 1] == '?' || s[i + 1] == '!' || s[i + 1] == '.' || s[i + 1] == ','))
      continue;
    t += s[i];
  }
  s.clear();
  for (std::size_t i = 0; i < t.size(); ++i) {  // " ' " -> "'"
    if (t[i] == ' ' && i + 2 < t.size() && t[i + 1] == '\'' && t[i + 2] == ' ') {
      s += '\'';
      i += 2;
      continue;
    }
    s += t[i];
  }
  t.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {  // " 's" " 'm" " 're" " 've" -> drop the space
    if (s[i] == ' ' && i + 2 < s.size() && s[i + 1] == '\'') {
      const std::string_view rest = std::string_view(s).substr(i + 2);
      if (rest.starts_with("s") || rest.starts_with("m") || rest.starts_with("re") || rest.starts_with("ve"))
        continue;
    }
    t += s[i];
  }
  s.swap(t);
}

}  // namespace

std::string Tokenizer::Impl::piece(TokenId id, bool special_out) const {
  const detail::VocabEntry& e = vocab.tokens[static_cast<std::size_t>(id)];
  if (e.attr & (kAttrControl | kAttrUnknown)) return special_out ? e.text : std::string();
  if (e.attr & kAttrUserDefined) return e.text;
  if (kind == TokenizerKind::Bpe) {
    if (e.attr & kAttrNormal) return detail::BpeEncoder::decode_token_text(e.text);
    return std::string();
  }
  if (e.attr & kAttrByte) {
    // "<0xXX>"
    if (e.text.size() == 6 && hex_digit(e.text[3]) >= 0 && hex_digit(e.text[4]) >= 0)
      return std::string(1, static_cast<char>(hex_digit(e.text[3]) * 16 + hex_digit(e.text[4])));
    return e.text;
  }
  if (e.attr & kAttrNormal) return unescape_spm(e.text);
  return std::string();
}

std::string Tokenizer::token_to_piece(TokenId id, bool special) const {
  if (id < 0 || id >= impl_->vocab.size())
    throw Error(ErrorCode::InvalidArgument, "tokenizer: token id " + std::to_string(id) + " is out of range [0, " +
                                                std::to_string(impl_->vocab.size()) + ")");
  return impl_->piece(id, special);
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool remove_special, bool special) const {
  const Impl& m = *impl_;
  for (TokenId id : ids) token_to_piece(id, false);  // validates every id first
  bool remove_space = m.add_space_prefix;
  std::size_t begin = 0, end = ids.size();
  if (remove_special && m.special.add_bos && end > 0 && ids[0] == m.special.bos) {
    begin = 1;
    remove_space = false;
  }
  if (remove_special && m.special.add_eos && end > begin && ids[end - 1] == m.special.eos) --end;
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    std::string p = m.piece(ids[i], special);
    if (remove_space && !p.empty() && p[0] == ' ') p.erase(0, 1);
    remove_space = false;
    out += p;
  }
  if (m.clean_spaces) clean_up_spaces(out);
  return out;
}

// ---- streaming -----------------------------------------------------------------------

namespace {

// Moves the complete UTF-8 characters at the front of `bytes` to `out`; an invalid
// sequence becomes U+FFFD. Leaves an incomplete but still possible tail in `bytes`,
// or flushes it as U+FFFD when `final`.
void take_complete_utf8(std::string& bytes, std::string& out, bool final) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    int len = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    if (len == 0) {  // stray continuation or invalid lead byte
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    int have = 1;
    while (have < len && i + have < bytes.size() &&
           (static_cast<unsigned char>(bytes[i + have]) & 0xC0) == 0x80)
      ++have;
    if (have == len) {
      out.append(bytes, i, static_cast<std::size_t>(len));
      i += static_cast<std::size_t>(len);
    } else if (i + have == bytes.size() && !final) {
      break;  // may still be completed by the next token
    } else {
      out += "\xEF\xBF\xBD";  // truncated by a non-continuation byte (or at the end)
      i += static_cast<std::size_t>(have);
    }
  }
  bytes.erase(0, i);
}

}  // namespace

Detokenizer::Detokenizer(const Tokenizer& tokenizer, bool special, bool strip_leading_space)
    : tokenizer_(&tokenizer), special_(special), strip_(strip_leading_space) {}

void Detokenizer::reset() {
  first_ = true;
  pending_.clear();
  raw_.clear();
}

std::string Detokenizer::push(TokenId id) {
  std::string p = tokenizer_->token_to_piece(id, special_);
  const Tokenizer::Impl& m = *tokenizer_->impl_;
  // As decode(): only the very first token may lose its leading space.
  if (first_ && strip_ && m.add_space_prefix && !p.empty() && p[0] == ' ') p.erase(0, 1);
  first_ = false;
  raw_ += p;
  std::string ready;
  if (m.clean_spaces) {
    // Every clean-up pattern starts with a space and spans at most 4 bytes: keep back
    // the tail from the last space among the final 3 bytes, so no pattern is cut.
    std::size_t cut = raw_.size();
    for (std::size_t k = raw_.size() >= 3 ? raw_.size() - 3 : 0; k < raw_.size(); ++k)
      if (raw_[k] == ' ') { cut = k; break; }
    ready = raw_.substr(0, cut);
    raw_.erase(0, cut);
    clean_up_spaces(ready);
  } else {
    ready.swap(raw_);
  }
  pending_ += ready;
  std::string out;
  take_complete_utf8(pending_, out, false);
  return out;
}

std::string Detokenizer::flush() {
  const Tokenizer::Impl& m = *tokenizer_->impl_;
  std::string ready;
  ready.swap(raw_);
  if (m.clean_spaces) clean_up_spaces(ready);
  pending_ += ready;
  std::string out;
  take_complete_utf8(pending_, out, true);
  return out;
}

}  // namespace inkling
