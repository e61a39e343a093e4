// Output files appear complete or not at all: everything is written under a temporary name in
// the destination folder, then renamed. An interrupted run leaves no half-written file under
// the final name (cli.md: "Output files are written atomically").
#pragma once

#include <string>

#include "oq/error.h"

namespace oq {

class AtomicOutput {
 public:
  explicit AtomicOutput(std::string final_path);
  ~AtomicOutput();  // removes the temporary file unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // Where to write. Keeps the final name's extensions (".nii.gz") so writers that choose the
  // format by extension still do.
  const std::string& temp_path() const { return temp_; }
  const std::string& final_path() const { return final_; }
  Status commit();

 private:
  std::string final_;
  std::string temp_;
  bool committed_ = false;
};

// The extension of a path including compound ones: ".nii.gz", ".nrrd", ".mha".
std::string full_extension(const std::string& path);

}  // namespace oq
