// The model the CLI uses when no -m is given: stories260K (models/stories260K.gguf in the
// repository, a 260K-parameter Llama trained on TinyStories, MIT licence), compiled into
// the program so that a fresh clone can run something without downloading a model.
#pragma once

#include <memory>
#include <string>

#include "inkling/model.hpp"

namespace inkling::cli {

// Short name shown to the user for the built-in model.
inline constexpr const char* kDefaultModelName = "stories260K (built in)";

// Loads `path`, or the built-in model when `path` is empty, saying so on stderr in one
// line (`command` names who fell back, e.g. "run").
std::shared_ptr<const Model> load_model_or_default(const std::string& path, const ModelOptions& options,
                                                   const char* command);

}  // namespace inkling::cli
