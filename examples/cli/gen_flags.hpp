// The model, context, sampling and stopping flags that `inkling run` and `inkling chat`
// share, parsed one place so both commands accept and check them alike.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fstream>
#include <sstream>

#include "args.hpp"
#include "inkling/generator.hpp"
#include "inkling/json_schema.hpp"
#include "inkling/model.hpp"

inline constexpr const char* kGenerationFlagsHelp =
    "      --min-tokens N      do not stop (end-of-text, stop strings) before N tokens (default 0)\n"
    "      --ctx N             context length in tokens (default: the model's, at most 4096); beyond\n"
    "                          the model's training context it needs --rope-scale\n"
    "      --rope-scale F      stretch RoPE positions F times (linear scaling), so a model trained on N\n"
    "                          positions takes --ctx up to N x F; degrades output unless the model was\n"
    "                          tuned for it (default 1 = off)\n"
    "      --memory-budget MB  refuse a KV cache larger than MB megabytes (default: no limit)\n"
    "      --kv-type T         KV cache type: f32 (default), f16 (half the memory) or q8_0 (about a\n"
    "                          quarter; needs a head size that is a multiple of 32)\n"
    "  -t, --threads N         threads (default: physical cores)\n"
    "      --no-mmap           read the model into memory instead of mapping it\n"
    "sampling (default order: bias, penalties, DRY, top-n-sigma, top-k, typical-p, top-p, min-p, XTC, temp):\n"
    "      --temp T            temperature; 0 = greedy, always the most likely token (default 0.8)\n"
    "      --top-k K           keep the K most likely tokens; 0 or -1 = off (default 40)\n"
    "      --top-p P           keep the smallest set whose probability reaches P; 1 = off (default 0.95)\n"
    "      --min-p P           drop tokens less likely than P x the most likely one; 0 = off (default 0.05)\n"
    "      --typical-p P       locally typical sampling; 1 = off (default 1)\n"
    "      --repeat-penalty R  divide positive / multiply negative logits of recent tokens by R (default 1)\n"
    "      --presence-penalty X   subtract X from every recent token's logit (default 0)\n"
    "      --frequency-penalty X  subtract X per occurrence of a recent token (default 0)\n"
    "      --penalty-window N  how many recent tokens the penalties look at; -1 = all (default 64)\n"
    "      --bias ID=VALUE     add VALUE to token ID's logit (-inf bans it); repeatable\n"
    "      --dry-multiplier X  DRY: penalise a token that would extend a repeat of an earlier sequence by\n"
    "                          X * base^(length - allowed); 0 = off (default 0)\n"
    "      --dry-base B        DRY's growth per repeated token (default 1.75)\n"
    "      --dry-allowed-length N  repeats up to N tokens are free (default 2)\n"
    "      --dry-penalty-last-n N  tokens DRY searches; -1 = all (default), 0 = off\n"
    "      --dry-sequence-breaker S  text that ends a repeat (repeatable; replaces the default \\n : \" *;\n"
    "                          'none' for no breakers)\n"
    "      --top-n-sigma N     keep tokens within N standard deviations of the best logit; <= 0 = off\n"
    "      --xtc-probability P XTC: with probability P remove the likeliest tokens above the threshold\n"
    "                          but the least likely of them (default 0 = off)\n"
    "      --xtc-threshold T   XTC's threshold (default 0.1)\n"
    "      --mirostat N        mirostat 1 or 2 instead of top-k/p, min-p, typical-p, XTC (default 0 = off)\n"
    "      --mirostat-ent TAU  mirostat's target surprise in bits (default 5)\n"
    "      --mirostat-lr ETA   mirostat's learning rate (default 0.1)\n"
    "      --samplers LIST     the order of the steps, as llama.cpp spells it, e.g.\n"
    "                          \"penalties;dry;top_n_sigma;top_k;typ_p;top_p;min_p;xtc;temperature\"\n"
    "      --seed S            random seed; the same seed gives the same text (default: random)\n"
    "stopping:\n"
    "      --stop TEXT         stop before TEXT appears (matched across tokens); repeatable\n"
    "      --stop-token ID     stop at token ID; repeatable\n"
    "      --ignore-eos        do not stop at the model's end-of-text tokens\n"
    "      --context-full P    when the context is full: stop (default), error, or shift (keep --keep\n"
    "                          tokens, drop the oldest half of the rest and go on)\n"
    "      --keep N            with shift: tokens at the start never dropped (besides BOS); -1 = the prompt\n"
    "constrained output (one of these; the text always follows it, the stop reason says\n"
    "grammar_incomplete when it had to end before the grammar was complete):\n"
    "      --grammar STR       a GBNF grammar (llama.cpp's syntax; the rule `root` starts)\n"
    "      --grammar-file F    a GBNF grammar read from file F\n"
    "      --json-schema F     JSON that validates against the JSON Schema in file F\n"
    "      --json-value        any JSON value\n"
    "      --json-whitespace W with --json-schema / --json-value: compact (default, no spaces)\n"
    "                          or flexible (spaces and newlines allowed between tokens)\n";

struct GenerationFlags {
  inkling::ModelOptions model_options;
  inkling::GenerationConfig gen;
  bool seed_given = false;
  bool breakers_given = false;
  // The flags given that shape the sampled distribution (beam search refuses them).
  std::vector<std::string> sampling_flags;
  // The constraint as given: which flag and its value (compiled by finish()).
  std::string grammar_flag, grammar_value;
  std::string json_whitespace;

  // Consumes the current flag if it is one of kGenerationFlagsHelp's (or -n); false if not.
  bool parse(Args& a) {
    for (const char* flag : {"--temp", "--top-k", "--top-p", "--min-p", "--typical-p", "--seed", "--top-n-sigma",
                             "--xtc-probability", "--xtc-threshold", "--mirostat", "--mirostat-ent", "--mirostat-lr",
                             "--samplers"})
      if (a.is(flag)) sampling_flags.emplace_back(flag);
    if (a.is("-n", "--max-tokens")) gen.max_new_tokens = static_cast<int>(a.integer(0, 1 << 24));
    else if (a.is("--min-tokens")) gen.min_new_tokens = static_cast<int>(a.integer(0, 1 << 24));
    else if (a.is("--ctx")) gen.n_ctx = static_cast<int>(a.integer(1, 1 << 24));
    else if (a.is("--rope-scale")) gen.rope_scale = a.real();
    else if (a.is("--kv-type")) gen.kv_type = a.kv_type();
    else if (a.is("--memory-budget")) gen.memory_budget = static_cast<std::size_t>(a.integer(1, 1 << 30)) << 20;
    else if (a.is("-t", "--threads")) model_options.threads = static_cast<int>(a.integer(1, 1024));
    else if (a.is("--no-mmap")) model_options.use_mmap = false;
    else if (a.is("--temp")) gen.sampling.temperature = a.real();
    else if (a.is("--top-k")) gen.sampling.top_k = std::max(0, static_cast<int>(a.integer(-1, 1 << 24)));  // -1: off, as llama.cpp
    else if (a.is("--top-p")) gen.sampling.top_p = a.real();
    else if (a.is("--min-p")) gen.sampling.min_p = a.real();
    else if (a.is("--typical-p")) gen.sampling.typical_p = a.real();
    else if (a.is("--repeat-penalty")) gen.sampling.repeat_penalty = a.real();
    else if (a.is("--presence-penalty")) gen.sampling.presence_penalty = a.real();
    else if (a.is("--frequency-penalty")) gen.sampling.frequency_penalty = a.real();
    else if (a.is("--penalty-window")) gen.sampling.penalty_window = static_cast<int>(a.integer(-1, 1 << 24));
    else if (a.is("--bias")) {
      const std::string v = a.value();
      const auto eq = v.find('=');
      char* end = nullptr;
      const long id = eq == std::string::npos ? -1 : std::strtol(v.c_str(), &end, 10);
      // A token id is a 32-bit int: a larger number would wrap to another token.
      if (eq == std::string::npos || end != v.c_str() + eq || id < 0 || id > INT32_MAX) Args::fail("--bias: expected ID=VALUE, got '" + v + "'");
      const std::string val = v.substr(eq + 1);
      const float b = val == "-inf" ? -INFINITY : std::strtof(val.c_str(), &end);
      if (val != "-inf" && (val.empty() || *end)) Args::fail("--bias: '" + val + "' is not a number");
      gen.sampling.logit_bias.emplace_back(static_cast<inkling::TokenId>(id), b);
    } else if (a.is("--dry-multiplier")) gen.sampling.dry_multiplier = a.real();
    else if (a.is("--dry-base")) gen.sampling.dry_base = a.real();
    else if (a.is("--dry-allowed-length")) gen.sampling.dry_allowed_length = static_cast<int>(a.integer(1, 1 << 24));
    else if (a.is("--dry-penalty-last-n")) gen.sampling.dry_penalty_last_n = static_cast<int>(a.integer(-1, 1 << 24));
    else if (a.is("--dry-sequence-breaker")) {
      if (!breakers_given) gen.sampling.dry_sequence_breakers.clear();
      breakers_given = true;
      const std::string v = a.value();
      if (v != "none") gen.sampling.dry_sequence_breakers.push_back(v);
    } else if (a.is("--top-n-sigma")) gen.sampling.top_n_sigma = a.real();
    else if (a.is("--xtc-probability")) gen.sampling.xtc_probability = a.real();
    else if (a.is("--xtc-threshold")) gen.sampling.xtc_threshold = a.real();
    else if (a.is("--mirostat")) gen.sampling.mirostat = static_cast<int>(a.integer(0, 2));
    else if (a.is("--mirostat-ent")) gen.sampling.mirostat_tau = a.real();
    else if (a.is("--mirostat-lr")) gen.sampling.mirostat_eta = a.real();
    else if (a.is("--samplers")) gen.sampling.order = inkling::parse_sampler_order(a.value());
    else if (a.is("--seed")) {
      gen.sampling.seed = a.unsigned64();
      seed_given = true;
    } else if (a.is("--stop")) gen.stop.push_back(a.value());
    else if (a.is("--stop-token")) gen.stop_tokens.push_back(static_cast<inkling::TokenId>(a.integer(0, INT32_MAX)));
    else if (a.is("--ignore-eos")) gen.stop_at_eog = false;
    else if (a.is("--context-full")) {
      const std::string v = a.value();
      if (v == "stop") gen.on_context_full = inkling::ContextFullPolicy::Stop;
      else if (v == "error") gen.on_context_full = inkling::ContextFullPolicy::Error;
      else if (v == "shift") gen.on_context_full = inkling::ContextFullPolicy::Shift;
      else Args::fail("--context-full: expected stop, error or shift, got '" + v + "'");
    } else if (a.is("--keep")) gen.n_keep = static_cast<int>(a.integer(-1, 1 << 24));
    else if (a.is("--grammar", "--grammar-file") || a.is("--json-schema", "--json-value")) {
      const std::string f(a.flag());
      if (!grammar_flag.empty()) Args::fail(f + " cannot be combined with " + grammar_flag + " (one constraint at a time)");
      grammar_flag = f;
      if (f != "--json-value") grammar_value = a.value();
    } else if (a.is("--json-whitespace")) {
      json_whitespace = a.value();
      if (json_whitespace != "compact" && json_whitespace != "flexible")
        Args::fail("--json-whitespace: expected compact or flexible, got '" + json_whitespace + "'");
    }
    else return false;
    return true;
  }

  // After the last flag: a random seed (drawn by the sampler) unless one was given; the
  // grammar compiled.
  void finish() {
    if (!seed_given) gen.sampling.seed = inkling::SamplerConfig::kRandomSeed;
    if (!json_whitespace.empty() && grammar_flag != "--json-schema" && grammar_flag != "--json-value")
      Args::fail("--json-whitespace needs --json-schema or --json-value");
    inkling::JsonSchemaOptions json;
    if (json_whitespace == "flexible") json.whitespace = inkling::JsonWhitespace::Flexible;
    if (grammar_flag == "--grammar") {
      gen.grammar = inkling::Grammar::parse(grammar_value);
    } else if (grammar_flag == "--grammar-file") {
      try {
        gen.grammar = inkling::Grammar::parse(read_text(grammar_value, grammar_flag));
      } catch (const inkling::GrammarError& e) {
        throw inkling::Error(e.code(), grammar_value + ": " + e.what());
      }
    } else if (grammar_flag == "--json-schema") {
      gen.grammar = inkling::Grammar::parse(inkling::json_schema_to_gbnf(read_text(grammar_value, grammar_flag), json));
    } else if (grammar_flag == "--json-value") {
      gen.grammar = inkling::Grammar::parse(inkling::json_any_gbnf(false, json));
    }
  }

  static std::string read_text(const std::string& path, const std::string& flag) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw inkling::Error(inkling::ErrorCode::Io, flag + ": cannot open '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // The seed a run drew, on stderr, so that a good sample can be reproduced with --seed.
  void report_seed(const inkling::Generator& g) const {
    if (!seed_given) std::fprintf(stderr, "[seed %llu]\n", static_cast<unsigned long long>(g.seed()));
  }
};
