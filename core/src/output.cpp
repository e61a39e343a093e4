#include "oq/output.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace oq {

namespace fs = std::filesystem;

std::string full_extension(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  const auto dot = name.find('.', name.empty() || name[0] != '.' ? 0 : 1);
  return dot == std::string::npos ? std::string() : name.substr(dot);
}

namespace {

fs::path folder_of(const std::string& path) {
  const fs::path p(path);
  return p.has_parent_path() ? p.parent_path() : fs::path(".");
}

// ".NAME.oq-": every temporary file for the final name NAME.EXT starts with it.
std::string temp_prefix(const std::string& final_path) {
  const std::string name = fs::path(final_path).filename().string();
  return "." + name.substr(0, name.size() - full_extension(final_path).size()) + ".oq-";
}

// Removes temporary files for `final_path` whose process is gone (a killed run's leftovers). The
// process id follows the prefix; a live process's files, and anything not a regular file, stay.
void remove_leftovers(const std::string& final_path) {
  const std::string prefix = temp_prefix(final_path);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder_of(final_path), ec)) {
    const std::string name = e.path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0 || !e.is_regular_file(ec) || e.is_symlink(ec)) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == -1 && errno == ESRCH) fs::remove(e.path(), ec);
  }
}

bool inside(const fs::path& file, const fs::path& folder) {
  const auto f = file.begin();
  auto it = f;
  for (const auto& part : folder) {
    if (part.empty()) continue;  // a trailing separator
    if (it == file.end() || *it != part) return false;
    ++it;
  }
  return it != file.end();
}

}  // namespace

Status check_output(const std::string& path, const std::vector<std::string>& inputs) {
  if (path.empty()) return Error(ErrorCode::kInvalidArgument, "an output needs a file name", path);
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  const bool exists = fs::exists(st);
  if (exists) {
    const fs::file_status target = fs::status(path, ec);  // what a link points at
    if (fs::is_directory(target)) return Error(ErrorCode::kInvalidArgument, "is a folder; the output must name a file", path);
    if (!fs::is_regular_file(target) && !fs::is_symlink(st))
      return Error(ErrorCode::kInvalidArgument, "exists and is not a regular file (a device, pipe or socket); it is not replaced",
                   path);
  }
  const fs::path folder = folder_of(path);
  if (!fs::is_directory(folder, ec))
    return Error(ErrorCode::kInvalidArgument, "the output folder " + folder.string() + " does not exist", path);
  if (::access(folder.c_str(), W_OK | X_OK) != 0)
    return Error(ErrorCode::kIo, "the output folder " + folder.string() + " cannot be written to", path);
  const fs::path out = fs::weakly_canonical(fs::absolute(path, ec), ec);
  for (const std::string& in : inputs) {
    if (in.empty()) continue;
    if (exists && fs::exists(in, ec) && fs::equivalent(path, in, ec))
      return Error(ErrorCode::kInvalidArgument, "is also an input of this run; it is not replaced", path);
    const fs::path input = fs::weakly_canonical(fs::absolute(in, ec), ec);
    if (out == input) return Error(ErrorCode::kInvalidArgument, "is also an input of this run; it is not replaced", path);
    if (exists && fs::is_directory(input, ec) && inside(out, input))
      return Error(ErrorCode::kInvalidArgument,
                   "would replace a file inside the input folder " + in + "; write the output elsewhere", path);
  }
  return ok_status();
}

AtomicOutput::AtomicOutput(std::string final_path, std::string temp_path)
    : final_(std::move(final_path)), temp_(std::move(temp_path)) {}

Result<std::unique_ptr<AtomicOutput>> AtomicOutput::create(const std::string& final_path) {
  remove_leftovers(final_path);
  const std::string ext = full_extension(final_path);
  std::string name = (folder_of(final_path) / temp_prefix(final_path)).string() + std::to_string(::getpid()) + "-XXXXXX" + ext;
  // mkstemps: O_CREAT|O_EXCL with a random part, so an existing file or link is never opened.
  const int fd = ::mkstemps(name.data(), static_cast<int>(ext.size()));
  if (fd < 0)
    return Error(ErrorCode::kIo, std::string("cannot create a file in the output folder: ") + std::strerror(errno), final_path);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd, 0666 & ~mask);  // what a plain open() would have given; mkstemps makes it private
  ::close(fd);
  return std::unique_ptr<AtomicOutput>(new AtomicOutput(final_path, name));
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) std::remove(temp_.c_str());
}

Status AtomicOutput::commit() {
  if (std::rename(temp_.c_str(), final_.c_str()) != 0) {
    const int err = errno;
    std::remove(temp_.c_str());
    return Error(ErrorCode::kIo, std::string("cannot move the finished file into place: ") + std::strerror(err), final_);
  }
  committed_ = true;
  return ok_status();
}

Result<std::string> OutputSet::add(const std::string& final_path) {
  if (Status st = check_output(final_path, inputs_); !st.ok()) return st.error();
  std::error_code ec;
  for (const auto& o : outputs_)
    if (fs::weakly_canonical(fs::absolute(o->final_path(), ec), ec) == fs::weakly_canonical(fs::absolute(final_path, ec), ec))
      return Error(ErrorCode::kInvalidArgument, "is named for two outputs of this run", final_path);
  auto out = AtomicOutput::create(final_path);
  if (!out) return out.error();
  outputs_.push_back(std::move(out.value()));
  return outputs_.back()->temp_path();
}

std::string OutputSet::final_name(const std::string& path) const {
  for (const auto& o : outputs_)
    if (o->temp_path() == path) return o->final_path();
  return path;
}

Status OutputSet::commit() {
  // Keep what each final name held (a hard link, so nothing is copied) until all are in place.
  std::vector<std::string> kept(outputs_.size());
  auto restore = [&](size_t upto) {
    for (size_t i = 0; i < upto; ++i)
      if (!kept[i].empty())
        std::rename(kept[i].c_str(), outputs_[i]->final_path().c_str());
      else
        std::remove(outputs_[i]->final_path().c_str());
  };
  for (size_t i = 0; i < outputs_.size(); ++i) {
    const std::string& final_path = outputs_[i]->final_path();
    struct stat st {};
    if (::lstat(final_path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      std::string keep = outputs_[i]->temp_path() + ".kept";
      if (::link(final_path.c_str(), keep.c_str()) == 0) kept[i] = keep;
    }
  }
  for (size_t i = 0; i < outputs_.size(); ++i) {
    if (Status st = outputs_[i]->commit(); !st.ok()) {
      restore(i);
      for (size_t k = i; k < kept.size(); ++k)
        if (!kept[k].empty()) std::remove(kept[k].c_str());
      return st;
    }
  }
  for (const std::string& k : kept)
    if (!k.empty()) std::remove(k.c_str());
  return ok_status();
}

}  // namespace oq
