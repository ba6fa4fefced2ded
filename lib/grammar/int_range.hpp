// GBNF for the integers of a range.
#pragma once

#include <optional>
#include <string>

namespace inkling::detail {

// A parenthesized GBNF expression matching exactly the decimal integers in [lo, hi]
// (an absent bound: no limit, up to 18 digits), without leading zeros or "-0".
// Error(InvalidArgument) if lo > hi, Error(Unsupported) for a bound beyond 18 digits.
std::string int_range_gbnf(std::optional<long long> lo, std::optional<long long> hi);

}  // namespace inkling::detail
