// Saving and restoring a generator's conversation: the tokens its cache holds, their K/V
// entries, and the sampler's random state, so an app can resume after a restart and the
// next prompt reuses the saved prefix. The file is checked on load: another model's state
// or a damaged file is an Error, never a silent mix.
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "generate/generator_impl.hpp"
#include "inkling/error.hpp"
#include "inkling/gguf.hpp"

namespace inkling {
namespace {

constexpr char kMagic[4] = {'I', 'N', 'K', 'S'};
constexpr std::uint32_t kVersion = 1;

std::uint64_t fnv1a(const std::byte* p, std::size_t n, std::uint64_t h = 1469598103934665603ull) {
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<std::uint8_t>(p[i]);
    h *= 1099511628211ull;
  }
  return h;
}

// What identifies the model a state belongs to.
std::vector<std::uint64_t> fingerprint(const Model& m, const KVCache& cache) {
  const ModelConfig& c = m.config();
  std::uint64_t arch = fnv1a(reinterpret_cast<const std::byte*>(c.architecture.data()), c.architecture.size());
  return {arch,
          static_cast<std::uint64_t>(c.n_layer),
          static_cast<std::uint64_t>(c.n_embd),
          static_cast<std::uint64_t>(c.kv_dim()),
          static_cast<std::uint64_t>(c.n_vocab),
          static_cast<std::uint64_t>(m.weight_bytes()),
          static_cast<std::uint64_t>(m.file().file_size()),
          static_cast<std::uint64_t>(cache.type())};
}

struct Writer {
  std::vector<std::byte> out;
  void raw(const void* p, std::size_t n) {
    const std::size_t at = out.size();
    out.resize(at + n);
    if (n) std::memcpy(out.data() + at, p, n);
  }
  template <typename T>
  void pod(T v) {
    raw(&v, sizeof v);
  }
};

struct Reader {
  const std::vector<std::byte>& in;
  std::size_t pos = 0;
  const std::string& name;
  void raw(void* p, std::size_t n) {
    if (n > in.size() - pos)
      throw Error(ErrorCode::Format, name + ": state file is truncated (at byte " + std::to_string(pos) + ")");
    if (n) std::memcpy(p, in.data() + pos, n);
    pos += n;
  }
  template <typename T>
  T pod() {
    T v{};
    raw(&v, sizeof v);
    return v;
  }
};

}  // namespace

void Generator::save_state(const std::filesystem::path& path) const {
  const Impl& m = *impl_;
  const int len = m.cache.length(0);
  if (static_cast<int>(m.cached.size()) != len)
    throw Error(ErrorCode::InvalidArgument, "Generator::save_state: nothing consistent to save (after beam search, "
                                            "run a prompt first)");
  Writer w;
  w.raw(kMagic, 4);
  w.pod(kVersion);
  for (auto f : fingerprint(*m.model, m.cache)) w.pod(f);
  w.pod(static_cast<std::uint32_t>(len));
  w.raw(m.cached.data(), m.cached.size() * sizeof(TokenId));
  const auto rng = m.sampler.rng_state();
  w.pod(static_cast<std::uint32_t>(rng.size()));
  w.raw(rng.data(), rng.size() * sizeof(std::uint64_t));
  std::vector<std::byte> rows(m.cache.rows_bytes(len));
  m.cache.save_rows(0, len, rows);
  w.raw(rows.data(), rows.size());
  w.pod(fnv1a(w.out.data(), w.out.size()));
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw Error(ErrorCode::Io, path.string() + ": cannot create the state file");
  f.write(reinterpret_cast<const char*>(w.out.data()), static_cast<std::streamsize>(w.out.size()));
  if (!f) throw Error(ErrorCode::Io, path.string() + ": cannot write the state file");
}

void Generator::load_state(const std::filesystem::path& path) {
  Impl& m = *impl_;
  const std::string name = path.string();
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorCode::Io, name + ": cannot open the state file");
  const std::string in((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(in.size());
  if (!in.empty()) std::memcpy(bytes.data(), in.data(), in.size());
  if (bytes.size() < 4 + 4 + 8 || std::memcmp(bytes.data(), kMagic, 4) != 0)
    throw Error(ErrorCode::Format, name + ": not an inkling state file");
  std::uint64_t stored_sum;
  std::memcpy(&stored_sum, bytes.data() + bytes.size() - 8, 8);
  if (fnv1a(bytes.data(), bytes.size() - 8) != stored_sum)
    throw Error(ErrorCode::Format, name + ": state file is corrupted (checksum mismatch)");
  Reader r{bytes, 4, name};
  if (r.pod<std::uint32_t>() != kVersion) throw Error(ErrorCode::Unsupported, name + ": unknown state file version");
  for (auto f_expected : fingerprint(*m.model, m.cache))
    if (r.pod<std::uint64_t>() != f_expected)
      throw Error(ErrorCode::InvalidArgument,
                  name + ": the state was saved for another model (or another KV cache type)");
  const auto len = r.pod<std::uint32_t>();
  if (static_cast<int>(len) > m.cache.n_ctx())
    throw Error(ErrorCode::ContextFull, name + ": the state holds " + std::to_string(len) +
                                           " positions, more than this generator's context of " +
                                           std::to_string(m.cache.n_ctx()));
  std::vector<TokenId> cached(len);
  r.raw(cached.data(), len * sizeof(TokenId));
  for (TokenId t : cached)
    if (t < 0 || t >= m.model->config().n_vocab) throw Error(ErrorCode::Format, name + ": token id out of range");
  const auto n_rng = r.pod<std::uint32_t>();
  if (n_rng > 16) throw Error(ErrorCode::Format, name + ": bad random state");
  std::vector<std::uint64_t> rng(n_rng);
  r.raw(rng.data(), n_rng * sizeof(std::uint64_t));
  std::vector<std::byte> kv(m.cache.rows_bytes(static_cast<int>(len)));
  r.raw(kv.data(), kv.size());
  if (r.pos != bytes.size() - 8) throw Error(ErrorCode::Format, name + ": trailing bytes in the state file");

  // Everything is validated: now change the generator.
  m.sampler.set_rng_state(rng);
  reset();
  m.cache.load_rows(0, static_cast<int>(len), kv);
  m.cached = std::move(cached);
}

}  // namespace inkling
