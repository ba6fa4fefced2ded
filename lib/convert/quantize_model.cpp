#include <omp.h>

#include <cstring>
#include <string>
#include <vector>

#include "inkling/error.hpp"
#include "inkling/gguf.hpp"
#include "inkling/gguf_writer.hpp"
#include "inkling/quantize.hpp"
#include "kernels/kernels.hpp"
#include "kernels/quantize_row.hpp"

namespace inkling {

namespace {

// llama.cpp's general.file_type numbers ("mostly <type>"), so other tools label the file.
std::uint32_t llama_file_type(DType t) {
  switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q8_0: return 7;
    case DType::BF16: return 32;
    default: return 0;
  }
}

}  // namespace

bool can_quantize_to(DType type) noexcept { return kernels::can_encode(type); }

QuantizeReport quantize_model(const std::filesystem::path& in, const std::filesystem::path& out,
                              const QuantizeOptions& options) {
  if (!can_quantize_to(options.type))
    throw Error(ErrorCode::Unsupported, "quantize: cannot write " + std::string(dtype_name(options.type)) +
                                           " (supported: f32, f16, bf16, q8_0, q4_0)");
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && std::filesystem::equivalent(in, out, ec))
    throw Error(ErrorCode::InvalidArgument, "quantize: the output would overwrite the input " + in.string());
  const auto file = GgufFile::open(in);

  GgufWriter w;
  w.set_alignment(static_cast<std::uint32_t>(file->alignment()));
  for (const auto& kv : file->metadata()) {
    if (kv.key == "general.alignment") continue;  // written by set_alignment
    if (kv.key == "general.file_type") continue;
    w.set_value(kv.key, kv.value);
  }
  w.set_u32("general.file_type", llama_file_type(options.type));

  QuantizeReport report;
  const auto tensors = file->tensors();
  const std::int64_t block = static_cast<std::int64_t>(dtype_traits(options.type).block_elems);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const TensorView t = tensors[i];
    std::vector<std::int64_t> shape(t.shape.begin(), t.shape.begin() + t.n_dims);
    report.bytes_in += t.bytes;
    const bool convert = t.n_dims >= 2 && t.type != options.type && t.row_elems() % block == 0 &&
                         kernels::is_supported(t.type);
    const int index = static_cast<int>(i), count = static_cast<int>(tensors.size());
    if (!convert) {
      ++report.kept;
      report.bytes_out += t.bytes;
      w.add_tensor(t.name, t.type, shape, [t, index, count, &options](std::span<std::byte> dst) {
        std::memcpy(dst.data(), t.data, t.bytes);
        if (options.on_tensor) options.on_tensor(t.name, index, count);
      });
      continue;
    }
    ++report.converted;
    const DType type = options.type;
    report.bytes_out += static_cast<std::size_t>(dtype_row_bytes(type, t.row_elems())) * static_cast<std::size_t>(t.rows());
    w.add_tensor(t.name, type, shape, [t, type, index, count, &options](std::span<std::byte> dst) {
      const std::int64_t k = t.row_elems();
      const std::size_t out_row = static_cast<std::size_t>(dtype_row_bytes(type, k));
      // Rows are independent: decode and re-encode them on every core.
#pragma omp parallel
      {
        std::vector<float> row(static_cast<std::size_t>(k));
#pragma omp for schedule(static)
        for (std::int64_t r = 0; r < t.rows(); ++r) {
          kernels::dequantize_row(t.type, t.row(r), row.data(), k);
          kernels::quantize_row(type, row.data(), dst.data() + out_row * static_cast<std::size_t>(r), k);
        }
      }
      if (options.on_tensor) options.on_tensor(t.name, index, count);
    });
  }
  w.write(out);
  return report;
}

}  // namespace inkling
