// PERCIST 1.0 (section 6 of ../shared/specs/recist.md; Wahl et al., J Nucl Med 2009): the
// metabolic response of the hottest lesion's SULpeak, as a second opinion beside RECIST.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "oq/error.h"

namespace oq::recist {

// One FDG-PET scan as PERCIST needs it; every uptake value in SUL (SUV normalised to lean body mass).
struct PetScan {
  int date = 0;                    // days since 1970-01-01
  std::optional<double> sul_peak;  // the hottest lesion's SULpeak (need not be the same lesion each time); none = no lesion seen
  double liver_mean = 0, liver_sd = 0;                   // 3 cm sphere in the right lobe
  bool liver_abnormal = false;                           // then the blood pool sets the measurability threshold
  std::optional<double> blood_pool_mean, blood_pool_sd;  // 1 x 2 cm in the descending aorta
  double uptake_minutes = 60;                            // injection to scan
  std::optional<double> tlg;                             // total lesion glycolysis, for "visible increase in extent"
  bool new_lesion = false;                               // uptake absent at baseline and typical of cancer now
};

enum class MetabolicResponse { kCMR, kPMR, kSMD, kPMD, kNE };
const char* to_string(MetabolicResponse r);

struct PercistTimePoint {
  int date = 0;
  MetabolicResponse response = MetabolicResponse::kNE;
  std::optional<double> change_pct, change_sul;  // SULpeak against baseline
  std::optional<double> tlg_change_pct;
  bool comparable = true;
  std::string reason;  // why NE, or why the scan is not comparable
};

struct PercistAssessment {
  double measurability_threshold = 0;  // 1.5 x liver mean + 2 SD (or 2.0 x blood pool mean + 2 SD)
  bool baseline_measurable = false;
  std::string threshold_basis;  // "liver" or "blood pool"
  std::vector<PercistTimePoint> timepoints;
  MetabolicResponse best = MetabolicResponse::kNE;
};

// Refuses (kInvalidArgument) a baseline whose liver is abnormal without a blood pool reference,
// and non-positive liver values.
Result<PercistAssessment> assess_percist(const PetScan& baseline, const std::vector<PetScan>& followups);

}  // namespace oq::recist
