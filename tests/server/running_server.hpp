// What every server test needs: a real server on a free loopback port, run on its own
// thread for the test's lifetime, an HTTP client for it, and the SSE event parser.
#pragma once

#include <doctest/doctest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http_server.hpp"
#include "inkling/inkling.hpp"
#include "shared_data.hpp"

namespace inkling::test {

class RunningServer {
 public:
  explicit RunningServer(std::shared_ptr<const Model> model, server::ServerOptions o = {}) {
    o.port = 0;  // the system picks a free port: tests run in parallel
    server = std::make_unique<server::HttpServer>(std::move(model), o);
    start();
  }
  RunningServer(std::vector<server::ServedModel> models, server::ServerOptions o) {
    o.port = 0;
    server = std::make_unique<server::HttpServer>(std::move(models), o);
    start();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;
  ~RunningServer() {
    server->stop();
    thread.join();
  }

  // A client whose reads wait at most read_timeout_s: generous, since the sanitizer and
  // emulated builds run many times slower, but bounded so a hung server fails the test.
  httplib::Client client(int read_timeout_s = 60) const {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(read_timeout_s, 0);
    c.set_connection_timeout(5, 0);
    return c;
  }
  // POSTs a body as written (json::dump would sort an object's keys).
  httplib::Result post_text(const std::string& path, const std::string& body, int read_timeout_s = 120) const {
    return client(read_timeout_s).Post(path, body, "application/json");
  }
  httplib::Result post(const std::string& path, const nlohmann::json& body, int read_timeout_s = 120) const {
    return post_text(path, body.dump(), read_timeout_s);
  }

  std::unique_ptr<server::HttpServer> server;
  int port = 0;

 private:
  void start() {
    port = server->bind();
    thread = std::thread([this] { server->run(); });
  }
  std::thread thread;
};

// The JSON payload of every `data:` event of an SSE body, without the final [DONE].
inline std::vector<nlohmann::json> sse_chunks(const std::string& body) {
  std::vector<nlohmann::json> out;
  std::size_t pos = 0;
  while ((pos = body.find("data: ", pos)) != std::string::npos) {
    const std::size_t end = body.find("\n\n", pos);
    REQUIRE(end != std::string::npos);  // every event is terminated
    const std::string data = body.substr(pos + 6, end - pos - 6);
    if (data != "[DONE]") out.push_back(nlohmann::json::parse(data));
    pos = end;
  }
  return out;
}

// A shared model loaded on one thread, or null (the test is skipped) without ../shared.
inline std::shared_ptr<const Model> load_shared_model(const char* relative) {
  auto path = require_shared(relative);
  return path ? Model::load(*path, {.threads = 1}) : nullptr;
}

}  // namespace inkling::test
