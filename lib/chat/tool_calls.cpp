// ToolFormat: tool definitions and results in the prompt, the grammar of a call, and
// reading calls back, per chat template family (see include/inkling/tool_calls.hpp).
#include "inkling/tool_calls.hpp"

#include <nlohmann/json.hpp>

#include "grammar/gbnf_text.hpp"
#include "inkling/error.hpp"
#include "inkling/json_schema.hpp"

namespace inkling {
namespace {

using Json = nlohmann::ordered_json;
using Family = ChatTemplate::Family;

// JSON as Python's json.dumps writes it (", " and ": " separators, optional indent), which
// is what the reference templates' tojson produces.
void py_dump(const Json& j, int indent, int depth, std::string& out) {
  const std::string nl = indent < 0 ? "" : "\n" + std::string(static_cast<std::size_t>(indent * (depth + 1)), ' ');
  const std::string close = indent < 0 ? "" : "\n" + std::string(static_cast<std::size_t>(indent * depth), ' ');
  const std::string comma = indent < 0 ? ", " : ",";
  if (j.is_object() && !j.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [k, v] : j.items()) {
      out += (first ? "" : comma) + nl + Json(k).dump(-1, ' ', false) + ": ";
      py_dump(v, indent, depth + 1, out);
      first = false;
    }
    out += close + "}";
  } else if (j.is_array() && !j.empty()) {
    out += '[';
    for (std::size_t i = 0; i < j.size(); ++i) {
      out += (i ? comma : "") + nl;
      py_dump(j[i], indent, depth + 1, out);
    }
    out += close + "]";
  } else {
    out += j.dump(-1, ' ', false);
  }
}

std::string py_dumps(const Json& j, int indent = -1) {
  std::string out;
  py_dump(j, indent, 0, out);
  return out;
}

std::string strip(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\n\r");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t\n\r") - b + 1));
}

Json parse_object(std::string_view text, const std::string& what) {
  Json j;
  try {
    j = Json::parse(text.empty() ? std::string_view("{}") : text);
  } catch (const nlohmann::json::exception&) {
    throw Error(ErrorCode::InvalidArgument, "tools: " + what + " is not valid JSON");
  }
  if (!j.is_object()) throw Error(ErrorCode::InvalidArgument, "tools: " + what + " must be a JSON object");
  return j;
}

Json tool_json(const ToolSpec& t) {
  if (t.name.empty() || t.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos)
    throw Error(ErrorCode::InvalidArgument, "tools: the tool name '" + t.name + "' must be letters, digits, '_' or '-'");
  Json f;
  f["name"] = t.name;
  if (!t.description.empty()) f["description"] = t.description;
  f["parameters"] = parse_object(t.parameters.empty() ? "{\"type\":\"object\"}" : t.parameters, "the parameters of '" + t.name + "'");
  Json out;
  out["type"] = "function";
  out["function"] = std::move(f);
  return out;
}

std::string call_json(const ToolCall& c, const char* args_key, bool with_id) {
  std::string out = "{\"name\": " + Json(c.name).dump(-1, ' ', false) + ", \"" + args_key + "\": ";
  out += py_dumps(parse_object(c.arguments, "the arguments of a call to '" + c.name + "'"));
  if (with_id) out += ", \"id\": " + Json(c.id).dump(-1, ' ', false);
  return out + "}";
}

const char* kLlamaToolPrompt =
    "Given the following functions, please respond with a JSON for a function call with its proper arguments that "
    "best answers the given prompt.\n\nRespond in the format {\"name\": function name, \"parameters\": dictionary of "
    "argument name and its value}.Do not use variables.\n\n";
const char* kQwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

std::string render_llama3(std::span<const ChatMessage> msgs, std::span<const ToolSpec> tools, bool gen) {
  std::string out;
  bool tools_written = tools.empty();
  auto header = [&](std::string_view role) { out += "<|start_header_id|>" + std::string(role) + "<|end_header_id|>\n\n"; };
  for (const ChatMessage& m : msgs) {
    if (m.role == "tool") {
      header("ipython");
      out += m.content;
    } else if (m.role == "assistant" && !m.tool_calls.empty()) {
      header("assistant");
      for (std::size_t i = 0; i < m.tool_calls.size(); ++i) {
        if (i) out += '\n';
        out += call_json(m.tool_calls[i], "parameters", false);
      }
    } else {
      header(m.role);
      if (m.role == "user" && !tools_written) {
        out += kLlamaToolPrompt;
        for (const ToolSpec& t : tools) out += py_dumps(tool_json(t), 4) + "\n\n";
        tools_written = true;
      }
      out += strip(m.content);
    }
    out += "<|eot_id|>";
  }
  if (gen) header("assistant");
  return out;
}

std::string render_chatml(std::span<const ChatMessage> msgs, std::span<const ToolSpec> tools, bool gen) {
  std::string out;
  std::size_t first = 0;
  if (!tools.empty()) {
    const bool has_system = !msgs.empty() && msgs[0].role == "system";
    out += "<|im_start|>system\n";
    out += has_system ? msgs[0].content : std::string(kQwenDefaultSystem);
    out += "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with "
           "function signatures within <tools></tools> XML tags:\n<tools>";
    for (const ToolSpec& t : tools) {
      out += '\n';
      out += py_dumps(tool_json(t));
    }
    out += "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
           "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
           "<args-json-object>}\n</tool_call><|im_end|>\n";
    first = has_system ? 1 : 0;
  }
  for (std::size_t i = first; i < msgs.size(); ++i) {
    const ChatMessage& m = msgs[i];
    if (m.role == "tool") {
      if (i == 0 || msgs[i - 1].role != "tool") out += "<|im_start|>user";
      out += "\n<tool_response>\n" + m.content + "\n</tool_response>";
      if (i + 1 == msgs.size() || msgs[i + 1].role != "tool") out += "<|im_end|>\n";
    } else if (m.role == "assistant" && !m.tool_calls.empty()) {
      out += "<|im_start|>assistant";
      if (!m.content.empty()) out += "\n" + m.content;
      for (const ToolCall& c : m.tool_calls) {
        out += "\n<tool_call>\n";
        out += call_json(c, "arguments", false);
        out += "\n</tool_call>";
      }
      out += "<|im_end|>\n";
    } else {
      out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
    }
  }
  if (gen) out += "<|im_start|>assistant\n";
  return out;
}

std::string render_mistral(std::span<const ChatMessage> msgs, std::span<const ToolSpec> tools, const std::string& eos) {
  std::string system;
  std::size_t first = 0;
  if (!msgs.empty() && msgs[0].role == "system") {
    system = msgs[0].content;
    first = 1;
  }
  std::size_t last_user = msgs.size();
  for (std::size_t i = first; i < msgs.size(); ++i)
    if (msgs[i].role == "user") last_user = i;
  std::string out;
  for (std::size_t i = first; i < msgs.size(); ++i) {
    const ChatMessage& m = msgs[i];
    if (m.role == "user") {
      if (i == last_user && !tools.empty()) {
        out += "[AVAILABLE_TOOLS] [";
        for (std::size_t t = 0; t < tools.size(); ++t) {
          if (t) out += ", ";
          out += py_dumps(tool_json(tools[t]));
        }
        out += "][/AVAILABLE_TOOLS]";
      }
      out += "[INST] ";
      if (i == last_user && !system.empty()) out += system + "\n\n";
      out += m.content;
      out += "[/INST]";
    } else if (m.role == "assistant" && !m.tool_calls.empty()) {
      out += "[TOOL_CALLS] [";
      for (std::size_t c = 0; c < m.tool_calls.size(); ++c) {
        if (c) out += ", ";
        out += call_json(m.tool_calls[c], "arguments", true);
      }
      out += "]" + eos;
    } else if (m.role == "assistant") {
      out += ' ';
      out += strip(m.content);
      out += eos;
    } else if (m.role == "tool") {
      out += "[TOOL_RESULTS] {\"content\": ";
      out += Json(m.content).dump(-1, ' ', false);
      out += ", \"call_id\": ";
      out += Json(m.tool_call_id).dump(-1, ' ', false);
      out += "}[/TOOL_RESULTS]";
    } else {
      throw Error(ErrorCode::InvalidArgument, "tools (mistral): a '" + m.role + "' message can only come first");
    }
  }
  return out;
}

std::string trigger(Family f) {
  return f == Family::Llama3 ? "{" : f == Family::ChatML ? "<tool_call>" : "[TOOL_CALLS]";
}

}  // namespace

ToolFormat ToolFormat::for_template(const ChatTemplate& t) {
  const Family f = t.family();
  if (f != Family::Llama3 && f != Family::ChatML && f != Family::Mistral)
    throw Error(ErrorCode::Unsupported, "tools: the chat template family '" + std::string(t.name()) +
                                            "' has no tool-call format (supported: llama3, chatml (Qwen/Hermes), mistral)");
  return ToolFormat(t);
}

std::string ToolFormat::apply(std::span<const ChatMessage> msgs, std::span<const ToolSpec> tools, bool gen) const {
  for (const ChatMessage& m : msgs)
    if (m.role != "system" && m.role != "user" && m.role != "assistant" && m.role != "tool")
      throw Error(ErrorCode::InvalidArgument, "tools: unknown role '" + m.role + "'");
  switch (template_.family()) {
    case Family::Llama3: return render_llama3(msgs, tools, gen);
    case Family::ChatML: return render_chatml(msgs, tools, gen);
    default: return render_mistral(msgs, tools, template_.eos_text());
  }
}

std::vector<TokenId> ToolFormat::encode(const Tokenizer& tokenizer, std::span<const ChatMessage> msgs,
                                        std::span<const ToolSpec> tools, bool gen) const {
  std::vector<TokenId> ids = tokenizer.encode(apply(msgs, tools, gen), /*add_special=*/false, /*parse_special=*/true);
  const TokenId bos = tokenizer.special().bos;
  if ((tokenizer.special().add_bos || template_.starts_with_bos()) && bos != kNoToken) ids.insert(ids.begin(), bos);
  return ids;
}

std::string ToolFormat::grammar(std::span<const ToolSpec> tools, ToolChoice choice, std::string_view name,
                                bool parallel) const {
  if (tools.empty()) throw Error(ErrorCode::InvalidArgument, "tools: a tool grammar needs at least one tool");
  const Family f = template_.family();
  const char* args_key = f == Family::Llama3 ? "parameters" : "arguments";
  std::string rules, call;
  bool found = false;
  for (std::size_t i = 0; i < tools.size(); ++i) {
    tool_json(tools[i]);  // checks the name and the parameters
    if (choice == ToolChoice::Named && tools[i].name != name) continue;
    found = true;
    const std::string args = "args-" + std::to_string(i);
    rules += json_schema_rules(tools[i].parameters.empty() ? "{\"type\":\"object\"}" : tools[i].parameters, args);
    std::string body = detail::gbnf_literal("{\"name\": " + Json(tools[i].name).dump(-1, ' ', false) + ", \"" + args_key + "\": ") +
                       " " + args + " " + detail::gbnf_literal("}");
    if (f == Family::ChatML) body = detail::gbnf_literal("<tool_call>\n") + " " + body + " " + detail::gbnf_literal("\n</tool_call>");
    call += (call.empty() ? "" : " | ") + body;
  }
  if (!found) throw Error(ErrorCode::InvalidArgument, "tools: tool_choice names '" + std::string(name) + "', which is not a tool");
  std::string calls;
  switch (f) {
    case Family::Llama3: calls = "call"; break;
    case Family::ChatML: calls = parallel ? "call (\"\\n\" call)*" : "call"; break;
    default: calls = parallel ? "\"[TOOL_CALLS] [\" call (\", \" call)* \"]\"" : "\"[TOOL_CALLS] [\" call \"]\""; break;
  }
  std::string root = "root ::= " + calls + "\n";
  if (choice == ToolChoice::Auto) {
    const std::string first(1, trigger(f)[0]);
    root = "root ::= " + calls + " | text\ntext ::= ([^" + (first == "[" ? std::string("\\[") : first) + "] .*)?\n";
  }
  return root + "call ::= " + call + "\n" + rules + json_library_gbnf();
}

bool ToolFormat::may_start_call(std::string_view prefix) const {
  const std::string t = trigger(template_.family());
  const auto b = prefix.find_first_not_of(" \t\n\r");
  if (b == std::string_view::npos) return true;
  prefix.remove_prefix(b);
  return prefix.size() <= t.size() ? t.compare(0, prefix.size(), prefix) == 0 : prefix.substr(0, t.size()) == t;
}

ParsedReply ToolFormat::parse(std::string_view reply) const {
  ParsedReply r;
  auto to_call = [](const Json& j, const char* args_key) -> std::optional<ToolCall> {
    if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return std::nullopt;
    const char* key = j.contains(args_key) ? args_key : "arguments";
    if (!j.contains(key) || !j[key].is_object()) return std::nullopt;
    return ToolCall{"", j["name"].get<std::string>(), j[key].dump(-1, ' ', false)};
  };
  const Family f = template_.family();
  const std::string text = strip(reply);
  try {
    if (f == Family::Llama3 && !text.empty() && text[0] == '{') {
      if (auto c = to_call(Json::parse(text), "parameters")) {
        r.calls.push_back(*c);
        return r;
      }
    } else if (f == Family::Mistral && text.rfind("[TOOL_CALLS]", 0) == 0) {
      const Json arr = Json::parse(text.substr(12));
      for (const Json& j : arr)
        if (auto c = to_call(j, "arguments")) r.calls.push_back(*c);
      if (!r.calls.empty()) return r;
    } else if (f == Family::ChatML) {
      std::string content;
      std::size_t at = 0;
      while (true) {
        const std::size_t open = text.find("<tool_call>", at);
        const std::size_t close = open == std::string::npos ? open : text.find("</tool_call>", open);
        if (close == std::string::npos) break;
        auto c = to_call(Json::parse(text.substr(open + 11, close - open - 11)), "arguments");
        if (!c) break;
        content += text.substr(at, open - at);
        r.calls.push_back(*c);
        at = close + 12;
      }
      if (!r.calls.empty()) {
        r.content = strip(content + text.substr(at));
        return r;
      }
    }
  } catch (const nlohmann::json::exception&) {
    r.calls.clear();  // not a well-formed call: the reply is text
  }
  r.content = std::string(reply);
  return r;
}

}  // namespace inkling
