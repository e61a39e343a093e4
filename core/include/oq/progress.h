// Progress on stderr for long work: a redrawn line on a terminal, a line every 10 % otherwise
// (batch logs), nothing at all when quiet.
#pragma once

#include <cstddef>
#include <string>

namespace oq {

class Progress {
 public:
  Progress(std::string label, std::size_t total, const char* unit = "");
  ~Progress();
  void advance(std::size_t n = 1);
  void finish();

  static void set_quiet(bool quiet);

 private:
  void draw(bool final_line);
  std::string label_;
  std::string unit_;
  std::size_t total_;
  std::size_t done_ = 0;
  int last_decile_ = -1;
  bool tty_;
  bool finished_ = false;
};

}  // namespace oq
