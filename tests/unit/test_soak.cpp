// Soak: many generations, generator create/free cycles and state round trips on one
// model must not grow the process's memory. Prints resident memory before and after.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "common/peak_memory.hpp"
#include "inkling/generator.hpp"
#include "inkling.h"
#include "shared_data.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INKLING_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define INKLING_ASAN 1
#endif

namespace {

long rss_kib() { return static_cast<long>(inkling::detail::current_rss_bytes() / 1024); }

}  // namespace

TEST_CASE("memory stays flat over 400 generation cycles") {
  auto path = inkling::test::require_shared("models/stories260K-f32.gguf");
  if (!path) return;
  auto model = inkling::Model::load(*path, {.threads = 1});
  ink_model* cmodel = nullptr;
  REQUIRE(ink_model_load(path->string().c_str(), nullptr, &cmodel) == INK_OK);
  const auto state = std::filesystem::temp_directory_path() / "inkling_soak_state.bin";
  auto cycle = [&](int i) {
    inkling::GenerationConfig c;
    c.max_new_tokens = 24;
    c.sampling.seed = static_cast<std::uint64_t>(i);
    c.stop = {"zz"};
    c.lookup_draft = i % 3;
    inkling::Generator g(model, c);
    g.run(i % 2 ? "Once upon a time" : "The little dog was very sad because");
    if (i % 10 == 0) {
      g.save_state(state);
      g.load_state(state);
    }
    ink_generator_params p = ink_generator_params_default();
    p.max_new_tokens = 8;
    ink_generator* cg = nullptr;
    if (ink_generator_create(cmodel, &p, &cg) == INK_OK) ink_generate(cg, "Once", 4, nullptr, nullptr);
    ink_generator_free(cg);
  };
  for (int i = 0; i < 40; ++i) cycle(i);  // warm up: allocator pools, OpenMP threads
  const long before = rss_kib();
  for (int i = 40; i < 440; ++i) cycle(i);
  const long after = rss_kib();
  MESSAGE("resident memory after warm-up " << before << " KiB, after 400 more cycles " << after << " KiB");
  CHECK(before > 0);
#ifdef INKLING_ASAN
  MESSAGE("AddressSanitizer quarantines freed memory: resident size not checked (its leak check runs instead)");
#else
  CHECK(after - before < 4096);  // a leak of even 10 KiB per cycle would show as 4 MiB
#endif
  ink_model_free(cmodel);
  std::filesystem::remove(state);
}
