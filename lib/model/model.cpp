#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "inkling/error.hpp"
#include "model/config.hpp"
#include "model/model_impl.hpp"

namespace inkling {

namespace detail {

int physical_cores() noexcept {
  // Count distinct (package, core) pairs; SMT siblings share a core and add little to
  // bandwidth-bound decoding.
  std::set<std::pair<int, int>> cores;
  const unsigned logical = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned cpu = 0; cpu < logical; ++cpu) {
    const std::string base = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream pkg(base + "physical_package_id"), core(base + "core_id");
    int p = 0, c = 0;
    if (!(pkg >> p) || !(core >> c)) return static_cast<int>(logical);
    cores.emplace(p, c);
  }
  return cores.empty() ? static_cast<int>(logical) : static_cast<int>(cores.size());
}

}  // namespace detail

int Batch::n_logits() const noexcept {
  int n = 0;
  for (auto w : want_logits) n += w ? 1 : 0;
  return n;
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
int Model::default_threads() noexcept { return detail::physical_cores(); }
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path, ModelOptions options) {
  GgufOpenOptions open_options;
  open_options.use_mmap = options.use_mmap;
  return from_file(GgufFile::open(path, open_options), options);
}

std::shared_ptr<const Model> Model::from_file(std::shared_ptr<const GgufFile> file,
                                              ModelOptions options) {
  if (!file) throw Error(ErrorCode::InvalidArgument, "Model::from_file: null file");
  if (options.threads < 0 || options.threads > 1024)
    throw Error(ErrorCode::InvalidArgument,
                "ModelOptions::threads " + std::to_string(options.threads) +
                    " is out of range [0, 1024]");
  auto impl = std::make_unique<Impl>();
  impl->file = std::move(file);
  impl->config = detail::read_config(*impl->file);
  impl->arch = detail::find_arch(impl->config.architecture);  // read_config checked it exists
  if (impl->arch->encoder)
    impl->encoder = detail::bind_encoder_weights(*impl->file, *impl->arch, impl->config);
  else
    impl->weights = detail::bind_weights(*impl->file, *impl->arch, impl->config);
  impl->tokenizer.emplace(*impl->file);
  if (impl->tokenizer->n_vocab() != impl->config.n_vocab)
    throw Error(ErrorCode::Format,
                impl->file->name() + ": the vocabulary has " +
                    std::to_string(impl->tokenizer->n_vocab()) +
                    " tokens but token_embd.weight has " + std::to_string(impl->config.n_vocab) +
                    " rows");
  impl->isa = kernels::detect_isa();
  impl->threads = options.threads > 0 ? options.threads : detail::physical_cores();
  for (const auto& t : impl->file->tensors()) impl->weight_bytes += t.bytes;
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

const ModelConfig& Model::config() const noexcept { return impl_->config; }
const Tokenizer& Model::tokenizer() const noexcept { return *impl_->tokenizer; }
const GgufFile& Model::file() const noexcept { return *impl_->file; }
int Model::threads() const noexcept { return impl_->threads; }
std::size_t Model::weight_bytes() const noexcept { return impl_->weight_bytes; }
std::string Model::isa() const { return std::string(kernels::isa_name(impl_->isa)); }

const void* detail::model_impl_id(const Model& model) noexcept { return &model.config(); }

const float* detail::rope_factor_tensor(const Model& model, const char* name) noexcept {
  // Bound (and checked) by bind_weights; the mapping lives as long as the model.
  const TensorView* t = model.file().find_tensor(name);
  return t ? reinterpret_cast<const float*>(t->data) : nullptr;
}

}  // namespace inkling
