#include "inkling/error.hpp"

namespace inkling {

std::string_view error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::InvalidArgument: return "invalid argument";
    case ErrorCode::Io: return "I/O error";
    case ErrorCode::Format: return "format error";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::OutOfMemory: return "out of memory";
    case ErrorCode::ContextFull: return "context full";
    case ErrorCode::Cancelled: return "cancelled";
    case ErrorCode::BufferTooSmall: return "buffer too small";
    case ErrorCode::Internal: return "internal error";
  }
  return "unknown error";
}

}  // namespace inkling
