#include <string>

#include "common/utf8_path.hpp"
#include "gguf/gguf_impl.hpp"
#include "inkling/error.hpp"

namespace inkling {

GgufFile::GgufFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GgufFile::~GgufFile() = default;

std::shared_ptr<const GgufFile> GgufFile::open(const std::filesystem::path& path, GgufOpenOptions options) {
  auto impl = std::make_unique<Impl>(detail::path_to_utf8(path), detail::MappedFile::open(path, options.use_mmap));
  detail::parse_gguf(*impl);
  return std::shared_ptr<const GgufFile>(new GgufFile(std::move(impl)));
}

std::shared_ptr<const GgufFile> GgufFile::from_bytes(std::vector<std::byte> bytes, std::string name) {
  auto impl = std::make_unique<Impl>(std::move(name), detail::MappedFile::from_bytes(std::move(bytes)));
  detail::parse_gguf(*impl);
  return std::shared_ptr<const GgufFile>(new GgufFile(std::move(impl)));
}

const std::string& GgufFile::name() const noexcept { return impl_->name; }
std::uint32_t GgufFile::version() const noexcept { return impl_->version; }
std::size_t GgufFile::alignment() const noexcept { return impl_->alignment; }
std::size_t GgufFile::file_size() const noexcept { return impl_->file.bytes().size(); }
std::size_t GgufFile::data_offset() const noexcept { return impl_->data_offset; }
std::span<const GgufKeyValue> GgufFile::metadata() const noexcept { return impl_->metadata; }
std::span<const TensorView> GgufFile::tensors() const noexcept { return impl_->tensors; }

const GgufValue* GgufFile::find(std::string_view key) const noexcept {
  auto it = impl_->key_index.find(key);
  return it == impl_->key_index.end() ? nullptr : &impl_->metadata[it->second].value;
}

namespace {
std::string key_label(const GgufFile& f, std::string_view key) {
  return f.name() + ": key '" + std::string(key) + "'";
}
}  // namespace

std::optional<std::uint64_t> GgufFile::get_uint(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  return v->as_uint(key_label(*this, key));
}

std::optional<std::int64_t> GgufFile::get_int(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  return v->as_int(key_label(*this, key));
}

std::optional<double> GgufFile::get_float(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  return v->as_float(key_label(*this, key));
}

std::optional<bool> GgufFile::get_bool(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  return v->as_bool(key_label(*this, key));
}

std::optional<std::string_view> GgufFile::get_string(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  return v->as_string(key_label(*this, key));
}

const GgufArray* GgufFile::get_array(std::string_view key) const {
  const GgufValue* v = find(key);
  if (!v) return nullptr;
  return &v->as_array(key_label(*this, key));
}

std::uint64_t GgufFile::require_uint(std::string_view key) const {
  auto v = get_uint(key);
  if (!v) throw Error(ErrorCode::Format, name() + ": missing required key '" + std::string(key) + "'");
  return *v;
}

std::string_view GgufFile::require_string(std::string_view key) const {
  auto v = get_string(key);
  if (!v) throw Error(ErrorCode::Format, name() + ": missing required key '" + std::string(key) + "'");
  return *v;
}

const TensorView* GgufFile::find_tensor(std::string_view tensor_name) const noexcept {
  auto it = impl_->tensor_index.find(tensor_name);
  return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

const TensorView& GgufFile::require_tensor(std::string_view tensor_name) const {
  const TensorView* t = find_tensor(tensor_name);
  if (!t) throw Error(ErrorCode::Format, name() + ": missing tensor '" + std::string(tensor_name) + "'");
  return *t;
}

}  // namespace inkling
