// libFuzzer target: arbitrary bytes as the body of /v1/completions,
// /v1/chat/completions, /tokenize or /detokenize (the first byte picks), read against the
// real stories260K model with the chatml template. Every input must end in a request (or
// a response) or an ApiError (a 4xx); nothing else may escape, crash or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "inkling/chat_template.hpp"
#include "inkling/model.hpp"
#include "openai.hpp"
#include "tokens_api.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto model = [] {
    const char* env = std::getenv("INKLING_SHARED");
    return inkling::Model::load(std::string(env ? env : "../shared") + "/models/stories260K-f32.gguf", {.threads = 1});
  }();
  static const auto chat = inkling::ChatTemplate::named("chatml").adapted_to(model->tokenizer());
  inkling::server::ServingContext ctx;
  ctx.model = model.get();
  ctx.model_id = "stories";
  ctx.chat = &chat;
  ctx.n_ctx = 128;
  if (size == 0) return 0;
  const bool is_chat = data[0] & 1;
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] & 2) {  // the tokens endpoints, as the server calls them
    try {
      const auto j = nlohmann::json::parse(body, nullptr, false);
      const auto out = is_chat ? inkling::server::detokenize_response(*model, j) : inkling::server::tokenize_response(*model, j);
      (void)inkling::server::dump(out);
    } catch (const inkling::server::ApiError& e) {
      if (e.status != 400) std::abort();
    }
    return 0;
  }
  try {
    const auto r = inkling::server::parse_request(body, is_chat, ctx);
    // What passes must be a request the engine accepts as it is.
    if (r.prompt.empty() || static_cast<int>(r.prompt.size()) >= ctx.n_ctx || r.n < 1 || r.n > 8) std::abort();
    r.config.validate();
    inkling::server::ResponseWriter w(r, ctx, "fuzz");
    (void)w;
  } catch (const inkling::server::ApiError& e) {
    if (e.status < 400 || e.status >= 500) std::abort();
    (void)inkling::server::dump(e.body());
  }
  return 0;
}
