// Stop strings over streamed text: releases text as soon as it can no longer be the
// start of a stop string, and finds a stop string that spans several tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace inkling::detail {

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
