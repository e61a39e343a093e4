// One patient's batch work, run step by step as child processes of this program into a work folder:
// the baseline read from the worklist's seeds (`segment --db`), every follow-up tracked (`track
// --db`: proposals pending review, candidate new lesions on PET), each line assessed (`recist
// assess --db`), the biopsy scored (`ihc`, `phenotype`) and the reports written (`report`). A step
// that fails is recorded with its reason; what does not depend on it still runs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "case_plan.h"
#include "oq/error.h"
#include "oq/report.h"

namespace oq::cli::batch {

struct StepRecord {
  std::string name;  // "segment T1", "track 2026-03-16", "ihc ER", ...
  bool ok = false;
  std::string error;  // why not
  double seconds = 0;
};

using TimePointOutcome = CohortTimePoint;
using LineOutcome = CohortLine;

// A case's result (oq/report.h) and how each step went.
struct CaseOutcome : CohortCase {
  std::vector<StepRecord> steps;
};

struct CaseOptions {
  std::string author = "oncoquant-batch";
  double step_time_limit_s = 1800;
};

// Runs `plan` into `work_dir` (created, empty). The outcome is also written there as case.json.
CaseOutcome run_case(const CasePlan& plan, const std::string& work_dir, const CaseOptions& options);

// Reads a case.json back (a finished case of an earlier run, or of a shard).
Result<CaseOutcome> read_case_outcome(const std::string& path);

}  // namespace oq::cli::batch
