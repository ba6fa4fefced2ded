// JSON Schema -> GBNF: a grammar whose every complete text is a JSON value that
// validates against the schema.
//
// Supported: type (object, array, string, number, integer, boolean, null, or a list of
// them), properties, required, additionalProperties (false; true, a schema, or absent:
// after the listed properties, any number of other keys, never one of the listed names,
// with values of that schema, any value for true / absent), enum, const, anyOf, oneOf
// (when its alternatives provably exclude each other: different types, different
// consts or enum values, integer ranges that do not meet, or object alternatives told
// apart by a property; otherwise refused with Error(Unsupported) naming the two
// alternatives, as a grammar can only offer their union), $ref to "#", "#/$defs/..." or
// "#/definitions/..." (recursion included), items,
// minItems, maxItems, minLength, maxLength, minimum / maximum / exclusiveMinimum /
// exclusiveMaximum on integers, and string format date, time, date-time and uuid.
// Annotations (title, description, default, examples, $schema, $id, $comment, ...) are
// ignored. Every other keyword is refused with Error(Unsupported) naming it and where it
// is (a JSON pointer), never silently dropped.
//
// Properties come out in the schema's order; required ones always, optional ones may be
// left out. Extra keys are written canonically (escapes only where JSON needs them), so
// that "not a listed name" can be decided on the text; they may repeat one another (a
// grammar cannot remember every key written so far). Numbers are bounded in length (16 significant digits, 3 exponent digits) so
// that a generation can always end.
#pragma once

#include <string>
#include <string_view>

namespace inkling {

enum class JsonWhitespace {
  Compact,   // no whitespace at all between tokens: {"a":1,"b":[2,3]}
  Flexible,  // optional whitespace after { [ , : and before } ] (at most one newline + 16 blanks)
};

struct JsonSchemaOptions {
  JsonWhitespace whitespace = JsonWhitespace::Compact;
};

// Error(InvalidArgument) for text that is not JSON or a schema that is malformed (a
// keyword with the wrong type, a $ref that does not resolve, `false`, an empty enum),
// Error(Unsupported) for a keyword outside the list above.
std::string json_schema_to_gbnf(std::string_view schema_json, const JsonSchemaOptions& options = {});

// For grammars that embed several schemas (tool calls): the schema's rules alone, its
// value being the rule `name` and every helper rule named `name`-..., to be combined
// with the rules of json_library_gbnf() (rules: value, object, array, string, char,
// number, integer, boolean, null, date, time, date-time, uuid, and ws when flexible).
std::string json_schema_rules(std::string_view schema_json, std::string_view name, const JsonSchemaOptions& options = {});
std::string json_library_gbnf(const JsonSchemaOptions& options = {});

// Any JSON value (object_only: any JSON object, OpenAI's "json_object" mode).
std::string json_any_gbnf(bool object_only = false, const JsonSchemaOptions& options = {});

}  // namespace inkling
