#include "grammar/json_schema_disjoint.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

namespace inkling::detail {
namespace {

// JSON types as bits; "number" is integer | fraction (a number that is not an integer).
enum : unsigned { kObject = 1, kArray = 2, kString = 4, kInteger = 8, kFraction = 16, kBoolean = 32, kNull = 64, kAll = 127 };

using Resolve = std::function<const SchemaJson&(const std::string&)>;
constexpr int kMaxDepth = 24;  // $ref chains and nesting beyond this: "maybe overlapping"

unsigned type_bit(const std::string& t) {
  if (t == "object") return kObject;
  if (t == "array") return kArray;
  if (t == "string") return kString;
  if (t == "integer") return kInteger;
  if (t == "number") return kInteger | kFraction;
  if (t == "boolean") return kBoolean;
  if (t == "null") return kNull;
  return kAll;  // unknown types are refused by the converter; here: assume anything
}

unsigned value_bit(const SchemaJson& v) {
  switch (v.type()) {
    case SchemaJson::value_t::object: return kObject;
    case SchemaJson::value_t::array: return kArray;
    case SchemaJson::value_t::string: return kString;
    case SchemaJson::value_t::boolean: return kBoolean;
    case SchemaJson::value_t::null: return kNull;
    case SchemaJson::value_t::number_float: {
      const double x = v.get<double>();
      return std::floor(x) == x ? kInteger : kFraction;
    }
    default: return kInteger;
  }
}

// What a schema can produce, summarized.
struct Shape {
  unsigned types = kAll;
  std::optional<std::vector<SchemaJson>> values;  // const / enum: exactly these
  double lo = -std::numeric_limits<double>::infinity(), hi = std::numeric_limits<double>::infinity();  // integers
  const SchemaJson* object = nullptr;  // the schema itself when it is a plain object schema
};

const SchemaJson& follow(const SchemaJson& s, const Resolve& resolve, int& depth) {
  const SchemaJson* at = &s;
  while (at->is_object() && at->contains("$ref") && (*at)["$ref"].is_string() && depth < kMaxDepth) {
    at = &resolve((*at)["$ref"].get<std::string>());
    ++depth;
  }
  return *at;
}

Shape shape_of(const SchemaJson& schema, const Resolve& resolve, int depth) {
  const SchemaJson& s = follow(schema, resolve, depth);
  Shape out;
  if (depth >= kMaxDepth || !s.is_object() || s.contains("$ref")) return out;
  if (s.contains("const")) {
    out.values = std::vector<SchemaJson>{s["const"]};
  } else if (s.contains("enum") && s["enum"].is_array()) {
    out.values = std::vector<SchemaJson>(s["enum"].begin(), s["enum"].end());
  }
  if (out.values) {
    out.types = 0;
    for (const SchemaJson& v : *out.values) out.types |= value_bit(v);
    return out;
  }
  for (const char* key : {"anyOf", "oneOf"}) {
    if (!s.contains(key) || !s[key].is_array()) continue;
    out.types = 0;
    std::vector<SchemaJson> values;
    bool all_values = true;
    for (const SchemaJson& alt : s[key]) {
      const Shape one = shape_of(alt, resolve, depth + 1);
      out.types |= one.types;
      if (one.values) values.insert(values.end(), one.values->begin(), one.values->end());
      else all_values = false;
    }
    if (all_values) out.values = std::move(values);
    return out;
  }
  if (s.contains("type")) {
    const SchemaJson& t = s["type"];
    if (t.is_string()) out.types = type_bit(t.get<std::string>());
    if (t.is_array()) {
      out.types = 0;
      for (const SchemaJson& one : t) out.types |= one.is_string() ? type_bit(one.get<std::string>()) : kAll;
    }
  } else if (s.contains("properties") || s.contains("required") || s.contains("additionalProperties")) {
    out.types = kObject;
  } else if (s.contains("items") || s.contains("minItems") || s.contains("maxItems")) {
    out.types = kArray;
  } else if (s.contains("minLength") || s.contains("maxLength") || s.contains("format")) {
    out.types = kString;
  }
  auto bound = [&](const char* key, bool upper, bool exclusive) {
    if (!s.contains(key) || !s[key].is_number()) return;
    const double x = s[key].get<double>();
    double b = upper ? std::floor(x) : std::ceil(x);
    if (exclusive && b == x) b += upper ? -1 : 1;
    if (upper) out.hi = std::min(out.hi, b);
    else out.lo = std::max(out.lo, b);
  };
  bound("minimum", false, false);
  bound("exclusiveMinimum", false, true);
  bound("maximum", true, false);
  bound("exclusiveMaximum", true, true);
  if (out.types == kObject) out.object = &s;
  return out;
}

bool disjoint(const SchemaJson& a, const SchemaJson& b, const Resolve& resolve, int depth);

// A value that `b` cannot produce, judged by type and integer range only.
bool value_excluded(const SchemaJson& v, const Shape& b) {
  if (b.values) {
    for (const SchemaJson& w : *b.values)
      if (v == w) return false;
    return true;
  }
  const unsigned bit = value_bit(v);
  if (!(bit & b.types)) return true;
  if (bit == kInteger && (b.types & kFraction) == 0) {
    const double x = v.get<double>();
    return x < b.lo || x > b.hi;
  }
  return false;
}

std::vector<std::string> required_of(const SchemaJson& s) {
  std::vector<std::string> out;
  if (s.contains("required") && s["required"].is_array())
    for (const SchemaJson& r : s["required"])
      if (r.is_string()) out.push_back(r.get<std::string>());
  return out;
}

// Object schemas: a property one requires that the other forbids, or that both require
// with disjoint schemas.
bool objects_disjoint(const SchemaJson& a, const SchemaJson& b, const Resolve& resolve, int depth) {
  auto property = [](const SchemaJson& s, const std::string& key) -> const SchemaJson* {
    if (s.contains("properties") && s["properties"].is_object() && s["properties"].contains(key)) return &s["properties"][key];
    return nullptr;
  };
  auto forbids = [&](const SchemaJson& s, const std::string& key) {
    return !property(s, key) && s.contains("additionalProperties") && s["additionalProperties"] == false;
  };
  const std::vector<std::string> ra = required_of(a), rb = required_of(b);
  for (const std::string& k : ra) {
    if (forbids(b, k)) return true;
    const SchemaJson* pa = property(a, k);
    const SchemaJson* pb = property(b, k);
    if (pa && pb && std::find(rb.begin(), rb.end(), k) != rb.end() && disjoint(*pa, *pb, resolve, depth + 1)) return true;
  }
  for (const std::string& k : rb)
    if (forbids(a, k)) return true;
  return false;
}

bool disjoint(const SchemaJson& a, const SchemaJson& b, const Resolve& resolve, int depth) {
  if (depth >= kMaxDepth) return false;
  const Shape sa = shape_of(a, resolve, depth), sb = shape_of(b, resolve, depth);
  if ((sa.types & sb.types) == 0) return true;
  if (sa.values || sb.values) {
    const Shape& vals = sa.values ? sa : sb;
    const Shape& other = sa.values ? sb : sa;
    for (const SchemaJson& v : *vals.values)
      if (!value_excluded(v, other)) return false;
    return true;
  }
  const unsigned common = sa.types & sb.types;
  if (common == kInteger) return sa.hi < sb.lo || sb.hi < sa.lo;
  if (common == kObject && sa.object && sb.object) {
    int da = depth, db = depth;
    return objects_disjoint(follow(a, resolve, da), follow(b, resolve, db), resolve, depth);
  }
  return false;
}

}  // namespace

bool schemas_disjoint(const SchemaJson& a, const SchemaJson& b, const Resolve& resolve) { return disjoint(a, b, resolve, 0); }

}  // namespace inkling::detail
