// What a batch writes for the whole cohort, rebuilt from the finished cases at the end of every run:
// summary.csv, the waterfall, swimmer and Kaplan-Meier PNGs and index.html, all committed together.
#pragma once

#include <string>
#include <vector>

#include "case_run.h"
#include "oq/error.h"
#include "oq/study.h"

namespace oq::cli::batch {

struct CohortFiles {
  std::vector<std::string> written;  // paths, for the run's closing message
};

Result<CohortFiles> write_cohort_outputs(const std::string& dir, const std::vector<CaseOutcome>& cases);

// DIR/unreadable.csv: every file of the input the catalogue could not use, with the reason, for the
// data manager to chase (a truncated transfer, a vendor's private format).
Status write_unreadable(const std::string& dir, const Catalog& catalog);

// The shards' unreadable.csv joined: each row once, in the order first seen.
Status merge_unreadable(const std::vector<std::string>& shard_dirs, const std::string& dir);

}  // namespace oq::cli::batch
