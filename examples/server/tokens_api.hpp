// /tokenize and /detokenize: the text as the model sees it (token ids, optionally with
// each token's piece), and ids back to text. The shapes follow llama.cpp's server, so
// clients written for it work here:
//   POST /tokenize   {"content": "...", "add_special": false, "parse_special": true,
//                     "with_pieces": false}  ->  {"tokens": [15043, ...]}
//                    (with_pieces: [{"id": 15043, "piece": " Hello"}, ...]; a piece that is
//                    not valid UTF-8 on its own, part of a character, is its byte values)
//   POST /detokenize {"tokens": [15043, ...]}  ->  {"content": " Hello"}
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "inkling/model.hpp"

namespace inkling::server {

// Both throw ApiError(400) naming the field at fault.
nlohmann::json tokenize_response(const Model& model, const nlohmann::json& body);
nlohmann::json detokenize_response(const Model& model, const nlohmann::json& body);

}  // namespace inkling::server
