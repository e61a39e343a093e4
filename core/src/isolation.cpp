#include "oq/isolation.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <exception>

namespace oq {
namespace {

using Clock = std::chrono::steady_clock;

// A reply on the socket: kind, error code, payload length, payload (the bytes or the message).
struct ReplyHeader {
  std::uint8_t failed;
  std::int32_t code;
  std::uint64_t length;
};

// A request larger than this is a bug in the caller, not a file to decode.
constexpr std::uint64_t kMaxRequest = std::uint64_t{1} << 20;

bool send_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  while (n > 0) {
    const ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

enum class ReadOutcome { kOk, kClosed, kTimedOut };

// Reads exactly n bytes; with a deadline, gives up when it passes.
ReadOutcome recv_all(int fd, void* data, std::size_t n, const Clock::time_point* deadline) {
  auto* p = static_cast<unsigned char*>(data);
  while (n > 0) {
    if (deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0) return ReadOutcome::kTimedOut;
      pollfd pfd{fd, POLLIN, 0};
      const int ready = poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 60000)));
      if (ready < 0 && errno != EINTR) return ReadOutcome::kClosed;
      if (ready <= 0) continue;
    }
    const ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return ReadOutcome::kClosed;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return ReadOutcome::kOk;
}

bool send_reply(int fd, const Result<Bytes>& r) {
  ReplyHeader h;
  std::memset(&h, 0, sizeof h);  // no uninitialised padding on the wire
  std::string message;
  if (r.ok()) {
    h.length = r->size();
  } else {
    h.failed = 1;
    h.code = static_cast<std::int32_t>(r.error().code());
    message = r.error().message();
    h.length = message.size();
  }
  const void* payload = r.ok() ? static_cast<const void*>(r->data()) : static_cast<const void*>(message.data());
  return send_all(fd, &h, sizeof h) && send_all(fd, payload, static_cast<std::size_t>(h.length));
}

Result<Bytes> handle(const IsolatedWorker::Handler& handler, const Bytes& request) {
  try {
    return handler(request);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kUnreadable, std::string("the decoder failed (") + e.what() + ")");
  } catch (...) {
    return Error(ErrorCode::kUnreadable, "the decoder failed");
  }
}

// The child: dies with the parent, lets a crash kill it (not the parent's crash report or a
// sanitizer's handler), answers requests until the parent closes the socket, and leaves with
// _exit so nothing of the parent's (stdio buffers, atexit handlers) is flushed or run twice.
[[noreturn]] void serve(int fd, pid_t parent, const IsolatedWorker::Handler& handler) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(0);
  for (const int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGINT, SIGTERM}) std::signal(sig, SIG_DFL);
  for (;;) {
    std::uint64_t length = 0;
    if (recv_all(fd, &length, sizeof length, nullptr) != ReadOutcome::kOk || length > kMaxRequest) _exit(0);
    Bytes request(static_cast<std::size_t>(length));
    if (recv_all(fd, request.data(), request.size(), nullptr) != ReadOutcome::kOk) _exit(0);
    if (!send_reply(fd, handle(handler, request))) _exit(0);
  }
}

std::string describe_end(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = strsignal(sig);
    return "the decoder crashed on it (" + std::string(name ? name : "signal") + ", signal " + std::to_string(sig) +
           "): its compressed data is corrupt or beyond the decoder";
  }
  if (WIFEXITED(status))
    return "the decoder stopped with exit status " + std::to_string(WEXITSTATUS(status)) + " while reading it";
  return "the decoder stopped while reading it";
}

}  // namespace

double isolation_time_limit(std::size_t max_reply) {
  return 120.0 + static_cast<double>(max_reply) / 1e6;
}

IsolatedWorker::IsolatedWorker(Handler handler) : handler_(std::move(handler)) {}

IsolatedWorker::~IsolatedWorker() {
  stop();
}

Status IsolatedWorker::start(const std::string& subject) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return Error(ErrorCode::kIo, std::string("cannot open a channel to a decoding process (") + std::strerror(errno) + ")",
                 subject);
  const pid_t parent = getpid();
  const pid_t child = fork();
  if (child < 0) {
    const int err = errno;
    close(fds[0]);
    close(fds[1]);
    return Error(ErrorCode::kIo, std::string("cannot start a process to decode it (") + std::strerror(err) + ")", subject);
  }
  if (child == 0) {
    close(fds[0]);
    serve(fds[1], parent, handler_);
  }
  close(fds[1]);
  child_ = child;
  socket_ = fds[0];
  return ok_status();
}

void IsolatedWorker::stop() {
  if (socket_ >= 0) close(socket_);
  socket_ = -1;
  if (child_ > 0) {
    // The child holds nothing worth a graceful end, and another worker's child may hold a copy of
    // our socket (forked while it was open), so closing alone might not end it.
    kill(child_, SIGKILL);
    while (waitpid(child_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  child_ = -1;
}

Error IsolatedWorker::child_lost(const std::string& subject, bool timed_out) {
  if (socket_ >= 0) close(socket_);
  socket_ = -1;
  if (timed_out) kill(child_, SIGKILL);
  int status = 0;
  while (waitpid(child_, &status, 0) < 0 && errno == EINTR) {
  }
  child_ = -1;
  return Error(ErrorCode::kUnreadable, timed_out ? "the decoder did not finish in time and was stopped" : describe_end(status),
               subject);
}

Result<Bytes> IsolatedWorker::call(const std::string& subject, const Bytes& request, std::size_t max_reply,
                                   IsolationLimits limits) {
  if (request.size() > kMaxRequest) return Error(ErrorCode::kInternal, "request too large for the decoding process", subject);
  if (child_ < 0) {
    if (Status s = start(subject); !s.ok()) return s.error();
  }
  const double seconds = limits.seconds > 0 ? limits.seconds : isolation_time_limit(max_reply);
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  const std::uint64_t length = request.size();
  if (!send_all(socket_, &length, sizeof length) || !send_all(socket_, request.data(), request.size()))
    return child_lost(subject, false);

  ReplyHeader h{};
  ReadOutcome got = recv_all(socket_, &h, sizeof h, &deadline);
  if (got != ReadOutcome::kOk) return child_lost(subject, got == ReadOutcome::kTimedOut);
  if (!h.failed && h.length > max_reply) {
    stop();
    return Error(ErrorCode::kInternal,
                 "the decoding process answered " + std::to_string(h.length) + " bytes, at most " + std::to_string(max_reply) +
                     " expected",
                 subject);
  }
  if (h.failed && h.length > 65536) {
    stop();
    return Error(ErrorCode::kInternal, "the decoding process sent an unreadable error", subject);
  }
  Bytes payload(static_cast<std::size_t>(h.length));
  got = recv_all(socket_, payload.data(), payload.size(), &deadline);
  if (got != ReadOutcome::kOk) return child_lost(subject, got == ReadOutcome::kTimedOut);
  if (h.failed)
    return Error(static_cast<ErrorCode>(std::clamp<std::int32_t>(h.code, 0, static_cast<std::int32_t>(ErrorCode::kInternal))),
                 std::string(payload.begin(), payload.end()), subject);
  return payload;
}

}  // namespace oq
