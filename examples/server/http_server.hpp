// `inkling serve`: an OpenAI-compatible HTTP server over one model, with the visualizer
// page at /. Requests from all clients share one batched engine.
#pragma once

#include <chrono>
#include <memory>
#include <vector>
#include <optional>
#include <string>
#include <vector>

#include "inkling/batch_generator.hpp"
#include "inkling/chat_template.hpp"

namespace inkling::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  int port = 8080;                 // 0: any free port (see HttpServer::port())
  std::string model_id;            // the name in /v1/models; default: general.name or the file name
  std::string chat_template;       // a family name; empty: detect from the model's metadata
  BatchOptions batch;              // sequences decoded at once, context, KV type
  int max_queued = 64;             // requests waiting beyond those; more get 503
  // Connections served at once (a stream holds one); 0: parallel + queued + 64, so that
  // /health and refusals still answer when every generation slot and queue place is
  // taken and slow clients wait for their read deadline. Fewer than parallel + queued
  // + 2 is refused.
  int http_threads = 0;
  std::size_t max_body_bytes = 4u << 20;  // any transfer encoding; more gets 413
  std::chrono::milliseconds read_deadline{30000};  // to receive a request's headers and body
  std::string api_key;             // non-empty: /v1/* requests need "Authorization: Bearer KEY"
  std::vector<std::string> allowed_hosts;  // Host names beyond loopback and the bound address
  std::vector<std::string> cors_origins;   // pages of other origins allowed to call ("*": any)
  // Listening beyond loopback without an API key is refused unless this is set.
  bool allow_no_key = false;
};

// One model of several (--model repeated, or a folder of them): clients pick it by its id
// in the request's "model".
struct ServedModel {
  std::shared_ptr<const Model> model;
  std::string id;  // empty: general.name, else "model-N"
  int n_ctx = 0;   // > 0: this model's context per sequence instead of options.batch.n_ctx
};

class HttpServer {
 public:
  // One model, named options.model_id.
  HttpServer(std::shared_ptr<const Model> model, ServerOptions options);
  // Several models, each with its own engine (options.batch applies to each); the first is
  // the default for requests that name none. Ids must be distinct (Error(InvalidArgument)).
  HttpServer(std::vector<ServedModel> models, ServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the socket (Error(Io) if the address is taken); returns the port.
  int bind();
  // Serves until stop() (from another thread or a signal handler's thread).
  void run();
  void stop();
  int port() const noexcept;
  const std::string& model_id() const noexcept;  // the default (first) model's
  std::vector<std::string> model_ids() const;
  std::size_t kv_cache_bytes() const noexcept;   // all models' caches
  // Why chat completions are unavailable (no or unknown template), or empty.
  const std::string& chat_unavailable() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace inkling::server
