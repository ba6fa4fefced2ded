#include "access_policy.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "inkling/error.hpp"

namespace inkling::server {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "name:port", "[v6]:port", "name" -> the name (lower case, no brackets).
std::string host_name(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    return lower(host.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  if (std::count(host.begin(), host.end(), ':') == 1) host = host.substr(0, host.find(':'));
  return lower(host);
}

bool is_ip_literal(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

bool is_wildcard(std::string_view bound) { return bound.empty() || bound == "0.0.0.0" || bound == "::" || bound == "[::]"; }

bool listed(const std::vector<std::string>& list, std::string_view value) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& s) { return s == "*" || lower(s) == lower(value); });
}

Refusal refusal(int status, std::string message, std::string type = "invalid_request_error", std::string code = {}) {
  return {status, std::move(message), std::move(type), std::move(code)};
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  // Every byte of the longer string is visited whatever the contents.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

bool is_loopback_host(std::string_view host) noexcept {
  try {
    const std::string name = host_name(host);
    if (name == "localhost" || name == "::1") return true;
    in_addr a{};
    if (inet_pton(AF_INET, name.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
    return false;
  } catch (...) {
    return false;
  }
}

std::string resolve_api_key(const std::string& key_flag, const std::string& key_file, const char* env_value) {
  if (!key_flag.empty() && !key_file.empty())
    throw Error(ErrorCode::InvalidArgument, "serve: give the API key once: --api-key or --api-key-file, not both");
  if (!key_file.empty()) {
    std::ifstream f(key_file);
    if (!f) throw Error(ErrorCode::Io, "serve: cannot read the API key file " + key_file);
    std::string key;
    std::getline(f, key);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    if (key.empty()) throw Error(ErrorCode::InvalidArgument, "serve: the API key file " + key_file + " has an empty first line");
    return key;
  }
  if (!key_flag.empty()) return key_flag;
  return env_value ? std::string(env_value) : std::string();
}

AccessPolicy::AccessPolicy(AccessOptions options) : options_(std::move(options)) {}

bool AccessPolicy::host_allowed(std::string_view host_header) const {
  const std::string name = host_name(host_header);
  if (name.empty()) return false;
  if (is_loopback_host(name) || listed(options_.allowed_hosts, name)) return true;
  if (name == host_name(options_.bound_host)) return true;
  // Listening on every address: any IP literal is one of ours or unreachable, and a
  // rebinding page always sends its own domain name, never a literal.
  return is_wildcard(options_.bound_host) && is_ip_literal(name);
}

bool AccessPolicy::origin_allowed(const RequestHead& head) const {
  if (head.origin.empty()) return true;  // not from a browser page (curl, SDKs)
  // Same origin: the page this server served (the visualizer at /).
  if (lower(head.origin) == "http://" + lower(head.host)) return true;
  return listed(options_.cors_origins, head.origin);
}

std::string AccessPolicy::cors_header(const RequestHead& head) const {
  if (head.origin.empty() || lower(head.origin) == "http://" + lower(head.host)) return {};
  return listed(options_.cors_origins, head.origin) ? head.origin : std::string();
}

std::string AccessPolicy::methods_of(std::string_view path) {
  if (path == "/" || path == "/health" || path == "/v1/models") return "GET, HEAD, OPTIONS";
  if (path == "/v1/completions" || path == "/v1/chat/completions" || path == "/tokenize" || path == "/detokenize" ||
      path == "/v1/embeddings" || path == "/embeddings" ||
      path == "/v1/rerank" || path == "/rerank")
    return "POST, OPTIONS";
  return {};
}

std::optional<Refusal> AccessPolicy::check(const RequestHead& h) const {
  if (!host_allowed(h.host))
    return refusal(403, "the Host '" + h.host + "' is not one this server answers to (start it with --allowed-host NAME)",
                   "invalid_request_error", "host_not_allowed");
  if (!origin_allowed(h))
    return refusal(403, "cross-origin requests from " + h.origin + " are refused (start the server with --cors-origin " +
                            h.origin + " to allow them)",
                   "invalid_request_error", "origin_not_allowed");
  const std::string methods = methods_of(h.path);
  if (methods.empty()) return refusal(404, "no such endpoint: " + h.path, "invalid_request_error", "not_found");
  if (h.method.empty() || (", " + methods + ",").find(", " + h.method + ",") == std::string::npos)
    return refusal(405, "method " + h.method + " is not allowed on " + h.path + " (allowed: " + methods + ")",
                   "invalid_request_error", "method_not_allowed");
  if (h.method == "OPTIONS") return std::nullopt;  // a preflight: answered by the caller
  // The key guards every API path (/v1/*, and llama.cpp's unversioned /embeddings and
  // /rerank); the page and /health stay open.
  if (!options_.api_key.empty() && h.path != "/" && h.path != "/health" &&
      !constant_time_equal(h.authorization, "Bearer " + options_.api_key))
    return refusal(401, "a valid API key is needed (Authorization: Bearer KEY)", "authentication_error", "invalid_api_key");
  if (h.method == "POST") {
    const std::string type = lower(h.content_type.substr(0, h.content_type.find(';')));
    if (type.find_first_not_of(' ') == std::string::npos ||
        type.substr(type.find_first_not_of(' '), type.find_last_not_of(' ') - type.find_first_not_of(' ') + 1) !=
            "application/json")
      return refusal(415, "the request body must be JSON sent as Content-Type: application/json, got '" + h.content_type + "'",
                     "invalid_request_error", "unsupported_media_type");
    if (h.content_length && *h.content_length > options_.max_body_bytes)
      return refusal(413, "the request body of " + std::to_string(*h.content_length) + " bytes is over the limit of " +
                              std::to_string(options_.max_body_bytes),
                     "invalid_request_error", "body_too_large");
  }
  return std::nullopt;
}

}  // namespace inkling::server
