// Structured output over real HTTP: response_format json_object / json_schema, tools
// with tool_choice required / named (tool_calls in OpenAI's shape, streamed too), tool
// results in the history, and the 400s for what cannot be served.
#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <string>
#include <thread>
#include <vector>

#include "running_server.hpp"
#include "inkling/inkling.hpp"
#include "shared_data.hpp"

using namespace inkling;
using nlohmann::json;

namespace {

using test::RunningServer;
using test::sse_chunks;

// A server for tool prompts, which are long for the tiny model's 128 positions: its
// context is stretched to 2048.
server::ServerOptions tool_options(std::string chat_template) {
  server::ServerOptions o;
  o.batch.max_sequences = 4;
  o.batch.n_ctx = 2048;
  o.batch.rope_scale = 16;
  o.chat_template = std::move(chat_template);
  return o;
}

json chat_post(const RunningServer& s, const json& body, int expect_status = 200) {
  auto res = s.post("/v1/chat/completions", body);
  REQUIRE(res);
  INFO(res->body);
  CHECK(res->status == expect_status);
  return body.value("stream", false) ? json(res->body) : json::parse(res->body);
}

// Sent as written, so the server sees the keys in the order the test wrote them.
json chat_post_raw(const RunningServer& s, const std::string& body) {
  auto res = s.post_text("/v1/chat/completions", body);
  REQUIRE(res);
  INFO(res->body);
  CHECK(res->status == 200);
  return json::parse(res->body);
}

const json kWeatherTool = {{"type", "function"},
                           {"function",
                            {{"name", "get_weather"},
                             {"description", "Weather of a city"},
                             {"parameters",
                              {{"type", "object"},
                               {"properties", {{"city", {{"type", "string"}, {"maxLength", 10}}}, {"days", {{"type", "integer"}, {"minimum", 1}, {"maximum", 7}}}}},
                               {"required", {"city", "days"}},
                               {"additionalProperties", false}}}}}};

json user_turn(const std::string& text) { return json::array({{{"role", "user"}, {"content", text}}}); }

}  // namespace

TEST_CASE("server: response_format json_schema and json_object") {
  auto model = test::stories_model();
  if (!model) return;
  RunningServer s(model, tool_options("chatml"));
  const json schema = {{"type", "object"},
                       {"properties", {{"name", {{"type", "string"}, {"maxLength", 8}}}, {"n", {{"type", "integer"}, {"minimum", 0}, {"maximum", 99}}}}},
                       {"required", {"name", "n"}},
                       {"additionalProperties", false}};
  int complete = 0;
  for (int seed = 0; seed < 5; ++seed) {
    const json r = chat_post(s, {{"messages", user_turn("Tell me")}, {"seed", seed}, {"max_tokens", 150},
                           {"response_format", {{"type", "json_schema"}, {"json_schema", {{"name", "x"}, {"schema", schema}, {"strict", true}}}}}});
    const json& choice = r["choices"][0];
    if (choice["finish_reason"] != "stop") continue;
    const json v = json::parse(choice["message"]["content"].get<std::string>());
    CHECK(v.size() == 2);
    CHECK(v["name"].get<std::string>().size() <= 8 * 4);
    CHECK(v["n"].get<int>() >= 0);
    CHECK(v["n"].get<int>() <= 99);
    ++complete;
  }
  CHECK(complete >= 3);
  const json o = chat_post(s, {{"messages", user_turn("Tell me")}, {"seed", 1}, {"max_tokens", 100}, {"response_format", {{"type", "json_object"}}}});
  if (o["choices"][0]["finish_reason"] == "stop") CHECK(json::parse(o["choices"][0]["message"]["content"].get<std::string>()).is_object());
  else CHECK(o["choices"][0]["message"]["content"].get<std::string>().rfind("{", 0) == 0);
  // Refused: unsupported keywords, unknown types.
  const json e = chat_post(s, {{"messages", user_turn("x")}, {"response_format", {{"type", "json_schema"}, {"json_schema", {{"schema", {{"type", "string"}, {"pattern", "a"}}}}}}}}, 400);
  CHECK(e["error"]["param"] == "response_format");
  CHECK(e["error"]["message"].get<std::string>().find("'pattern'") != std::string::npos);
  chat_post(s, {{"messages", user_turn("x")}, {"response_format", {{"type", "xml"}}}}, 400);
}

TEST_CASE("server: schemas keep the order their properties are written in") {
  auto model = test::stories_model();
  if (!model) return;
  RunningServer s(model, tool_options("chatml"));
  const std::string schema =
      R"({"type":"object","properties":{"zeta":{"const":1},"alpha":{"const":2},"mid":{"const":3}},)"
      R"("required":["zeta","alpha","mid"],"additionalProperties":false})";
  const json r = chat_post_raw(s, R"({"messages":[{"role":"user","content":"x"}],"max_tokens":40,"response_format":)"
                            R"({"type":"json_schema","json_schema":{"name":"o","schema":)" + schema + "}}}");
  CHECK(r["choices"][0]["message"]["content"] == R"({"zeta":1,"alpha":2,"mid":3})");
  const json t = chat_post_raw(s, R"({"messages":[{"role":"user","content":"x"}],"max_tokens":200,"tools":[{"type":"function",)"
                            R"("function":{"name":"f","parameters":)" + schema +
                            R"(}}],"parallel_tool_calls":false,"tool_choice":{"type":"function","function":{"name":"f"}}})");
  INFO(t.dump());
  REQUIRE(t["choices"][0]["message"]["tool_calls"].is_array());
  CHECK(t["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == R"({"zeta":1,"alpha":2,"mid":3})");
}

TEST_CASE("server: tools with tool_choice give tool_calls, streamed and not") {
  auto model = test::stories_model();
  if (!model) return;
  RunningServer s(model, tool_options("chatml"));
  const json base = {{"messages", user_turn("Weather in Oslo?")}, {"tools", json::array({kWeatherTool})}, {"max_tokens", 300},
                     {"tool_choice", "required"}, {"parallel_tool_calls", false}};
  int calls = 0;
  for (int seed = 0; seed < 4; ++seed) {
    json body = base;
    body["seed"] = seed;
    const json r = chat_post(s, body);
    const json& choice = r["choices"][0];
    if (choice["finish_reason"] == "length") continue;
    REQUIRE(choice["finish_reason"] == "tool_calls");
    const json& call = choice["message"]["tool_calls"][0];
    CHECK(call["type"] == "function");
    CHECK(call["id"].get<std::string>().rfind("call_", 0) == 0);
    CHECK(call["function"]["name"] == "get_weather");
    const json args = json::parse(call["function"]["arguments"].get<std::string>());
    CHECK(args["days"].get<int>() >= 1);
    CHECK(args["days"].get<int>() <= 7);
    ++calls;

    body["stream"] = true;  // the same seed streamed: the same call
    const auto chunks = sse_chunks(chat_post(s, body).get<std::string>());
    REQUIRE(chunks.size() >= 2);
    json streamed_call;
    std::string content;
    for (const json& c : chunks) {
      if (c["choices"].empty()) continue;
      const json& d = c["choices"][0]["delta"];
      if (d.contains("tool_calls")) streamed_call = d["tool_calls"][0];
      if (d.contains("content") && d["content"].is_string()) content += d["content"].get<std::string>();
    }
    CHECK(content.empty());
    CHECK(streamed_call["function"] == call["function"]);
    CHECK(chunks.back()["choices"][0]["finish_reason"] == "tool_calls");
  }
  CHECK(calls >= 2);

  // A named tool, and a conversation that carries a call and its result.
  json named = base;
  named["tool_choice"] = {{"type", "function"}, {"function", {{"name", "get_weather"}}}};
  named["messages"] = json::array({{{"role", "user"}, {"content", "Weather?"}},
                                   {{"role", "assistant"}, {"content", nullptr},
                                    {"tool_calls", json::array({{{"id", "call_1"}, {"type", "function"},
                                                                 {"function", {{"name", "get_weather"}, {"arguments", "{\"city\":\"Oslo\",\"days\":1}"}}}}})}},
                                   {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "sunny"}},
                                   {{"role", "user"}, {"content", "And tomorrow?"}}});
  named["seed"] = 2;
  const json n = chat_post(s, named);
  CHECK((n["choices"][0]["finish_reason"] == "tool_calls" || n["choices"][0]["finish_reason"] == "length"));

  // Refused: an unknown named tool, tools with a JSON response_format, tool_choice alone.
  json unknown = base;
  unknown["tool_choice"] = {{"type", "function"}, {"function", {{"name", "nope"}}}};
  CHECK(chat_post(s, unknown, 400)["error"]["param"] == "tool_choice");
  json both = base;
  both["response_format"] = {{"type", "json_object"}};
  chat_post(s, both, 400);
  chat_post(s, {{"messages", user_turn("x")}, {"tool_choice", "required"}}, 400);
}

TEST_CASE("server: tools are refused for a chat template without a tool format") {
  auto model = test::stories_model();
  if (!model) return;
  RunningServer s(model, tool_options("gemma"));
  const json e = chat_post(s, {{"messages", user_turn("x")}, {"tools", json::array({kWeatherTool})}}, 400);
  CHECK(e["error"]["param"] == "tools");
  CHECK(e["error"]["message"].get<std::string>().find("gemma") != std::string::npos);
}
