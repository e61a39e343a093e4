// What `oncoquant report` writes, gathered from the study store: for each treatment line its
// time points (baseline and follow-ups, as the response engine takes them) with the values in
// force, their calipers and masks, and the responses the engine assesses from them.
#pragma once

#include <optional>
#include <string>

#include "oq/recist/store.h"
#include "oq/report.h"

namespace oq::recist {

// One line (`line`) or every line of the patient. A line that cannot be assessed (a baseline rule
// broken, no baseline) is still reported, its time points without responses and the reason in
// its warnings. Unknown patient or line: kNotFound.
Result<PatientReport> gather_report(StudyStore& store, const std::string& pseudonym, std::optional<int> line = std::nullopt);

// "baseline", "follow-up 1", ...: the Subject Time Point Identifier of the reports.
std::string time_point_id(int followup_index);

}  // namespace oq::recist
