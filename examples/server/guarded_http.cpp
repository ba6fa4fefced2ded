#include "guarded_http.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace inkling::server {

namespace {

using Clock = std::chrono::steady_clock;

int millis_until(Clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return ms <= 0 ? 0 : static_cast<int>(std::min<long long>(ms, 1 << 30));
}

void address_of(const sockaddr_storage& a, std::string& ip, int& port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
    port = ntohs(v4->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
    port = ntohs(v6->sin6_port);
  }
  ip = buf;
}

}  // namespace

// One accepted socket as an httplib::Stream: reads are buffered (the library reads
// header lines a byte at a time), bounded by the request's deadline and byte cap.
class GuardedServer::Connection final : public httplib::Stream {
 public:
  Connection(int fd, const ConnectionLimits& limits) : fd_(fd), limits_(limits) {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) address_of(a, remote_ip_, remote_port_);
    len = sizeof a;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) address_of(a, local_ip_, local_port_);
  }

  // Waits until `until` for the next request's first byte; false if none came or the
  // server stops.
  bool wait_for_request(const std::atomic<socket_t>& server_socket, Clock::time_point until) {
    if (begin_ < end_) return true;
    while (server_socket != INVALID_SOCKET) {
      const int left = millis_until(until);
      if (left == 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int r = poll(&p, 1, std::min(left, 100));  // short slices: notice a stop soon
      if (r > 0) return (p.revents & POLLIN) != 0;
      if (r < 0 && errno != EINTR) return false;
    }
    return false;
  }
  void start_request(Clock::time_point deadline) {
    deadline_ = deadline;
    request_bytes_ = end_ - begin_;  // bytes already buffered belong to this request
  }
  bool peer_gone() const {
    pollfd p{fd_, POLLRDHUP, 0};
    if (poll(&p, 1, 0) < 0) return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
  }
  void close_after_response() { close_after_ = true; }
  // After an error response, or once a read failed (deadline, cap, close): the rest of
  // the stream cannot be trusted to start a request.
  bool must_close() const { return close_after_ || read_failed_; }
  const std::string& remote_ip() const { return remote_ip_; }
  int remote_port() const { return remote_port_; }

  bool is_readable() const override {
    if (begin_ < end_) return true;
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, millis_until(deadline_)) > 0 && (p.revents & POLLIN);
  }
  bool is_writable() const override {
    if (peer_gone()) return false;
    pollfd p{fd_, POLLOUT, 0};
    return poll(&p, 1, static_cast<int>(limits_.write_timeout.count())) > 0 && (p.revents & POLLOUT);
  }
  ssize_t read(char* out, size_t size) override {
    if (begin_ == end_ && !fill()) {
      read_failed_ = true;
      return -1;
    }
    const std::size_t n = std::min(size, end_ - begin_);
    std::memcpy(out, buffer_ + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* data, size_t size) override {
    const Clock::time_point until = Clock::now() + limits_.write_timeout;
    for (;;) {
      const ssize_t r = send(fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (r >= 0) return r;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
      pollfd p{fd_, POLLOUT, 0};
      if (poll(&p, 1, millis_until(until)) <= 0) return -1;  // the client stopped reading
    }
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = remote_ip_;
    port = remote_port_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = local_ip_;
    port = local_port_;
  }
  socket_t socket() const override { return fd_; }

 private:
  // Reads more bytes into the empty buffer, within the deadline and the byte cap.
  bool fill() {
    begin_ = end_ = 0;
    if (request_bytes_ >= limits_.max_request_bytes) return false;
    const std::size_t want = std::min(sizeof buffer_, limits_.max_request_bytes - request_bytes_);
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      const int left = millis_until(deadline_);
      if (left == 0) return false;  // the request took too long to arrive
      const int r = poll(&p, 1, left);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      const ssize_t n = recv(fd_, buffer_, want, MSG_DONTWAIT);
      if (n > 0) {
        end_ = static_cast<std::size_t>(n);
        request_bytes_ += end_;
        return true;
      }
      if (n == 0) return false;  // closed
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    }
  }

  int fd_;
  const ConnectionLimits& limits_;
  std::string remote_ip_, local_ip_;
  int remote_port_ = -1, local_port_ = -1;
  Clock::time_point deadline_ = Clock::now();
  std::size_t request_bytes_ = 0;
  char buffer_[4096];
  std::size_t begin_ = 0, end_ = 0;
  bool close_after_ = false, read_failed_ = false;
};

GuardedServer::GuardedServer(ConnectionLimits limits) : limits_(limits) {
  // Called after each response: an error response may leave an unread body behind, so
  // the connection ends there.
  set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (res.status >= 400)
      if (auto c = find(req)) c->close_after_response();
  });
}

GuardedServer::~GuardedServer() = default;

std::shared_ptr<GuardedServer::Connection> GuardedServer::find(const httplib::Request& req) const {
  std::lock_guard lock(mutex_);
  const auto it = open_.find({req.remote_addr, req.remote_port});
  return it == open_.end() ? nullptr : it->second;
}

void GuardedServer::set_backlog(int backlog) {
  const socket_t s = svr_sock_;
  if (s != INVALID_SOCKET) ::listen(s, backlog);  // on a listening socket: only the backlog changes
}

bool GuardedServer::client_gone(const httplib::Request& req) const {
  const auto c = find(req);
  return !c || c->peer_gone();
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  auto conn = std::make_shared<Connection>(sock, limits_);
  const std::pair<std::string, int> key{conn->remote_ip(), conn->remote_port()};
  {
    std::lock_guard lock(mutex_);
    open_[key] = conn;
  }
  bool ok = true;
  // The first request must arrive whole within the read deadline of the connection
  // being accepted (a client that connects and sends nothing frees its thread then);
  // later ones within it of their first byte, after at most the idle timeout.
  const Clock::time_point accepted = Clock::now();
  for (int left = limits_.keep_alive_max; left > 0; --left) {
    const bool first = left == limits_.keep_alive_max;
    if (!conn->wait_for_request(svr_sock_, first ? accepted + limits_.read_deadline : Clock::now() + limits_.idle_timeout))
      break;
    conn->start_request(first ? accepted + limits_.read_deadline : Clock::now() + limits_.read_deadline);
    bool closed = false;
    ok = process_request(*conn, left == 1, closed, nullptr);
    if (!ok || closed || conn->must_close()) break;
  }
  {
    std::lock_guard lock(mutex_);
    const auto it = open_.find(key);
    if (it != open_.end() && it->second == conn) open_.erase(it);
  }
  shutdown(sock, SHUT_RDWR);
  close(sock);
  return ok;
}

}  // namespace inkling::server
