// JSON Schema objects whose extra keys (additionalProperties) must differ from the
// listed properties: a GBNF expression for "a JSON string that is none of these names".
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace inkling::detail {

// A GBNF expression matching a JSON string (with its quotes) written canonically (the
// escapes \" \\ \b \f \n \r \t, \u00xx in lowercase for the other control characters,
// everything else as UTF-8) whose value is none of `names` (UTF-8). Canonical writing
// is what makes "not one of these" decidable on the text: "\u0061" would be "a"
// otherwise. `add_rule(base, body)` adds a helper rule and returns its name.
std::string json_key_except(const std::vector<std::string>& names,
                            const std::function<std::string(const std::string&, std::string)>& add_rule);

}  // namespace inkling::detail
