#include "inkling/gguf_writer.hpp"

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/utf8_path.hpp"
#include "inkling/error.hpp"

namespace inkling {
namespace {

struct Encoder {
  std::vector<std::byte> out;
  template <typename T>
  void pod(T v) {
    append(&v, sizeof(T));
  }
  void type(GgufType t) { pod(static_cast<std::uint32_t>(t)); }
  void str(std::string_view s) {
    pod(static_cast<std::uint64_t>(s.size()));
    append(s.data(), s.size());
  }
  // resize + memcpy rather than insert: GCC 12 warns falsely on inserting into an empty vector.
  void append(const void* p, std::size_t n) {
    const std::size_t at = out.size();
    out.resize(at + n);
    if (n) std::memcpy(out.data() + at, p, n);
  }
  // The value alone (no type id), as it appears inside an array or after a type.
  void value(const GgufValue& v) {
    switch (v.type()) {
      case GgufType::UInt8: pod(static_cast<std::uint8_t>(v.as_uint())); break;
      case GgufType::Int8: pod(static_cast<std::int8_t>(v.as_int())); break;
      case GgufType::UInt16: pod(static_cast<std::uint16_t>(v.as_uint())); break;
      case GgufType::Int16: pod(static_cast<std::int16_t>(v.as_int())); break;
      case GgufType::UInt32: pod(static_cast<std::uint32_t>(v.as_uint())); break;
      case GgufType::Int32: pod(static_cast<std::int32_t>(v.as_int())); break;
      case GgufType::UInt64: pod(static_cast<std::uint64_t>(v.as_uint())); break;
      case GgufType::Int64: pod(static_cast<std::int64_t>(v.as_int())); break;
      case GgufType::Float32: pod(static_cast<float>(v.as_float())); break;
      case GgufType::Float64: pod(v.as_float()); break;
      case GgufType::Bool: pod(static_cast<std::int8_t>(v.as_bool() ? 1 : 0)); break;
      case GgufType::String: str(v.as_string()); break;
      case GgufType::Array: {
        const GgufArray& a = v.as_array();
        type(a.element_type);
        pod(static_cast<std::uint64_t>(a.items.size()));
        for (const auto& item : a.items) value(item);
        break;
      }
    }
  }
};

std::vector<std::byte> typed(GgufType t, const std::function<void(Encoder&)>& body) {
  Encoder e;
  e.type(t);
  body(e);
  return std::move(e.out);
}

}  // namespace

void GgufWriter::put(std::string_view key, std::vector<std::byte> encoded) {
  for (auto& [k, v] : kv_)
    if (k == key) {
      v = std::move(encoded);
      return;
    }
  kv_.emplace_back(std::string(key), std::move(encoded));
}

void GgufWriter::set_alignment(std::uint32_t alignment) {
  if (alignment == 0 || !std::has_single_bit(alignment))
    throw Error(ErrorCode::InvalidArgument, "GgufWriter: alignment must be a power of two");
  alignment_ = alignment;
  set_u32("general.alignment", alignment);
}

void GgufWriter::set_u8(std::string_view k, std::uint8_t v) { put(k, typed(GgufType::UInt8, [&](Encoder& e) { e.pod(v); })); }
void GgufWriter::set_i8(std::string_view k, std::int8_t v) { put(k, typed(GgufType::Int8, [&](Encoder& e) { e.pod(v); })); }
void GgufWriter::set_u16(std::string_view k, std::uint16_t v) { put(k, typed(GgufType::UInt16, [&](Encoder& e) { e.pod(v); })); }
void GgufWriter::set_i16(std::string_view k, std::int16_t v) { put(k, typed(GgufType::Int16, [&](Encoder& e) { e.pod(v); })); }
void GgufWriter::set_u32(std::string_view k, std::uint32_t v) { put(k, typed(GgufType::UInt32, [&](Encoder& e) { e.pod(v); })); }
void GgufWriter::set_i32(std::string_view k, std::int32_t v) { put(k, typed(GgufType::Int32, [&](Encoder& e) { e.pod(v); })); }
void GgufWriter::set_u64(std::string_view k, std::uint64_t v) { put(k, typed(GgufType::UInt64, [&](Encoder& e) { e.pod(v); })); }
void GgufWriter::set_i64(std::string_view k, std::int64_t v) { put(k, typed(GgufType::Int64, [&](Encoder& e) { e.pod(v); })); }
void GgufWriter::set_f32(std::string_view k, float v) { put(k, typed(GgufType::Float32, [&](Encoder& e) { e.pod(v); })); }
void GgufWriter::set_f64(std::string_view k, double v) { put(k, typed(GgufType::Float64, [&](Encoder& e) { e.pod(v); })); }
void GgufWriter::set_bool(std::string_view k, bool v) {
  put(k, typed(GgufType::Bool, [&](Encoder& e) { e.pod(static_cast<std::int8_t>(v)); }));
}
void GgufWriter::set_string(std::string_view k, std::string_view v) {
  put(k, typed(GgufType::String, [&](Encoder& e) { e.str(v); }));
}
void GgufWriter::set_string_array(std::string_view k, const std::vector<std::string>& v) {
  put(k, typed(GgufType::Array, [&](Encoder& e) {
        e.type(GgufType::String);
        e.pod(static_cast<std::uint64_t>(v.size()));
        for (const auto& s : v) e.str(s);
      }));
}
void GgufWriter::set_f32_array(std::string_view k, const std::vector<float>& v) {
  put(k, typed(GgufType::Array, [&](Encoder& e) {
        e.type(GgufType::Float32);
        e.pod(static_cast<std::uint64_t>(v.size()));
        for (float x : v) e.pod(x);
      }));
}
void GgufWriter::set_i32_array(std::string_view k, const std::vector<std::int32_t>& v) {
  put(k, typed(GgufType::Array, [&](Encoder& e) {
        e.type(GgufType::Int32);
        e.pod(static_cast<std::uint64_t>(v.size()));
        for (auto x : v) e.pod(x);
      }));
}
void GgufWriter::set_u32_array(std::string_view k, const std::vector<std::uint32_t>& v) {
  put(k, typed(GgufType::Array, [&](Encoder& e) {
        e.type(GgufType::UInt32);
        e.pod(static_cast<std::uint64_t>(v.size()));
        for (auto x : v) e.pod(x);
      }));
}
void GgufWriter::set_value(std::string_view k, const GgufValue& v) {
  put(k, typed(v.type(), [&](Encoder& e) { e.value(v); }));
}
void GgufWriter::set_raw(std::string_view k, std::vector<std::byte> encoded) { put(k, std::move(encoded)); }

void GgufWriter::add_tensor(std::string_view name, DType type, std::vector<std::int64_t> shape,
                            std::vector<std::byte> data) {
  auto shared = std::make_shared<std::vector<std::byte>>(std::move(data));
  const std::size_t n = shared->size();
  add_tensor(name, type, std::move(shape), [shared, n](std::span<std::byte> out) {
    std::memcpy(out.data(), shared->data(), std::min(n, out.size()));
  });
  if (tensors_.back().bytes != n) {
    const std::size_t need = tensors_.back().bytes;
    tensors_.pop_back();
    throw Error(ErrorCode::InvalidArgument, "GgufWriter: tensor '" + std::string(name) + "' needs " +
                                                std::to_string(need) + " bytes, got " + std::to_string(n));
  }
}

void GgufWriter::add_tensor(std::string_view name, DType type, std::vector<std::int64_t> shape, Fill fill) {
  const DTypeTraits t = dtype_traits(type);
  std::int64_t elements = 1;
  for (auto d : shape) elements *= d;
  if (shape.empty() || shape.size() > 4 || t.block_bytes == 0 || shape[0] % t.block_elems != 0)
    throw Error(ErrorCode::InvalidArgument, "GgufWriter: tensor '" + std::string(name) + "' has a bad shape for " +
                                                std::string(t.name));
  tensors_.push_back({std::string(name), type, std::move(shape),
                      static_cast<std::size_t>(elements / t.block_elems * t.block_bytes), std::move(fill)});
}

void GgufWriter::emit(const std::function<void(const void*, std::size_t)>& out) const {
  Encoder h;
  h.pod(static_cast<std::uint32_t>(0x46554747));
  h.pod(version_);
  h.pod(static_cast<std::int64_t>(tensors_.size()));
  h.pod(static_cast<std::int64_t>(kv_.size()));
  for (const auto& [k, v] : kv_) {
    h.str(k);
    h.append(v.data(), v.size());
  }
  const auto pad = [&](std::size_t x) { return (x + alignment_ - 1) / alignment_ * alignment_; };
  std::size_t offset = 0;
  for (const auto& t : tensors_) {
    h.str(t.name);
    h.pod(static_cast<std::uint32_t>(t.shape.size()));
    for (auto d : t.shape) h.pod(d);
    h.pod(static_cast<std::uint32_t>(t.type));
    h.pod(static_cast<std::uint64_t>(offset));
    offset += pad(t.bytes);
  }
  h.out.resize(pad(h.out.size()));
  out(h.out.data(), h.out.size());
  std::vector<std::byte> buf;
  for (const auto& t : tensors_) {
    buf.assign(pad(t.bytes), std::byte{0});
    t.fill(std::span<std::byte>(buf.data(), t.bytes));
    out(buf.data(), buf.size());
  }
}

std::vector<std::byte> GgufWriter::to_bytes() const {
  std::vector<std::byte> all;
  emit([&](const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    const std::size_t at = all.size();
    all.resize(at + n);
    std::memcpy(all.data() + at, b, n);
  });
  return all;
}

void GgufWriter::write(const std::filesystem::path& path) const {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw Error(ErrorCode::Io, detail::path_to_utf8(path) + ": cannot create: " + std::strerror(errno));
  emit([&](const void* p, std::size_t n) { f.write(static_cast<const char*>(p), static_cast<std::streamsize>(n)); });
  f.close();
  if (!f) throw Error(ErrorCode::Io, detail::path_to_utf8(path) + ": write failed");
}

}  // namespace inkling
