// The cohort's tables from the finished cases: DIR/summary.csv, one row per patient and treatment
// line (a patient with no line gets one row), in patient then line order, so that the same cases
// always give the same bytes whatever order or shard they ran in.
#pragma once

#include <string>
#include <vector>

#include "case_run.h"

namespace oq::cli::batch {

std::string summary_csv(const std::vector<CaseOutcome>& cases);

// A CSV table (RFC 4180 quoting where a cell needs it).
std::string csv_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

}  // namespace oq::cli::batch
