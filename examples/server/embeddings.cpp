#include "embeddings.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>

#include "inkling/error.hpp"
#include "openai.hpp"

namespace inkling::server {
namespace {

using nlohmann::json;

json parse_body(const std::string& body) {
  try {
    json j = json::parse(body);
    if (!j.is_object()) throw ApiError(400, "the request body must be a JSON object");
    return j;
  } catch (const json::parse_error& e) {
    throw ApiError(400, std::string("the request body is not valid JSON: ") + e.what());
  }
}

void check_model(const json& j, const ServingContext& ctx) {
  if (!j.contains("model")) return;
  if (!j["model"].is_string()) throw ApiError(400, "'model' must be a string", "invalid_request_error", "model");
  const std::string& name = j["model"].get_ref<const std::string&>();
  if (name != ctx.model_id)
    throw ApiError(404, "the model '" + name + "' does not exist (this server has '" + ctx.model_id + "')",
                   "invalid_request_error", "model", "model_not_found");
}

// An inkling error from the embedder as an API error: the caller's input (400) or what
// this model cannot do (501).
[[noreturn]] void rethrow(const Error& e, const char* param) {
  if (e.code() == ErrorCode::Unsupported) throw ApiError(501, e.what(), "invalid_request_error", param, "not_supported");
  throw ApiError(400, e.what(), "invalid_request_error", param);
}

std::vector<TokenId> token_array(const json& a, const std::string& where) {
  std::vector<TokenId> ids;
  for (const json& t : a) {
    if (!t.is_number_integer() || t.get<long long>() < 0 || t.get<long long>() > INT32_MAX)
      throw ApiError(400, where + " holds something other than a token id", "invalid_request_error", "input");
    ids.push_back(static_cast<TokenId>(t.get<long long>()));
  }
  return ids;
}

// llama.cpp's embd_normalize: -1 none, 0 max-abs scaled to the int16 range, 1 taxicab,
// 2 Euclidean, p > 2 the p-norm (2 is done by the Embedder itself).
void normalize(std::vector<float>& v, int norm) {
  double sum = 0;
  if (norm == -1) return;
  if (norm == 0) {
    for (float x : v) sum = std::max(sum, static_cast<double>(std::fabs(x)));
    sum /= 32760.0;
  } else {
    for (float x : v) sum += std::pow(std::fabs(static_cast<double>(x)), norm);
    sum = std::pow(sum, 1.0 / norm);
  }
  const double scale = sum > 0 ? 1.0 / sum : 0.0;
  for (float& x : v) x = static_cast<float>(x * scale);
}

Pooling request_pooling(const json& j) {
  if (!j.contains("pooling")) return Pooling::Default;
  const auto p = j["pooling"].is_string() ? parse_pooling(j["pooling"].get<std::string>()) : std::nullopt;
  if (!p || *p == Pooling::Rank)
    throw ApiError(400, "'pooling' must be \"mean\", \"cls\" or \"last\" (reranking is /v1/rerank)",
                   "invalid_request_error", "pooling");
  if (*p == Pooling::None)
    throw ApiError(400, "'pooling' \"none\" gives a vector per token, which is not the OpenAI shape",
                   "invalid_request_error", "pooling");
  return *p;
}

int request_norm(const json& j) {
  if (!j.contains("embd_normalize")) return 2;
  if (!j["embd_normalize"].is_number_integer() || j["embd_normalize"].get<long long>() < -1 ||
      j["embd_normalize"].get<long long>() > 64)
    throw ApiError(400, "'embd_normalize' must be an integer from -1 to 64 (-1 none, 0 max-abs int16, 1 taxicab, 2 "
                        "Euclidean, p > 2 p-norm)",
                   "invalid_request_error", "embd_normalize");
  return static_cast<int>(j["embd_normalize"].get<long long>());
}

}  // namespace

std::string base64_floats(const std::vector<float>& v) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes(v.size() * 4, '\0');
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto u = std::bit_cast<std::uint32_t>(v[i]);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + static_cast<std::size_t>(b)] = static_cast<char>((u >> (8 * b)) & 0xFF);
  }
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) n |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

EmbeddingService::EmbeddingService(std::shared_ptr<const Model> model) : model_(std::move(model)) {}

json EmbeddingService::embeddings(const std::string& body, const ServingContext& ctx) {
  const json j = parse_body(body);
  check_model(j, ctx);
  if (!j.contains("input")) throw ApiError(400, "'input' is required", "invalid_request_error", "input");
  const json& input = j["input"];
  std::vector<std::string> texts;
  std::vector<std::vector<TokenId>> token_inputs;
  if (input.is_string()) {
    texts.push_back(input.get<std::string>());
  } else if (input.is_array() && !input.empty() && input[0].is_number_integer()) {
    token_inputs.push_back(token_array(input, "'input'"));
  } else if (input.is_array()) {
    for (std::size_t i = 0; i < input.size(); ++i) {
      if (input[i].is_string()) texts.push_back(input[i].get<std::string>());
      else if (input[i].is_array()) token_inputs.push_back(token_array(input[i], "'input'[" + std::to_string(i) + "]"));
      else throw ApiError(400, "'input'[" + std::to_string(i) + "] must be a string or an array of token ids",
                          "invalid_request_error", "input");
    }
    if (!texts.empty() && !token_inputs.empty())
      throw ApiError(400, "'input' mixes strings and token arrays", "invalid_request_error", "input");
  } else {
    throw ApiError(400, "'input' must be a string or an array", "invalid_request_error", "input");
  }
  if (texts.empty() && token_inputs.empty())
    throw ApiError(400, "'input' is an empty list: nothing to embed", "invalid_request_error", "input");
  std::string format = "float";
  if (j.contains("encoding_format")) {
    if (!j["encoding_format"].is_string() ||
        (j["encoding_format"] != "float" && j["encoding_format"] != "base64"))
      throw ApiError(400, "'encoding_format' must be \"float\" or \"base64\"", "invalid_request_error",
                     "encoding_format");
    format = j["encoding_format"].get<std::string>();
  }

  const Pooling pooling = request_pooling(j);
  const int norm = request_norm(j);

  Embeddings result;
  {
    std::lock_guard lock(mutex_);
    const std::pair<Pooling, bool> key{pooling, norm == 2};
    auto it = embedders_.find(key);
    if (it == embedders_.end()) {
      try {
        it = embedders_.emplace(key, Embedder(model_, EmbedOptions{.pooling = pooling, .normalize = norm == 2})).first;
      } catch (const Error& e) {
        rethrow(e, j.contains("pooling") ? "pooling" : "model");
      }
    }
    Embedder& embedder = it->second;
    try {
      if (j.contains("dimensions") && (!j["dimensions"].is_number_integer() || j["dimensions"] != embedder.dim()))
        throw ApiError(400, "'dimensions' can only be this model's " + std::to_string(embedder.dim()),
                       "invalid_request_error", "dimensions");
      result = texts.empty() ? embedder.embed_tokens(token_inputs) : embedder.embed(texts);
    } catch (const Error& e) {
      rethrow(e, "input");
    }
  }
  if (norm != 2)
    for (auto& v : result.vectors) normalize(v, norm);
  json data = json::array();
  for (std::size_t i = 0; i < result.vectors.size(); ++i)
    data.push_back({{"object", "embedding"},
                    {"index", i},
                    {"embedding", format == "base64" ? json(base64_floats(result.vectors[i])) : json(result.vectors[i])}});
  const int tokens = result.total_tokens();
  return {{"object", "list"},
          {"data", std::move(data)},
          {"model", ctx.model_id},
          {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
}

json EmbeddingService::rerank(const std::string& body, const ServingContext& ctx) {
  const json j = parse_body(body);
  check_model(j, ctx);
  if (!j.contains("query") || !j["query"].is_string())
    throw ApiError(400, "'query' must be a string", "invalid_request_error", "query");
  if (!j.contains("documents") || !j["documents"].is_array())
    throw ApiError(400, "'documents' must be an array of strings", "invalid_request_error", "documents");
  std::vector<std::string> docs;
  for (const json& d : j["documents"]) {
    if (!d.is_string()) throw ApiError(400, "'documents' must be an array of strings", "invalid_request_error", "documents");
    docs.push_back(d.get<std::string>());
  }
  if (docs.empty()) throw ApiError(400, "'documents' is empty: nothing to rank", "invalid_request_error", "documents");
  std::size_t top_n = docs.size();
  if (j.contains("top_n")) {
    if (!j["top_n"].is_number_integer() || j["top_n"].get<long long>() < 1)
      throw ApiError(400, "'top_n' must be a positive integer", "invalid_request_error", "top_n");
    top_n = std::min<std::size_t>(top_n, j["top_n"].get<std::size_t>());
  }
  bool return_documents = false;
  if (j.contains("return_documents")) {
    if (!j["return_documents"].is_boolean())
      throw ApiError(400, "'return_documents' must be a boolean", "invalid_request_error", "return_documents");
    return_documents = j["return_documents"].get<bool>();
  }

  std::vector<float> scores;
  {
    std::lock_guard lock(mutex_);
    try {
      if (!reranker_) reranker_.emplace(model_, RerankOptions{});
      scores = reranker_->score(j["query"].get<std::string>(), docs);
    } catch (const Error& e) {
      rethrow(e, "documents");
    }
  }
  std::vector<std::size_t> order(docs.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  json results = json::array();
  for (std::size_t r = 0; r < top_n; ++r) {
    json item = {{"index", order[r]}, {"relevance_score", scores[order[r]]}};
    if (return_documents) item["document"] = {{"text", docs[order[r]]}};
    results.push_back(std::move(item));
  }
  return {{"object", "list"}, {"model", ctx.model_id}, {"results", std::move(results)}};
}

}  // namespace inkling::server
