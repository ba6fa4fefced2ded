#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <limits>
#include <string>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"

namespace inkling {
namespace {

[[noreturn]] void wrong(std::string_view what, GgufType type, const char* wanted) {
  throw Error(ErrorCode::Format, std::string(what) + " is a " + std::string(gguf_type_name(type)) +
                                     ", expected " + wanted);
}

}  // namespace

std::string_view gguf_type_name(GgufType type) noexcept {
  switch (type) {
    case GgufType::UInt8: return "UINT8";
    case GgufType::Int8: return "INT8";
    case GgufType::UInt16: return "UINT16";
    case GgufType::Int16: return "INT16";
    case GgufType::UInt32: return "UINT32";
    case GgufType::Int32: return "INT32";
    case GgufType::Float32: return "FLOAT32";
    case GgufType::Bool: return "BOOL";
    case GgufType::String: return "STRING";
    case GgufType::Array: return "ARRAY";
    case GgufType::UInt64: return "UINT64";
    case GgufType::Int64: return "INT64";
    case GgufType::Float64: return "FLOAT64";
  }
  return "UNKNOWN";
}

GgufArrayItems::GgufArrayItems(std::vector<GgufValue> values)
    : count_(values.size()), values_(std::make_shared<const std::vector<GgufValue>>(std::move(values))) {}

GgufArrayItems GgufArrayItems::in_place(GgufType type, const std::byte* data, std::size_t count) {
  GgufArrayItems a;
  a.raw_type_ = type;
  a.raw_ = data;
  a.count_ = count;
  return a;
}

GgufArrayItems GgufArrayItems::of_strings(std::vector<std::string_view> strings) {
  GgufArrayItems a;
  a.count_ = strings.size();
  a.strings_ = std::make_shared<const std::vector<std::string_view>>(std::move(strings));
  return a;
}

namespace {
template <typename T>
T load(const std::byte* p, std::size_t i) {
  T v;
  std::memcpy(&v, p + i * sizeof(T), sizeof(T));
  return v;
}
}  // namespace

GgufValue GgufArrayItems::operator[](std::size_t i) const {
  if (i >= count_)
    throw Error(ErrorCode::InvalidArgument, "GGUF array index " + std::to_string(i) + " is past its " +
                                                std::to_string(count_) + " elements");
  if (values_) return (*values_)[i];
  if (strings_) return {GgufType::String, (*strings_)[i]};
  const GgufType t = raw_type_;
  switch (t) {
    case GgufType::UInt8: return {t, std::uint64_t{load<std::uint8_t>(raw_, i)}};
    case GgufType::Int8: return {t, std::int64_t{load<std::int8_t>(raw_, i)}};
    case GgufType::UInt16: return {t, std::uint64_t{load<std::uint16_t>(raw_, i)}};
    case GgufType::Int16: return {t, std::int64_t{load<std::int16_t>(raw_, i)}};
    case GgufType::UInt32: return {t, std::uint64_t{load<std::uint32_t>(raw_, i)}};
    case GgufType::Int32: return {t, std::int64_t{load<std::int32_t>(raw_, i)}};
    case GgufType::UInt64: return {t, load<std::uint64_t>(raw_, i)};
    case GgufType::Int64: return {t, load<std::int64_t>(raw_, i)};
    case GgufType::Float32: return {t, double{load<float>(raw_, i)}};
    case GgufType::Float64: return {t, load<double>(raw_, i)};
    case GgufType::Bool: return {t, load<std::int8_t>(raw_, i) != 0};
    case GgufType::String:
    case GgufType::Array: break;
  }
  throw Error(ErrorCode::Internal, "GGUF array: in-place elements of a non-numeric type");
}

GgufValue GgufArrayItems::iterator::operator*() const { return (*items_)[i_]; }

bool GgufValue::is_integer() const noexcept {
  return std::holds_alternative<std::uint64_t>(value_) || std::holds_alternative<std::int64_t>(value_);
}

std::uint64_t GgufValue::as_uint(std::string_view what) const {
  if (auto* u = std::get_if<std::uint64_t>(&value_)) return *u;
  if (auto* i = std::get_if<std::int64_t>(&value_)) {
    if (*i < 0)
      throw Error(ErrorCode::Format, std::string(what) + " is negative (" + std::to_string(*i) + ")");
    return static_cast<std::uint64_t>(*i);
  }
  wrong(what, type_, "an unsigned integer");
}

std::int64_t GgufValue::as_int(std::string_view what) const {
  if (auto* i = std::get_if<std::int64_t>(&value_)) return *i;
  if (auto* u = std::get_if<std::uint64_t>(&value_)) {
    if (*u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      throw Error(ErrorCode::Format, std::string(what) + " does not fit a signed 64-bit integer");
    return static_cast<std::int64_t>(*u);
  }
  wrong(what, type_, "an integer");
}

double GgufValue::as_float(std::string_view what) const {
  if (auto* d = std::get_if<double>(&value_)) return *d;
  if (auto* u = std::get_if<std::uint64_t>(&value_)) return static_cast<double>(*u);
  if (auto* i = std::get_if<std::int64_t>(&value_)) return static_cast<double>(*i);
  wrong(what, type_, "a number");
}

bool GgufValue::as_bool(std::string_view what) const {
  if (auto* b = std::get_if<bool>(&value_)) return *b;
  wrong(what, type_, "a BOOL");
}

std::string_view GgufValue::as_string(std::string_view what) const {
  if (auto* s = std::get_if<std::string_view>(&value_)) return *s;
  wrong(what, type_, "a STRING");
}

const GgufArray& GgufValue::as_array(std::string_view what) const {
  if (auto* a = std::get_if<GgufArray>(&value_)) return *a;
  wrong(what, type_, "an ARRAY");
}

std::string GgufValue::to_string(std::size_t max_items) const {
  if (auto* u = std::get_if<std::uint64_t>(&value_)) return std::to_string(*u);
  if (auto* i = std::get_if<std::int64_t>(&value_)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&value_)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", *d);
    return buf;
  }
  if (auto* b = std::get_if<bool>(&value_)) return *b ? "true" : "false";
  if (auto* s = std::get_if<std::string_view>(&value_)) {
    std::string out = "\"";
    for (char c : s->substr(0, 120)) {
      if (c == '"' || c == '\\') { out += '\\'; out += c; }
      else if (c == '\n') out += "\\n";
      else if (static_cast<unsigned char>(c) < 0x20) out += '?';
      else out += c;
    }
    return out + (s->size() > 120 ? "...\"" : "\"");
  }
  const auto& a = std::get<GgufArray>(value_);
  std::string out = "[";
  for (std::size_t i = 0; i < a.items.size() && i < max_items; ++i) {
    if (i) out += ", ";
    out += a.items[i].to_string(max_items);
  }
  if (a.items.size() > max_items) out += ", ... (" + std::to_string(a.items.size()) + " items)";
  return out + "]";
}

}  // namespace inkling
