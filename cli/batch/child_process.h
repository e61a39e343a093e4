// One step of a batch case run as a child process of this same program (`oncoquant segment ...`),
// so that a decoder's crash, an abort or a hang costs that step, never the batch, and so that a
// batch does exactly what the commands a data manager would type do.
#pragma once

#include <string>
#include <vector>

#include "oq/error.h"

namespace oq::cli::batch {

struct ChildStep {
  std::vector<std::string> args;  // after the program name: {"segment", INPUT, "--seed", ...}
  std::string program;            // empty: this program
  std::string stdout_path;        // the step's answer (JSON) goes here; empty: discarded
  std::string log_path;           // its stderr is appended here; empty: it shares the caller's stderr
  double time_limit_s = 3600;     // then it is killed and the step fails
};

struct ChildOutcome {
  int exit_code = -1;  // 0 ok, 1 input refused, 2 usage; -1 when it did not exit
  int signal = 0;      // the signal that ended it, if any
  bool timed_out = false;
  bool interrupted = false;  // the batch was asked to stop (Ctrl-C, SIGTERM)
  std::string last_error;    // the step's `error:` line, or why it did not finish
  bool ok() const { return exit_code == 0; }
};

// Runs the step and waits for it. A child outlives neither the step's time limit nor the batch:
// it is killed when the parent dies (kill -9 of the batch included).
Result<ChildOutcome> run_child(const ChildStep& step);

// Set from a signal handler: running children are stopped and no new one starts.
void request_stop();
bool stop_requested();

}  // namespace oq::cli::batch
