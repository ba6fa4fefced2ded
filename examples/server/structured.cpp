#include "structured.hpp"

#include "inkling/json_schema.hpp"
#include "openai.hpp"

namespace inkling::server {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

[[noreturn]] void bad(const std::string& param, const std::string& message) {
  throw ApiError(400, message, "invalid_request_error", param);
}

Grammar compile(const std::string& gbnf, const std::string& param) {
  try {
    return Grammar::parse(gbnf);
  } catch (const Error& e) {
    bad(param, e.what());
  }
}

std::string schema_grammar(const ordered_json& schema, const std::string& param) {
  try {
    return json_schema_to_gbnf(schema.dump());
  } catch (const Error& e) {
    bad(param, e.what());
  }
}

void read_response_format(const json& f, const ordered_json& ordered, CompletionRequest& r) {
  if (!f.is_object() || !f.contains("type") || !f["type"].is_string())
    bad("response_format", "'response_format' must be an object with a string 'type'");
  const std::string type = f["type"].get<std::string>();
  if (type == "text") return;
  if (type == "json_object") {
    r.config.grammar = compile(json_any_gbnf(true), "response_format");
  } else if (type == "json_schema") {
    const auto js = f.find("json_schema");
    if (js == f.end() || !js->is_object() || !js->contains("schema"))
      bad("response_format", "'response_format' of type json_schema needs 'json_schema': {\"schema\": ...}");
    if (js->contains("strict") && !(*js)["strict"].is_boolean()) bad("response_format", "'json_schema.strict' must be a boolean");
    r.config.grammar = compile(schema_grammar(ordered.at("json_schema").at("schema"), "response_format"), "response_format");
  } else {
    bad("response_format", "'response_format.type' must be text, json_object or json_schema, got '" + type + "'");
  }
}

std::vector<ToolSpec> read_tools(const json& tools, const ordered_json& ordered) {
  if (!tools.is_array()) bad("tools", "'tools' must be an array");
  std::vector<ToolSpec> out;
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const json& t = tools[i];
    if (!t.is_object() || t.value("type", "") != "function" || !t.contains("function") || !t["function"].is_object())
      bad("tools", "each tool must be {\"type\": \"function\", \"function\": {...}}");
    const json& f = t["function"];
    if (!f.contains("name") || !f["name"].is_string()) bad("tools", "each function needs a string 'name'");
    ToolSpec s;
    s.name = f["name"].get<std::string>();
    if (f.contains("description") && f["description"].is_string()) s.description = f["description"].get<std::string>();
    if (f.contains("parameters") && !f["parameters"].is_null()) {
      if (!f["parameters"].is_object()) bad("tools", "the parameters of '" + s.name + "' must be a JSON Schema object");
      s.parameters = ordered.at(i).at("function").at("parameters").dump();
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

// llama.cpp server's own fields: "grammar" (GBNF text) and "json_schema" (a schema object,
// read from `ordered` so its properties keep their written order). One way to constrain
// the output per request: two are refused, never one dropped.
void read_llama_constraints(const json& body, const ordered_json& ordered, CompletionRequest& r) {
  const auto g = body.find("grammar");
  const auto js = body.find("json_schema");
  const bool has_grammar = g != body.end() && !g->is_null();
  const bool has_schema = js != body.end() && !js->is_null();
  if (has_grammar && has_schema) bad("json_schema", "'grammar' and 'json_schema' cannot be combined: give one");
  if ((has_grammar || has_schema) && r.config.grammar)
    bad(has_grammar ? "grammar" : "json_schema",
        std::string("'") + (has_grammar ? "grammar" : "json_schema") + "' cannot be combined with a JSON 'response_format'");
  if (has_grammar) {
    if (!g->is_string() || g->get_ref<const std::string&>().empty()) bad("grammar", "'grammar' must be a non-empty GBNF string");
    r.config.grammar = compile(g->get<std::string>(), "grammar");
  }
  if (has_schema) {
    if (!js->is_object() && !js->is_boolean()) bad("json_schema", "'json_schema' must be a JSON Schema object");
    r.config.grammar = compile(schema_grammar(ordered.at("json_schema"), "json_schema"), "json_schema");
  }
}

StructuredOutput read_structured_output(const json& body, const std::string& raw_body, bool chat, const ServingContext& ctx,
                                        CompletionRequest& r) {
  StructuredOutput out;
  const auto rf = body.find("response_format");
  const bool has_format = rf != body.end() && !rf->is_null();
  const auto tools = body.find("tools");
  const bool has_tools = tools != body.end() && !tools->is_null() && !(tools->is_array() && tools->empty());
  const auto js = body.find("json_schema");
  const bool has_schema = js != body.end() && !js->is_null();
  const ordered_json ordered = has_format || has_tools || has_schema ? ordered_json::parse(raw_body) : ordered_json();
  if (has_format) read_response_format(*rf, ordered.at("response_format"), r);
  read_llama_constraints(body, ordered, r);
  const auto choice = body.find("tool_choice");
  if (!has_tools) {
    if (choice != body.end() && !choice->is_null() && *choice != "none" && *choice != "auto")
      bad("tool_choice", "'tool_choice' needs 'tools'");
    return out;
  }
  if (!chat) bad("tools", "'tools' needs /v1/chat/completions");
  if (r.config.grammar) bad("tools", "'tools' cannot be combined with a JSON 'response_format', 'grammar' or 'json_schema'");
  out.tool_specs = read_tools(*tools, ordered.at("tools"));
  try {
    out.format = std::make_shared<const ToolFormat>(ToolFormat::for_template(*ctx.chat));
  } catch (const Error& e) {
    bad("tools", e.what());
  }
  ToolChoice tc = ToolChoice::Auto;
  std::string name;
  if (choice != body.end() && !choice->is_null()) {
    if (*choice == "none") return out;  // the tools are shown, no call is made
    if (*choice == "required") {
      tc = ToolChoice::Required;
    } else if (choice->is_object() && choice->value("type", "") == "function" && choice->contains("function") &&
               (*choice)["function"].is_object() && (*choice)["function"].contains("name") &&
               (*choice)["function"]["name"].is_string()) {
      tc = ToolChoice::Named;
      name = (*choice)["function"]["name"].get<std::string>();
    } else if (*choice != "auto") {
      bad("tool_choice", "'tool_choice' must be none, auto, required or {\"type\": \"function\", \"function\": {\"name\": ...}}");
    }
  }
  bool parallel = true;
  if (auto p = body.find("parallel_tool_calls"); p != body.end() && !p->is_null()) {
    if (!p->is_boolean()) bad("parallel_tool_calls", "'parallel_tool_calls' must be a boolean");
    parallel = p->get<bool>();
  }
  try {
    r.config.grammar = Grammar::parse(out.format->grammar(out.tool_specs, tc, name, parallel));
  } catch (const Error& e) {
    bad(tc == ToolChoice::Named ? "tool_choice" : "tools", e.what());
  }
  out.tools = out.format;
  return out;
}

void finish_structured_output(CompletionRequest& r, const ServingContext& ctx) {
  if (r.config.grammar)
    r.config.grammar_cache = grammar_mask_cache(*ctx.model, *r.config.grammar, r.config.stop_tokens, r.config.stop_at_eog);
}

void read_tool_fields(const json& m, ChatMessage& msg) {
  if (auto it = m.find("tool_calls"); it != m.end() && !it->is_null()) {
    if (!it->is_array()) bad("messages", "'tool_calls' must be an array");
    for (const json& c : *it) {
      if (!c.is_object() || !c.contains("function") || !c["function"].is_object() || !c["function"].contains("name"))
        bad("messages", "each tool call needs 'function': {\"name\": ..., \"arguments\": ...}");
      ToolCall call;
      call.id = c.value("id", "");
      call.name = c["function"]["name"].is_string() ? c["function"]["name"].get<std::string>() : "";
      const json& args = c["function"].contains("arguments") ? c["function"]["arguments"] : json::object();
      call.arguments = args.is_string() ? args.get<std::string>() : args.dump();
      msg.tool_calls.push_back(std::move(call));
    }
  }
  if (auto it = m.find("tool_call_id"); it != m.end() && it->is_string()) msg.tool_call_id = it->get<std::string>();
}

json tool_calls_json(const std::vector<ToolCall>& calls, const std::string& response_id, int choice) {
  json out = json::array();
  for (std::size_t i = 0; i < calls.size(); ++i)
    out.push_back({{"index", static_cast<int>(i)},
                   {"id", "call_" + response_id + "_" + std::to_string(choice) + "_" + std::to_string(i)},
                   {"type", "function"},
                   {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}});
  return out;
}

}  // namespace inkling::server
