// GGUF parsing and validation (REFERENCE.md §1). Nothing is allocated from a count
// before the count has been checked against the bytes that remain in the file.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <limits>
#include <string>

#include "gguf/cursor.hpp"
#include "gguf/gguf_impl.hpp"

namespace inkling::detail {
namespace {

// Overflow checks for non-negative sizes, in standard C++ (no compiler built-ins, so
// every compiler builds this file): false and *out = a * b (or a + b) when it fits.
bool mul_overflows(std::int64_t a, std::int64_t b, std::int64_t* out) {
  if (a != 0 && b > std::numeric_limits<std::int64_t>::max() / a) return true;
  *out = a * b;
  return false;
}

bool add_overflows(std::uint64_t a, std::uint64_t b, std::uint64_t* out) {
  if (b > std::numeric_limits<std::uint64_t>::max() - a) return true;
  *out = a + b;
  return false;
}

constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxArrayDepth = 4;
constexpr std::size_t kMaxTensorName = 63;     // ggml's GGML_MAX_NAME - 1
constexpr std::size_t kMaxAlignment = 1u << 20;

// The fewest bytes one element of a type can occupy: bounds a count before allocating.
std::size_t min_bytes(GgufType t) {
  switch (t) {
    case GgufType::UInt8: case GgufType::Int8: case GgufType::Bool: return 1;
    case GgufType::UInt16: case GgufType::Int16: return 2;
    case GgufType::UInt32: case GgufType::Int32: case GgufType::Float32: return 4;
    case GgufType::UInt64: case GgufType::Int64: case GgufType::Float64: return 8;
    case GgufType::String: return 8;
    case GgufType::Array: return 12;
  }
  return 1;
}

bool valid_type(std::uint32_t raw) { return raw <= 12; }

class Parser {
 public:
  Parser(GgufFile::Impl& impl) : impl_(impl), c_(impl.file.bytes(), impl.name) {}

  void run() {
    header();
    for (std::uint64_t i = 0; i < n_kv_; ++i) key_value(i);
    apply_alignment();
    for (std::uint64_t i = 0; i < n_tensors_; ++i) tensor_info(i);
    data_section();
  }

 private:
  void header() {
    if (c_.remaining() < 4) c_.fail("file too small to be GGUF (" + std::to_string(c_.remaining()) + " bytes)");
    const auto magic = c_.read<std::uint32_t>("the magic");
    if (magic != kMagic) c_.fail("not a GGUF file: bad magic bytes");
    impl_.version = c_.read<std::uint32_t>("the version");
    if (impl_.version == 1)
      c_.fail("GGUF version 1 is no longer supported (re-convert the model)", ErrorCode::Unsupported);
    if (impl_.version == 0 || impl_.version > 3)
      c_.fail("unknown GGUF version " + std::to_string(impl_.version) + " (versions 2 and 3 are supported)",
              impl_.version > 3 ? ErrorCode::Unsupported : ErrorCode::Format);
    const auto n_tensors = c_.read<std::int64_t>("the tensor count");
    const auto n_kv = c_.read<std::int64_t>("the metadata count");
    // Each tensor record takes at least 8+4+4+8 bytes, each key/value at least 8+1+4+1.
    if (n_tensors < 0 || static_cast<std::uint64_t>(n_tensors) > c_.remaining() / 24)
      c_.fail("tensor count " + std::to_string(n_tensors) + " is impossible for a file of this size");
    if (n_kv < 0 || static_cast<std::uint64_t>(n_kv) > c_.remaining() / 13)
      c_.fail("metadata count " + std::to_string(n_kv) + " is impossible for a file of this size");
    n_tensors_ = static_cast<std::uint64_t>(n_tensors);
    n_kv_ = static_cast<std::uint64_t>(n_kv);
    impl_.metadata.reserve(n_kv_);
    impl_.tensors.reserve(n_tensors_);
  }

  void key_value(std::uint64_t index) {
    const std::string where = "key #" + std::to_string(index);
    const std::string_view key = c_.read_string(where);
    if (key.empty()) c_.fail(where + " is empty");
    const std::string what = "key '" + std::string(key) + "'";
    const auto raw = c_.read<std::uint32_t>("the type of " + what);
    if (!valid_type(raw)) c_.fail(what + " has unknown value type " + std::to_string(raw));
    GgufValue value = read_value(static_cast<GgufType>(raw), what, 0);
    if (!impl_.key_index.emplace(key, impl_.metadata.size()).second)
      c_.fail("duplicate metadata " + what);
    impl_.metadata.push_back({key, std::move(value)});
  }

  GgufValue read_value(GgufType t, const std::string& what, int depth) {
    switch (t) {
      case GgufType::UInt8: return {t, std::uint64_t{c_.read<std::uint8_t>(what)}};
      case GgufType::Int8: return {t, std::int64_t{c_.read<std::int8_t>(what)}};
      case GgufType::UInt16: return {t, std::uint64_t{c_.read<std::uint16_t>(what)}};
      case GgufType::Int16: return {t, std::int64_t{c_.read<std::int16_t>(what)}};
      case GgufType::UInt32: return {t, std::uint64_t{c_.read<std::uint32_t>(what)}};
      case GgufType::Int32: return {t, std::int64_t{c_.read<std::int32_t>(what)}};
      case GgufType::UInt64: return {t, std::uint64_t{c_.read<std::uint64_t>(what)}};
      case GgufType::Int64: return {t, std::int64_t{c_.read<std::int64_t>(what)}};
      case GgufType::Float32: return {t, double{c_.read<float>(what)}};
      case GgufType::Float64: return {t, c_.read<double>(what)};
      case GgufType::Bool: return {t, c_.read<std::int8_t>(what) != 0};
      case GgufType::String: return {t, c_.read_string(what)};
      case GgufType::Array: return read_array(what, depth);
    }
    c_.fail(what + " has an unknown type");
  }

  GgufValue read_array(const std::string& what, int depth) {
    if (depth >= kMaxArrayDepth)
      c_.fail(what + " nests arrays deeper than " + std::to_string(kMaxArrayDepth) + " levels");
    const auto raw = c_.read<std::uint32_t>("the element type of " + what);
    if (!valid_type(raw)) c_.fail(what + " is an array of unknown type " + std::to_string(raw));
    const auto elem = static_cast<GgufType>(raw);
    const auto count = c_.read<std::uint64_t>("the length of " + what);
    if (count > c_.remaining() / min_bytes(elem))
      c_.fail(what + " claims " + std::to_string(count) + " elements, more than the " +
              std::to_string(c_.remaining()) + " bytes left can hold");
    GgufArray arr;
    arr.element_type = elem;
    const auto n = static_cast<std::size_t>(count);
    // Compact storage (GgufArrayItems): numbers stay in the file's bytes, strings are
    // views; only nested arrays become values.
    if (elem == GgufType::String) {
      std::vector<std::string_view> strings;
      strings.reserve(n);
      for (std::size_t i = 0; i < n; ++i) strings.push_back(c_.read_string(what + "[" + std::to_string(i) + "]"));
      arr.items = GgufArrayItems::of_strings(std::move(strings));
    } else if (elem == GgufType::Array) {
      std::vector<GgufValue> values;
      values.reserve(n);
      for (std::size_t i = 0; i < n; ++i) values.push_back(read_array(what + "[" + std::to_string(i) + "]", depth + 1));
      arr.items = GgufArrayItems(std::move(values));
    } else {
      // count * size fits: count was checked against the remaining bytes / min_bytes.
      arr.items = GgufArrayItems::in_place(elem, c_.skip(n * min_bytes(elem), what), n);
    }
    return {GgufType::Array, std::move(arr)};
  }

  void apply_alignment() {
    auto it = impl_.key_index.find("general.alignment");
    if (it == impl_.key_index.end()) return;
    const GgufValue& v = impl_.metadata[it->second].value;
    if (v.type() != GgufType::UInt32)
      c_.fail("general.alignment must be a UINT32, found " + std::string(gguf_type_name(v.type())));
    const std::uint64_t a = v.as_uint("general.alignment");
    if (a == 0 || !std::has_single_bit(a) || a > kMaxAlignment)
      c_.fail("general.alignment " + std::to_string(a) + " is not a power of two in [1, " +
              std::to_string(kMaxAlignment) + "]");
    impl_.alignment = static_cast<std::size_t>(a);
  }

  void tensor_info(std::uint64_t index) {
    const std::string where = "tensor #" + std::to_string(index);
    const std::string_view name = c_.read_string("the name of " + where);
    const std::string what = "tensor '" + std::string(name) + "'";
    if (name.size() > kMaxTensorName)
      c_.fail(where + " has a name of " + std::to_string(name.size()) + " bytes (at most " +
              std::to_string(kMaxTensorName) + ")");
    TensorView t;
    t.name = name;
    const auto n_dims = c_.read<std::uint32_t>("the dimension count of " + what);
    if (n_dims > static_cast<std::uint32_t>(kMaxDims))
      c_.fail(what + " has " + std::to_string(n_dims) + " dimensions (at most 4)");
    t.n_dims = static_cast<int>(n_dims);
    std::int64_t elements = 1;
    for (std::uint32_t d = 0; d < n_dims; ++d) {
      const auto ne = c_.read<std::int64_t>("dimension " + std::to_string(d) + " of " + what);
      if (ne <= 0) c_.fail(what + " has dimension " + std::to_string(d) + " = " + std::to_string(ne) +
                           " (must be positive)");
      if (mul_overflows(elements, ne, &elements))
        c_.fail(what + " has an element count that overflows 64 bits");
      t.shape[d] = ne;
    }
    const auto raw_type = c_.read<std::uint32_t>("the type of " + what);
    const auto traits = dtype_traits(raw_type);
    if (!traits || traits->block_bytes == 0)
      c_.fail(what + " has unknown tensor type " + std::to_string(raw_type), ErrorCode::Unsupported);
    t.type = static_cast<DType>(raw_type);
    if (t.shape[0] % traits->block_elems != 0)
      c_.fail(what + " has a row of " + std::to_string(t.shape[0]) + " elements, not a multiple of the " +
              std::string(traits->name) + " block size " + std::to_string(traits->block_elems));
    std::int64_t bytes = 0;
    if (mul_overflows(elements / traits->block_elems, traits->block_bytes, &bytes))
      c_.fail(what + " has a byte size that overflows 64 bits");
    t.bytes = static_cast<std::size_t>(bytes);
    const auto offset = c_.read<std::uint64_t>("the data offset of " + what);
    if (offset % impl_.alignment != 0)
      c_.fail(what + " data offset " + std::to_string(offset) + " is not a multiple of the alignment " +
              std::to_string(impl_.alignment));
    offsets_.push_back(offset);
    if (!impl_.tensor_index.emplace(name, impl_.tensors.size()).second)
      c_.fail("duplicate " + what);
    impl_.tensors.push_back(t);
  }

  void data_section() {
    const std::size_t size = impl_.file.bytes().size();
    const std::size_t a = impl_.alignment;
    const std::size_t start = (c_.offset() + a - 1) / a * a;
    impl_.data_offset = start;
    if (!impl_.tensors.empty() && start > size)
      throw Error(ErrorCode::Format, impl_.name + ": the tensor data section (offset " + std::to_string(start) +
                                         ") starts past the end of the file (size " + std::to_string(size) + ")");
    std::vector<std::size_t> order(impl_.tensors.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
      TensorView& t = impl_.tensors[i];
      const std::uint64_t begin = offsets_[i];
      std::uint64_t end = 0;
      if (begin > size || add_overflows(begin, t.bytes, &end) || end > size - start)
        throw Error(ErrorCode::Format,
                    impl_.name + ": tensor '" + std::string(t.name) + "' data [" +
                        std::to_string(start + begin) + ", " + std::to_string(start + begin + t.bytes) +
                        ") lies past the end of the file (size " + std::to_string(size) + ")");
      t.data = impl_.file.bytes().data() + start + begin;
      order[i] = i;
    }
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return offsets_[x] < offsets_[y]; });
    for (std::size_t k = 1; k < order.size(); ++k) {
      const std::size_t prev = order[k - 1], cur = order[k];
      if (offsets_[prev] + impl_.tensors[prev].bytes > offsets_[cur])
        throw Error(ErrorCode::Format, impl_.name + ": tensors '" + std::string(impl_.tensors[prev].name) +
                                           "' and '" + std::string(impl_.tensors[cur].name) +
                                           "' overlap in the data section");
    }
  }

  GgufFile::Impl& impl_;
  Cursor c_;
  std::uint64_t n_kv_ = 0, n_tensors_ = 0;
  std::vector<std::uint64_t> offsets_;
};

}  // namespace

void parse_gguf(GgufFile::Impl& impl) { Parser(impl).run(); }

}  // namespace inkling::detail
