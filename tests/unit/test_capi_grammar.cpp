// Grammars and JSON Schemas through the C ABI: the generator params, the error position
// of a bad grammar, the schema conversion, and refused combinations.
#include <doctest/doctest.h>

#include <cstring>
#include <string>

#include "inkling.h"
#include "shared_data.hpp"

namespace {

std::string generate(ink_model* m, ink_generator_params p, ink_stop_reason* reason) {
  ink_generator* g = nullptr;
  REQUIRE(ink_generator_create(m, &p, &g) == INK_OK);
  REQUIRE(ink_generate(g, "Once upon a time", 16, nullptr, nullptr) == INK_OK);
  size_t len = 0;
  REQUIRE(ink_generator_text(g, nullptr, 0, &len) == INK_OK);
  std::string text(len, '\0');
  REQUIRE(ink_generator_text(g, text.data(), text.size() + 1, &len) == INK_OK);
  *reason = ink_generator_stop_reason(g);
  ink_generator_free(g);
  return text;
}

}  // namespace

TEST_CASE("C ABI: a grammar constrains the output; a bad one reports its position") {
  auto path = inkling::test::require_shared("models/stories260K-f32.gguf");
  if (!path) return;
  ink_model* m = nullptr;
  REQUIRE(ink_model_load(path->string().c_str(), nullptr, &m) == INK_OK);
  ink_generator_params p = ink_generator_params_default();
  p.temperature = 0;
  p.max_new_tokens = 30;
  ink_stop_reason reason = INK_STOP_NONE;
  const std::string free_text = generate(m, p, &reason);
  p.grammar = "root ::= \" and\" (\" \" [a-z]+){2} \".\"";
  const std::string constrained = generate(m, p, &reason);
  CHECK(constrained != free_text);
  CHECK(constrained.rfind(" and ", 0) == 0);
  CHECK(constrained.back() == '.');
  CHECK(reason == INK_STOP_END_OF_SEQUENCE);

  p.grammar = "root ::= \"x\"\nbad ::= (\"y\"";
  ink_generator* g = nullptr;
  CHECK(ink_generator_create(m, &p, &g) == INK_ERR_INVALID_ARGUMENT);
  CHECK(g == nullptr);
  CHECK(std::string(ink_last_error()).find("line 2, column 9") != std::string::npos);
  int32_t line = 0, column = 0;
  CHECK(ink_grammar_check(p.grammar, std::strlen(p.grammar), &line, &column) == INK_ERR_INVALID_ARGUMENT);
  CHECK(line == 2);
  CHECK(column == 9);
  CHECK(ink_grammar_check("root ::= [a-z]", 14, &line, &column) == INK_OK);
  CHECK(line == 0);
  CHECK(ink_grammar_check(nullptr, 0, nullptr, nullptr) == INK_ERR_INVALID_ARGUMENT);

  // A grammar that cannot end in 30 tokens.
  p.grammar = "root ::= [a-z ]{200}";
  generate(m, p, &reason);
  CHECK(reason == INK_STOP_GRAMMAR_INCOMPLETE);

  // JSON Schema, compact and flexible.
  p.grammar = nullptr;
  p.json_schema = R"({"type":"object","properties":{"n":{"type":"integer","minimum":1,"maximum":9}},"required":["n"],
                       "additionalProperties":false})";
  p.temperature = 1;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    p.seed = seed;
    const std::string json = generate(m, p, &reason);
    CHECK(reason == INK_STOP_END_OF_SEQUENCE);
    CHECK(json.size() == 7);
    CHECK(json.rfind("{\"n\":", 0) == 0);
    CHECK(json[5] >= '1');
    CHECK(json[5] <= '9');
  }
  p.json_whitespace_flexible = 1;
  CHECK(ink_generator_create(m, &p, &g) == INK_OK);
  ink_generator_free(g);

  // Refused combinations and schemas.
  p.grammar = "root ::= \"x\"";
  CHECK(ink_generator_create(m, &p, &g) == INK_ERR_INVALID_ARGUMENT);
  p.grammar = nullptr;
  p.json_schema = nullptr;
  CHECK(ink_generator_create(m, &p, &g) == INK_ERR_INVALID_ARGUMENT);  // flexible without a schema
  p.json_whitespace_flexible = 0;
  p.json_schema = R"({"type":"string","pattern":"a+"})";
  CHECK(ink_generator_create(m, &p, &g) == INK_ERR_UNSUPPORTED);
  CHECK(std::string(ink_last_error()).find("'pattern'") != std::string::npos);
  ink_model_free(m);
}

TEST_CASE("C ABI: JSON Schema to grammar with a size query") {
  const char* schema = R"({"type":"boolean"})";
  size_t len = 0;
  REQUIRE(ink_json_schema_to_grammar(schema, std::strlen(schema), 0, nullptr, 0, &len) == INK_OK);
  std::string gbnf(len, '\0');
  REQUIRE(ink_json_schema_to_grammar(schema, std::strlen(schema), 0, gbnf.data(), len + 1, &len) == INK_OK);
  CHECK(gbnf.rfind("root ::= boolean", 0) == 0);
  CHECK(ink_grammar_check(gbnf.data(), gbnf.size(), nullptr, nullptr) == INK_OK);
  CHECK(ink_json_schema_to_grammar("{", 1, 0, nullptr, 0, &len) == INK_ERR_INVALID_ARGUMENT);
  CHECK(ink_json_schema_to_grammar(nullptr, 0, 0, nullptr, 0, &len) == INK_ERR_INVALID_ARGUMENT);
}
