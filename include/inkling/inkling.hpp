// Umbrella header: the whole public C++ API.
#pragma once

#include "inkling/batch_generator.hpp"
#include "inkling/chat_template.hpp"
#include "inkling/embedder.hpp"
#include "inkling/error.hpp"
#include "inkling/generator.hpp"
#include "inkling/gguf.hpp"
#include "inkling/kv_cache.hpp"
#include "inkling/model.hpp"
#include "inkling/quantize.hpp"
#include "inkling/sampler.hpp"
#include "inkling/scoring.hpp"
#include "inkling/synth.hpp"
#include "inkling/system.hpp"
#include "inkling/tensor.hpp"
#include "inkling/tokenizer.hpp"
