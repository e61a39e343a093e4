#include "run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace oq::cli::batch {
namespace {
namespace fs = std::filesystem;
}

std::string folder_name(const std::string& patient) {
  std::string out;
  for (unsigned char c : patient) {
    if (std::isalnum(c) || c == '-' || c == '_' || (c == '.' && !out.empty())) {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out.empty() ? "%00" : out;
}

Result<std::unique_ptr<RunFolder>> RunFolder::open(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir + "/patients", ec);
  if (ec) return Error(ErrorCode::kIo, "cannot create the output folder: " + ec.message(), dir);
  const std::string lock = dir + "/.batch.lock";
  const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Error(ErrorCode::kIo, "cannot create the run's lock file", lock);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return Error(ErrorCode::kIo, "another batch is running into this folder; wait for it or choose another --out", dir);
  }
  fs::remove_all(dir + "/.work", ec);  // what a killed run left: those cases are done again
  fs::create_directories(dir + "/.work", ec);
  if (ec) {
    ::close(fd);
    return Error(ErrorCode::kIo, "cannot create the work folder: " + ec.message(), dir + "/.work");
  }
  return std::unique_ptr<RunFolder>(new RunFolder(dir, fd));
}

RunFolder::~RunFolder() {
  std::error_code ec;
  fs::remove(dir_ + "/.work", ec);  // only when empty
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

bool RunFolder::finished(const std::string& patient) const {
  std::error_code ec;
  return fs::exists(dir_ + "/patients/" + folder_name(patient) + "/case.json", ec);
}

Result<std::string> RunFolder::start(const std::string& patient) {
  const std::string work = dir_ + "/.work/" + folder_name(patient);
  std::error_code ec;
  fs::remove_all(work, ec);
  fs::create_directories(work, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot create the case's work folder: " + ec.message(), work);
  return work;
}

Status RunFolder::commit(const std::string& patient) {
  const std::string work = dir_ + "/.work/" + folder_name(patient);
  const std::string final_dir = dir_ + "/patients/" + folder_name(patient);
  std::error_code ec;
  fs::remove_all(final_dir, ec);  // an unfinished leftover (no case.json) of an older version
  fs::rename(work, final_dir, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot commit the case: " + ec.message(), final_dir);
  return ok_status();
}

void RunFolder::discard(const std::string& patient) {
  std::error_code ec;
  fs::remove_all(dir_ + "/.work/" + folder_name(patient), ec);
}

std::vector<CaseOutcome> RunFolder::finished_cases(std::vector<std::string>* unreadable) const {
  std::vector<CaseOutcome> cases;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_ + "/patients", ec)) {
    const std::string path = entry.path().string() + "/case.json";
    if (!fs::exists(path, ec)) continue;
    auto c = read_case_outcome(path);
    if (c)
      cases.push_back(std::move(*c));
    else if (unreadable)
      unreadable->push_back(c.error().describe());
  }
  std::sort(cases.begin(), cases.end(), [](const auto& a, const auto& b) { return a.patient < b.patient; });
  return cases;
}

Status RunFolder::adopt(const std::string& other_dir, const std::string& patient) {
  if (finished(patient))
    return Error(ErrorCode::kInvalidArgument,
                 "patient " + patient + " is in more than one of the folders merged: were the shards of one run?", other_dir);
  auto work = start(patient);
  if (!work) return work.error();
  const std::string from = other_dir + "/patients/" + folder_name(patient);
  std::error_code ec;
  fs::copy(from, *work, fs::copy_options::recursive | fs::copy_options::create_hard_links, ec);
  if (ec) {  // another file system: copy the bytes
    ec.clear();
    fs::remove_all(*work, ec);
    fs::copy(from, *work, fs::copy_options::recursive, ec);
  }
  if (ec) {
    discard(patient);
    return Error(ErrorCode::kIo, "cannot copy the case: " + ec.message(), from);
  }
  return commit(patient);
}

Status RunFolder::reopen_failed(const std::string& patient) {
  const std::string final_dir = dir_ + "/patients/" + folder_name(patient);
  auto c = read_case_outcome(final_dir + "/case.json");
  if (!c || c->status != "failed") return ok_status();
  std::error_code ec;
  fs::remove_all(final_dir, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot clear the failed case: " + ec.message(), final_dir);
  return ok_status();
}

}  // namespace oq::cli::batch
