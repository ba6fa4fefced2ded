// nomic-bert (rotary, SwiGLU, fused QKV, no biases) against a plain double-precision
// reference written from llama.cpp's description of the architecture, on a tiny
// random-weight file with synth-bert's WordPiece vocabulary.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "inkling/embedder.hpp"
#include "inkling/gguf.hpp"
#include "inkling/gguf_writer.hpp"
#include "inkling/model.hpp"
#include "shared_data.hpp"

namespace {

constexpr int kEmbd = 32, kHeads = 4, kHd = 8, kFf = 48, kLayers = 2, kCtx = 64;
constexpr float kBase = 1000.0f, kEps = 1e-12f;

using Mat = std::vector<float>;  // rows of k floats

struct Weights {
  std::map<std::string, Mat> t;
};

Mat random_mat(std::size_t n, float sigma, float mean, std::mt19937& rng) {
  std::normal_distribution<float> d(mean, sigma);
  Mat m(n);
  for (float& x : m) x = d(rng);
  return m;
}

std::vector<std::byte> bytes(const Mat& m) {
  std::vector<std::byte> b(m.size() * 4);
  std::memcpy(b.data(), m.data(), b.size());
  return b;
}

std::shared_ptr<const inkling::Model> nomic_model(Weights& w, int n_vocab_src, const inkling::GgufFile& vocab) {
  inkling::GgufWriter g;
  for (const auto& kv : vocab.metadata())
    if (std::string(kv.key).rfind("tokenizer.", 0) == 0) g.set_value(kv.key, kv.value);
  g.set_string("general.architecture", "nomic-bert");
  g.set_u32("nomic-bert.context_length", kCtx);
  g.set_u32("nomic-bert.embedding_length", kEmbd);
  g.set_u32("nomic-bert.block_count", kLayers);
  g.set_u32("nomic-bert.feed_forward_length", kFf);
  g.set_u32("nomic-bert.attention.head_count", kHeads);
  g.set_f32("nomic-bert.attention.layer_norm_epsilon", kEps);
  g.set_f32("nomic-bert.rope.freq_base", kBase);
  g.set_bool("nomic-bert.attention.causal", false);
  g.set_u32("nomic-bert.pooling_type", 1);  // mean
  std::mt19937 rng(1234);
  auto add = [&](const std::string& name, std::vector<std::int64_t> shape, float sigma, float mean = 0.0f) {
    std::size_t n = 1;
    for (auto s : shape) n *= static_cast<std::size_t>(s);
    w.t[name] = random_mat(n, sigma, mean, rng);
    g.add_tensor(name, inkling::DType::F32, shape, bytes(w.t[name]));
  };
  add("token_embd.weight", {kEmbd, n_vocab_src}, 0.8f);
  add("token_types.weight", {kEmbd, 2}, 0.3f);
  add("token_embd_norm.weight", {kEmbd}, 0.1f, 1.0f);
  add("token_embd_norm.bias", {kEmbd}, 0.1f);
  for (int l = 0; l < kLayers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    add(p + "attn_qkv.weight", {kEmbd, 3 * kEmbd}, 2.0f / std::sqrt(float(kEmbd)));
    add(p + "attn_output.weight", {kEmbd, kEmbd}, 1.0f / std::sqrt(float(kEmbd)));
    add(p + "attn_output_norm.weight", {kEmbd}, 0.1f, 1.0f);
    add(p + "attn_output_norm.bias", {kEmbd}, 0.1f);
    add(p + "ffn_gate.weight", {kEmbd, kFf}, 1.0f / std::sqrt(float(kEmbd)));
    add(p + "ffn_up.weight", {kEmbd, kFf}, 1.0f / std::sqrt(float(kEmbd)));
    add(p + "ffn_down.weight", {kFf, kEmbd}, 1.0f / std::sqrt(float(kFf)));
    add(p + "layer_output_norm.weight", {kEmbd}, 0.1f, 1.0f);
    add(p + "layer_output_norm.bias", {kEmbd}, 0.1f);
  }
  return inkling::Model::from_file(inkling::GgufFile::from_bytes(g.to_bytes(), "tiny-nomic-bert"), {.threads = 2});
}

using Vec = std::vector<double>;

Vec matvec(const Mat& w, const Vec& x, int rows) {
  const auto k = x.size();
  Vec y(static_cast<std::size_t>(rows), 0.0);
  for (int r = 0; r < rows; ++r)
    for (std::size_t i = 0; i < k; ++i) y[static_cast<std::size_t>(r)] += w[static_cast<std::size_t>(r) * k + i] * x[i];
  return y;
}

Vec layer_norm(const Vec& x, const Mat& w, const Mat& b) {
  double mean = 0, var = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(x.size());
  for (double v : x) var += (v - mean) * (v - mean);
  var /= static_cast<double>(x.size());
  Vec y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = (x[i] - mean) / std::sqrt(var + kEps) * w[i] + b[i];
  return y;
}

// NEOX rotary: pairs (i, i + hd/2) of each head, angle pos * base^(-2i/hd).
void rope(Vec& v, int pos) {
  for (int h = 0; h < kHeads; ++h)
    for (int i = 0; i < kHd / 2; ++i) {
      const double a = pos * std::pow(static_cast<double>(kBase), -2.0 * i / kHd);
      double& x0 = v[static_cast<std::size_t>(h * kHd + i)];
      double& x1 = v[static_cast<std::size_t>(h * kHd + i + kHd / 2)];
      const double r0 = x0 * std::cos(a) - x1 * std::sin(a), r1 = x0 * std::sin(a) + x1 * std::cos(a);
      x0 = r0;
      x1 = r1;
    }
}

Vec reference(Weights& w, const std::vector<inkling::TokenId>& ids) {
  const int n = static_cast<int>(ids.size());
  std::vector<Vec> x(static_cast<std::size_t>(n), Vec(kEmbd));
  for (int t = 0; t < n; ++t) {
    for (int i = 0; i < kEmbd; ++i)
      x[t][i] = w.t["token_embd.weight"][static_cast<std::size_t>(ids[t]) * kEmbd + i] + w.t["token_types.weight"][i];
    x[t] = layer_norm(x[t], w.t["token_embd_norm.weight"], w.t["token_embd_norm.bias"]);
  }
  for (int l = 0; l < kLayers; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    std::vector<Vec> q(n), k(n), v(n);
    for (int t = 0; t < n; ++t) {
      const Vec qkv = matvec(w.t[p + "attn_qkv.weight"], x[t], 3 * kEmbd);
      q[t].assign(qkv.begin(), qkv.begin() + kEmbd);
      k[t].assign(qkv.begin() + kEmbd, qkv.begin() + 2 * kEmbd);
      v[t].assign(qkv.begin() + 2 * kEmbd, qkv.end());
      rope(q[t], t);
      rope(k[t], t);
    }
    for (int t = 0; t < n; ++t) {
      Vec att(kEmbd, 0.0);
      for (int h = 0; h < kHeads; ++h) {
        std::vector<double> s(static_cast<std::size_t>(n));
        double mx = -1e300, sum = 0;
        for (int j = 0; j < n; ++j) {
          double d = 0;
          for (int i = 0; i < kHd; ++i) d += q[t][h * kHd + i] * k[j][h * kHd + i];
          s[j] = d / std::sqrt(static_cast<double>(kHd));
          mx = std::max(mx, s[j]);
        }
        for (double& e : s) sum += (e = std::exp(e - mx));
        for (int j = 0; j < n; ++j)
          for (int i = 0; i < kHd; ++i) att[h * kHd + i] += s[j] / sum * v[j][h * kHd + i];
      }
      const Vec o = matvec(w.t[p + "attn_output.weight"], att, kEmbd);
      Vec r(kEmbd);
      for (int i = 0; i < kEmbd; ++i) r[i] = x[t][i] + o[i];
      const Vec y = layer_norm(r, w.t[p + "attn_output_norm.weight"], w.t[p + "attn_output_norm.bias"]);
      const Vec g = matvec(w.t[p + "ffn_gate.weight"], y, kFf), u = matvec(w.t[p + "ffn_up.weight"], y, kFf);
      Vec hdn(kFf);
      for (int i = 0; i < kFf; ++i) hdn[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
      const Vec f = matvec(w.t[p + "ffn_down.weight"], hdn, kEmbd);
      Vec z(kEmbd);
      for (int i = 0; i < kEmbd; ++i) z[i] = y[i] + f[i];
      x[t] = layer_norm(z, w.t[p + "layer_output_norm.weight"], w.t[p + "layer_output_norm.bias"]);
    }
  }
  Vec mean(kEmbd, 0.0);
  for (const Vec& r : x)
    for (int i = 0; i < kEmbd; ++i) mean[i] += r[i] / n;
  double norm = 0;
  for (double m : mean) norm += m * m;
  for (double& m : mean) m /= std::sqrt(norm);
  return mean;
}

}  // namespace

TEST_CASE("nomic-bert matches a double-precision reference (rotary, SwiGLU, fused QKV, mean pooling)") {
  const auto path = inkling::test::require_shared("models/synth-bert.gguf");
  if (!path) return;
  const auto vocab = inkling::GgufFile::open(*path);
  Weights w;
  const auto model = nomic_model(w, static_cast<int>(vocab->find_tensor("token_embd.weight")->shape[1]), *vocab);
  CHECK(inkling::is_embedding_only(*model));
  inkling::Embedder embedder(model);
  CHECK(embedder.pooling() == inkling::Pooling::Mean);
  const std::vector<std::string> texts = {"Once upon a time", "Lily and Tom went to the park. They saw", ""};
  const auto e = embedder.embed(texts);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    CAPTURE(texts[i]);
    const Vec ref = reference(w, model->tokenizer().encode(texts[i]));
    double mx = 0;
    for (int k = 0; k < kEmbd; ++k) mx = std::max(mx, std::abs(ref[k] - e.vectors[i][static_cast<std::size_t>(k)]));
    CHECK(mx < 1e-5);
  }
  // Positions matter (rotary): the same words in another order embed differently.
  const auto a = embedder.embed("dog bites man"), b = embedder.embed("man bites dog");
  double diff = 0;
  for (int k = 0; k < kEmbd; ++k) diff = std::max(diff, static_cast<double>(std::abs(a[k] - b[k])));
  CHECK(diff > 1e-3);
}
