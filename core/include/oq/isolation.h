// Work that may crash the process, done in a child process so that it cannot.
//
// A third-party decoder fed a corrupt file can abort (GDCM's JPEG header parser fails an
// assertion), read out of bounds or loop. None of that can be validated away from outside, and in
// `convert` over a folder or in a batch one such file must cost that file, not the run. An
// IsolatedWorker runs a handler in a forked child and talks to it over a socket; a crash, an abort
// or a hang of the child becomes an Error naming the file, and the next call starts a new child.
//
// One child serves many calls: forking copies the parent's page tables, which cost about 8 ms per
// 200 MB resident, so a child per file would have tripled the load time of a compressed series.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "oq/error.h"

namespace oq {

using Bytes = std::vector<unsigned char>;

struct IsolationLimits {
  // A child that has not answered after this many seconds is taken to hang and is killed.
  // Zero: sized from the largest reply allowed (isolation_time_limit).
  double seconds = 0;
};

// A decoder producing less than 1 MB a second after two minutes is not slow but stuck; the limit
// grows with the output so a legitimately large multi-frame object is never cut short.
double isolation_time_limit(std::size_t max_reply);

class IsolatedWorker {
 public:
  // Runs in the child, on the child's copy of the parent's memory as it was at the fork.
  using Handler = std::function<Result<Bytes>(const Bytes& request)>;

  explicit IsolatedWorker(Handler handler);
  ~IsolatedWorker();
  IsolatedWorker(const IsolatedWorker&) = delete;
  IsolatedWorker& operator=(const IsolatedWorker&) = delete;

  // Sends `request` to the child and returns its reply (at most `max_reply` bytes). The handler's
  // Error comes back as it was, about `subject`; a child killed by a signal, past the time limit or
  // gone silent gives kUnreadable ("the decoder crashed ...") so the caller treats it like any
  // other undecodable file.
  Result<Bytes> call(const std::string& subject, const Bytes& request, std::size_t max_reply, IsolationLimits limits = {});

 private:
  Status start(const std::string& subject);
  Error child_lost(const std::string& subject, bool timed_out);
  void stop();

  Handler handler_;
  pid_t child_ = -1;
  int socket_ = -1;
};

}  // namespace oq
