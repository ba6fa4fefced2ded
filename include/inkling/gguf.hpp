// GgufFile: a GGUF model file, memory-mapped (or read into memory), with its metadata
// and tensor directory validated against the file's size before anything is used.
#pragma once

#include <cstddef>
#include <iterator>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "inkling/tensor.hpp"

namespace inkling {

// Metadata value types; values are the ids written in the file.
enum class GgufType : std::uint32_t {
  UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6,
  Bool = 7, String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
};
std::string_view gguf_type_name(GgufType type) noexcept;

class GgufValue;

// The elements of a metadata array, stored compactly: numeric and BOOL elements are
// decoded in place from the file's bytes (nothing is copied), strings are views into
// them, and only nested arrays are held as GgufValues. So a file's metadata never takes
// more than a few times the file's own size in memory. Elements are returned by value.
class GgufArrayItems {
 public:
  GgufArrayItems() = default;
  explicit GgufArrayItems(std::vector<GgufValue> values);  // any elements, held in memory
  // `count` numeric or BOOL elements of `type`, little-endian at `data`, which must
  // outlive the array (the file's mapping).
  static GgufArrayItems in_place(GgufType type, const std::byte* data, std::size_t count);
  static GgufArrayItems of_strings(std::vector<std::string_view> strings);

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  // Error(InvalidArgument) for an index past the end.
  GgufValue operator[](std::size_t i) const;

  class iterator {
   public:
    using value_type = GgufValue;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const GgufArrayItems* items, std::size_t i) : items_(items), i_(i) {}
    GgufValue operator*() const;
    iterator& operator++() { ++i_; return *this; }
    iterator operator++(int) { iterator t = *this; ++i_; return t; }
    bool operator==(const iterator& o) const { return i_ == o.i_; }
   private:
    const GgufArrayItems* items_ = nullptr;
    std::size_t i_ = 0;
  };
  iterator begin() const { return {this, 0}; }
  iterator end() const { return {this, count_}; }

 private:
  GgufType raw_type_ = GgufType::UInt8;
  std::size_t count_ = 0;
  const std::byte* raw_ = nullptr;                                 // in_place elements
  std::shared_ptr<const std::vector<std::string_view>> strings_;  // of_strings elements
  std::shared_ptr<const std::vector<GgufValue>> values_;          // anything else
};

struct GgufArray {
  GgufType element_type = GgufType::UInt8;
  GgufArrayItems items;
};

// One metadata value. Strings view bytes inside the file's mapping: they live as long
// as the GgufFile that produced them.
class GgufValue {
 public:
  using Storage = std::variant<std::uint64_t, std::int64_t, double, bool, std::string_view, GgufArray>;

  GgufValue() = default;
  GgufValue(GgufType type, Storage value) : type_(type), value_(std::move(value)) {}

  GgufType type() const noexcept { return type_; }
  bool is_integer() const noexcept;
  bool is_float() const noexcept { return type_ == GgufType::Float32 || type_ == GgufType::Float64; }

  // Checked conversions: throw Error(Format) naming `what` (usually the key) when the
  // stored type does not fit (a negative value as unsigned, a string as a number...).
  std::uint64_t as_uint(std::string_view what = "value") const;
  std::int64_t as_int(std::string_view what = "value") const;
  double as_float(std::string_view what = "value") const;  // any numeric type
  bool as_bool(std::string_view what = "value") const;
  std::string_view as_string(std::string_view what = "value") const;
  const GgufArray& as_array(std::string_view what = "value") const;

  // A short human-readable rendering (arrays are abbreviated), for `inkling info`.
  std::string to_string(std::size_t max_items = 8) const;

 private:
  GgufType type_ = GgufType::UInt8;
  Storage value_ = std::uint64_t{0};
};

struct GgufKeyValue {
  std::string_view key;
  GgufValue value;
};

struct GgufOpenOptions {
  bool use_mmap = true;  // false: read the whole file into memory instead
};

class GgufFile {
 public:
  // Opens and validates a file. Throws Error(Io) when it cannot be read and
  // Error(Format) / Error(Unsupported) naming what is wrong and at which offset.
  static std::shared_ptr<const GgufFile> open(const std::filesystem::path& path,
                                              GgufOpenOptions options = {});
  // Parses a file image held in memory (fuzzing, tests, embedded models).
  static std::shared_ptr<const GgufFile> from_bytes(std::vector<std::byte> bytes,
                                                    std::string name = "<memory>");

  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  const std::string& name() const noexcept;  // the path, for error messages
  std::uint32_t version() const noexcept;
  std::size_t alignment() const noexcept;
  std::size_t file_size() const noexcept;
  std::size_t data_offset() const noexcept;  // where the tensor data section starts

  // Metadata in file order.
  std::span<const GgufKeyValue> metadata() const noexcept;
  const GgufValue* find(std::string_view key) const noexcept;
  // Typed look-ups: nullopt when the key is absent, Error(Format) naming the key when
  // it is present with an incompatible type.
  std::optional<std::uint64_t> get_uint(std::string_view key) const;
  std::optional<std::int64_t> get_int(std::string_view key) const;
  std::optional<double> get_float(std::string_view key) const;
  std::optional<bool> get_bool(std::string_view key) const;
  std::optional<std::string_view> get_string(std::string_view key) const;
  const GgufArray* get_array(std::string_view key) const;
  // Required variants: Error(Format) "missing required key ..." when absent.
  std::uint64_t require_uint(std::string_view key) const;
  std::string_view require_string(std::string_view key) const;

  // Tensor directory in file order; every view's bytes lie inside the file.
  std::span<const TensorView> tensors() const noexcept;
  const TensorView* find_tensor(std::string_view name) const noexcept;
  const TensorView& require_tensor(std::string_view name) const;  // Error(Format) if absent

  struct Impl;

 private:
  explicit GgufFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inkling
