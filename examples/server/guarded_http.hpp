// GuardedServer: cpp-httplib's server with the connection handling a hostile network
// needs, which Debian's cpp-httplib 0.11.4 lacks. It replaces the library's per-socket
// loop (process_and_close_socket) with one over our own Stream, which
//  - gives each request a total read deadline (headers and body together), so a client
//    that trickles bytes cannot hold an HTTP thread for longer than that;
//  - caps the bytes one request may send, whatever its transfer encoding (the library
//    checks the limit only for Content-Length bodies and reads chunked ones whole);
//  - tells a handler whether its client has gone (closed or reset), so a request that
//    is not streamed can be cancelled too;
//  - closes the connection after an error response, so an unread body is never parsed
//    as the next request.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

namespace inkling::server {

struct ConnectionLimits {
  std::chrono::milliseconds read_deadline{30000};  // to receive one request, headers and body
  std::chrono::milliseconds idle_timeout{5000};    // for the next request on a kept-alive connection
  std::chrono::milliseconds write_timeout{10000};  // for the client to accept more bytes
  std::size_t max_request_bytes = 9u << 20;        // on the wire per request (headers + body)
  int keep_alive_max = 100;                        // requests per connection
};

class GuardedServer : public httplib::Server {
 public:
  explicit GuardedServer(ConnectionLimits limits);
  ~GuardedServer() override;

  // After binding: lets `backlog` connections wait to be accepted (the library's 5 drop
  // connections in a burst, and a dropped SYN is retried only after a second).
  void set_backlog(int backlog);

  // Whether the client that sent `req` has closed or reset its connection. Handlers
  // poll it while they wait for a result.
  bool client_gone(const httplib::Request& req) const;

  class Connection;

 private:
  bool process_and_close_socket(socket_t sock) override;
  std::shared_ptr<Connection> find(const httplib::Request& req) const;

  ConnectionLimits limits_;
  mutable std::mutex mutex_;
  // Open connections by the client's address and port (unique among live ones).
  std::map<std::pair<std::string, int>, std::shared_ptr<Connection>> open_;
};

}  // namespace inkling::server
