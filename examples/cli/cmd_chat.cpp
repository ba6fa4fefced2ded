// `inkling chat`: an interactive conversation in the terminal. Each turn renders the
// whole conversation with the model's chat template and hands its tokens to one
// Generator, which keeps the earlier turns in its KV cache and computes only the new
// tokens.
#include "terminal.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "args.hpp"
#include "default_model.hpp"
#include "commands.hpp"
#include "gen_flags.hpp"
#include "inkling/inkling.hpp"

namespace {

void usage() {
  std::printf(
      "usage: inkling chat [-m MODEL] [--template NAME] [--system TEXT] [options]\n"
      "\n"
      "Chats with a model: type a message and press Enter; the reply streams back. The\n"
      "conversation stays in the KV cache, so each turn only computes its new tokens.\n"
      "  /reset   forget the conversation (the system prompt stays)\n"
      "  /exit    quit (so does end of input, Ctrl-D)\n"
      "Ctrl-C while a reply streams stops that reply.\n"
      "\n"
      "chat:\n"
      "  -m, --model PATH        GGUF model file (default: the built-in stories260K)\n"
      "      --template NAME     chat template family: chatml, llama2, llama3, llama3.1, mistral, phi3,\n"
      "                          phi4, phi4-mini, gemma, zephyr, qwen3, granite (default: recognised\n"
      "                          from the model's tokenizer.chat_template)\n"
      "      --system TEXT       system prompt\n"
      "  -n, --max-tokens N      at most N tokens per reply (default 256)\n"
      "      --reply-reserve F   share of the context kept free for the reply: the oldest exchanges\n"
      "                          are forgotten until the prompt leaves min(F x context, -n) tokens\n"
      "                          (default 0.25; 0 = only until the prompt fits)\n"
      "      --metrics           after each reply: prompt tokens reused from the cache and computed,\n"
      "                          time to first token, tokens/s\n"
      "      --special           show control tokens in the replies\n"
      "model and context (--ctx defaults to the model's context, at most 4096 tokens):\n"
      "%s",
      kGenerationFlagsHelp);
}

constexpr int kDefaultChatContext = 4096;

struct ChatOptions {
  std::string model, template_name, system;
  bool system_given = false, metrics = false;
  double reply_reserve = 0.25;
  GenerationFlags flags;
};

ChatOptions parse(int argc, char** argv) {
  ChatOptions o;
  o.flags.gen.max_new_tokens = 256;
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) { usage(); std::exit(0); }
    else if (a.is("-m", "--model")) o.model = a.value();
    else if (a.is("--template")) o.template_name = a.value();
    else if (a.is("--system")) { o.system = a.value(); o.system_given = true; }
    else if (a.is("--metrics")) o.metrics = true;
    else if (a.is("--reply-reserve")) {
      o.reply_reserve = a.real();
      if (!(o.reply_reserve >= 0 && o.reply_reserve < 1)) Args::fail("--reply-reserve: expected a share in [0, 1)");
    }
    else if (a.is("--special")) o.flags.gen.special_text = true;
    else if (o.flags.parse(a)) continue;
    else a.unknown();
  }
  if (!o.template_name.empty()) (void)inkling::ChatTemplate::named(o.template_name);  // a bad name fails before loading
  o.flags.finish();
  o.flags.gen.validate();
  return o;
}

// Ctrl-C during a reply cancels it (Generator::cancel only sets an atomic flag, which
// is safe from a signal handler); at the prompt it ends the program as usual.
inkling::Generator* volatile g_streaming = nullptr;
extern "C" void on_interrupt(int sig) {
  if (g_streaming) {
    g_streaming->cancel();
  } else {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

// The conversation's prompt tokens. Too long for the context, or too long to leave the
// reply its reserve: forgets the oldest exchanges (messages from `first` on; a system
// prompt stays). The cache then holds a different prefix, so this turn recomputes it.
std::vector<inkling::TokenId> fit_conversation(const inkling::ChatTemplate& tmpl, const inkling::Tokenizer& tok,
                                               std::vector<inkling::ChatMessage>& conversation, std::size_t first,
                                               int n_ctx, int reserve) {
  std::vector<inkling::TokenId> ids = tmpl.encode(tok, conversation, /*add_generation_prompt=*/true);
  int dropped = 0;
  while (static_cast<int>(ids.size()) + reserve > n_ctx && conversation.size() > first + 2) {
    conversation.erase(conversation.begin() + static_cast<std::ptrdiff_t>(first),
                       conversation.begin() + static_cast<std::ptrdiff_t>(first + 2));
    ids = tmpl.encode(tok, conversation, true);
    ++dropped;
  }
  if (dropped) std::fprintf(stderr, "[context: forgot the %d oldest exchange(s) to leave room for the reply]\n", dropped);
  return ids;
}

}  // namespace

int cmd_chat(int argc, char** argv) {
  const ChatOptions o = parse(argc, argv);
  // The built-in model writes stories and has no chat template: chat with it only when
  // the user names a template, and say why otherwise.
  if (o.model.empty() && o.template_name.empty())
    Args::fail("the built-in stories260K is a story model without a chat template: give -m CHAT_MODEL.gguf, "
               "or --template NAME to chat with it anyway");
  auto model = inkling::cli::load_model_or_default(o.model, o.flags.model_options, "chat");
  const inkling::Tokenizer& tok = model->tokenizer();
  const inkling::ChatTemplate tmpl = o.template_name.empty()
                                         ? inkling::ChatTemplate::for_model(*model)
                                         : inkling::ChatTemplate::named(o.template_name).adapted_to(tok);

  inkling::GenerationConfig config = o.flags.gen;
  // A conversation grows turn by turn; a KV cache for a 128K-token training context would
  // take tens of GB up front, so without --ctx the chat caps it.
  if (config.n_ctx == 0) config.n_ctx = std::min(model->config().n_ctx_train, kDefaultChatContext);
  // The end-of-turn markers: as strings for vocabularies that spell them out in pieces,
  // as ids for those that have them as control tokens (not rendered as text).
  for (auto& s : tmpl.stop_strings()) config.stop.push_back(s);
  for (auto id : tmpl.stop_tokens(tok)) config.stop_tokens.push_back(id);
  inkling::Generator gen(model, config);
  o.flags.report_seed(gen);

  const bool interactive = is_terminal(stdin);
  std::fprintf(stderr, "[chat: %s template, %d-token context; /reset forgets the conversation, /exit quits]\n",
               std::string(tmpl.name()).c_str(), gen.cache().n_ctx());

  std::vector<inkling::ChatMessage> conversation;
  const auto restart = [&] {
    conversation.clear();
    if (o.system_given) conversation.push_back({"system", o.system});
  };
  restart();

  std::signal(SIGINT, on_interrupt);
  int turn = 0;
  std::string line;
  while (true) {
    if (interactive) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line == "/exit") break;
    if (line == "/reset") {
      restart();
      gen.reset();
      std::fputs("[conversation cleared]\n", stderr);
      continue;
    }
    if (line.empty()) continue;
    // Piped input is not echoed by a terminal: show it, so the output reads as a dialogue.
    if (!interactive) {
      std::printf("> %s\n", line.c_str());
      std::fflush(stdout);
    }

    conversation.push_back({"user", line});
    const int n_ctx = gen.cache().n_ctx();
    const int reserve = std::max(1, std::min(config.max_new_tokens, static_cast<int>(o.reply_reserve * n_ctx)));
    const std::vector<inkling::TokenId> ids =
        fit_conversation(tmpl, tok, conversation, o.system_given ? 1 : 0, n_ctx, reserve);
    if (static_cast<int>(ids.size()) >= n_ctx) {
      conversation.pop_back();
      std::fprintf(stderr, "[this message needs %zu tokens, the context holds %d]\n", ids.size(), n_ctx);
      continue;
    }
    if (static_cast<int>(ids.size()) + reserve > n_ctx)
      std::fprintf(stderr, "[this message leaves the reply %d tokens of context]\n", n_ctx - static_cast<int>(ids.size()));
    g_streaming = &gen;
    const inkling::GenerationResult r = gen.run_tokens(ids, [](const inkling::StepInfo& s) {
      std::fputs(s.text.c_str(), stdout);
      std::fflush(stdout);
      return true;
    });
    g_streaming = nullptr;
    std::fputs("\n", stdout);
    std::fflush(stdout);
    ++turn;
    // The reply joins the conversation as it was shown (a cut-off reply too): the next
    // rendering then starts with this turn's tokens, which the cache holds.
    conversation.push_back({"assistant", r.text});

    if (r.stop_reason == inkling::StopReason::ContextFull)
      std::fputs("[the reply filled the context and was cut off; the next message forgets the oldest exchanges to "
                 "make room (see --reply-reserve, --ctx)]\n", stderr);
    if (o.metrics) {
      const inkling::Metrics& m = r.metrics;
      std::fprintf(stderr,
                   "[turn %d: prompt %d tokens, %d reused from the cache, %d computed | reply %d tokens (%s) | "
                   "time to first token %.2f ms | %.1f tokens/s]\n",
                   turn, m.prompt_tokens, m.cached_prompt_tokens, m.prompt_tokens - m.cached_prompt_tokens,
                   m.gen_tokens, std::string(inkling::stop_reason_name(r.stop_reason)).c_str(), m.ttft_ms, m.gen_tps);
    }
  }
  if (interactive) std::fputs("\n", stdout);
  return 0;
}
