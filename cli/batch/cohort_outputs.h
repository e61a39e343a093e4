// What a batch writes for the whole cohort, rebuilt from the finished cases at the end of every run:
// summary.csv, the waterfall, swimmer and Kaplan-Meier PNGs and index.html, all committed together.
#pragma once

#include <string>
#include <vector>

#include "case_run.h"
#include "oq/error.h"

namespace oq::cli::batch {

struct CohortFiles {
  std::vector<std::string> written;  // paths, for the run's closing message
};

Result<CohortFiles> write_cohort_outputs(const std::string& dir, const std::vector<CaseOutcome>& cases,
                                         const std::string& generated_at);

}  // namespace oq::cli::batch
