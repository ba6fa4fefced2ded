// JSON Schema -> GBNF: what the grammars accept and refuse, integer ranges against brute
// force, and the errors for unsupported or malformed schemas.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "grammar/int_range.hpp"
#include "inkling/error.hpp"
#include "inkling/grammar.hpp"
#include "inkling/json_schema.hpp"

using namespace inkling;

namespace {

struct Checker {
  Grammar g;
  explicit Checker(const std::string& schema, JsonSchemaOptions o = {}) : g(Grammar::parse(json_schema_to_gbnf(schema, o))) {}
  bool operator()(std::string_view text) const {
    GrammarMatcher m(g);
    return m.accept(text) && m.can_end();
  }
};

std::string error_of(const std::string& schema, ErrorCode code) {
  try {
    json_schema_to_gbnf(schema);
  } catch (const Error& e) {
    CHECK(e.code() == code);
    return e.what();
  }
  FAIL_CHECK("no error for " << schema);
  return "";
}

}  // namespace

TEST_CASE("json schema: objects with required and optional properties in order") {
  const Checker ok(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{"type":"boolean"}},
                       "required":["b"],"additionalProperties":false})");
  CHECK(ok(R"({"b":"x"})"));
  CHECK(ok(R"({"a":-5,"b":"x"})"));
  CHECK(ok(R"({"a":1,"b":"","c":true})"));
  CHECK(ok(R"({"b":"y","c":false})"));
  CHECK_FALSE(ok(R"({})"));                 // b is required
  CHECK_FALSE(ok(R"({"a":1})"));
  CHECK_FALSE(ok(R"({"b":"x","a":1})"));    // schema order
  CHECK_FALSE(ok(R"({"b":"x",})"));
  CHECK_FALSE(ok(R"({"b":"x","d":1})"));
  CHECK_FALSE(ok(R"({"b": "x"})"));         // compact by default
  const Checker all_optional(R"({"properties":{"a":{"type":"null"},"b":{"type":"null"}}})");
  CHECK(all_optional("{}"));
  CHECK(all_optional(R"({"b":null})"));
  CHECK(all_optional(R"({"a":null,"b":null})"));
  CHECK_FALSE(all_optional(R"({,"b":null})"));
}

TEST_CASE("json schema: flexible whitespace") {
  JsonSchemaOptions o;
  o.whitespace = JsonWhitespace::Flexible;
  const Checker ok(R"({"type":"object","properties":{"a":{"type":"array","items":{"type":"number"}}},"required":["a"]})", o);
  CHECK(ok("{\n  \"a\": [1, 2.5e-3,\n    -0.25]\n}"));
  CHECK(ok(R"({"a":[]})"));
  CHECK_FALSE(ok(R"({"a":[1 2]})"));
}

TEST_CASE("json schema: strings, formats, enum, const, anyOf") {
  const Checker len(R"({"type":"string","minLength":2,"maxLength":3})");
  CHECK(len(R"("ab")"));
  CHECK(len(R"("a\nc")"));
  CHECK(len(R"("\u00e9t\u00e9")"));
  CHECK_FALSE(len(R"("a")"));
  CHECK_FALSE(len(R"("abcd")"));
  const Checker date(R"({"type":"string","format":"date"})");
  CHECK(date(R"("2024-02-28")"));
  CHECK_FALSE(date(R"("2024-02-30")"));
  CHECK_FALSE(date(R"("2024-13-01")"));
  const Checker dt(R"({"type":"string","format":"date-time"})");
  CHECK(dt(R"("2024-05-31T23:59:08.5+02:00")"));
  CHECK_FALSE(dt(R"("2024-05-31 23:59:08Z")"));
  const Checker time(R"({"format":"time"})");
  CHECK(time(R"("07:00:00Z")"));
  const Checker uuid(R"({"type":"string","format":"uuid"})");
  CHECK(uuid(R"("123e4567-e89b-12d3-a456-426614174000")"));
  CHECK_FALSE(uuid(R"("123e4567-e89b-12d3-a456-42661417400")"));
  const Checker e(R"({"enum":["red", 3, null, {"k":[1]}]})");
  CHECK(e(R"("red")"));
  CHECK(e("3"));
  CHECK(e("null"));
  CHECK(e(R"({"k":[1]})"));
  CHECK_FALSE(e(R"("blue")"));
  const Checker c(R"({"const":"a\"b"})");
  CHECK(c(R"("a\"b")"));
  const Checker any(R"({"anyOf":[{"type":"integer"},{"type":"array","items":{"type":"string"},"maxItems":2}]})");
  CHECK(any("12"));
  CHECK(any(R"(["x","y"])"));
  CHECK_FALSE(any(R"(["x","y","z"])"));
  CHECK_FALSE(any("1.5"));
  const Checker multi(R"({"type":["string","null"]})");
  CHECK(multi("null"));
  CHECK(multi(R"("s")"));
}

TEST_CASE("json schema: arrays with bounds, $ref recursion, free-form objects") {
  const Checker arr(R"({"type":"array","items":{"type":"boolean"},"minItems":2,"maxItems":3})");
  CHECK(arr("[true,false]"));
  CHECK(arr("[true,false,true]"));
  CHECK_FALSE(arr("[true]"));
  CHECK_FALSE(arr("[true,true,true,true]"));
  CHECK_FALSE(arr("[]"));
  const Checker tree(R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
      "kids":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["v","kids"]}},"$ref":"#/$defs/node"})");
  CHECK(tree(R"({"v":1,"kids":[{"v":2,"kids":[]},{"v":3,"kids":[{"v":4,"kids":[]}]}]})"));
  CHECK_FALSE(tree(R"({"v":1,"kids":[{"v":2}]})"));
  const Checker dict(R"({"type":"object","additionalProperties":{"type":"integer"}})");
  CHECK(dict(R"({"x":1,"y":2})"));
  CHECK(dict("{}"));
  CHECK_FALSE(dict(R"({"x":"1"})"));
  const Checker anything("{}");
  CHECK(anything(R"([{"a":null},1.5e3,"x",true])"));
  CHECK(Grammar::parse(json_any_gbnf(true)).rule_count() > 0);
  GrammarMatcher obj(Grammar::parse(json_any_gbnf(true)));
  CHECK_FALSE(obj.accept("[1]"));
}

TEST_CASE("json schema: integer bounds match exactly the integers in range") {
  const std::optional<long long> none;
  const std::pair<std::optional<long long>, std::optional<long long>> ranges[] = {
      {0, 9}, {1, 100}, {-37, 415}, {-1000, -7}, {7, none}, {none, -3}, {none, 12}, {99, 1001}, {0, 0}, {-5, 5}, {130, 1299}};
  for (const auto& [lo, hi] : ranges) {
    const Grammar g = Grammar::parse("root ::= " + detail::int_range_gbnf(lo, hi));
    for (long long v = -1500; v <= 1500; ++v) {
      GrammarMatcher m(g);
      const bool in = (!lo || v >= *lo) && (!hi || v <= *hi);
      const bool ok = m.accept(std::to_string(v)) && m.can_end();
      if (ok != in) FAIL_CHECK("range [" << (lo ? *lo : -999999) << ", " << (hi ? *hi : 999999) << "] value " << v);
    }
    GrammarMatcher lead(g);
    CHECK_FALSE((lead.accept("007") && lead.can_end()));
    GrammarMatcher neg0(g);
    CHECK_FALSE((neg0.accept("-0") && neg0.can_end()));
  }
  const Checker schema(R"({"type":"integer","exclusiveMinimum":-3,"maximum":20.5})");
  CHECK(schema("-2"));
  CHECK(schema("20"));
  CHECK_FALSE(schema("-3"));
  CHECK_FALSE(schema("21"));
}

TEST_CASE("json schema: unsupported keywords are named, malformed schemas refused") {
  CHECK(error_of(R"({"type":"string","pattern":"^a"})", ErrorCode::Unsupported).find("'pattern' at #") != std::string::npos);
  CHECK(error_of(R"({"properties":{"x":{"allOf":[{}]}}})", ErrorCode::Unsupported).find("'allOf' at #/properties/x") !=
        std::string::npos);
  CHECK(error_of(R"({"type":"number","minimum":1})", ErrorCode::Unsupported).find("minimum") != std::string::npos);
  CHECK(error_of(R"({"type":"string","format":"email"})", ErrorCode::Unsupported).find("'email'") != std::string::npos);
  CHECK(error_of(R"({"type":"array","items":[{}]})", ErrorCode::Unsupported).find("tuple") != std::string::npos);
  CHECK(error_of(R"({"required":["x"]})", ErrorCode::Unsupported).find("'x'") != std::string::npos);
  CHECK(error_of(R"({"$ref":"#/$defs/missing"})", ErrorCode::InvalidArgument).find("does not resolve") != std::string::npos);
  CHECK(error_of(R"({"$ref":"http://x/y"})", ErrorCode::Unsupported).find("local references") != std::string::npos);
  CHECK(error_of(R"({"type":"thing"})", ErrorCode::InvalidArgument).find("unknown type 'thing'") != std::string::npos);
  CHECK(error_of(R"({"enum":[]})", ErrorCode::InvalidArgument).find("enum") != std::string::npos);
  CHECK(error_of(R"({"type":"integer","minimum":5,"maximum":2})", ErrorCode::InvalidArgument).find("empty") != std::string::npos);
  CHECK(error_of(R"({"type":"string","minLength":-1})", ErrorCode::InvalidArgument).find("minLength") != std::string::npos);
  CHECK(error_of("false", ErrorCode::InvalidArgument).find("false") != std::string::npos);
  CHECK(error_of("{\"type\":", ErrorCode::InvalidArgument).find("not valid JSON") != std::string::npos);
  CHECK(error_of(R"({"required":"x"})", ErrorCode::InvalidArgument).find("required") != std::string::npos);
}

TEST_CASE("json schema: properties with additionalProperties allow other keys after the listed ones") {
  // Absent (as true): any other key with any value; the listed keys keep their schemas.
  const Checker open(R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["a"]})");
  CHECK(open(R"({"a":1})"));
  CHECK(open(R"({"a":1,"b":"x","c":[true],"d":{}})"));
  CHECK(open(R"({"a":1,"bb":null,"":2,"\"":3})"));
  CHECK(open(R"({"a":1,"\n":0,"\u001f":1,"é":2})"));
  CHECK_FALSE(open(R"({"a":1,"a":2})"));       // a listed key is not an extra key
  CHECK_FALSE(open(R"({"a":1,"b":1})"));       // ... so its schema holds
  CHECK_FALSE(open(R"({"a":1,"\u0062":1})"));  // not even written another way (keys are canonical)
  CHECK_FALSE(open(R"({"a":1,"\/":1})"));
  CHECK_FALSE(open(R"({"c":1})"));             // a is still required
  CHECK_FALSE(open(R"({"c":1,"a":1})"));       // listed properties first
  const Checker open_true(R"({"properties":{"a":{"type":"integer"}},"additionalProperties":true})");
  CHECK(open_true("{}"));
  CHECK(open_true(R"({"x":"y"})"));
  CHECK(open_true(R"({"a":1,"x":"y","z":2})"));
  CHECK_FALSE(open_true(R"({"a":"1"})"));
  CHECK_FALSE(open_true(R"({"x":1,"a":1})"));
  CHECK_FALSE(open_true(R"({,"x":1})"));
  // A schema: the extra values follow it.
  const Checker typed(R"({"properties":{"name":{"type":"string"},"nam":{"type":"null"}},"required":["name"],
                          "additionalProperties":{"type":"integer","minimum":0}})");
  CHECK(typed(R"({"name":"n","count":3,"na":0,"names":1,"n":2})"));
  CHECK(typed(R"({"name":"n","nam":null,"x":0})"));
  CHECK_FALSE(typed(R"({"name":"n","count":-3})"));
  CHECK_FALSE(typed(R"({"name":"n","count":"3"})"));
  CHECK_FALSE(typed(R"({"name":"n","nam":1})"));
  CHECK_FALSE(typed(R"({"name":"n","name":1})"));
  // false: only the listed ones.
  const Checker closed(R"({"properties":{"a":{"type":"integer"}},"additionalProperties":false})");
  CHECK(closed("{}"));
  CHECK_FALSE(closed(R"({"x":1})"));
  // Flexible whitespace around the extra pairs too.
  JsonSchemaOptions o;
  o.whitespace = JsonWhitespace::Flexible;
  const Checker spaced(R"({"properties":{"a":{"type":"integer"}},"required":["a"]})", o);
  CHECK(spaced("{ \"a\": 1, \"b\": 2 }"));
  CHECK(error_of(R"({"properties":{"a":{}},"additionalProperties":{"pattern":"x"}})", ErrorCode::Unsupported)
            .find("'pattern' at #/additionalProperties") != std::string::npos);
}

TEST_CASE("json schema: oneOf is exclusive or refused") {
  // Provably disjoint alternatives: the union is exactly oneOf.
  const Checker types(R"({"oneOf":[{"type":"integer","exclusiveMinimum":0,"maximum":3},{"type":"boolean"},{"type":"null"}]})");
  CHECK(types("2"));
  CHECK(types("true"));
  CHECK(types("null"));
  CHECK_FALSE(types("0"));
  const Checker consts(R"({"oneOf":[{"const":"a"},{"enum":["b","c"]},{"type":"integer"}]})");
  CHECK(consts(R"("c")"));
  CHECK(consts("7"));
  const Checker ranges(R"({"oneOf":[{"type":"integer","maximum":-1},{"type":"integer","minimum":0,"maximum":9},
                                     {"type":"integer","minimum":10}]})");
  CHECK(ranges("-4"));
  CHECK(ranges("5"));
  CHECK(ranges("12"));
  const Checker tagged(R"({"$defs":{"circle":{"type":"object","properties":{"kind":{"const":"circle"},"r":{"type":"number"}},
                           "required":["kind","r"]},
                           "square":{"type":"object","properties":{"kind":{"const":"square"},"side":{"type":"number"}},
                           "required":["kind","side"]}},
                          "oneOf":[{"$ref":"#/$defs/circle"},{"$ref":"#/$defs/square"}]})");
  CHECK(tagged(R"({"kind":"circle","r":1})"));
  CHECK(tagged(R"({"kind":"square","side":2})"));
  CHECK_FALSE(tagged(R"({"kind":"square","r":1})"));
  const Checker closed(R"({"oneOf":[{"properties":{"a":{"type":"integer"}},"required":["a"],"additionalProperties":false},
                                     {"properties":{"b":{"type":"integer"}},"required":["b"],"additionalProperties":false}]})");
  CHECK(closed(R"({"a":1})"));
  CHECK(closed(R"({"b":1})"));
  // Overlap (or overlap that cannot be ruled out): refused, naming oneOf and the pair.
  for (const char* schema : {R"({"oneOf":[{"type":"integer"},{"type":"number"}]})",
                             R"({"oneOf":[{"type":"string"},{"type":"string","maxLength":3}]})",
                             R"({"oneOf":[{"type":"integer","minimum":0},{"type":"integer","maximum":0}]})",
                             R"({"oneOf":[{"const":1},{"enum":[2,1.0]}]})",
                             R"({"oneOf":[{"const":5},{"type":"integer"}]})",
                             R"({"oneOf":[{"type":"object","properties":{"a":{"type":"integer"}}},{"type":"object"}]})",
                             R"({"oneOf":[{},{"type":"null"}]})"}) {
    const std::string e = error_of(schema, ErrorCode::Unsupported);
    CHECK_MESSAGE(e.find("oneOf at #/oneOf: alternatives 0 and 1 may both match") != std::string::npos, e);
  }
  CHECK(error_of(R"({"properties":{"x":{"oneOf":[{"type":"null"},{"type":"boolean"},{"enum":[null,2]}]}}})",
                 ErrorCode::Unsupported)
            .find("oneOf at #/properties/x/oneOf: alternatives 0 and 2 may both match") != std::string::npos);
  // anyOf stays a plain union.
  CHECK(Checker(R"({"anyOf":[{"type":"integer"},{"type":"number"}]})")("1"));
}
