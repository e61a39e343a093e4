#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

namespace oq::cli::batch {
namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

// The last `error:` line of the step's log since `from` (its own reason, for the case's record).
std::string last_error_line(const std::string& log_path, std::streamoff from) {
  std::ifstream in(log_path);
  if (!in) return "";
  in.seekg(from);
  std::string line, found;
  while (std::getline(in, line))
    if (line.rfind("error:", 0) == 0 || line.rfind("usage error:", 0) == 0) found = line;
  return found;
}

std::streamoff size_of(const std::string& path) {
  std::ifstream in(path, std::ios::ate | std::ios::binary);
  return in ? static_cast<std::streamoff>(in.tellg()) : 0;
}

// Runs in the forked child of a multi-threaded parent: only async-signal-safe calls until exec (no
// allocation: another thread may have held the allocator's lock at the fork), so argv is built
// before the fork.
[[noreturn]] void exec_child(const char* program, char* const* argv, const ChildStep& step, pid_t parent) {
  // Dies with the batch: a kill -9 of the batch must not leave orphans writing into a case folder
  // the next run clears.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  const int out = step.stdout_path.empty() ? open("/dev/null", O_WRONLY | O_CLOEXEC)
                                           : open(step.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err =
      step.log_path.empty() ? STDERR_FILENO : open(step.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (out < 0 || err < 0 || dup2(out, STDOUT_FILENO) < 0) _exit(127);
  if (err != STDERR_FILENO && dup2(err, STDERR_FILENO) < 0) _exit(127);
  const int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in >= 0) dup2(in, STDIN_FILENO);
  // The batch's own interrupt handling is not the step's: it is stopped by SIGTERM from the batch.
  signal(SIGINT, SIG_IGN);
  execv(program, argv);
  _exit(127);
}

}  // namespace

void request_stop() {
  g_stop = true;
}
bool stop_requested() {
  return g_stop;
}

Result<ChildOutcome> run_child(const ChildStep& step) {
  ChildOutcome outcome;
  if (g_stop) {
    outcome.interrupted = true;
    outcome.last_error = "the batch was interrupted";
    return outcome;
  }
  // /proc/self/exe in the child is the batch's own binary even when a rebuild or an upgrade has
  // replaced the file since: every step of a run is done by the same version.
  const std::string program = step.program.empty() ? "/proc/self/exe" : step.program;
  const std::streamoff log_start = step.log_path.empty() ? 0 : size_of(step.log_path);
  std::vector<char*> argv;
  const std::string argv0 = step.program.empty() ? "oncoquant" : program;
  argv.push_back(const_cast<char*>(argv0.c_str()));
  for (const std::string& a : step.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return Error(ErrorCode::kIo, std::string("cannot start a step: ") + std::strerror(errno), step.args.at(0));
  if (pid == 0) exec_child(program.c_str(), argv.data(), step, parent);

  const auto started = std::chrono::steady_clock::now();
  int status = 0;
  bool sent_term = false;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR)
      return Error(ErrorCode::kIo, std::string("lost a step: ") + std::strerror(errno), step.args.at(0));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!sent_term && (g_stop || elapsed > step.time_limit_s)) {
      outcome.timed_out = !g_stop;
      outcome.interrupted = g_stop;
      kill(pid, SIGTERM);  // the commands stop long work promptly on SIGTERM and leave nothing behind
      sent_term = true;
    } else if (sent_term && elapsed > step.time_limit_s + 30) {
      kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  if (!outcome.ok()) {
    if (outcome.timed_out)
      outcome.last_error = "did not finish within " + std::to_string(static_cast<int>(step.time_limit_s)) + " s";
    else if (outcome.interrupted)
      outcome.last_error = "the batch was interrupted";
    else if (outcome.signal)
      outcome.last_error = std::string("crashed (") + strsignal(outcome.signal) + ")";
    else if (outcome.exit_code == 127)
      outcome.last_error = "could not be started";
    std::string line = step.log_path.empty() ? "" : last_error_line(step.log_path, log_start);
    if (!line.empty()) outcome.last_error = outcome.last_error.empty() ? line : outcome.last_error + "; " + line;
    if (outcome.last_error.empty()) outcome.last_error = "exit code " + std::to_string(outcome.exit_code);
  }
  return outcome;
}

}  // namespace oq::cli::batch
