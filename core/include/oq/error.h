// One error type for the whole suite, and Result<T> to carry it across module boundaries.
// Adapters translate third-party failures (DCMTK OFCondition, ITK exceptions, OpenSlide's
// sticky error) into oq::Error at the edge, so callers never see a library's own type.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace oq {

enum class ErrorCode {
  kInvalidArgument,  // the caller asked for something that makes no sense (usage)
  kNotFound,         // a file, series or tag that was asked for does not exist
  kUnreadable,       // bytes that are not what they claim to be (corrupt, truncated, wrong format)
  kUnsupported,      // valid input we deliberately do not handle (names what and why)
  kInconsistent,     // a series whose parts do not fit together (mixed sizes, missing slices)
  kUnavailable,      // a quantity that cannot be derived from this input (e.g. SUV without weight)
  kIo,               // the file system refused (permissions, disk full)
  kInternal,         // a bug: should never reach a user
};

const char* to_string(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message, std::string subject = {})
      : code_(code), message_(std::move(message)), subject_(std::move(subject)) {}

  ErrorCode code() const { return code_; }
  // For people: says what is wrong in the clinic's or the data manager's words.
  const std::string& message() const { return message_; }
  // What it concerns: a file path, a tag, a series UID, a lesion id.
  const std::string& subject() const { return subject_; }

  // "subject: message", the form printed after "error: ".
  std::string describe() const { return subject_.empty() ? message_ : subject_ + ": " + message_; }

  // Returns a copy that names the subject, when it did not already name one.
  Error about(const std::string& subject) const {
    Error e = *this;
    if (e.subject_.empty()) e.subject_ = subject;
    return e;
  }

 private:
  ErrorCode code_;
  std::string message_;
  std::string subject_;
};

// A value or the reason there is none. Deliberately small: ok(), value(), error(), and move-out.
template <typename T>
class Result {
 public:
  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor): returns read naturally
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }

  const T& value() const& { return std::get<T>(data_); }
  T& value() & { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  const Error& error() const { return std::get<Error>(data_); }

 private:
  std::variant<T, Error> data_;
};

// Result<void>: success or an error.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() {
  return Ok{};
}

}  // namespace oq
