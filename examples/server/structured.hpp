// Structured output in the OpenAI protocol: response_format (json_object, json_schema)
// and tools / tool_choice / parallel_tool_calls become the request's grammar, and a
// reply made of tool calls becomes OpenAI's tool_calls.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "inkling/tool_calls.hpp"

namespace inkling::server {

struct CompletionRequest;
struct ServingContext;

// What the request asked for. Throws ApiError (400) naming the field: a malformed
// response_format or tool, an unsupported JSON Schema keyword, tools for a chat template
// family without a tool format, tools together with a JSON response_format.
struct StructuredOutput {
  std::shared_ptr<const ToolFormat> tools;  // null: no tools (or tool_choice "none")
  std::vector<ToolSpec> tool_specs;         // also with tool_choice "none": they are shown
  std::shared_ptr<const ToolFormat> format; // to render the prompt when tool_specs is set
};
// `raw_body` is the text `body` was parsed from: schemas are read from it again with
// their keys in the order written (nlohmann::json sorts them), since properties are
// generated in schema order.
StructuredOutput read_structured_output(const nlohmann::json& body, const std::string& raw_body, bool chat,
                                        const ServingContext& ctx, CompletionRequest& r);
// After the request's stop tokens are final: the grammar's mask cache, shared by its
// n choices.
void finish_structured_output(CompletionRequest& r, const ServingContext& ctx);

// Assistant messages' tool_calls and tool messages' tool_call_id, read into `msg`.
void read_tool_fields(const nlohmann::json& m, ChatMessage& msg);

// OpenAI's tool_calls array for the calls of choice `choice` (ids are unique per response).
nlohmann::json tool_calls_json(const std::vector<ToolCall>& calls, const std::string& response_id, int choice);

}  // namespace inkling::server
