// oneOf means "exactly one alternative matches". A grammar can only offer the union of
// the alternatives, which is exact when no JSON value can match two of them; this
// decides that (conservatively: "maybe overlapping" when it cannot prove otherwise).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>

namespace inkling::detail {

using SchemaJson = nlohmann::ordered_json;

// Whether no value validates against both schemas, proved by: JSON types that cannot
// meet (integer and number do); const/enum values that differ or whose type the other
// does not allow; integer ranges that do not meet; objects with a property both require
// whose schemas are disjoint, or one requires a property the other's
// additionalProperties: false forbids. `resolve` follows a "$ref" string to its schema.
bool schemas_disjoint(const SchemaJson& a, const SchemaJson& b,
                      const std::function<const SchemaJson&(const std::string&)>& resolve);

}  // namespace inkling::detail
