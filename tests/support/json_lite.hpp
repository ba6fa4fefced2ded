// A small JSON reader for test data (goldens, expectations). Not part of the library.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace inkling::test {

class Json {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  // Throws std::runtime_error with the offset on malformed input.
  static Json parse(std::string_view text);

  Kind kind() const noexcept { return kind_; }
  bool is_null() const noexcept { return kind_ == Kind::Null; }
  bool as_bool() const;
  double as_number() const;
  long long as_int() const;
  const std::string& as_string() const;
  const std::vector<Json>& as_array() const;
  const Json& operator[](std::size_t i) const;      // array element
  const Json& operator[](std::string_view key) const;  // object member; throws if absent
  bool contains(std::string_view key) const;
  std::size_t size() const;  // array or object size

  std::vector<long long> int_array() const;
  std::vector<double> number_array() const;

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> array_;
  std::map<std::string, Json, std::less<>> object_;
  friend class JsonParser;
};

}  // namespace inkling::test
