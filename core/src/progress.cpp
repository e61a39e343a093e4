#include "oq/progress.h"
#include "oq/diagnostics.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace oq {

namespace {
std::atomic<bool> g_quiet{false};
}

void Progress::set_quiet(bool quiet) {
  g_quiet = quiet;
}

Progress::Progress(std::string label, std::size_t total, const char* unit)
    : label_(std::move(label)), unit_(unit), total_(total), tty_(::isatty(fileno(oq::diag())) != 0) {}

Progress::~Progress() {
  finish();
}

void Progress::advance(std::size_t n) {
  done_ += n;
  draw(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (tty_ && !g_quiet && total_ > 0) draw(true);
}

void Progress::draw(bool final_line) {
  if (g_quiet || total_ == 0) return;
  const int pct = static_cast<int>(100.0 * static_cast<double>(done_) / static_cast<double>(total_));
  if (tty_) {
    const int width = 30;
    const int filled = pct * width / 100;
    std::fprintf(oq::diag(), "\r%s [%.*s%*s] %3d%% %zu/%zu %s", label_.c_str(), filled, "##############################",
                 width - filled, "", pct, done_, total_, unit_.c_str());
    if (final_line) std::fputc('\n', oq::diag());
    std::fflush(oq::diag());
  } else if (total_ >= 50) {
    const int decile = pct / 10;
    if (decile != last_decile_ && decile > 0) {
      last_decile_ = decile;
      std::fprintf(oq::diag(), "%s: %d%% (%zu/%zu %s)\n", label_.c_str(), pct, done_, total_, unit_.c_str());
    }
  }
}

}  // namespace oq
