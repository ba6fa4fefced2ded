#include "http_server.hpp"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <string_view>

#include "embeddings.hpp"
#include "engine.hpp"
#include "inkling/error.hpp"
#include "inkling/model.hpp"
#include "openai.hpp"
#include "web_page.hpp"

namespace inkling::server {

using nlohmann::json;

struct HttpServer::Impl {
  std::shared_ptr<const Model> model;
  ServerOptions options;
  std::optional<ChatTemplate> chat;
  std::string chat_unavailable;
  ServingContext ctx;
  std::unique_ptr<Engine> engine;  // null for an embedding-only model (an encoder)
  std::unique_ptr<EmbeddingService> embedding;
  httplib::Server http;
  int port = 0;
  std::atomic<std::uint64_t> next_id{1};

  void send_error(httplib::Response& res, const ApiError& e) {
    res.status = e.status;
    res.set_content(dump(e.body()), "application/json");
  }
  bool authorized(const httplib::Request& req, httplib::Response& res) {
    if (options.api_key.empty()) return true;
    if (req.get_header_value("Authorization") == "Bearer " + options.api_key) return true;
    send_error(res, ApiError(401, "a valid API key is needed (Authorization: Bearer KEY)", "authentication_error", {},
                             "invalid_api_key"));
    return false;
  }
  void completions(const httplib::Request& req, httplib::Response& res, bool chat_endpoint);
  void routes();
};

void HttpServer::Impl::completions(const httplib::Request& req, httplib::Response& res, bool chat_endpoint) {
  if (!authorized(req, res)) return;
  auto request = std::make_shared<CompletionRequest>();
  std::shared_ptr<Stream> stream;
  try {
    if (!engine) throw ApiError(501, model->config().architecture + " models embed and rerank; they do not generate",
                                "invalid_request_error", {}, "not_supported");
    *request = parse_request(req.body, chat_endpoint, ctx);
    // n choices: the same request with seeds seed, seed + 1, ...
    std::vector<GenerationConfig> configs(static_cast<std::size_t>(request->n), request->config);
    for (std::size_t i = 0; i < configs.size(); ++i) configs[i].sampling.seed += i;
    stream = engine->submit(request->prompt, configs);
  } catch (const ApiError& e) {
    return send_error(res, e);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::OutOfMemory) return send_error(res, ApiError(503, e.what(), "server_error", {}, "server_busy"));
    if (e.code() == ErrorCode::ContextFull)
      return send_error(res, ApiError(400, e.what(), "invalid_request_error", "prompt", "context_length_exceeded"));
    return send_error(res, ApiError(400, e.what()));
  }
  const std::string id = std::string(chat_endpoint ? "chatcmpl-" : "cmpl-") + std::to_string(next_id++);
  auto writer = std::make_shared<ResponseWriter>(*request, ctx, id);

  if (!request->stream) {
    std::string error;
    auto take = [&](std::vector<BatchEvent> events) {
      for (BatchEvent& e : events) {
        if (e.step) writer->record(stream->index_of(e.request), *e.step);
        if (!e.error.empty()) error = e.error;
      }
    };
    for (;;) {
      take(stream->wait(std::chrono::milliseconds(200)));
      if (stream->finished()) {
        take(stream->wait(std::chrono::milliseconds(0)));  // what arrived with the last event
        break;
      }
    }
    if (!error.empty()) return send_error(res, ApiError(500, error, "server_error"));
    res.set_content(dump(writer->full_response(stream->results())), "application/json");
    return;
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  Engine* eng = engine.get();
  res.set_chunked_content_provider(
      "text/event-stream",
      [stream, writer, request, ended = std::make_shared<int>(0)](std::size_t, httplib::DataSink& sink) {
        // Called repeatedly until it ends the stream: sends what arrived, waiting a little
        // so that an idle stream does not spin.
        for (BatchEvent& e : stream->wait(std::chrono::milliseconds(100))) {
          const int index = stream->index_of(e.request);
          std::string out;
          if (e.step) out += writer->chunk(index, *e.step);
          if (!e.error.empty()) {
            ApiError err(500, e.error, "server_error");
            out += "data: " + dump(err.body()) + "\n\n";
          }
          if (e.finished) out += writer->finish_chunk(index, stream->results()[static_cast<std::size_t>(index)]);
          // Count the ends seen here: several choices may end in one engine step.
          const bool all_done = e.finished && ++*ended == request->n;
          if (all_done) out += writer->done_chunk(stream->results());
          if (!out.empty() && !sink.write(out.data(), out.size())) return false;  // client gone
          if (all_done) {
            sink.done();
            return true;
          }
        }
        return sink.is_writable();
      },
      [stream, eng](bool success) {
        // The client went away (or the write failed) before the end: stop generating.
        if (!success || !stream->finished()) eng->cancel(*stream);
      });
}

void HttpServer::Impl::routes() {
  http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    const Engine::Counters c = engine ? engine->counters() : Engine::Counters{};
    res.set_content(dump({{"status", "ok"},
                          {"model", ctx.model_id},
                          {"running", engine ? engine->running() : 0},
                          {"finished", c.finished},
                          {"cancelled", c.cancelled},
                          {"failed", c.failed},
                          {"tokens", c.tokens}}),
                    "application/json");
  });
  http.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    const ModelConfig& c = model->config();
    json m = {{"id", ctx.model_id},
              {"object", "model"},
              {"created", 0},
              {"owned_by", "inkling"},
              {"meta",
               {{"architecture", c.architecture},
                {"n_ctx", ctx.n_ctx},
                {"n_vocab", c.n_vocab},
                {"n_layer", c.n_layer},
                {"n_embd", c.n_embd},
                {"chat_template", chat ? json(std::string(chat->name())) : json(nullptr)}}}};
    res.set_content(dump({{"object", "list"}, {"data", json::array({m})}}), "application/json");
  });
  http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) { completions(req, res, false); });
  http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) { completions(req, res, true); });
  // Embeddings and reranking (embeddings.hpp), also under llama.cpp's unversioned paths.
  for (const char* path : {"/v1/embeddings", "/embeddings", "/v1/rerank", "/rerank"}) {
    const bool rerank = std::string_view(path).find("rerank") != std::string_view::npos;
    http.Post(path, [this, rerank](const httplib::Request& req, httplib::Response& res) {
      if (!authorized(req, res)) return;
      try {
        res.set_content(dump(rerank ? embedding->rerank(req.body, ctx) : embedding->embeddings(req.body, ctx)),
                        "application/json");
      } catch (const ApiError& e) {
        send_error(res, e);
      }
    });
  }
  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(web_page()), "text/html; charset=utf-8");
  });
  // Unknown paths and methods: OpenAI-style JSON rather than an empty body.
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string msg = res.status == 404 ? "no such endpoint" : "request failed";
    res.set_content(dump(ApiError(res.status, msg).body()), "application/json");
  });
  http.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string msg = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      msg = e.what();
    } catch (...) {
    }
    send_error(res, ApiError(500, msg, "server_error"));
  });
}

HttpServer::HttpServer(std::shared_ptr<const Model> model, ServerOptions options) : impl_(std::make_unique<Impl>()) {
  if (!model) throw Error(ErrorCode::InvalidArgument, "serve: null model");
  Impl& m = *impl_;
  m.model = std::move(model);
  m.options = std::move(options);
  if (m.options.max_queued < 0) throw Error(ErrorCode::InvalidArgument, "serve: max_queued must be >= 0");
  if (m.options.http_threads < 2) throw Error(ErrorCode::InvalidArgument, "serve: http_threads must be >= 2");
  try {
    m.chat = m.options.chat_template.empty() ? ChatTemplate::for_model(*m.model)
                                             : ChatTemplate::named(m.options.chat_template).adapted_to(m.model->tokenizer());
  } catch (const Error& e) {
    if (!m.options.chat_template.empty()) throw;  // a name the user gave must be right
    m.chat_unavailable = e.what();
  }
  if (!is_embedding_only(*m.model)) m.engine = std::make_unique<Engine>(m.model, m.options.batch, m.options.max_queued);
  m.embedding = std::make_unique<EmbeddingService>(m.model);
  m.ctx.model = m.model.get();
  m.ctx.model_id = m.options.model_id.empty() ? (m.model->config().name.empty() ? "inkling" : m.model->config().name)
                                              : m.options.model_id;
  m.ctx.chat = m.chat ? &*m.chat : nullptr;
  m.ctx.n_ctx = m.engine ? m.engine->n_ctx() : m.model->config().n_ctx_train;  // the cache's own answer, not a second derivation of it
  const int threads = m.options.http_threads;
  m.http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  m.http.set_payload_max_length(m.options.max_body_bytes);
  m.http.set_keep_alive_max_count(100);
  m.routes();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  Impl& m = *impl_;
  if (m.options.port == 0) {
    m.port = m.http.bind_to_any_port(m.options.host);
    if (m.port < 0) m.port = 0;
  } else {
    m.port = m.http.bind_to_port(m.options.host, m.options.port) ? m.options.port : 0;
  }
  if (m.port == 0)
    throw Error(ErrorCode::Io, "serve: cannot listen on " + m.options.host + ":" + std::to_string(m.options.port) +
                                   " (address in use or not available)");
  return m.port;
}

void HttpServer::run() { impl_->http.listen_after_bind(); }
void HttpServer::stop() {
  if (impl_->http.is_running()) impl_->http.stop();
}
int HttpServer::port() const noexcept { return impl_->port; }
const std::string& HttpServer::model_id() const noexcept { return impl_->ctx.model_id; }
std::size_t HttpServer::kv_cache_bytes() const noexcept { return impl_->engine ? impl_->engine->kv_cache_bytes() : 0; }
const std::string& HttpServer::chat_unavailable() const noexcept { return impl_->chat_unavailable; }

}  // namespace inkling::server
