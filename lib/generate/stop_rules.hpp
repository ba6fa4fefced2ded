// The stop rules, in one place for every decoder (sampling and greedy in Decoding, beam
// search): which tokens end a sequence, banning them before min_new_tokens, and stop
// strings over streamed text.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inkling/generator.hpp"

namespace inkling::detail {

// Why `id` ends the sequence (an end-of-generation token when config.stop_at_eog, or
// one of config.stop_tokens), or nullopt if it does not. Only asked once min_new_tokens
// are out.
std::optional<StopReason> ending_token(const Tokenizer& tok, const GenerationConfig& config, TokenId id);
// Before min_new_tokens: the logits of every end-of-generation token and stop token are
// set to -inf, so none is chosen.
void ban_ending_tokens(const Tokenizer& tok, const GenerationConfig& config, std::span<float> logits);

// Stop strings over streamed text: releases text as soon as it can no longer be the
// start of a stop string, and finds a stop string that spans several tokens.

class StopText {
 public:
  explicit StopText(std::vector<std::string> stops) : stops_(std::move(stops)) {}

  struct Result {
    std::string release;  // text safe to emit now
    bool stopped = false;  // a stop string was found; `release` ends right before it
  };

  // Adds newly decoded text. When `allow_stop` is false (before min_new_tokens) stop
  // strings are not matched and everything is released.
  Result push(std::string_view text, bool allow_stop);
  std::string flush();  // releases what is held back (generation ended otherwise)
  void reset() { held_.clear(); }

 private:
  std::vector<std::string> stops_;
  std::string held_;
};

}  // namespace inkling::detail
