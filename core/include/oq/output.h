// Output files appear complete or not at all, never replace what they must not, and a command's
// outputs land together (cli.md: "Output files are written atomically"; issue 20 part 3).
//
// Each output is written under a temporary name in its own folder, created exclusively
// (O_CREAT|O_EXCL, a random part in the name), so a file or symbolic link planted under a
// predictable name is never written through. When everything is written, OutputSet::commit moves
// all of them into place; if one move fails, those already moved are put back as they were. A run
// that was killed leaves only hidden temporary files, which the next run writing the same output
// removes once the process that made them is gone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "oq/error.h"

namespace oq {

// Refuses an output path that names one of `inputs` (or a file inside an input folder), a device
// node, a folder or anything else that is not a regular file, or that lies in a folder that does
// not exist. Checked before any work, so a long run never ends unable to write.
Status check_output(const std::string& path, const std::vector<std::string>& inputs);

// One output under its temporary name.
class AtomicOutput {
 public:
  // Creates the temporary file (empty) beside `final_path`, after removing what killed runs left
  // for the same final name.
  static Result<std::unique_ptr<AtomicOutput>> create(const std::string& final_path);
  ~AtomicOutput();  // removes the temporary file unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  // Where to write. Keeps the final name's extensions (".nii.gz") so writers that choose the
  // format by extension still do.
  const std::string& temp_path() const { return temp_; }
  const std::string& final_path() const { return final_; }
  Status commit();

 private:
  AtomicOutput(std::string final_path, std::string temp_path);
  std::string final_;
  std::string temp_;
  bool committed_ = false;
};

// All the file outputs of one command: each checked against the command's inputs and the other
// outputs when added, all committed together or none.
class OutputSet {
 public:
  explicit OutputSet(std::vector<std::string> inputs) : inputs_(std::move(inputs)) {}

  // Checks `final_path` and reserves its temporary file; returns the path to write to.
  Result<std::string> add(const std::string& final_path);
  // Moves every output into place, or, when one cannot be, leaves every final name as it was.
  Status commit();
  // The final name of a temporary path handed out by add() (to name it in an error), else `path`.
  std::string final_name(const std::string& path) const;

 private:
  std::vector<std::string> inputs_;
  std::vector<std::unique_ptr<AtomicOutput>> outputs_;
};

// The extension of a path including compound ones: ".nii.gz", ".nrrd", ".mha".
std::string full_extension(const std::string& path);

}  // namespace oq
