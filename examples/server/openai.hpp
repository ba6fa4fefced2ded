// The OpenAI HTTP protocol as inkling speaks it: request bodies of /v1/completions and
// /v1/chat/completions turned into a GenerationConfig (every field type- and range-checked,
// errors in OpenAI's shape), and the JSON of responses and stream chunks built from the
// generator's steps.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "inkling/chat_template.hpp"
#include "inkling/generator.hpp"
#include "inkling/tool_calls.hpp"

namespace inkling::server {

// An error the client caused (or the server cannot serve), as an HTTP status and an
// OpenAI error object.
struct ApiError : std::runtime_error {
  ApiError(int status, std::string message, std::string type = "invalid_request_error", std::string param = {},
           std::string code = {})
      : std::runtime_error(message), status(status), type(std::move(type)), param(std::move(param)), code(std::move(code)) {}
  int status;
  std::string type, param, code;
  nlohmann::json body() const;
};

struct CompletionRequest {
  bool chat = false;
  bool stream = false;
  std::vector<TokenId> prompt;
  GenerationConfig config;
  // Completions: logprobs = N (0..20) asks for the chosen token's logprob and the N most
  // likely; chat: logprobs = true with top_logprobs = N. -1: none.
  int logprobs = -1;
  int n = 1;  // choices: n independent generations of the prompt (seeds seed, seed + 1, ...)
  // Completions: the prompt is prepended to each choice's text and, with logprobs, its
  // tokens to the logprobs (the first with null, then each given the ones before it).
  bool echo = false;
  std::string prompt_text;  // the prompt as given, when it was a string (echoed as is)
  // Chat with tools that may be called: replies are read as calls (finish_reason
  // "tool_calls") when they are; a streamed reply is held back while it may become one.
  std::shared_ptr<const ToolFormat> tools;
};

// What the server knows when it reads a request.
struct ServingContext {
  const Model* model = nullptr;
  std::string model_id;                  // the name clients use in "model"
  const ChatTemplate* chat = nullptr;    // null: the model has no usable chat template
  int n_ctx = 0;                         // positions per sequence
  // Prompt text longer than this cannot fit in n_ctx tokens: it is refused before it is
  // tokenized (see max_prompt_bytes()). 0: no limit.
  std::size_t max_prompt_bytes = 0;
};

// n_ctx times the longest token's text: every token covers at most that many bytes of
// text, so a longer prompt needs more than n_ctx tokens.
std::size_t max_prompt_bytes(const Tokenizer& tokenizer, int n_ctx);

// Reads a request body. Throws ApiError (400, 404 for an unknown model). Fields of
// OpenAI's API this server cannot honour (best_of, functions, audio, ...) are a 400
// naming the field rather than silently ignored.
CompletionRequest parse_request(const std::string& body, bool chat, const ServingContext& ctx);

// Builds responses for one request and its n choices; not thread-safe.
class ResponseWriter {
 public:
  ResponseWriter(const CompletionRequest& request, const ServingContext& ctx, std::string id);

  // A stream chunk for one step of choice `index` (chat: a choice's first chunk is
  // preceded by the one naming the role). Returns the "data: ...\n\n" events to send.
  std::string chunk(int index, const StepInfo& step);
  // The chunk that ends choice `index` (its finish_reason and metrics; with n = 1 also the
  // usage).
  std::string finish_chunk(int index, const GenerationResult& result);
  // After every choice ended: the usage of them all (n > 1) and "data: [DONE]".
  std::string done_chunk(const std::vector<GenerationResult>& results);
  // The whole non-streamed response, from the steps seen through record().
  void record(int index, const StepInfo& step);
  nlohmann::json full_response(const std::vector<GenerationResult>& results) const;

 private:
  struct Choice {
    bool sent_role = false;
    std::size_t text_offset = 0;
    std::vector<StepInfo> steps;  // non-streamed: kept for logprobs
    std::string text;
    std::string held;       // tools: text not streamed yet because it may be a call
    bool deciding = true;   // tools: whether the reply may still become a call
  };
  nlohmann::json logprobs_entry_completion(const StepInfo& step, std::size_t offset) const;
  nlohmann::json logprobs_entry_chat(const StepInfo& step) const;
  nlohmann::json step_extension(const StepInfo& step) const;
  nlohmann::json envelope(const char* object) const;
  // echo: the prompt's text and its entries of a completion's logprobs.
  std::string echo_text() const;
  nlohmann::json echo_logprobs() const;
  std::string role_chunk(int index);
  nlohmann::json usage(const std::vector<GenerationResult>& results) const;
  std::string content_chunk(int index, const std::string& text, const nlohmann::json& extension);

  const CompletionRequest& request_;
  const ServingContext& ctx_;
  std::string id_;
  long long created_;
  std::vector<Choice> choices_;
};

// JSON text for the wire: invalid UTF-8 (a token that is part of a character) becomes
// U+FFFD instead of an exception.
std::string dump(const nlohmann::json& j);
const char* finish_reason(StopReason r);
nlohmann::json metrics_json(const Metrics& m);

}  // namespace inkling::server
