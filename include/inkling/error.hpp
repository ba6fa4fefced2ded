// Error + ErrorCode: every failure inkling reports is one of these.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace inkling {

// The kind of failure. The C ABI maps each to an ink_status with the same meaning.
enum class ErrorCode {
  InvalidArgument,  // a parameter out of range, a bad id, misuse of the API
  Io,               // a file could not be opened, read or mapped
  Format,           // a file is corrupt, truncated or inconsistent
  Unsupported,      // valid input that this version cannot handle (tensor type, architecture)
  OutOfMemory,      // an allocation would exceed the memory budget or failed
  ContextFull,      // the KV cache has no room for more positions
  Cancelled,        // the caller asked to stop
  BufferTooSmall,   // a caller-owned buffer cannot hold the result
  Internal,         // a bug in inkling
};

std::string_view error_code_name(ErrorCode code) noexcept;

// Thrown by every fallible inkling function. what() names the file, tensor, key,
// offset or parameter at fault.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace inkling
