#include "oq/diagnostics.h"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <vector>

namespace oq {

namespace {

std::FILE* g_diag = nullptr;  // null: stderr itself (nothing held)
int g_diag_fd = -1;
int g_held_fd = -1;

// On a crash, what the libraries said may be the only clue: copied to the real stderr with
// async-signal-safe calls only, then the signal takes its default course.
extern "C" void show_held_and_die(int sig) {
  char buf[4096];
  off_t at = 0;
  for (ssize_t n; (n = ::pread(g_held_fd, buf, sizeof buf, at)) > 0; at += n)
    if (::write(g_diag_fd, buf, static_cast<size_t>(n)) < 0) break;
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

std::FILE* diag() {
  return g_diag ? g_diag : stderr;
}

void hold_library_messages() {
  if (g_diag) return;
  std::FILE* held = std::tmpfile();  // already unlinked: nothing is left behind
  if (!held) return;
  const int saved = ::dup(STDERR_FILENO);
  const int held_fd = saved < 0 ? -1 : ::dup(fileno(held));
  std::fclose(held);
  if (held_fd < 0) {
    if (saved >= 0) ::close(saved);
    return;
  }
  std::FILE* ours = ::fdopen(saved, "w");
  if (!ours) {
    ::close(saved), ::close(held_fd);
    return;
  }
  std::setvbuf(ours, nullptr, _IONBF, 0);  // as stderr: progress and errors appear at once
  std::fflush(stderr);
  ::dup2(held_fd, STDERR_FILENO);
  g_diag = ours;
  g_diag_fd = saved;
  g_held_fd = held_fd;
  for (const int sig : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL}) std::signal(sig, show_held_and_die);
}

std::string held_library_messages() {
  if (g_held_fd < 0) return "";
  std::fflush(stderr);
  std::string text;
  char buf[4096];
  off_t at = 0;
  for (ssize_t n; (n = ::pread(g_held_fd, buf, sizeof buf, at)) > 0 && text.size() < (1u << 20); at += n)
    text.append(buf, static_cast<size_t>(n));
  for (char& c : text)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\n') || c == 0x7f) c = '?';
  return text;
}

}  // namespace oq
