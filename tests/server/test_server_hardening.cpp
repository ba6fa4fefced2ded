// `inkling serve` against hostile clients (issue 17), over raw sockets on a loopback
// port: bodies past the cap in every transfer encoding, the API key before the body,
// foreign Host and Origin headers, wrong methods and content types, slow and vanished
// clients, fields the server cannot honour. Every loop is bounded, every socket has a
// timeout, and the server stops with the test.
#include <doctest/doctest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "access_policy.hpp"
#include "running_server.hpp"
#include "inkling/inkling.hpp"
#include "shared_data.hpp"

using namespace inkling;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

using test::RunningServer;
const auto load = test::load_shared_model;

server::ServerOptions options() {
  server::ServerOptions o;
  o.batch.max_sequences = 2;
  o.max_queued = 4;
  o.batch.n_ctx = 256;  // twice the test models' 128 trained positions: stretched
  o.batch.rope_scale = 2;
  o.chat_template = "chatml";
  return o;
}

// A plain TCP connection to the server with 10 s send and receive timeouts.
struct RawClient {
  int fd = -1;
  explicit RawClient(int port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~RawClient() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  bool send_all(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Reads until the peer closes or `limit` passes; returns what came.
  std::string read_all(std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
    std::string out;
    const auto until = Clock::now() + limit;
    char buf[4096];
    while (Clock::now() < until) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
};

int status_of(const std::string& response) {
  if (response.rfind("HTTP/1.1 ", 0) != 0) return -1;
  return std::atoi(response.c_str() + 9);
}

std::string head(const std::string& method, const std::string& path, int port, const std::string& extra) {
  return method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n" + extra + "\r\n";
}

std::size_t peak_resident_bytes() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  return 0;
}

json health(const RunningServer& srv) {
  auto h = srv.client(30).Get("/health");
  REQUIRE(h);
  return json::parse(h->body);
}

}  // namespace

TEST_CASE("a chunked body past the cap is cut off at the cap: 413, memory bounded") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  server::ServerOptions o = options();
  o.max_body_bytes = 1u << 20;
  RunningServer srv(model, o);
  const std::size_t peak_before = peak_resident_bytes();
  RawClient c(srv.port);
  REQUIRE(c.send_all(head("POST", "/v1/completions", srv.port,
                          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n") +
                     "a\r\n{\"prompt\":\r\n"));
  // 64 MiB of a JSON string in 64 KiB chunks; the server stops reading after 1 MiB.
  const std::string piece(64u << 10, 'a');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
  const std::string chunk = size_line + piece + "\r\n";
  std::size_t sent = 0;
  for (int i = 0; i < 1024 && c.send_all(chunk); ++i) sent += piece.size();
  const std::string response = c.read_all();
  CHECK(sent < (std::size_t{64} << 20));  // the server hung up long before the end
  if (!response.empty()) {                // (a reset may beat the answer to the client)
    CHECK(status_of(response) == 413);
    CHECK(response.find("body_too_large") != std::string::npos);
  }
  const std::size_t peak_after = peak_resident_bytes();
  CHECK_MESSAGE(peak_after - std::min(peak_before, peak_after) < (std::size_t{48} << 20),
                "peak resident grew by " << (peak_after - peak_before) << " bytes");
  // Still serving.
  CHECK(health(srv)["status"] == "ok");
}

TEST_CASE("size, API key, method and content type are checked before the body is read") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  server::ServerOptions o = options();
  o.api_key = "k3y";
  o.max_body_bytes = 4096;
  RunningServer srv(model, o);
  const std::string json_type = "Content-Type: application/json\r\n";
  const std::string auth = "Authorization: Bearer k3y\r\n";
  auto answer_without_body = [&](const std::string& request) {
    RawClient c(srv.port);
    REQUIRE(c.send_all(request));  // headers only: the body never comes
    return status_of(c.read_all(std::chrono::milliseconds(5000)));
  };
  // The body announced but not sent: each answer comes at once, not after a timeout.
  CHECK(answer_without_body(head("POST", "/v1/completions", srv.port, json_type + "Content-Length: 100\r\n")) == 401);
  CHECK(answer_without_body(head("POST", "/v1/completions", srv.port, json_type + "Transfer-Encoding: chunked\r\n")) == 401);
  CHECK(answer_without_body(head("POST", "/v1/completions", srv.port, json_type + auth + "Content-Length: 5000\r\n")) == 413);
  CHECK(answer_without_body(head("POST", "/v1/completions", srv.port,
                                 "Content-Type: text/plain\r\n" + auth + "Content-Length: 100\r\n")) == 415);
  CHECK(answer_without_body(head("PUT", "/v1/completions", srv.port, json_type + auth + "Content-Length: 100\r\n")) == 405);
  CHECK(answer_without_body(head("DELETE", "/health", srv.port, "")) == 405);
  CHECK(answer_without_body(head("POST", "/v1/nowhere", srv.port, json_type + auth + "Content-Length: 100\r\n")) == 404);
  // A wrong key of the right length is refused too (compared in constant time).
  CHECK(answer_without_body(head("POST", "/v1/completions", srv.port,
                                 json_type + "Authorization: Bearer k3z\r\nContent-Length: 100\r\n")) == 401);
  // "Expect: 100-continue" does not invite a refused client to send.
  {
    RawClient c(srv.port);
    REQUIRE(c.send_all(head("POST", "/v1/completions", srv.port, json_type + "Expect: 100-continue\r\nContent-Length: 10\r\n")));
    CHECK(status_of(c.read_all(std::chrono::milliseconds(5000))) == 401);
  }
  // 405 names the allowed methods.
  auto cl = srv.client(30);
  cl.set_bearer_token_auth("k3y");
  auto put = cl.Put("/v1/completions", "{}", "application/json");
  REQUIRE(put);
  CHECK(put->status == 405);
  CHECK(put->get_header_value("Allow") == "POST, OPTIONS");
  // And a good request works.
  auto ok = cl.Post("/v1/completions", R"({"prompt": "Once", "max_tokens": 2})", "application/json");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  // Chunked and within the cap: read and served.
  RawClient c(srv.port);
  const std::string body = R"({"prompt": "Once", "max_tokens": 2})";
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", body.size());
  REQUIRE(c.send_all(head("POST", "/v1/completions", srv.port, json_type + auth + "Transfer-Encoding: chunked\r\nConnection: close\r\n") +
                     size_line + body + "\r\n0\r\n\r\n"));
  CHECK(status_of(c.read_all()) == 200);
}

TEST_CASE("Host and Origin: DNS rebinding and cross-site pages are refused") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  server::ServerOptions o = options();
  o.allowed_hosts = {"inkling.lan"};
  o.cors_origins = {"http://app.example:3000"};
  RunningServer srv(model, o);
  auto get = [&](const std::string& host, const std::string& origin = {}) {
    httplib::Client c = srv.client(30);
    httplib::Headers h{{"Host", host}};
    if (!origin.empty()) h.emplace("Origin", origin);
    auto r = c.Get("/v1/models", h);
    REQUIRE(r);
    return *r;
  };
  CHECK(get("evil.example").status == 403);
  CHECK(get("evil.example:" + std::to_string(srv.port)).status == 403);
  CHECK(get("localhost:" + std::to_string(srv.port)).status == 200);
  CHECK(get("[::1]:" + std::to_string(srv.port)).status == 200);
  CHECK(get("inkling.lan:" + std::to_string(srv.port)).status == 200);  // --allowed-host
  // A page of another origin: refused, unless allowed with --cors-origin.
  const std::string self = "127.0.0.1:" + std::to_string(srv.port);
  CHECK(get(self, "http://evil.example").status == 403);
  const auto allowed = get(self, "http://app.example:3000");
  CHECK(allowed.status == 200);
  CHECK(allowed.get_header_value("Access-Control-Allow-Origin") == "http://app.example:3000");
  CHECK(get(self, "http://" + self).status == 200);  // the visualizer page's own origin
  // The text/plain "simple request" a page can send without a preflight is refused.
  auto c = srv.client(30);
  auto plain = c.Post("/v1/completions", httplib::Headers{{"Origin", "http://evil.example"}}, R"({"prompt": "hi"})", "text/plain");
  REQUIRE(plain);
  CHECK(plain->status == 403);
  auto plain_no_origin = c.Post("/v1/completions", R"({"prompt": "hi"})", "text/plain");
  REQUIRE(plain_no_origin);
  CHECK(plain_no_origin->status == 415);
  // Preflight for an allowed origin.
  auto pre = c.Options("/v1/chat/completions", httplib::Headers{{"Origin", "http://app.example:3000"},
                                                               {"Access-Control-Request-Method", "POST"}});
  REQUIRE(pre);
  CHECK(pre->status == 204);
  CHECK(pre->get_header_value("Access-Control-Allow-Origin") == "http://app.example:3000");
  CHECK(pre->get_header_value("Access-Control-Allow-Headers").find("Authorization") != std::string::npos);
  auto bad_pre = c.Options("/v1/chat/completions", httplib::Headers{{"Origin", "http://evil.example"}});
  REQUIRE(bad_pre);
  CHECK(bad_pre->status == 403);
}

TEST_CASE("a foreign Host is served only when the server allows any") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  server::ServerOptions o = options();
  o.allowed_hosts = {"*"};
  RunningServer srv(model, o);
  auto r = srv.client(30).Get("/health", httplib::Headers{{"Host", "anything.example"}});
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("40 slow clients do not stop /health; slow clients are cut at the read deadline") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  {
    server::ServerOptions o = options();  // default threads: 2 + 4 + 64
    o.read_deadline = std::chrono::seconds(60);
    RunningServer srv(model, o);
    // 40 clients that send a request line and then nothing more, held open by the test.
    std::vector<std::unique_ptr<RawClient>> slow;
    for (int i = 0; i < 40; ++i) {
      slow.push_back(std::make_unique<RawClient>(srv.port));
      REQUIRE(slow.back()->send_all("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
    }
    // /health answers while they hang on (a 3 s client timeout, far below the deadline).
    for (int i = 0; i < 5; ++i) {
      httplib::Client c("127.0.0.1", srv.port);
      c.set_read_timeout(3, 0);
      auto h = c.Get("/health");
      REQUIRE(h);
      CHECK(h->status == 200);
    }
  }  // the clients hang up, the server stops
  server::ServerOptions o = options();
  o.read_deadline = std::chrono::milliseconds(1000);
  RunningServer srv(model, o);
  std::vector<std::unique_ptr<RawClient>> slow;
  for (int i = 0; i < 10; ++i) {
    slow.push_back(std::make_unique<RawClient>(srv.port));
    REQUIRE(slow.back()->send_all("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
  }
  slow.push_back(std::make_unique<RawClient>(srv.port));  // one that sends nothing at all
  // The server closes each once the deadline passes (read_all returns at the close).
  const auto start = Clock::now();
  for (auto& c : slow) CHECK(status_of(c->read_all(std::chrono::milliseconds(8000))) != 200);
  CHECK(Clock::now() - start < std::chrono::seconds(5));  // a 1 s deadline, with room for a busy machine
  // A client that trickles a byte at a time also ends at the deadline.
  RawClient trickle(srv.port);
  REQUIRE(trickle.send_all(head("GET", "/health", srv.port, "X-Slow: ").substr(0, 40)));
  bool cut = false;
  for (std::size_t i = 0; i < 60 && !cut; ++i) {  // 60 x 100 ms: well past 1 s
    cut = !trickle.send_all(std::string(1, 'a'));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(status_of(trickle.read_all(std::chrono::milliseconds(3000))) != 200);
  CHECK(health(srv)["status"] == "ok");
}

TEST_CASE("a non-streamed request is cancelled when its client goes away") {
  auto model = load("models/synth15M-q8_0.gguf");
  if (!model) return;
  server::ServerOptions o = options();
  o.batch.n_ctx = 1024;  // past the model's 128 trained positions: stretched
  o.batch.rope_scale = 8;
  RunningServer srv(model, o);
  const std::string body = json{{"prompt", "Hello"}, {"max_tokens", 1000}, {"ignore_eos", true}}.dump();
  for (int k = 0; k < 2; ++k) {
    RawClient c(srv.port);
    REQUIRE(c.send_all(head("POST", "/v1/completions", srv.port,
                            "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n") +
                       body));
  }  // both hang up at once
  bool cancelled = false;
  json h;
  for (int i = 0; i < 100 && !cancelled; ++i) {  // at most 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    h = health(srv);
    cancelled = h["running"] == 0 && h["cancelled"] == 2;
  }
  CHECK_MESSAGE(cancelled, h.dump());
  CHECK(h["tokens"].get<int>() < 2000);
}

TEST_CASE("fields the server cannot honour, banned vocabularies and oversized prompts are 400s") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  RunningServer srv(model, options());
  auto c = srv.client(30);
  auto post = [&](const json& body, const std::string& path = "/v1/completions") {
    auto r = c.Post(path.c_str(), body.dump(), "application/json");
    REQUIRE(r);
    return std::make_pair(r->status, json::parse(r->body));
  };
  for (const auto& unsupported : std::vector<std::pair<std::string, json>>{
           // (response_format, tools and tool_choice are honoured: test_server_structured;
           // grammar, json_schema and num_beams: test_server_visual)
           {"functions", json::array({{{"name", "f"}}})},
           {"best_of", 3},
           {"modalities", json::array({"audio"})}}) {
    const std::string& field = unsupported.first;  // CAPTURE's lambda cannot take a binding (clang 14)
    const json& value = unsupported.second;
    CAPTURE(field);
    const auto [status, e] = post({{"prompt", "Once"}, {"max_tokens", 2}, {field, value}});
    CHECK(status == 400);
    CHECK(e["error"]["param"] == field);
    CHECK(e["error"]["code"] == "unsupported_parameter");
  }
  // Values that ask for the default are fine.
  CHECK(post({{"prompt", "Once"}, {"max_tokens", 2}, {"response_format", {{"type", "text"}}}, {"best_of", 1}}).first == 200);
  // Every token banned: nothing can be sampled, which is the request's fault.
  json bias = json::object();
  for (int id = 0; id < model->config().n_vocab; ++id) bias[std::to_string(id)] = -100;
  const auto [status, e] = post({{"prompt", "Once"}, {"max_tokens", 2}, {"logit_bias", bias}});
  CHECK(status == 400);
  CHECK(e["error"]["param"] == "logit_bias");
  // A prompt far longer than the context is refused before it is tokenized.
  const std::string digits(1u << 20, '7');
  const auto [s2, e2] = post({{"prompt", digits}});
  CHECK(s2 == 400);
  CHECK(e2["error"]["code"] == "context_length_exceeded");
  CHECK(e2["error"]["message"].get<std::string>().find("bytes") != std::string::npos);
  const auto [s3, e3] = post({{"messages", json::array({{{"role", "user"}, {"content", digits}}})}}, "/v1/chat/completions");
  CHECK(s3 == 400);
  CHECK(e3["error"]["code"] == "context_length_exceeded");
}

TEST_CASE("serving options: threads, limits, keys and listening beyond loopback") {
  auto model = load("models/stories260K-f32.gguf");
  if (!model) return;
  auto code_of = [&](server::ServerOptions o) -> std::optional<ErrorCode> {
    try {
      server::HttpServer s(model, o);
    } catch (const Error& e) {
      return e.code();
    }
    return std::nullopt;
  };
  server::ServerOptions o = options();
  o.http_threads = o.batch.max_sequences + o.max_queued + 1;  // /health could starve
  CHECK(code_of(o) == ErrorCode::InvalidArgument);
  o.http_threads = o.batch.max_sequences + o.max_queued + 2;
  CHECK(code_of(o) == std::nullopt);
  o = options();
  o.host = "0.0.0.0";  // never bound here: only the constructor's check runs
  CHECK(code_of(o) == ErrorCode::InvalidArgument);
  o.allow_no_key = true;
  CHECK(code_of(o) == std::nullopt);
  o.allow_no_key = false;
  o.api_key = "k";
  CHECK(code_of(o) == std::nullopt);
  o = options();
  o.max_body_bytes = 10;
  CHECK(code_of(o) == ErrorCode::InvalidArgument);

  // The key: from a file (first line), the environment, or the flag; not two at once.
  const auto file = std::filesystem::temp_directory_path() / ("inkling_key_" + std::to_string(::getpid()));
  std::ofstream(file) << "from-file  \nsecond line\n";
  CHECK(server::resolve_api_key("", file.string(), "from-env") == "from-file");
  CHECK(server::resolve_api_key("", "", "from-env") == "from-env");
  CHECK(server::resolve_api_key("from-flag", "", "from-env") == "from-flag");
  CHECK(server::resolve_api_key("", "", nullptr).empty());
  CHECK_THROWS_AS(server::resolve_api_key("a", file.string(), nullptr), Error);
  CHECK_THROWS_AS(server::resolve_api_key("", file.string() + ".absent", nullptr), Error);
  std::filesystem::remove(file);
  CHECK(server::constant_time_equal("abc", "abc"));
  CHECK(!server::constant_time_equal("abc", "abd"));
  CHECK(!server::constant_time_equal("abc", "abcd"));
  CHECK(!server::constant_time_equal("", "a"));
  CHECK(server::is_loopback_host("127.0.0.2:80"));
  CHECK(server::is_loopback_host("[::1]:8080"));
  CHECK(server::is_loopback_host("LOCALHOST"));
  CHECK(!server::is_loopback_host("0.0.0.0"));
  CHECK(!server::is_loopback_host("192.168.1.2"));
}
