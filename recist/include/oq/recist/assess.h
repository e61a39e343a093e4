// RECIST 1.1 and iRECIST: baseline rules, time-point responses, best overall response, PFS.
// The rules and their sources are in ../shared/specs/recist.md; each function names the
// section it implements.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/recist/case.h"

namespace oq::recist {

enum class Response { kCR, kPR, kSD, kPD, kNE, kNA, kNonCRNonPD, kiCR, kiPR, kiSD, kiUPD, kiCPD };
const char* to_string(Response r);

enum class NewLesionFinding { kNo, kYes, kEquivocal };
const char* to_string(NewLesionFinding f);

struct TimePointResult {
  int date = 0;
  std::optional<double> sum_mm;  // nothing when a target was not evaluated
  double nadir_mm = 0;           // smallest sum before this date, baseline included
  std::optional<double> change_from_baseline_pct, change_from_nadir_pct;
  Response target_response = Response::kNA;
  Response non_target_response = Response::kNA;
  NewLesionFinding new_lesions = NewLesionFinding::kNo;
  std::optional<double> new_lesion_target_sum_mm;  // iRECIST NLT sum
  Response overall_response = Response::kNE;
};

struct Assessment {
  Criteria criteria = Criteria::kRecist11;
  double baseline_sum_mm = 0;
  std::vector<std::string> warnings;
  std::vector<TimePointResult> timepoints;
  Response best_overall_response = Response::kNE;
  std::optional<int>
      progression_date;  // documented PD (iRECIST: the confirmed iUPD); dated back for a confirmed equivocal new lesion
  std::optional<int> pfs_days;
  bool pfs_censored = true;
  std::optional<int> response_date;              // first CR/PR (confirmed, when confirmation is required)
  std::optional<int> duration_of_response_days;  // first CR/PR to PD, or to the last assessment (censored)
};

// A baseline rule a lesion breaks (section 1), with the lesion's id; or a follow-up that does
// not fit the baseline.
struct RuleViolation {
  std::string lesion_id;  // empty for rules about the whole baseline
  std::string rule;
  std::string describe() const { return lesion_id.empty() ? rule : lesion_id + ": " + rule; }
};

// Every violated baseline rule (section 1) and every follow-up entry that does not match the
// baseline; empty when the case can be assessed.
std::vector<RuleViolation> check_case(const Case& c);

struct BestResponse {
  Response response = Response::kNE;
  std::optional<int> response_date;  // first CR/PR that counts (confirmed, when confirmation is required)
};

// Section 4: the best overall response over (date, time-point response) pairs up to and
// including the first PD (iCPD), with the case's confirmation flag and intervals; RECIST 1.1
// Table 3 when confirmation is required.
BestResponse best_overall_response(const Case& c, const std::vector<std::pair<int, Response>>& course);

// Assesses the case; refuses it (kInvalidArgument, every violation on its own line) when
// check_case finds anything.
Result<Assessment> assess(const Case& c);

}  // namespace oq::recist
