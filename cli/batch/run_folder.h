// The batch's output folder is its state. A case is worked on in DIR/.work/<patient> and, when every
// step has run, renamed to DIR/patients/<patient> in one step; its case.json records the outcome.
// A case folder under patients/ is finished, whatever happened to the run afterwards; anything
// under .work/ is what a killed run left, and the next run clears it and does that case again.
// Summaries are rebuilt from the finished cases at the end of every run, so a resumed run writes
// exactly what an uninterrupted one does, never a row twice.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "case_run.h"
#include "oq/error.h"

namespace oq::cli::batch {

class RunFolder {
 public:
  // Creates DIR if needed and takes its lock: a second batch on the same DIR is refused while this
  // one runs (it would redo the same cases). Clears what an interrupted run left in .work/.
  static Result<std::unique_ptr<RunFolder>> open(const std::string& dir);
  ~RunFolder();
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  const std::string& dir() const { return dir_; }
  bool finished(const std::string& patient) const;
  // A fresh, empty work folder for the patient's case.
  Result<std::string> start(const std::string& patient);
  // Makes the case's work final (patients/<patient>); a failed case that was recorded is final too.
  Status commit(const std::string& patient);
  // Drops a case's work (a run interrupted in it).
  void discard(const std::string& patient);
  // Every finished case, by patient.
  std::vector<CaseOutcome> finished_cases(std::vector<std::string>* unreadable) const;
  // Makes a finished failed case unfinished again (--retry-failed).
  Status reopen_failed(const std::string& patient);
  // Takes a finished case of another run's folder (a shard) as it is: copied (hard-linked where the
  // file system allows) into this run, made final in one step. A patient already finished here is
  // refused: two shards must not both have done one patient.
  Status adopt(const std::string& other_dir, const std::string& patient);

 private:
  RunFolder(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}
  std::string dir_;
  int lock_fd_ = -1;
};

// A patient id as a folder name: letters, digits, '-', '_' and '.' kept, anything else hex-escaped,
// so that no id (empty, "..", with '/') can name a folder outside DIR.
std::string folder_name(const std::string& patient);

}  // namespace oq::cli::batch
