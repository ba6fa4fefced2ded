#include "generate/stop_rules.hpp"

#include <algorithm>
#include <cmath>

namespace inkling::detail {

std::optional<StopReason> ending_token(const Tokenizer& tok, const GenerationConfig& c, TokenId id) {
  if (c.stop_at_eog && tok.is_eog(id)) return StopReason::EndOfSequence;
  if (std::find(c.stop_tokens.begin(), c.stop_tokens.end(), id) != c.stop_tokens.end()) return StopReason::StopToken;
  return std::nullopt;
}

void ban_ending_tokens(const Tokenizer& tok, const GenerationConfig& c, std::span<float> logits) {
  for (std::size_t i = 0; i < logits.size(); ++i)
    if (tok.is_eog(static_cast<TokenId>(i))) logits[i] = -INFINITY;
  for (TokenId id : c.stop_tokens)
    if (id >= 0 && static_cast<std::size_t>(id) < logits.size()) logits[static_cast<std::size_t>(id)] = -INFINITY;
}

StopText::Result StopText::push(std::string_view text, bool allow_stop) {
  held_ += text;
  Result r;
  if (!allow_stop || stops_.empty()) {
    r.release.swap(held_);
    return r;
  }
  // Earliest complete stop string.
  std::size_t first = std::string::npos;
  for (const auto& s : stops_)
    if (!s.empty()) first = std::min(first, held_.find(s));
  if (first != std::string::npos) {
    r.release = held_.substr(0, first);
    r.stopped = true;
    held_.clear();
    return r;
  }
  // Keep the longest tail that is a prefix of some stop string.
  std::size_t keep = 0;
  for (const auto& s : stops_)
    for (std::size_t len = s.empty() ? 0 : std::min(s.size() - 1, held_.size()); len > keep; --len)
      if (held_.compare(held_.size() - len, len, s, 0, len) == 0) {
        keep = len;
        break;
      }
  r.release = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return r;
}

std::string StopText::flush() {
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace inkling::detail
