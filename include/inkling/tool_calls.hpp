// Tool (function) calling for the chat template families that have a format for it:
// how the tool definitions and results are written into the prompt, the grammar that
// makes the model's reply a well-formed call with arguments valid for the tool's
// parameter schema, and reading the calls back out of the reply.
//
// Formats, as the families' reference templates write them:
//  - llama3 (Llama 3.1+ JSON tool calling): the definitions open the first user message;
//    a call is {"name": NAME, "parameters": ARGS}; results are "ipython" turns.
//  - chatml (Qwen2.5 / Qwen3 and other Hermes-style models): the definitions go into the
//    system turn inside <tools></tools>; a call is <tool_call>\n{"name": NAME,
//    "arguments": ARGS}\n</tool_call>; results are user turns of <tool_response> blocks.
//  - mistral (v0.3+): [AVAILABLE_TOOLS] [...][/AVAILABLE_TOOLS] before the last user
//    message; calls are [TOOL_CALLS] [{"name": NAME, "arguments": ARGS}]; results are
//    [TOOL_RESULTS] {"content": ..., "call_id": ...}[/TOOL_RESULTS].
// Other families have no tool format: ToolFormat::for_template refuses them.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inkling/chat_template.hpp"

namespace inkling {

struct ToolSpec {
  std::string name;         // letters, digits, '_' and '-'
  std::string description;
  std::string parameters;   // JSON Schema of the arguments (an object); "" = any object
};

enum class ToolChoice {
  Auto,      // the model writes text or calls tools
  Required,  // the model calls one of the tools
  Named,     // the model calls the named tool
};

struct ParsedReply {
  std::string content;           // the text outside the calls
  std::vector<ToolCall> calls;   // ids are empty: the caller numbers them
};

// Immutable; cheap to copy.
class ToolFormat {
 public:
  // Error(Unsupported) naming the family for one without a tool format.
  static ToolFormat for_template(const ChatTemplate& chat_template);

  // The prompt: like ChatTemplate::apply (BOS text omitted), plus the tool definitions,
  // assistant messages with tool_calls and "tool" messages (results). Error(InvalidArgument)
  // for a tool without a name, parameters that are not a JSON object, an unknown role.
  std::string apply(std::span<const ChatMessage> messages, std::span<const ToolSpec> tools,
                    bool add_generation_prompt) const;
  // apply() tokenized as ChatTemplate::encode does.
  std::vector<TokenId> encode(const Tokenizer& tokenizer, std::span<const ChatMessage> messages,
                              std::span<const ToolSpec> tools, bool add_generation_prompt) const;

  // GBNF for the reply. Auto: calls, or text that does not begin like one. Required: calls.
  // Named: calls of `name` only (Error(InvalidArgument) if no such tool). `parallel`: one
  // or more calls where the format allows several (chatml, mistral), else exactly one.
  // Arguments follow each tool's schema (json_schema.hpp; unsupported keywords refused).
  std::string grammar(std::span<const ToolSpec> tools, ToolChoice choice, std::string_view name = {},
                      bool parallel = true) const;
  // Whether `prefix` (the start of a reply) can still become a call: a stream holds
  // text back while this is true.
  bool may_start_call(std::string_view prefix) const;
  // The calls in a reply (arguments re-serialized compactly) and the text around them.
  ParsedReply parse(std::string_view reply) const;

  const ChatTemplate& chat_template() const noexcept { return template_; }

 private:
  explicit ToolFormat(ChatTemplate t) : template_(std::move(t)) {}
  ChatTemplate template_;
};

}  // namespace inkling
