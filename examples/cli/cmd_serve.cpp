// `inkling serve`: an OpenAI-compatible HTTP server and the visualizer page.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <pthread.h>

#include "args.hpp"
#include "default_model.hpp"
#include "commands.hpp"
#include "access_policy.hpp"
#include "http_server.hpp"
#include "inkling/inkling.hpp"

namespace {

void usage() {
  std::puts(
      "usage: inkling serve [-m MODEL] [options]\n"
      "\n"
      "Serves the model over HTTP: the OpenAI endpoints /v1/completions, /v1/chat/completions\n"
      "(streamed with server-sent events when \"stream\": true), /v1/models, /health, /tokenize,\n"
      "/detokenize, and at /\n"
      "a page that shows each token's probability and alternatives as the text streams in.\n"
      "Requests from all clients are decoded together in one batch.\n"
      "\n"
      "  -m, --model PATH        GGUF model file (default: the built-in stories260K); repeat to serve\n"
      "                          several (each named by its file name, chosen by the request's\n"
      "                          \"model\"; the first is the default)\n"
      "      --models DIR        serve every .gguf file in DIR (with or instead of --model)\n"
      "      --host ADDR         address to listen on (default 127.0.0.1: this machine only)\n"
      "      --port N            port (default 8080; 0 = any free port, printed at start)\n"
      "      --name NAME         model name clients pass as \"model\" (one model only; default: the\n"
      "                          file's general.name, else the file name)\n"
      "      --parallel N        requests decoded at once (default 4); more wait in a queue\n"
      "      --max-queued N      requests that may wait (default 64); more get HTTP 503\n"
      "      --ctx N             context per request in tokens (default: the model's, at most 4096);\n"
      "                          beyond a model's training context it needs --rope-scale\n"
      "      --rope-scale F      stretch RoPE positions F times (linear scaling), so a model trained on N\n"
      "                          positions takes --ctx up to N x F; degrades output unless the model was\n"
      "                          tuned for it (default 1 = off)\n"
      "      --kv-type T         KV cache type: f16 (default: half the memory of f32), q8_0 or f32\n"
      "      --memory-budget MB  refuse to start if the KV cache would exceed MB megabytes\n"
      "      --chat-template NAME  chatml, llama2, llama3, llama3.1, mistral, phi3, phi4, phi4-mini, gemma,\n"
      "                          zephyr, qwen3 or granite (default:\n"
      "                          detected from the model's tokenizer.chat_template)\n"
      "      --api-key-file PATH require \"Authorization: Bearer KEY\" on /v1/ requests, KEY being the\n"
      "                          file's first line (or set INKLING_API_KEY); compared in constant time\n"
      "      --api-key KEY       the same, but KEY shows in the process list: prefer the two above\n"
      "      --no-api-key        allow a --host beyond loopback without a key (refused otherwise)\n"
      "      --allowed-host NAME also answer requests whose Host header is NAME (repeatable; \"*\": any).\n"
      "                          Loopback names and the --host address always work; others are refused\n"
      "                          (DNS rebinding)\n"
      "      --cors-origin ORIGIN  let web pages from ORIGIN (e.g. http://localhost:3000) call the API\n"
      "                          (repeatable; \"*\": any). Other cross-origin requests get 403\n"
      "      --http-threads N    connections served at once (default: parallel + max-queued + 64; must\n"
      "                          exceed parallel + max-queued by 2 so /health always answers)\n"
      "      --max-body BYTES    largest request body, chunked or not (default 4194304); more gets 413\n"
      "      --read-timeout SEC  time a client has to send a whole request (default 30)\n"
      "  -t, --threads N         threads (default: physical cores)\n"
      "\n"
      "Stop with Ctrl-C. Example:\n"
      "  curl http://127.0.0.1:8080/v1/completions -H 'Content-Type: application/json' \\\n"
      "       -d '{\"prompt\": \"Once upon a time\", \"max_tokens\": 32, \"stream\": true}'");
}

// --models DIR: its .gguf files, in name order (so the default model is predictable).
std::vector<std::string> models_in(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".gguf" && e.is_regular_file()) out.push_back(e.path().string());
  if (ec) Args::fail("--models: cannot read the folder " + dir + ": " + ec.message());
  if (out.empty()) Args::fail("--models: no .gguf file in " + dir);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  std::vector<std::string> paths;
  std::string folder;
  inkling::ModelOptions model_options;
  inkling::server::ServerOptions o;
  o.batch.max_sequences = 4;
  o.batch.kv_type = inkling::DType::F16;  // a server holds several long contexts: half the memory
  std::string key_flag, key_file;
  Args a(argc, argv);
  while (a.next()) {
    if (a.is("-h", "--help")) { usage(); return 0; }
    else if (a.is("-m", "--model")) paths.push_back(a.value());
    else if (a.is("--models")) folder = a.value();
    else if (a.is("--host")) o.host = a.value();
    else if (a.is("--port")) o.port = static_cast<int>(a.integer(0, 65535));
    else if (a.is("--name")) o.model_id = a.value();
    else if (a.is("--parallel")) o.batch.max_sequences = static_cast<int>(a.integer(1, 256));
    else if (a.is("--max-queued")) o.max_queued = static_cast<int>(a.integer(0, 4096));
    else if (a.is("--ctx")) o.batch.n_ctx = static_cast<int>(a.integer(2, 1 << 24));
    else if (a.is("--rope-scale")) o.batch.rope_scale = a.real();
    else if (a.is("--kv-type")) o.batch.kv_type = a.kv_type();
    else if (a.is("--memory-budget")) o.batch.memory_budget = static_cast<std::size_t>(a.integer(1, 1 << 30)) << 20;
    else if (a.is("--chat-template")) o.chat_template = a.value();
    else if (a.is("--api-key")) key_flag = a.value();
    else if (a.is("--api-key-file")) key_file = a.value();
    else if (a.is("--no-api-key")) o.allow_no_key = true;
    else if (a.is("--allowed-host")) o.allowed_hosts.push_back(a.value());
    else if (a.is("--cors-origin")) o.cors_origins.push_back(a.value());
    else if (a.is("--http-threads")) o.http_threads = static_cast<int>(a.integer(2, 8192));
    else if (a.is("--max-body")) o.max_body_bytes = static_cast<std::size_t>(a.integer(1024, std::int64_t{1} << 32));
    else if (a.is("--read-timeout")) o.read_deadline = std::chrono::seconds(a.integer(1, 3600));
    else if (a.is("-t", "--threads")) model_options.threads = static_cast<int>(a.integer(1, 1024));
    else a.unknown();
  }
  if (!folder.empty())
    for (std::string& p : models_in(folder)) paths.push_back(std::move(p));
  if (paths.size() > 1 && !o.model_id.empty())
    Args::fail("--name names one model; with several, each is named by its file name");
  if (paths.empty()) paths.emplace_back();  // the built-in model
  try {
    o.api_key = inkling::server::resolve_api_key(key_flag, key_file, std::getenv("INKLING_API_KEY"));
  } catch (const inkling::Error& e) {
    Args::fail(e.what());
  }
  if (!key_flag.empty())
    std::fprintf(stderr, "inkling: warning: --api-key shows the key in the process list; use --api-key-file or INKLING_API_KEY\n");
  if (o.allow_no_key && !o.api_key.empty()) Args::fail("serve: --no-api-key and an API key cannot combine");
  if (!inkling::server::is_loopback_host(o.host))
    std::fprintf(stderr, "inkling: warning: listening on %s: other machines can reach this server%s\n", o.host.c_str(),
                 o.api_key.empty() ? " WITHOUT an API key" : " (API key required)");

  // Ctrl-C / SIGTERM are taken by a thread of ours (sigwait), which stops the server
  // cleanly; blocked before any other thread starts so that every thread inherits it.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::vector<inkling::server::ServedModel> models;
  for (const std::string& path : paths) {
    inkling::server::ServedModel m;
    m.model = inkling::cli::load_model_or_default(path, model_options, "serve");
    const std::string stem = path.empty() ? "stories260K" : std::filesystem::path(path).stem().string();
    const std::string& name = m.model->config().name;
    // One model keeps its general.name; several are told apart by their file names
    // (quantizations of one model share a general.name).
    m.id = paths.size() > 1 ? stem : !o.model_id.empty() ? o.model_id : path.empty() || name.empty() ? stem : name;
    // A model's training context may be huge (128k); each of the parallel sequences gets a
    // slice of cache this long, so cap the default.
    m.n_ctx = o.batch.n_ctx > 0 ? o.batch.n_ctx : std::min(m.model->config().n_ctx_train, 4096);
    const auto& c = m.model->config();
    std::fprintf(stderr, "inkling: %s (%s, %d layers, %d-wide), %d parallel x %d context\n", m.id.c_str(),
                 c.architecture.c_str(), c.n_layer, c.n_embd, o.batch.max_sequences, m.n_ctx);
    models.push_back(std::move(m));
  }
  inkling::server::HttpServer server(std::move(models), o);
  const int port = server.bind();
  std::fprintf(stderr, "inkling: KV cache %.1f MiB (%s)\n", static_cast<double>(server.kv_cache_bytes()) / 1048576.0,
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
