// `inkling run`: generate text from a prompt and stream it, optionally showing the
// model's confidence at every step.
#include "terminal.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "args.hpp"
#include "default_model.hpp"
#include "commands.hpp"
#include "gen_flags.hpp"
#include "inkling/inkling.hpp"
#include "json_out.hpp"
#include "text_view.hpp"

namespace {

void usage() {
  std::printf(
      "usage: inkling run [-m MODEL] -p PROMPT [options]\n"
      "\n"
      "Generates text after PROMPT and streams it to stdout, then prints a line of timings.\n"
      "\n"
      "model and context:\n"
      "  -m, --model PATH        GGUF model file (default: the built-in stories260K)\n"
      "  -p, --prompt TEXT       the prompt (BOS is added as the model's vocabulary says)\n"
      "  -n, --max-tokens N      generate at most N tokens (default 128)\n"
      "%s"
      "speed:\n"
      "      --lookup N          prompt-lookup speculation: check up to N tokens that followed an earlier\n"
      "                          occurrence of the latest tokens in the same pass (same output, fewer passes)\n"
      "      --draft MODEL       speculative decoding: a smaller model with the same vocabulary proposes tokens\n"
      "      --draft-tokens N    tokens the draft proposes per pass (default 4)\n"
      "      --draft-p-min P     the draft stops at a token it gives less than P (default 0.75; 0 = never)\n"
      "beam search:\n"
      "      --beams N           keep the N best sequences (deterministic) (default 1 = off). The text\n"
      "                          is final only when the search ends; meanwhile the best hypothesis so\n"
      "                          far shows on a status line (stderr, on a terminal) as it changes, and\n"
      "                          --json writes a {\"beam_step\": ...} line per change\n"
      "      --length-penalty L  beam score = logprob / length^L (default 1)\n"
      "      --return-sequences N  print the N best beams (default 1)\n"
      "output:\n"
      "      --show-probs        colour each token by its probability and show the top alternatives\n"
      "                          as bars (plain text when stdout is not a terminal)\n"
      "      --top-n N           alternatives shown per token (default 5)\n"
      "      --json              one JSON object per token, then a summary with the metrics\n"
      "      --metrics           print time to first token, time per token, tokens/s and memory\n"
      "      --special           show control tokens (e.g. </s>) in the text\n",
      kGenerationFlagsHelp);
}

struct RunOptions {
  std::string model, prompt, draft_path;
  GenerationFlags flags;
  bool prompt_given = false, show_probs = false, json = false, metrics = false;
};

// Beam search is deterministic and reports whole sequences at the end: flags that only
// make sense for one sampled, streamed sequence are refused rather than ignored.
void refuse_with_beams(const RunOptions& o) {
  auto refuse = [](const std::string& flag, const char* why) {
    Args::fail(flag + " cannot combine with --beams (" + why + ")");
  };
  if (!o.flags.sampling_flags.empty())
    refuse(o.flags.sampling_flags.front(), "beam search is deterministic: it applies --bias and the penalties, "
                                           "no sampling filter or seed");
  if (o.show_probs) refuse("--show-probs", "no token is final until the search ends; --json shows the best so far and every beam");
  if (o.flags.gen.lookup_draft > 0) refuse("--lookup", "speculation checks one sequence's tokens");
  if (!o.draft_path.empty()) refuse("--draft", "speculation checks one sequence's tokens");
}

RunOptions parse(int argc, char** argv) {
  RunOptions o;
  o.flags.gen.max_new_tokens = 128;
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) { usage(); std::exit(0); }
    else if (a.is("-m", "--model")) o.model = a.value();
    else if (a.is("-p", "--prompt")) o.prompt = a.value(), o.prompt_given = true;
    else if (o.flags.parse(a)) continue;
    else if (a.is("--lookup")) o.flags.gen.lookup_draft = static_cast<int>(a.integer(0, 64));
    else if (a.is("--draft")) o.draft_path = a.value();
    else if (a.is("--draft-tokens")) o.flags.gen.draft_tokens = static_cast<int>(a.integer(1, 64));
    else if (a.is("--draft-p-min")) o.flags.gen.draft_p_min = a.real();
    else if (a.is("--beams")) o.flags.gen.num_beams = static_cast<int>(a.integer(1, 64));
    else if (a.is("--length-penalty")) o.flags.gen.length_penalty = a.real();
    else if (a.is("--return-sequences")) o.flags.gen.num_return_sequences = static_cast<int>(a.integer(1, 64));
    else if (a.is("--show-probs")) o.show_probs = true;
    else if (a.is("--top-n")) o.flags.gen.top_n_alternatives = static_cast<int>(a.integer(0, 100));
    else if (a.is("--json")) o.json = true;
    else if (a.is("--metrics")) o.metrics = true;
    else if (a.is("--special")) o.flags.gen.special_text = true;
    else a.unknown();
  }
  if (!o.prompt_given) Args::fail("run needs a prompt: -p TEXT (-p '' starts from the beginning-of-text token alone)");
  if (o.flags.gen.num_beams > 1) refuse_with_beams(o);
  o.flags.finish();
  o.flags.gen.validate();
  return o;
}

std::string bar(float p, int width) {
  static const char* kEighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  const int units = static_cast<int>(std::lround(p * static_cast<float>(width) * 8));
  std::string out;
  for (int i = 0; i < units / 8; ++i) out += "█";
  out += kEighths[units % 8];
  return out;
}

// Background colour for a probability: red (unlikely) through yellow to green (sure).
std::string colour(float p) {
  static const int kScale[] = {196, 202, 208, 214, 220, 226, 190, 154, 118, 82, 46};
  const int i = std::clamp(static_cast<int>(p * 10.0f + 0.5f), 0, 10);
  return "\x1b[48;5;" + std::to_string(kScale[i]) + "m\x1b[38;5;16m";
}

void print_json_step(const inkling::StepInfo& s) {
  std::string line = "{\"index\": " + std::to_string(s.index) + ", \"token\": " + std::to_string(s.token) +
                     ", \"text\": " + json_string(s.text) + ", \"prob\": " + json_number(s.prob) +
                     ", \"logprob\": " + json_number(s.logprob) + ", \"raw_prob\": " + json_number(s.raw_prob) +
                     ", \"entropy\": " + json_number(s.entropy) + ", \"raw_entropy\": " + json_number(s.raw_entropy) +
                     ", \"ms\": " + json_number(s.ms_since_prev) + ", \"alternatives\": [";
  for (std::size_t i = 0; i < s.alternatives.size(); ++i) {
    const auto& a = s.alternatives[i];
    line += (i ? ", " : "") + std::string("{\"token\": ") + std::to_string(a.id) + ", \"text\": " + json_string(a.text) +
            ", \"prob\": " + json_number(a.prob) + ", \"logprob\": " + json_number(a.logprob) + "}";
  }
  line += "], \"raw_alternatives\": [";
  for (std::size_t i = 0; i < s.raw_alternatives.size(); ++i) {
    const auto& a = s.raw_alternatives[i];
    line += (i ? ", " : "") + std::string("{\"token\": ") + std::to_string(a.id) + ", \"text\": " + json_string(a.text) +
            ", \"prob\": " + json_number(a.prob) + ", \"logprob\": " + json_number(a.logprob) + "}";
  }
  line += "]}";
  std::puts(line.c_str());
}

std::string metrics_json(const inkling::Metrics& m) {
  return "{\"ttft_ms\": " + json_number(m.ttft_ms) + ", \"tpot_ms_mean\": " + json_number(m.tpot_ms_mean) +
         ", \"tpot_ms_p90\": " + json_number(m.tpot_ms_p90) + ", \"prompt_tps\": " + json_number(m.prompt_tps) +
         ", \"gen_tps\": " + json_number(m.gen_tps) + ", \"prompt_tokens\": " + std::to_string(m.prompt_tokens) +
         ", \"gen_tokens\": " + std::to_string(m.gen_tokens) + ", \"model_bytes\": " + std::to_string(m.model_bytes) +
         ", \"kv_bytes\": " + std::to_string(m.kv_bytes) + ", \"peak_rss\": " + std::to_string(m.peak_rss) + "}";
}

// Beam search's best hypothesis so far, as it changes: a JSON line, or a status line on
// a terminal's stderr (its last 60 columns, newlines shown as \n), erased at the end.
void show_beam_progress(inkling::Generator& gen, bool json) {
  const bool status = !json && is_terminal(stderr);
  if (!json && !status) return;
  gen.on_beam_update([json](const inkling::Sequence& best, int step) {
    if (json) {
      std::printf("{\"beam_step\": %d, \"best\": {\"text\": %s, \"logprob\": %s, \"score\": %s, \"live\": %s}}\n", step,
                  json_string(best.text).c_str(), json_number(best.logprob).c_str(), json_number(best.score).c_str(),
                  best.stop_reason == inkling::StopReason::None ? "true" : "false");
      std::fflush(stdout);
      return true;
    }
    std::string tail = visible(best.text);
    std::size_t cut = tail.size();
    for (int cols = 0; cut > 0 && cols < 60; --cut) cols += (static_cast<unsigned char>(tail[cut - 1]) & 0xC0) != 0x80;
    std::fprintf(stderr, "\r\x1b[K[beams, step %d] best so far: %s%s", step + 1, cut > 0 ? "..." : "", tail.c_str() + cut);
    return true;
  });
}

void print_probability_table(const std::vector<inkling::StepInfo>& steps, bool tty, const inkling::Tokenizer& tok) {
  // The model's own probabilities (before top-k/top-p/min-p and temperature): how sure
  // the model was, whatever the sampler then did with it. The entropy of that
  // distribution (nats, as the web page shows it) tells a flat guess from a two-way
  // choice. The chosen token is marked among the alternatives (it may be absent when the
  // sampler picked a rarer one).
  const char* mark = tty ? "\u25b6" : "*";
  std::printf("\n\n%sthe model's probability of each token, the entropy of its distribution (nats) and its most "
              "likely alternatives (%s = chosen)%s\n",
              tty ? "\x1b[1m" : "", mark, tty ? "\x1b[0m" : "");
  std::printf("step %s   prob%s entropy %s alternatives\n", pad("token", 14).c_str(), tty ? std::string(12, ' ').c_str() : "",
              tty ? "\u2502" : "|");
  for (const auto& s : steps) {
    const std::string piece = visible(tok.token_to_piece(s.token, true));
    char num[32];
    std::snprintf(num, sizeof num, "%4d ", s.index);
    std::string line = num;
    std::snprintf(num, sizeof num, "%5.1f%%", 100 * s.raw_prob);
    if (tty)
      line += colour(s.raw_prob) + pad(piece, 14) + "\x1b[0m " + num + " " + pad(bar(s.raw_prob, 10), 11);
    else
      line += pad(piece, 14) + " " + num;
    std::snprintf(num, sizeof num, " %7.3f ", s.raw_entropy);
    line += num;
    line += tty ? "\u2502" : "|";
    for (const auto& a : s.raw_alternatives) {
      std::snprintf(num, sizeof num, "%5.1f%%", 100 * a.prob);
      line += " ";
      line += a.id == s.token ? mark : " ";
      line += pad(visible(a.text), 10) + num;
      if (tty) {
        line += ' ';
        line += pad(bar(a.prob, 6), 6);
      }
    }
    std::puts(line.c_str());
  }
}

}  // namespace

int cmd_run(int argc, char** argv) {
  const RunOptions o = parse(argc, argv);
  auto model = inkling::cli::load_model_or_default(o.model, o.flags.model_options, "run");
  inkling::GenerationConfig gen_config = o.flags.gen;
  if (!o.draft_path.empty()) gen_config.draft_model = inkling::Model::load(o.draft_path, o.flags.model_options);
  if (!o.json) {
    const auto& c = model->config();
    std::fprintf(stderr, "[%s: %d layers, dim %d, %d heads (%d KV), FFN %d, vocab %d, context %d | %s, %d threads]\n",
                 c.architecture.c_str(), c.n_layer, c.n_embd, c.n_head, c.n_head_kv, c.n_ff, c.n_vocab,
                 c.n_ctx_train, model->isa().c_str(), model->threads());
  }
  inkling::Generator gen(model, gen_config);
  const bool beams = gen_config.num_beams > 1;
  if (!beams) o.flags.report_seed(gen);  // beam search draws nothing: no seed to reproduce
  if (beams) show_beam_progress(gen, o.json);
  const bool tty = is_terminal(stdout);
  std::vector<inkling::StepInfo> steps;

  if (!o.json && !beams) {  // with beams, after the status line (the same terminal line)
    std::fputs(o.prompt.c_str(), stdout);
    std::fflush(stdout);
  }
  const auto result = gen.run(o.prompt, [&](const inkling::StepInfo& s) {
    if (o.json) {
      print_json_step(s);
    } else if (o.show_probs && tty) {
      std::fputs((colour(s.raw_prob) + s.text + "\x1b[0m").c_str(), stdout);
    } else {
      std::fputs(s.text.c_str(), stdout);
    }
    std::fflush(stdout);
    if (o.show_probs) steps.push_back(s);
    return true;
  });
  const inkling::Metrics& m = result.metrics;
  if (o.json) {
    std::string seqs = "[";
    for (std::size_t i = 0; i < result.sequences.size(); ++i) {
      const auto& s = result.sequences[i];
      std::string ids;
      for (std::size_t k = 0; k < s.tokens.size(); ++k) ids += (k ? ", " : "") + std::to_string(s.tokens[k]);
      seqs += (i ? ", " : "") + std::string("{\"text\": ") + json_string(s.text) + ", \"tokens\": [" + ids + "], \"logprob\": " +
              json_number(s.logprob) + ", \"score\": " + json_number(s.score) + ", \"stop_reason\": \"" +
              std::string(inkling::stop_reason_name(s.stop_reason)) + "\"}";
    }
    std::printf("{\"done\": true, \"stop_reason\": \"%s\", \"text\": %s, \"seed\": %llu, \"sequences\": %s], "
                "\"metrics\": %s}\n",
                std::string(inkling::stop_reason_name(result.stop_reason)).c_str(), json_string(result.text).c_str(),
                static_cast<unsigned long long>(gen.seed()), seqs.c_str(), metrics_json(m).c_str());
    return 0;
  }
  if (o.flags.gen.num_beams > 1) {
    if (is_terminal(stderr)) std::fputs("\r\x1b[K", stderr);  // the status line
    std::fputs((o.prompt + result.text).c_str(), stdout);
    for (std::size_t i = 0; i < result.sequences.size(); ++i)
      std::printf("\n[beam %zu] score %.4f logprob %.4f: %s", i, result.sequences[i].score, result.sequences[i].logprob,
                  result.sequences[i].text.c_str());
  }
  if (o.show_probs) print_probability_table(steps, tty, model->tokenizer());
  std::fprintf(stderr, "\n\n[%s] prompt: %d tokens, %.1f tokens/s | generated: %d tokens, %.1f tokens/s\n",
               std::string(inkling::stop_reason_name(result.stop_reason)).c_str(), m.prompt_tokens, m.prompt_tps,
               m.gen_tokens, m.gen_tps);
  if (o.metrics)
    std::fprintf(stderr,
                 "time to first token %.2f ms | time per output token %.3f ms (p90 %.3f ms) | model %.1f MiB | "
                 "KV cache %.1f MiB | peak RSS %.1f MiB | kernels %s | %d threads\n",
                 m.ttft_ms, m.tpot_ms_mean, m.tpot_ms_p90, m.model_bytes / 1048576.0, m.kv_bytes / 1048576.0,
                 m.peak_rss / 1048576.0, model->isa().c_str(), model->threads());
  if (o.metrics && (o.flags.gen.lookup_draft > 0 || gen_config.draft_model))
    std::fprintf(stderr, "speculation: %d of %d drafted tokens accepted; %d passes for %d tokens\n",
                 m.accepted_draft_tokens, m.draft_tokens, m.target_passes, m.gen_tokens);
  return 0;
}
