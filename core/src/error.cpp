#include "oq/error.h"

namespace oq {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kNotFound:
      return "not found";
    case ErrorCode::kUnreadable:
      return "unreadable";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kInconsistent:
      return "inconsistent";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kIo:
      return "i/o";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "unknown";
}

}  // namespace oq
