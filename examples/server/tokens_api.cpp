#include "tokens_api.hpp"

#include "openai.hpp"

namespace inkling::server {

using nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& param, const std::string& message) {
  throw ApiError(400, message, "invalid_request_error", param);
}

bool flag(const json& body, const char* key, bool fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) bad(key, std::string("'") + key + "' must be a boolean");
  return it->get<bool>();
}

// A byte token (SentencePiece <0xE2>) or a BPE token ending mid-character is not text by
// itself; JSON strings must be, so such a piece is sent as its bytes.
bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + static_cast<std::size_t>(len) > s.size()) return false;
    for (int k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) >> 6) != 0x2) return false;
    i += static_cast<std::size_t>(len);
  }
  return true;
}

json piece_json(const std::string& piece) {
  if (valid_utf8(piece)) return piece;
  json bytes = json::array();
  for (unsigned char c : piece) bytes.push_back(static_cast<int>(c));
  return bytes;
}

}  // namespace

json tokenize_response(const Model& model, const json& body) {
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
  auto it = body.find("content");
  if (it == body.end() || !it->is_string()) bad("content", "'content' must be a string");
  const bool add_special = flag(body, "add_special", false);
  const bool parse_special = flag(body, "parse_special", true);
  const bool with_pieces = flag(body, "with_pieces", false);
  const Tokenizer& tok = model.tokenizer();
  const std::vector<TokenId> ids = tok.encode(it->get<std::string>(), add_special, parse_special);
  json tokens = json::array();
  for (TokenId id : ids) {
    if (with_pieces)
      tokens.push_back({{"id", id}, {"piece", piece_json(tok.token_to_piece(id, true))}});
    else
      tokens.push_back(id);
  }
  return {{"tokens", tokens}};
}

json detokenize_response(const Model& model, const json& body) {
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
  auto it = body.find("tokens");
  if (it == body.end() || !it->is_array()) bad("tokens", "'tokens' must be an array of token ids");
  const int n_vocab = model.config().n_vocab;
  std::vector<TokenId> ids;
  ids.reserve(it->size());
  for (const json& v : *it) {
    if (!v.is_number_integer()) bad("tokens", "'tokens' must be an array of token ids");
    const long long id = v.get<long long>();
    if (id < 0 || id >= n_vocab)
      bad("tokens", "token id " + std::to_string(id) + " is out of range [0, " + std::to_string(n_vocab) + ")");
    ids.push_back(static_cast<TokenId>(id));
  }
  // The pieces joined as they were written: the inverse of /tokenize (no SentencePiece
  // leading-space rule, which would drop a space /tokenize kept).
  std::string text;
  for (TokenId id : ids) text += model.tokenizer().token_to_piece(id, true);
  return {{"content", text}};
}

}  // namespace inkling::server
