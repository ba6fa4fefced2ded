#include "http_server.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string_view>
#include <cstdint>
#include <cstdlib>
#include <functional>

#include "access_policy.hpp"
#include "beams.hpp"
#include "embeddings.hpp"
#include "engine.hpp"
#include "guarded_http.hpp"
#include "inkling/error.hpp"
#include "inkling/model.hpp"
#include "openai.hpp"
#include "tokens_api.hpp"
#include "web_page.hpp"

namespace inkling::server {

using nlohmann::json;

// One served model: its chat template, what requests are read against, its engine.
struct Served {
  std::shared_ptr<const Model> model;
  std::optional<ChatTemplate> chat;
  std::string chat_unavailable;
  ServingContext ctx;
  std::unique_ptr<Engine> engine;  // null for an embedding-only model (an encoder)
  std::unique_ptr<BeamRunner> beams;  // requests with num_beams > 1
  std::unique_ptr<EmbeddingService> embedding;
};

struct HttpServer::Impl {
  std::vector<std::unique_ptr<Served>> served;  // [0]: the default model
  ServerOptions options;
  std::unique_ptr<AccessPolicy> policy;
  std::unique_ptr<GuardedServer> http;
  int port = 0;
  std::atomic<std::uint64_t> next_id{1};

  void send_error(httplib::Response& res, const ApiError& e) {
    res.status = e.status;
    res.set_content(dump(e.body()), "application/json");
  }
  // The head of a request as the access policy reads it (no body yet).
  static RequestHead head_of(const httplib::Request& req) {
    RequestHead h{req.method, req.path, req.get_header_value("Host"), req.get_header_value("Origin"),
                  req.get_header_value("Content-Type"), req.get_header_value("Authorization"), std::nullopt};
    if (req.has_header("Content-Length") && !req.has_header("Transfer-Encoding")) {
      const std::string v = req.get_header_value("Content-Length");
      char* end = nullptr;
      const unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      h.content_length = v.empty() || *end ? SIZE_MAX : static_cast<std::size_t>(n);
    }
    return h;
  }
  // Before the body is read: refusals, CORS headers and preflights.
  bool screen(const httplib::Request& req, httplib::Response& res) {
    const RequestHead head = head_of(req);
    if (auto r = policy->check(head)) {
      if (r->status == 405) res.set_header("Allow", AccessPolicy::methods_of(head.path));
      send_error(res, ApiError(r->status, r->message, r->type, {}, r->code));
      return false;
    }
    if (const std::string origin = policy->cors_header(head); !origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", origin);
      res.set_header("Vary", "Origin");
    }
    if (req.method == "OPTIONS") {
      res.status = 204;
      res.set_header("Allow", AccessPolicy::methods_of(head.path));
      res.set_header("Access-Control-Allow-Methods", AccessPolicy::methods_of(head.path));
      res.set_header("Access-Control-Allow-Headers", "Content-Type, Authorization");
      res.set_header("Access-Control-Max-Age", "600");
      return false;
    }
    return true;
  }
  void add(ServedModel m);
  Served& pick(const json& body);
  void completions(const httplib::Request& req, const std::string& body, httplib::Response& res, bool chat_endpoint);
  void beam_search(const httplib::Request& req, Served& s, const CompletionRequest& request, httplib::Response& res,
                   const std::string& id);
  void tokens_endpoint(const std::string& body, httplib::Response& res, bool tokenize);
  using BodyHandler = std::function<void(const httplib::Request&, const std::string&, httplib::Response&)>;
  // A POST handler that reads the body itself, counting bytes whatever the transfer
  // encoding (the library bounds only Content-Length bodies).
  httplib::Server::HandlerWithContentReader post(BodyHandler handler) {
    return [this, handler](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
      std::string body;
      bool too_big = false;
      const bool ok = reader([&](const char* data, std::size_t n) {
        if (n > options.max_body_bytes - body.size()) {
          too_big = true;
          return false;
        }
        body.append(data, n);
        return true;
      });
      if (too_big)
        return send_error(res, ApiError(413, "the request body is over the limit of " + std::to_string(options.max_body_bytes) +
                                                 " bytes", "invalid_request_error", {}, "body_too_large"));
      if (!ok) return send_error(res, ApiError(400, "the request body could not be read (incomplete, malformed or too slow)"));
      handler(req, body, res);
    };
  }
  void routes();
};

// The model a request names in "model" (absent, null or "": the default). A body that is
// not a JSON object goes to the default, whose parser reports what is wrong with it.
Served& HttpServer::Impl::pick(const json& body) {
  if (!body.is_object()) return *served.front();
  auto it = body.find("model");
  if (it == body.end() || !it->is_string() || it->get<std::string>().empty()) return *served.front();
  const std::string name = it->get<std::string>();
  std::string known;
  for (auto& s : served) {
    if (s->ctx.model_id == name) return *s;
    known += (known.empty() ? "'" : ", '") + s->ctx.model_id + "'";
  }
  throw ApiError(404, "the model '" + name + "' does not exist; this server serves " + known, "invalid_request_error",
                 "model", "model_not_found");
}

void HttpServer::Impl::tokens_endpoint(const std::string& text, httplib::Response& res, bool tokenize) {
  try {
    const json body = json::parse(text, nullptr, false);
    if (body.is_discarded()) throw ApiError(400, "the request body is not valid JSON");
    const Served& s = pick(body);
    const json out = tokenize ? tokenize_response(*s.model, body) : detokenize_response(*s.model, body);
    res.set_content(dump(out), "application/json");
  } catch (const ApiError& e) {
    send_error(res, e);
  } catch (const Error& e) {
    send_error(res, ApiError(400, e.what()));
  }
}

void HttpServer::Impl::completions(const httplib::Request& req, const std::string& body, httplib::Response& res,
                                   bool chat_endpoint) {
  auto request = std::make_shared<CompletionRequest>();
  std::shared_ptr<Stream> stream;
  Served* served_model = nullptr;
  try {
    served_model = &pick(json::parse(body, nullptr, false));
    if (!served_model->engine)
      throw ApiError(501, served_model->model->config().architecture + " models embed and rerank; they do not generate",
                     "invalid_request_error", {}, "not_supported");
    const ServingContext& ctx = served_model->ctx;
    *request = parse_request(body, chat_endpoint, ctx);
    if (request->config.num_beams > 1)
      return beam_search(req, *served_model, *request, res,
                         std::string(chat_endpoint ? "chatcmpl-" : "cmpl-") + std::to_string(next_id++));
    // n choices: the same request with seeds seed, seed + 1, ...
    std::vector<GenerationConfig> configs(static_cast<std::size_t>(request->n), request->config);
    for (std::size_t i = 0; i < configs.size(); ++i) configs[i].sampling.seed += i;
    stream = served_model->engine->submit(request->prompt, configs);
  } catch (const ApiError& e) {
    return send_error(res, e);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::OutOfMemory) return send_error(res, ApiError(503, e.what(), "server_error", {}, "server_busy"));
    if (e.code() == ErrorCode::ContextFull)
      return send_error(res, ApiError(400, e.what(), "invalid_request_error", "prompt", "context_length_exceeded"));
    return send_error(res, ApiError(400, e.what()));
  }
  const std::string id = std::string(chat_endpoint ? "chatcmpl-" : "cmpl-") + std::to_string(next_id++);
  auto writer = std::make_shared<ResponseWriter>(*request, served_model->ctx, id);
  Engine* eng = served_model->engine.get();

  if (!request->stream) {
    std::string error;
    auto take = [&](std::vector<BatchEvent> events) {
      for (BatchEvent& e : events) {
        if (e.step) writer->record(stream->index_of(e.request), *e.step);
        if (!e.error.empty()) error = e.error;
      }
    };
    bool client_left = false;
    for (;;) {
      take(stream->wait(std::chrono::milliseconds(200)));
      if (stream->finished()) {
        take(stream->wait(std::chrono::milliseconds(0)));  // what arrived with the last event
        break;
      }
      if (!client_left && http->client_gone(req)) {  // nobody will read the answer: stop generating
        eng->cancel(*stream);
        client_left = true;
      }
    }
    if (client_left) return;
    if (!error.empty()) return send_error(res, ApiError(500, error, "server_error"));
    res.set_content(dump(writer->full_response(stream->results())), "application/json");
    return;
  }

  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
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

// Beam search beside the engine (beams.hpp); the client leaving cancels it.
void HttpServer::Impl::beam_search(const httplib::Request& req, Served& s, const CompletionRequest& request,
                                   httplib::Response& res, const std::string& id) {
  const BeamOutcome outcome = s.beams->run(request, s.ctx.n_ctx, [&] { return http->client_gone(req); });
  if (outcome.result.stop_reason == StopReason::Cancelled) return;  // nobody reads the answer
  res.set_content(dump(beam_response(request, s.ctx, id, outcome)), "application/json");
}

void HttpServer::Impl::routes() {
  http->Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    Engine::Counters c;
    int running = 0;
    json ids = json::array();
    for (const auto& s : served) {
      ids.push_back(s->ctx.model_id);
      if (!s->engine) continue;
      const Engine::Counters e = s->engine->counters();
      c.finished += e.finished;
      c.cancelled += e.cancelled;
      c.failed += e.failed;
      c.tokens += e.tokens;
      running += s->engine->running();
    }
    res.set_content(dump({{"status", "ok"},
                          {"model", served.front()->ctx.model_id},
                          {"models", ids},
                          {"running", running},
                          {"finished", c.finished},
                          {"cancelled", c.cancelled},
                          {"failed", c.failed},
                          {"tokens", c.tokens}}),
                    "application/json");
  });
  http->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    json data = json::array();
    for (const auto& s : served) {
      const ModelConfig& c = s->model->config();
      data.push_back({{"id", s->ctx.model_id},
                      {"object", "model"},
                      {"created", 0},
                      {"owned_by", "inkling"},
                      {"meta",
                       {{"architecture", c.architecture},
                        {"n_ctx", s->ctx.n_ctx},
                        {"n_ctx_train", c.n_ctx_train},
                        {"n_vocab", c.n_vocab},
                        {"n_layer", c.n_layer},
                        {"n_embd", c.n_embd},
                        {"chat_template", s->chat ? json(std::string(s->chat->name())) : json(nullptr)}}}});
    }
    res.set_content(dump({{"object", "list"}, {"data", data}}), "application/json");
  });
  http->Post("/v1/completions", post([this](auto& req, auto& body, auto& res) { completions(req, body, res, false); }));
  http->Post("/v1/chat/completions", post([this](auto& req, auto& body, auto& res) { completions(req, body, res, true); }));
  http->Post("/tokenize", post([this](auto&, auto& body, auto& res) { tokens_endpoint(body, res, true); }));
  http->Post("/detokenize", post([this](auto&, auto& body, auto& res) { tokens_endpoint(body, res, false); }));
  // Embeddings and reranking (embeddings.hpp), also under llama.cpp's unversioned paths.
  for (const char* path : {"/v1/embeddings", "/embeddings", "/v1/rerank", "/rerank"}) {
    const bool rerank = std::string_view(path).find("rerank") != std::string_view::npos;
    http->Post(path, post([this, rerank](auto&, auto& body, auto& res) {
      try {
        Served& s = pick(json::parse(body, nullptr, false));
        res.set_content(dump(rerank ? s.embedding->rerank(body, s.ctx) : s.embedding->embeddings(body, s.ctx)),
                        "application/json");
      } catch (const ApiError& e) {
        send_error(res, e);
      }
    }));
  }
  // Host, origin, method, content type, announced size and API key: all before the body.
  http->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    return screen(req, res) ? httplib::Server::HandlerResponse::Unhandled : httplib::Server::HandlerResponse::Handled;
  });
  // "Expect: 100-continue" is answered before routing: refuse there too, so a refused
  // client is never invited to send its body.
  http->set_expect_100_continue_handler([this](const httplib::Request& req, httplib::Response& res) {
    return screen(req, res) ? 100 : res.status;
  });
  http->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(web_page()), "text/html; charset=utf-8");
  });
  // Unknown paths and methods: OpenAI-style JSON rather than an empty body.
  http->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const std::string msg = res.status == 404 ? "no such endpoint" : "request failed";
    res.set_content(dump(ApiError(res.status, msg).body()), "application/json");
  });
  http->set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
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

void HttpServer::Impl::add(ServedModel m) {
  if (!m.model) throw Error(ErrorCode::InvalidArgument, "serve: null model");
  auto s = std::make_unique<Served>();
  s->model = std::move(m.model);
  try {
    s->chat = options.chat_template.empty() ? ChatTemplate::for_model(*s->model)
                                            : ChatTemplate::named(options.chat_template).adapted_to(s->model->tokenizer());
  } catch (const Error& e) {
    if (!options.chat_template.empty()) throw;  // a name the user gave must be right
    s->chat_unavailable = e.what();
  }
  s->ctx.model = s->model.get();
  s->ctx.model_id = !m.id.empty() ? m.id
                    : !s->model->config().name.empty() ? s->model->config().name
                    : served.empty() ? std::string("inkling")
                                     : "model-" + std::to_string(served.size() + 1);
  for (const auto& other : served)
    if (other->ctx.model_id == s->ctx.model_id)
      throw Error(ErrorCode::InvalidArgument, "serve: two models are named '" + s->ctx.model_id + "'; give each its own name");
  BatchOptions batch = options.batch;
  if (m.n_ctx > 0) batch.n_ctx = m.n_ctx;
  if (!is_embedding_only(*s->model)) {
    try {
      s->engine = std::make_unique<Engine>(s->model, batch, options.max_queued);
    } catch (const Error& e) {  // name the model: a context fits one served model and not another
      throw Error(e.code(), "serve: model '" + s->ctx.model_id + "': " + e.what());
    }
    s->beams = std::make_unique<BeamRunner>(s->model, batch.kv_type, batch.rope_scale);
  }
  s->embedding = std::make_unique<EmbeddingService>(s->model);
  s->ctx.chat = s->chat ? &*s->chat : nullptr;
  // the cache's own answer, not a second derivation of it
  s->ctx.n_ctx = s->engine ? s->engine->n_ctx() : s->model->config().n_ctx_train;
  s->ctx.max_prompt_bytes = max_prompt_bytes(s->model->tokenizer(), s->ctx.n_ctx);
  served.push_back(std::move(s));
}

HttpServer::HttpServer(std::shared_ptr<const Model> model, ServerOptions options)
    : HttpServer(std::vector<ServedModel>{{std::move(model), options.model_id, 0}}, options) {}

HttpServer::HttpServer(std::vector<ServedModel> models, ServerOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.options = std::move(options);
  if (models.empty()) throw Error(ErrorCode::InvalidArgument, "serve: no model");
  if (m.options.max_queued < 0) throw Error(ErrorCode::InvalidArgument, "serve: max_queued must be >= 0");
  // Each model has its own generation slots and queue.
  const int slots = (m.options.batch.max_sequences + m.options.max_queued) * static_cast<int>(models.size());
  if (m.options.http_threads == 0) m.options.http_threads = slots + 64;
  if (m.options.http_threads < slots + 2)
    throw Error(ErrorCode::InvalidArgument, "serve: http_threads (" + std::to_string(m.options.http_threads) +
                                                ") must exceed parallel + queued (" + std::to_string(slots) +
                                                ") by at least 2, so /health answers when every slot is taken");
  if (m.options.max_body_bytes < 1024) throw Error(ErrorCode::InvalidArgument, "serve: max_body_bytes must be >= 1024");
  if (m.options.read_deadline.count() < 100) throw Error(ErrorCode::InvalidArgument, "serve: read_deadline must be >= 100 ms");
  if (!is_loopback_host(m.options.host) && m.options.api_key.empty() && !m.options.allow_no_key)
    throw Error(ErrorCode::InvalidArgument,
                "serve: listening on " + m.options.host + " lets other machines in, which needs an API key "
                "(--api-key-file FILE or INKLING_API_KEY); --no-api-key serves without one");
  for (ServedModel& sm : models) m.add(std::move(sm));
  m.policy = std::make_unique<AccessPolicy>(AccessOptions{m.options.host, m.options.allowed_hosts, m.options.cors_origins,
                                                          m.options.api_key, m.options.max_body_bytes});
  ConnectionLimits limits;
  limits.read_deadline = m.options.read_deadline;
  // Headers and chunk framing on top of the body.
  limits.max_request_bytes = 2 * m.options.max_body_bytes + (64u << 10);
  m.http = std::make_unique<GuardedServer>(limits);
  const int threads = m.options.http_threads;
  m.http->new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  m.http->set_payload_max_length(m.options.max_body_bytes);
  m.routes();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::bind() {
  Impl& m = *impl_;
  if (m.options.port == 0) {
    m.port = m.http->bind_to_any_port(m.options.host);
    if (m.port < 0) m.port = 0;
  } else {
    m.port = m.http->bind_to_port(m.options.host, m.options.port) ? m.options.port : 0;
  }
  if (m.port != 0) m.http->set_backlog(std::max(128, m.options.http_threads));
  if (m.port == 0)
    throw Error(ErrorCode::Io, "serve: cannot listen on " + m.options.host + ":" + std::to_string(m.options.port) +
                                   " (address in use or not available)");
  return m.port;
}

void HttpServer::run() { impl_->http->listen_after_bind(); }
void HttpServer::stop() {
  if (impl_->http && impl_->http->is_running()) impl_->http->stop();
}
int HttpServer::port() const noexcept { return impl_->port; }
const std::string& HttpServer::model_id() const noexcept { return impl_->served.front()->ctx.model_id; }
std::vector<std::string> HttpServer::model_ids() const {
  std::vector<std::string> ids;
  for (const auto& s : impl_->served) ids.push_back(s->ctx.model_id);
  return ids;
}
std::size_t HttpServer::kv_cache_bytes() const noexcept {
  std::size_t bytes = 0;
  for (const auto& s : impl_->served)
    if (s->engine) bytes += s->engine->kv_cache_bytes();
  return bytes;
}
const std::string& HttpServer::chat_unavailable() const noexcept { return impl_->served.front()->chat_unavailable; }

}  // namespace inkling::server
