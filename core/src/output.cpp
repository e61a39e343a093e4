#include "oq/output.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace oq {

std::string full_extension(const std::string& path) {
  const std::string name = std::filesystem::path(path).filename().string();
  const auto dot = name.find('.', name.empty() || name[0] != '.' ? 0 : 1);
  return dot == std::string::npos ? std::string() : name.substr(dot);
}

AtomicOutput::AtomicOutput(std::string final_path) : final_(std::move(final_path)) {
  const std::filesystem::path p(final_);
  const std::string ext = full_extension(final_);
  std::string stem = p.filename().string();
  stem = stem.substr(0, stem.size() - ext.size());
  const std::filesystem::path dir = p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
  temp_ = (dir / ("." + stem + ".partial-" + std::to_string(::getpid()) + ext)).string();
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

}  // namespace oq
