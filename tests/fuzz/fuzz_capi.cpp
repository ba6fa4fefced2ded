// libFuzzer target: sequences of C ABI calls, with NULLs, bad sizes, invalid UTF-8 and
// out-of-range ids, on the real stories260K model. No call may crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "inkling.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static ink_model* model = [] {
    const char* env = std::getenv("INKLING_SHARED");
    const std::string path = std::string(env ? env : "../shared") + "/models/stories260K-f32.gguf";
    ink_model* m = nullptr;
    if (ink_model_load(path.c_str(), nullptr, &m) != INK_OK) std::abort();
    return m;
  }();
  std::size_t i = 0;
  auto next = [&]() -> std::uint8_t { return i < size ? data[i++] : 0; };
  ink_generator* gen = nullptr;
  char buf[64];
  std::int32_t ids[16];
  std::size_t n = 0;
  while (i < size) {
    const std::uint8_t op = next() % 8;
    const std::size_t len = next() % 24;
    const char* text = reinterpret_cast<const char*>(data + i);
    const std::size_t avail = std::min(len, size - i);
    i += avail;
    switch (op) {
      case 0: ink_tokenize(model, text, avail, next() & 1, next() & 1, next() & 1 ? ids : nullptr, next() % 17, &n); break;
      case 1: {
        std::int32_t some[4] = {static_cast<std::int32_t>(next()) * 3, static_cast<std::int32_t>(next()) - 100, 5, 600};
        ink_detokenize(model, some, next() % 5, next() & 1 ? buf : nullptr, next() % 65, &n);
        break;
      }
      case 2: ink_token_piece(model, static_cast<std::int32_t>(next()) * 4 - 200, buf, next() % 65, &n); break;
      case 3: {
        ink_generator_free(gen);
        gen = nullptr;
        ink_generator_params p = ink_generator_params_default();
        p.max_new_tokens = next() % 8;
        p.temperature = static_cast<float>(next()) / 64.0f - 0.5f;
        p.top_k = next() % 50;
        p.n_ctx = next() % 40;
        p.num_beams = 1 + next() % 3;
        p.top_n_alternatives = next() % 20;
        if (next() & 1) p.struct_size = next();
        ink_generator_create(next() & 1 ? model : nullptr, &p, &gen);
        break;
      }
      case 4: ink_generator_prompt(gen, text, avail); break;
      case 5: {
        ink_step step;
        step.struct_size = next() & 1 ? sizeof step : next();
        ink_generator_step(gen, next() & 1 ? &step : nullptr);
        break;
      }
      case 6: ink_generate(gen, text, avail, nullptr, nullptr); break;
      case 7: ink_generator_text(gen, next() & 1 ? buf : nullptr, next() % 65, &n); break;
    }
  }
  ink_generator_free(gen);
  return 0;
}
