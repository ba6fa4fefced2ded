// `inkling serve`: an OpenAI-compatible HTTP server and the visualizer page.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include <pthread.h>

#include "args.hpp"
#include "default_model.hpp"
#include "commands.hpp"
#include "http_server.hpp"
#include "inkling/inkling.hpp"

namespace {

void usage() {
  std::puts(
      "usage: inkling serve [-m MODEL] [options]\n"
      "\n"
      "Serves the model over HTTP: the OpenAI endpoints /v1/completions, /v1/chat/completions\n"
      "(streamed with server-sent events when \"stream\": true), /v1/models, /health, and at /\n"
      "a page that shows each token's probability and alternatives as the text streams in.\n"
      "Requests from all clients are decoded together in one batch.\n"
      "\n"
      "  -m, --model PATH        GGUF model file (default: the built-in stories260K)\n"
      "      --host ADDR         address to listen on (default 127.0.0.1: this machine only)\n"
      "      --port N            port (default 8080; 0 = any free port, printed at start)\n"
      "      --name NAME         model name clients pass as \"model\" (default: the file's general.name,\n"
      "                          else the file name)\n"
      "      --parallel N        requests decoded at once (default 4); more wait in a queue\n"
      "      --max-queued N      requests that may wait (default 64); more get HTTP 503\n"
      "      --ctx N             context per request in tokens (default: the model's, at most 4096)\n"
      "      --kv-type T         KV cache type: f16 (default: half the memory of f32), q8_0 or f32\n"
      "      --memory-budget MB  refuse to start if the KV cache would exceed MB megabytes\n"
      "      --chat-template NAME  chatml, llama2, llama3, llama3.1, mistral, phi3, phi4, phi4-mini, gemma,\n"
      "                          zephyr, qwen3 or granite (default:\n"
      "                          detected from the model's tokenizer.chat_template)\n"
      "      --api-key KEY       require \"Authorization: Bearer KEY\" on /v1/ requests\n"
      "  -t, --threads N         threads (default: physical cores)\n"
      "\n"
      "Stop with Ctrl-C. Example:\n"
      "  curl http://127.0.0.1:8080/v1/completions -H 'Content-Type: application/json' \\\n"
      "       -d '{\"prompt\": \"Once upon a time\", \"max_tokens\": 32, \"stream\": true}'");
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  std::string path;
  inkling::ModelOptions model_options;
  inkling::server::ServerOptions o;
  o.batch.max_sequences = 4;
  o.batch.kv_type = inkling::DType::F16;  // a server holds several long contexts: half the memory
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) { usage(); return 0; }
    else if (a.is("-m", "--model")) path = a.value();
    else if (a.is("--host")) o.host = a.value();
    else if (a.is("--port")) o.port = static_cast<int>(a.integer(0, 65535));
    else if (a.is("--name")) o.model_id = a.value();
    else if (a.is("--parallel")) o.batch.max_sequences = static_cast<int>(a.integer(1, 256));
    else if (a.is("--max-queued")) o.max_queued = static_cast<int>(a.integer(0, 1 << 20));
    else if (a.is("--ctx")) o.batch.n_ctx = static_cast<int>(a.integer(2, 1 << 24));
    else if (a.is("--kv-type")) o.batch.kv_type = a.kv_type();
    else if (a.is("--memory-budget")) o.batch.memory_budget = static_cast<std::size_t>(a.integer(1, 1 << 30)) << 20;
    else if (a.is("--chat-template")) o.chat_template = a.value();
    else if (a.is("--api-key")) o.api_key = a.value();
    else if (a.is("-t", "--threads")) model_options.threads = static_cast<int>(a.integer(1, 1024));
    else a.unknown();
  }

  // Ctrl-C / SIGTERM are taken by a thread of ours (sigwait), which stops the server
  // cleanly; blocked before any other thread starts so that every thread inherits it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto model = inkling::cli::load_model_or_default(path, model_options, "serve");
  if (o.model_id.empty() && path.empty()) o.model_id = "stories260K";
  if (o.model_id.empty())
    o.model_id = model->config().name.empty() ? std::filesystem::path(path).stem().string() : model->config().name;
  // A model's training context may be huge (128k); each of the parallel sequences gets a
  // slice of cache this long, so cap the default.
  if (o.batch.n_ctx == 0) o.batch.n_ctx = std::min(model->config().n_ctx_train, 4096);
  inkling::server::HttpServer server(model, o);
  const int port = server.bind();
  const auto& c = model->config();
  std::fprintf(stderr, "inkling: %s (%s, %d layers, %d-wide), %d parallel x %d context, KV cache %.1f MiB (%s)\n",
               o.model_id.c_str(), c.architecture.c_str(), c.n_layer, c.n_embd, o.batch.max_sequences, o.batch.n_ctx,
               static_cast<double>(server.kv_cache_bytes()) / 1048576.0,
               std::string(inkling::dtype_name(o.batch.kv_type)).c_str());
  if (!server.chat_unavailable().empty())
    std::fprintf(stderr, "inkling: /v1/chat/completions is off: %s (use --chat-template NAME)\n",
                 server.chat_unavailable().c_str());
  std::fprintf(stderr, "inkling: serving on http://%s:%d/ (Ctrl-C stops)\n", o.host.c_str(), port);

  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    server.stop();
  });
  server.run();
  // run() also returns if the listener fails; wake the stopper so it can be joined.
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
  std::fprintf(stderr, "inkling: stopped\n");
  return 0;
}
