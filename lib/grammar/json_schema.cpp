// JSON Schema -> GBNF. Each schema becomes a GBNF expression (usually a rule of its
// own); $ref targets become one rule each, named before their body is built, which is
// what makes recursive schemas work.
#include "inkling/json_schema.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "grammar/gbnf_text.hpp"
#include "grammar/int_range.hpp"
#include "grammar/json_key_except.hpp"
#include "grammar/json_schema_disjoint.hpp"
#include "inkling/error.hpp"

namespace inkling {
namespace {

using Json = nlohmann::ordered_json;

// The rules every converted schema may use. W is replaced by the whitespace rule (or
// nothing when compact).
constexpr const char* kLibrary = R"(value ::= object | array | string | number | boolean | null
object ::= "{" W ( string W ":" W value ( "," W string W ":" W value )* )? W "}"
array ::= "[" W ( value ( "," W value )* )? W "]"
string ::= "\"" char* "\""
char ::= [^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4})
number ::= integer ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?
integer ::= "-"? ("0" | [1-9] [0-9]{0,15})
boolean ::= "true" | "false"
null ::= "null"
date ::= ( [1-9] [0-9]{3} | "0" [1-9] [0-9]{2} | "00" [1-9] [0-9] | "000" [1-9] ) "-" ( ("01" | "03" | "05" | "07" | "08" | "10" | "12") "-" ("0" [1-9] | [12] [0-9] | "3" [01]) | ("04" | "06" | "09" | "11") "-" ("0" [1-9] | [12] [0-9] | "30") | "02" "-" ("0" [1-9] | "1" [0-9] | "2" [0-8]) )
time ::= ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9] ":" [0-5] [0-9] ("." [0-9]{1,6})? ("Z" | [+-] ([01] [0-9] | "2" [0-3]) ":" [0-5] [0-9])
date-time ::= date "T" time
uuid ::= [0-9a-f]{8} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{12}
)";

const std::set<std::string, std::less<>> kAnnotations{
    "title", "description", "default", "examples", "$schema", "$id", "$comment", "deprecated", "readOnly", "writeOnly",
    "$defs", "definitions"};
const std::set<std::string, std::less<>> kSupported{
    "type", "properties", "required", "additionalProperties", "enum", "const", "anyOf", "oneOf", "$ref", "items",
    "minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "format"};

std::string where(const std::string& path) { return "#" + path; }

[[noreturn]] void invalid(const std::string& path, const std::string& msg) {
  throw Error(ErrorCode::InvalidArgument, "json schema: " + msg + " at " + where(path));
}
[[noreturn]] void unsupported(const std::string& path, const std::string& msg) {
  throw Error(ErrorCode::Unsupported, "json schema: " + msg + " at " + where(path) + " is not supported");
}

std::string literal(std::string_view text) { return detail::gbnf_literal(text); }

std::string escape_pointer(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

class Converter {
 public:
  Converter(const Json& root, JsonWhitespace ws, std::string prefix = "")
      : root_(root), w_(ws == JsonWhitespace::Flexible ? " ws" : ""), prefix_(std::move(prefix)) {}

  // The rules without the library: `name` ::= the schema's value.
  std::string rules(const std::string& name) {
    names_.insert(name);
    const std::string expr = visit(root_, "");
    std::string out = name + " ::= " + expr + "\n";
    for (const auto& [n, body] : rules_) out += n + " ::= " + body + "\n";
    return out;
  }
  std::string run() { return rules("root") + library(w_); }

  static std::string library(const std::string& w) {
    std::string lib;
    for (const char* p = kLibrary; *p; ++p) {
      if (*p == 'W' && p[1] == ' ' && p[-1] == ' ') {
        lib += w.empty() ? "" : w.substr(1);
        if (w.empty()) ++p;  // drop the space after it too
      } else {
        lib += *p;
      }
    }
    if (!w.empty()) lib += "ws ::= ([ ] | \"\\n\" [ \\t]{0,16})?\n";
    return lib;
  }

 private:
  const Json& root_;
  std::string w_;  // " ws" or ""
  std::string prefix_;  // of every rule this converter adds
  std::vector<std::pair<std::string, std::string>> rules_;
  std::set<std::string> names_{"root", "value", "object", "array", "string", "char", "number", "integer",
                               "boolean", "null", "date", "time", "date-time", "uuid", "ws"};
  std::map<std::string, std::string> refs_;  // $ref -> rule name

  std::string new_rule(const std::string& base, std::string body) {
    std::string name;
    for (int n = 1;; ++n) {
      name = prefix_ + base + "-" + std::to_string(n);
      if (!names_.count(name)) break;
    }
    names_.insert(name);
    rules_.emplace_back(name, std::move(body));
    return name;
  }

  std::string visit(const Json& s, const std::string& path);
  std::string visit_ref(const Json& s, const std::string& path);
  std::string visit_type(const std::string& type, const Json& s, const std::string& path);
  std::string visit_object(const Json& s, const std::string& path);
  std::string visit_array(const Json& s, const std::string& path);
  std::string visit_string(const Json& s, const std::string& path);
  std::string visit_integer(const Json& s, const std::string& path);
  const Json& resolve(const std::string& ref, const std::string& path) const;
  void check_exclusive(const Json& alts, const std::string& path) const;
  std::string object_body(const std::vector<std::pair<std::string, std::string>>& props, const std::vector<bool>& required,
                          const std::string& extra);
};

// The grammar offers the union of the alternatives: that is oneOf only when no value
// matches two of them. Refused, never silently weakened to anyOf, when that is not proved.
void Converter::check_exclusive(const Json& alts, const std::string& path) const {
  const auto follow = [&](const std::string& ref) -> const Json& { return resolve(ref, path); };
  for (std::size_t i = 0; i < alts.size(); ++i)
    for (std::size_t j = i + 1; j < alts.size(); ++j)
      if (!detail::schemas_disjoint(alts[i], alts[j], follow))
        throw Error(ErrorCode::Unsupported,
                    "json schema: oneOf at " + where(path) + ": alternatives " + std::to_string(i) + " and " +
                        std::to_string(j) +
                        " may both match a value, and a grammar cannot make exactly one match (use anyOf if either "
                        "may, or make them disjoint: different types, consts, integer ranges, or a property both "
                        "require with different consts)");
}

std::string Converter::visit(const Json& s, const std::string& path) {
  if (s.is_boolean()) {
    if (!s.get<bool>()) invalid(path, "the schema `false` allows no value");
    return "value";
  }
  if (!s.is_object()) invalid(path, "a schema must be an object or a boolean");
  for (const auto& [key, v] : s.items())
    if (!kSupported.count(key) && !kAnnotations.count(key)) unsupported(path, "the keyword '" + key + "'");
  auto others = [&](std::initializer_list<const char*> allowed) {
    for (const auto& item : s.items()) {
      const std::string& key = item.key();
      if (!kAnnotations.count(key) && std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; }) == allowed.end())
        return key;
    }
    return std::string();
  };
  if (s.contains("$ref")) {
    if (auto k = others({"$ref"}); !k.empty()) unsupported(path, "the keyword '" + k + "' beside $ref");
    return visit_ref(s, path);
  }
  if (s.contains("const")) return literal(s["const"].dump(-1, ' ', false));
  if (s.contains("enum")) {
    const Json& e = s["enum"];
    if (!e.is_array() || e.empty()) invalid(path + "/enum", "enum must be a non-empty array");
    std::string body;
    for (const Json& v : e) body += (body.empty() ? "" : " | ") + literal(v.dump(-1, ' ', false));
    return "(" + body + ")";
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!s.contains(key)) continue;
    if (auto k = others({key}); !k.empty()) unsupported(path, std::string("the keyword '") + k + "' beside " + key);
    const Json& alts = s[key];
    if (!alts.is_array() || alts.empty()) invalid(path + "/" + key, std::string(key) + " must be a non-empty array");
    if (std::string_view(key) == "oneOf") check_exclusive(alts, path + "/oneOf");
    std::string body;
    for (std::size_t i = 0; i < alts.size(); ++i)
      body += (i ? " | " : "") + visit(alts[i], path + "/" + key + "/" + std::to_string(i));
    return "(" + body + ")";
  }
  if (!s.contains("type")) {  // the type the other keywords imply, else any value
    if (s.contains("properties") || s.contains("required") || s.contains("additionalProperties")) return visit_type("object", s, path);
    if (s.contains("items") || s.contains("minItems") || s.contains("maxItems")) return visit_type("array", s, path);
    if (s.contains("minLength") || s.contains("maxLength") || s.contains("format")) return visit_type("string", s, path);
    if (s.contains("minimum") || s.contains("maximum") || s.contains("exclusiveMinimum") || s.contains("exclusiveMaximum"))
      unsupported(path, "a numeric bound without \"type\": \"integer\"");
    return "value";
  }
  const Json& t = s["type"];
  if (t.is_string()) return visit_type(t.get<std::string>(), s, path);
  if (!t.is_array() || t.empty()) invalid(path + "/type", "type must be a string or a non-empty array of strings");
  std::string body;
  for (const Json& one : t) {
    if (!one.is_string()) invalid(path + "/type", "type must be a string or a non-empty array of strings");
    body += (body.empty() ? "" : " | ") + visit_type(one.get<std::string>(), s, path);
  }
  return "(" + body + ")";
}

const Json& Converter::resolve(const std::string& ref, const std::string& path) const {
  if (ref == "#") return root_;
  if (ref.rfind("#/", 0) != 0) unsupported(path + "/$ref", "the reference '" + ref + "' (only local references starting with #/)");
  const Json* at = &root_;
  std::size_t i = 2;
  while (i <= ref.size()) {
    const std::size_t slash = std::min(ref.find('/', i), ref.size());
    std::string part;  // the segment with ~1 -> / and ~0 -> ~
    for (std::size_t p = i; p < slash; ++p) {
      if (ref[p] == '~' && p + 1 < slash) part += ref[++p] == '1' ? '/' : '~';
      else part += ref[p];
    }
    if (at->is_object() && at->contains(part)) {
      at = &(*at)[part];
    } else if (at->is_array() && !part.empty() && part.find_first_not_of("0123456789") == std::string::npos &&
               std::stoul(part) < at->size()) {
      at = &(*at)[std::stoul(part)];
    } else {
      invalid(path + "/$ref", "the reference '" + ref + "' does not resolve");
    }
    i = slash + 1;
  }
  return *at;
}

std::string Converter::visit_ref(const Json& s, const std::string& path) {
  if (!s["$ref"].is_string()) invalid(path + "/$ref", "$ref must be a string");
  const std::string ref = s["$ref"].get<std::string>();
  if (auto it = refs_.find(ref); it != refs_.end()) return it->second;
  const Json& target = resolve(ref, path);
  std::string base = ref.substr(ref.find_last_of('/') + 1);
  for (char& c : base)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
  const std::string name = new_rule(base.empty() || ref == "#" ? "ref" : base, "");
  refs_.emplace(ref, name);
  const std::string body = visit(target, ref.substr(1));
  for (auto& [n, b] : rules_)
    if (n == name) b = body;
  return name;
}

std::string Converter::visit_type(const std::string& type, const Json& s, const std::string& path) {
  if (type == "object") return visit_object(s, path);
  if (type == "array") return visit_array(s, path);
  if (type == "string") return visit_string(s, path);
  if (type == "integer") return visit_integer(s, path);
  if (type == "number") {
    for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
      if (s.contains(k)) unsupported(path + "/" + k, std::string("'") + k + "' on a number (only on integers)");
    return "number";
  }
  if (type == "boolean") return "boolean";
  if (type == "null") return "null";
  invalid(path + "/type", "unknown type '" + type + "'");
}

std::string Converter::visit_object(const Json& s, const std::string& path) {
  const std::string w = w_;
  std::vector<std::pair<std::string, std::string>> props;  // key literal + value expression
  std::vector<bool> required;
  std::set<std::string> req;
  if (s.contains("required")) {
    if (!s["required"].is_array()) invalid(path + "/required", "required must be an array of strings");
    for (const Json& r : s["required"]) {
      if (!r.is_string()) invalid(path + "/required", "required must be an array of strings");
      req.insert(r.get<std::string>());
    }
  }
  if (s.contains("properties")) {
    if (!s["properties"].is_object()) invalid(path + "/properties", "properties must be an object");
    for (const auto& [key, sub] : s["properties"].items()) {
      const std::string value = visit(sub, path + "/properties/" + escape_pointer(key));
      props.emplace_back(literal(Json(key).dump(-1, ' ', false)), value);
      required.push_back(req.erase(key) > 0);
    }
  }
  if (!req.empty()) unsupported(path + "/required", "the required property '" + *req.begin() + "' that is not in properties");
  const Json addl = s.contains("additionalProperties") ? s["additionalProperties"] : Json(true);
  if (props.empty()) {
    if (addl.is_boolean() && !addl.get<bool>()) return "\"{\"" + w + w + " \"}\"";
    const std::string value = addl.is_boolean() ? "value" : visit(addl, path + "/additionalProperties");
    const std::string kv = "string" + w + " \":\"" + w + " " + value;
    return new_rule("object", "\"{\"" + w + " (" + kv + " (\",\"" + w + " " + kv + ")*)?" + w + " \"}\"");
  }
  // Keys beyond the listed ones: any other name, its value as additionalProperties says
  // (absent or true: any value).
  std::string extra;
  if (!(addl.is_boolean() && !addl.get<bool>())) {
    const std::string value = addl.is_boolean() ? "value" : visit(addl, path + "/additionalProperties");
    std::vector<std::string> names;
    for (const auto& item : s["properties"].items()) names.push_back(item.key());
    const std::string key = detail::json_key_except(
        names, [this](const std::string& base, std::string body) { return new_rule(base, std::move(body)); });
    extra = new_rule("extra", key + w + " \":\"" + w + " " + value);
  }
  return object_body(props, required, extra);
}

// "{" the listed properties in order (optional ones may be left out), then any number
// of `extra` key-value pairs (when not empty), "}".
std::string Converter::object_body(const std::vector<std::pair<std::string, std::string>>& props,
                                   const std::vector<bool>& required, const std::string& extra) {
  const std::string w = w_;
  // first[i]: properties i.. when none was written yet, at least one of them; later[i]:
  // after one was (commas), possibly none.
  const std::size_t n = props.size();
  std::vector<std::string> first(n + 1), later(n + 1);
  for (std::size_t i = n; i-- > 0;) {
    const std::string kv = props[i].first + w + " \":\"" + w + " " + props[i].second;
    const std::string rest_later = later[i + 1].empty() ? "" : " " + later[i + 1];
    std::string l = "\",\"" + w + " " + kv + rest_later;
    if (!required[i]) l = "(" + l + ")?";
    if (!required[i] && !later[i + 1].empty()) l = "(\",\"" + w + " " + kv + rest_later + " | " + later[i + 1] + ")";
    later[i] = new_rule("props", l);
    std::string f = kv + rest_later;
    if (!required[i] && !first[i + 1].empty()) f = "(" + f + " | " + first[i + 1] + ")";
    first[i] = new_rule("props", f);
  }
  const bool any_required = std::find(required.begin(), required.end(), true) != required.end();
  std::string body;
  if (extra.empty()) {
    body = any_required ? first[0] : "(" + first[0] + ")?";
  } else {
    const std::string extras = "(\",\"" + w + " " + extra + ")*";
    body = first[0] + " " + extras;
    if (!any_required) body = "(" + body + " | " + extra + " " + extras + ")?";
  }
  return new_rule("object", "\"{\"" + w + " " + body + w + " \"}\"");
}

std::string Converter::visit_array(const Json& s, const std::string& path) {
  if (s.contains("items") && s["items"].is_array()) unsupported(path + "/items", "items as an array (tuple validation)");
  const std::string item = s.contains("items") ? visit(s["items"], path + "/items") : "value";
  auto count = [&](const char* key, long long fallback) {
    if (!s.contains(key)) return fallback;
    const Json& v = s[key];
    if (!v.is_number_integer() || v.get<long long>() < 0) invalid(path + "/" + key, std::string(key) + " must be a non-negative integer");
    if (v.get<long long>() > 10000) unsupported(path + "/" + key, std::string(key) + " above 10000");
    return v.get<long long>();
  };
  const long long min = count("minItems", 0), max = count("maxItems", -1);
  if (max >= 0 && max < min) invalid(path, "maxItems is below minItems");
  const std::string w = w_;
  if (max == 0) return "\"[\"" + w + w + " \"]\"";
  const std::string more = "(\",\"" + w + " " + item + ")";
  const std::string lo = std::to_string(min > 0 ? min - 1 : 0);
  const std::string reps = max < 0 ? "{" + lo + ",}" : "{" + lo + "," + std::to_string(max - 1) + "}";
  std::string elems = item + " " + more + reps;
  if (min == 0) elems = "(" + elems + ")?";
  return new_rule("array", "\"[\"" + w + " " + elems + w + " \"]\"");
}

std::string Converter::visit_string(const Json& s, const std::string& path) {
  if (s.contains("format")) {
    const Json& f = s["format"];
    if (!f.is_string()) invalid(path + "/format", "format must be a string");
    const std::string name = f.get<std::string>();
    if (name != "date" && name != "time" && name != "date-time" && name != "uuid") unsupported(path + "/format", "the format '" + name + "'");
    if (s.contains("minLength") || s.contains("maxLength")) unsupported(path, "minLength/maxLength together with format");
    std::string out = "\"\\\"\" ";  // the format's rule between quotes
    out += name;
    out += " \"\\\"\"";
    return out;
  }
  auto length = [&](const char* key, long long fallback) {
    if (!s.contains(key)) return fallback;
    const Json& v = s[key];
    if (!v.is_number_integer() || v.get<long long>() < 0) invalid(path + "/" + key, std::string(key) + " must be a non-negative integer");
    if (v.get<long long>() > 10000) unsupported(path + "/" + key, std::string(key) + " above 10000");
    return v.get<long long>();
  };
  const long long min = length("minLength", 0), max = length("maxLength", -1);
  if (max >= 0 && max < min) invalid(path, "maxLength is below minLength");
  if (min == 0 && max < 0) return "string";
  std::string body = "\"\\\"\" char{";  // "\"" char{min,max} "\""
  body += std::to_string(min);
  body += ',';
  if (max >= 0) body += std::to_string(max);
  body += "} \"\\\"\"";
  return new_rule("string", body);
}

std::string Converter::visit_integer(const Json& s, const std::string& path) {
  std::optional<long long> lo, hi;
  auto bound = [&](const char* key, bool upper, bool exclusive) {
    if (!s.contains(key)) return;
    const Json& v = s[key];
    if (!v.is_number()) invalid(path + "/" + key, std::string(key) + " must be a number");
    const double x = v.get<double>();
    if (std::fabs(x) > 1e18) unsupported(path + "/" + key, std::string(key) + " beyond 18 digits");
    long long b = upper ? static_cast<long long>(std::floor(x)) : static_cast<long long>(std::ceil(x));
    if (v.is_number_integer()) b = v.get<long long>();
    if (exclusive && static_cast<double>(b) == x) b += upper ? -1 : 1;
    if (upper) hi = hi ? std::min(*hi, b) : b;
    else lo = lo ? std::max(*lo, b) : b;
  };
  bound("minimum", false, false);
  bound("exclusiveMinimum", false, true);
  bound("maximum", true, false);
  bound("exclusiveMaximum", true, true);
  if (!lo && !hi) return "integer";
  try {
    return new_rule("integer", detail::int_range_gbnf(lo, hi));
  } catch (const Error& e) {
    throw Error(e.code(), std::string("json schema: ") + e.what() + " at " + where(path));
  }
}

Json parse_json(std::string_view text) {
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error(ErrorCode::InvalidArgument, std::string("json schema: not valid JSON: ") + e.what());
  }
}

}  // namespace

std::string json_schema_to_gbnf(std::string_view schema_json, const JsonSchemaOptions& options) {
  const Json schema = parse_json(schema_json);
  try {
    return Converter(schema, options.whitespace).run();
  } catch (const nlohmann::json::exception& e) {  // a keyword of the wrong JSON type
    throw Error(ErrorCode::InvalidArgument, std::string("json schema: ") + e.what());
  }
}

std::string json_schema_rules(std::string_view schema_json, std::string_view name, const JsonSchemaOptions& options) {
  const Json schema = parse_json(schema_json);
  try {
    return Converter(schema, options.whitespace, std::string(name) + "-").rules(std::string(name));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::InvalidArgument, std::string("json schema: ") + e.what());
  }
}

std::string json_library_gbnf(const JsonSchemaOptions& options) {
  return Converter::library(options.whitespace == JsonWhitespace::Flexible ? " ws" : "");
}

std::string json_any_gbnf(bool object_only, const JsonSchemaOptions& options) {
  const std::string w = options.whitespace == JsonWhitespace::Flexible ? " ws" : "";
  return std::string("root ::= ") + (object_only ? "object" : "value") + w + "\n" + Converter::library(w);
}

}  // namespace inkling
