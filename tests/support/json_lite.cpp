#include "json_lite.hpp"

#include "tokenizer/unicode.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

namespace inkling::test {

class JsonParser {
 public:
  explicit JsonParser(std::string_view s) : s_(s) {}

  Json parse_document() {
    Json v = value();
    skip_ws();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("json: " + what + " at offset " + std::to_string(i_));
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t'))
      ++i_;
  }
  char peek() {
    skip_ws();
    if (i_ >= s_.size()) fail("unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) == word) {
      i_ += word.size();
      return true;
    }
    return false;
  }

  Json value() {
    Json v;
    const char c = peek();
    if (c == '{') {
      v.kind_ = Json::Kind::Object;
      ++i_;
      if (peek() == '}') { ++i_; return v; }
      while (true) {
        std::string key = string_body();
        expect(':');
        v.object_.emplace(std::move(key), value());
        if (peek() == ',') { ++i_; continue; }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind_ = Json::Kind::Array;
      ++i_;
      if (peek() == ']') { ++i_; return v; }
      while (true) {
        v.array_.push_back(value());
        if (peek() == ',') { ++i_; continue; }
        expect(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind_ = Json::Kind::String;
      v.string_ = string_body();
      return v;
    }
    if (literal("true")) { v.kind_ = Json::Kind::Bool; v.bool_ = true; return v; }
    if (literal("false")) { v.kind_ = Json::Kind::Bool; return v; }
    if (literal("null")) return v;
    if (literal("NaN")) { v.kind_ = Json::Kind::Number; v.number_ = NAN; return v; }
    if (literal("-Infinity")) { v.kind_ = Json::Kind::Number; v.number_ = -INFINITY; return v; }
    if (literal("Infinity")) { v.kind_ = Json::Kind::Number; v.number_ = INFINITY; return v; }
    return number();
  }

  Json number() {
    const std::size_t start = i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                              s_[i_] == '+' || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E'))
      ++i_;
    if (start == i_) fail("unexpected character");
    const std::string text(s_.substr(start, i_ - start));
    char* end = nullptr;
    Json v;
    v.kind_ = Json::Kind::Number;
    v.number_ = std::strtod(text.c_str(), &end);
    if (end != text.c_str() + text.size()) fail("bad number '" + text + "'");
    return v;
  }

  unsigned hex4() {
    if (i_ + 4 > s_.size()) fail("truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<unsigned>(h - 'A' + 10);
      else fail("bad \\u escape");
    }
    return v;
  }

  std::string string_body() {
    expect('"');
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') { out += c; continue; }
      if (i_ >= s_.size()) fail("unterminated escape");
      const char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00 && s_.substr(i_, 2) == "\\u") {
            i_ += 2;
            const unsigned lo = hex4();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          inkling::unicode::append_utf8(out, static_cast<char32_t>(cp));
          break;
        }
        default: fail("bad escape");
      }
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

Json Json::parse(std::string_view text) { return JsonParser(text).parse_document(); }

bool Json::as_bool() const {
  if (kind_ != Kind::Bool) throw std::runtime_error("json: not a bool");
  return bool_;
}
double Json::as_number() const {
  if (kind_ != Kind::Number) throw std::runtime_error("json: not a number");
  return number_;
}
long long Json::as_int() const { return static_cast<long long>(std::llround(as_number())); }
const std::string& Json::as_string() const {
  if (kind_ != Kind::String) throw std::runtime_error("json: not a string");
  return string_;
}
const std::vector<Json>& Json::as_array() const {
  if (kind_ != Kind::Array) throw std::runtime_error("json: not an array");
  return array_;
}
const Json& Json::operator[](std::size_t i) const {
  const auto& a = as_array();
  if (i >= a.size()) throw std::runtime_error("json: index out of range");
  return a[i];
}
const Json& Json::operator[](std::string_view key) const {
  if (kind_ != Kind::Object) throw std::runtime_error("json: not an object");
  auto it = object_.find(key);
  if (it == object_.end()) throw std::runtime_error("json: no member '" + std::string(key) + "'");
  return it->second;
}
bool Json::contains(std::string_view key) const {
  return kind_ == Kind::Object && object_.find(key) != object_.end();
}
std::size_t Json::size() const {
  if (kind_ == Kind::Array) return array_.size();
  if (kind_ == Kind::Object) return object_.size();
  throw std::runtime_error("json: not a container");
}
std::vector<long long> Json::int_array() const {
  std::vector<long long> out;
  for (const auto& v : as_array()) out.push_back(v.as_int());
  return out;
}
std::vector<double> Json::number_array() const {
  std::vector<double> out;
  for (const auto& v : as_array()) out.push_back(v.as_number());
  return out;
}

}  // namespace inkling::test
