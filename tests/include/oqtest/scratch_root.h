// One temporary folder per test process, removed when the process ends.
//
// CTest runs every test case in a process of its own, so a folder left behind by each one fills the
// disk quickly (the generated series and slides are hundreds of megabytes). Each process writes only
// under temp/oqtest_<pid>; the folder goes when the process exits, and folders of processes that
// died without cleaning up (a crash, a CTest timeout) are removed by the next test process.
// Set OQ_KEEP_TEST_FILES=1 to keep them for a look after a failure.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace oqtest {

class ScratchRoot {
 public:
  ScratchRoot() : path_(std::filesystem::temp_directory_path() / (kPrefix + std::to_string(::getpid()))) {
    remove_orphans();
    std::filesystem::create_directories(path_);
  }
  ~ScratchRoot() {
    if (std::getenv("OQ_KEEP_TEST_FILES") != nullptr) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchRoot(const ScratchRoot&) = delete;
  ScratchRoot& operator=(const ScratchRoot&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  static constexpr const char* kPrefix = "oqtest_";

  // A folder whose process no longer exists is an orphan; one of a running process is left alone.
  static void remove_orphans() {
    if (std::getenv("OQ_KEEP_TEST_FILES") != nullptr) return;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::temp_directory_path(), ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(kPrefix, 0) != 0) continue;
      const std::string digits = name.substr(std::string(kPrefix).size());
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
      const long pid = std::strtol(digits.c_str(), nullptr, 10);
      if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
      std::error_code ignored;
      std::filesystem::remove_all(entry.path(), ignored);
    }
  }

  std::filesystem::path path_;
};

// This process's scratch folder, created on first use.
inline const std::filesystem::path& scratch_root() {
  static const ScratchRoot root;
  return root.path();
}

// A fresh, empty folder NAME under this process's scratch folder.
inline std::filesystem::path fresh_scratch(const std::string& name) {
  const std::filesystem::path dir = scratch_root() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace oqtest
