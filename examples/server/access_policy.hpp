// Who may talk to `inkling serve`, decided from a request's line and headers before its
// body is read: the Host (DNS rebinding), the Origin (cross-site pages), the method,
// the content type, the size it announces and the API key.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace inkling::server {

struct AccessOptions {
  std::string bound_host = "127.0.0.1";    // the address the server listens on
  std::vector<std::string> allowed_hosts;  // more names clients may use in Host ("*": any)
  std::vector<std::string> cors_origins;   // cross-origin pages allowed ("*": any)
  std::string api_key;                     // non-empty: the API (all but / and /health) needs "Authorization: Bearer KEY"
  std::size_t max_body_bytes = 4u << 20;
};

// What a request's head says, copied out of the HTTP library's types.
struct RequestHead {
  std::string method, path;
  std::string host, origin, content_type, authorization;
  std::optional<std::size_t> content_length;  // absent: chunked or no body
};

// A refusal: the HTTP status and a message for the client.
struct Refusal {
  int status = 400;
  std::string message, type = "invalid_request_error", code;
};

class AccessPolicy {
 public:
  explicit AccessPolicy(AccessOptions options);

  // nullopt: go on (and read the body); else answer with the refusal.
  std::optional<Refusal> check(const RequestHead& head) const;
  // The Access-Control-Allow-Origin to send for `origin`, or empty (same origin, no
  // Origin, or not allowed).
  std::string cors_header(const RequestHead& head) const;
  bool host_allowed(std::string_view host_header) const;
  bool origin_allowed(const RequestHead& head) const;
  // The methods a path answers (for 405's Allow header), empty for an unknown path.
  static std::string methods_of(std::string_view path);
  const AccessOptions& options() const noexcept { return options_; }

 private:
  AccessOptions options_;
};

// Compares in time that depends only on the lengths, not on where they first differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;
// True for loopback names and addresses: localhost, 127.0.0.0/8, ::1.
bool is_loopback_host(std::string_view host) noexcept;
// The API key from, in order, --api-key-file (its first line), the environment variable
// INKLING_API_KEY and --api-key. Error(InvalidArgument/Io) for an unreadable or empty file.
std::string resolve_api_key(const std::string& key_flag, const std::string& key_file, const char* env_value);

}  // namespace inkling::server
