// The C ABI of grammars: checking a GBNF text (with the error's position) and turning a
// JSON Schema into GBNF. Generators take both through ink_generator_params.
#include "capi_support.hpp"
#include "inkling/grammar.hpp"
#include "inkling/json_schema.hpp"

using namespace inkling::capi;

extern "C" {

ink_status ink_grammar_check(const char* gbnf, size_t len, int32_t* line, int32_t* column) {
  return guard([&]() -> ink_status {
    if (line) *line = 0;
    if (column) *column = 0;
    if (!gbnf) return null_arg("ink_grammar_check", "gbnf");
    try {
      inkling::Grammar::parse(std::string_view(gbnf, len));
    } catch (const inkling::GrammarError& e) {
      if (line) *line = e.line();
      if (column) *column = e.column();
      throw;
    }
    return INK_OK;
  });
}

ink_status ink_json_schema_to_grammar(const char* schema, size_t len, int32_t flexible, char* buf, size_t cap,
                                      size_t* len_out) {
  return guard([&]() -> ink_status {
    if (!schema) return null_arg("ink_json_schema_to_grammar", "schema");
    inkling::JsonSchemaOptions o;
    if (flexible) o.whitespace = inkling::JsonWhitespace::Flexible;
    return copy_out("ink_json_schema_to_grammar", inkling::json_schema_to_gbnf(std::string_view(schema, len), o), buf, cap,
                    len_out);
  });
}

}  // extern "C"
