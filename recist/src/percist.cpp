#include "oq/recist/percist.h"

#include <cmath>
#include <cstdio>

namespace oq::recist {
namespace {

constexpr double kSlack = 1e-9;

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// Section 6: scans compare when the liver SUL differs by < 20 % and < 0.3 units and the uptake
// times by < 15 minutes; the reason when they do not.
std::string not_comparable(const PetScan& base, const PetScan& now) {
  const double d = std::abs(now.liver_mean - base.liver_mean);
  if (d >= 0.2 * base.liver_mean - kSlack || d >= 0.3 - kSlack)
    return "liver SUL " + fmt("%.2f", now.liver_mean) + " vs " + fmt("%.2f", base.liver_mean) +
           " at baseline (must differ by < 20 % and < 0.3)";
  const double dt = std::abs(now.uptake_minutes - base.uptake_minutes);
  if (dt >= 15 - kSlack)
    return "uptake time " + fmt("%.0f", now.uptake_minutes) + " min vs " + fmt("%.0f", base.uptake_minutes) +
           " min at baseline (must differ by < 15 min)";
  return {};
}

int rank(MetabolicResponse r) {
  switch (r) {
    case MetabolicResponse::kCMR:
      return 4;
    case MetabolicResponse::kPMR:
      return 3;
    case MetabolicResponse::kSMD:
      return 2;
    case MetabolicResponse::kPMD:
      return 1;
    default:
      return 0;
  }
}

}  // namespace

const char* to_string(MetabolicResponse r) {
  switch (r) {
    case MetabolicResponse::kCMR:
      return "CMR";
    case MetabolicResponse::kPMR:
      return "PMR";
    case MetabolicResponse::kSMD:
      return "SMD";
    case MetabolicResponse::kPMD:
      return "PMD";
    case MetabolicResponse::kNE:
      return "NE";
  }
  return "NE";
}

Result<PercistAssessment> assess_percist(const PetScan& baseline, const std::vector<PetScan>& followups) {
  if (baseline.liver_mean <= 0 || baseline.liver_sd < 0)
    return Error(ErrorCode::kInvalidArgument, "the baseline liver reference needs a mean SUL > 0 and an SD >= 0");
  PercistAssessment a;
  if (baseline.liver_abnormal) {
    if (!baseline.blood_pool_mean || !baseline.blood_pool_sd)
      return Error(ErrorCode::kInvalidArgument,
                   "the liver is abnormal at baseline: PERCIST then needs the blood pool reference (descending aorta)");
    a.measurability_threshold = 2.0 * *baseline.blood_pool_mean + 2 * *baseline.blood_pool_sd;
    a.threshold_basis = "blood pool";
  } else {
    a.measurability_threshold = 1.5 * baseline.liver_mean + 2 * baseline.liver_sd;
    a.threshold_basis = "liver";
  }
  a.baseline_measurable = baseline.sul_peak && *baseline.sul_peak >= a.measurability_threshold - kSlack;
  bool progressed = false;
  for (const PetScan& s : followups) {
    PercistTimePoint tp;
    tp.date = s.date;
    if (baseline.sul_peak && s.sul_peak) {
      tp.change_sul = *s.sul_peak - *baseline.sul_peak;
      tp.change_pct = 100.0 * *tp.change_sul / *baseline.sul_peak;
    } else if (baseline.sul_peak) {
      tp.change_sul = -*baseline.sul_peak;
      tp.change_pct = -100.0;
    }
    if (baseline.tlg && s.tlg && *baseline.tlg > 0) tp.tlg_change_pct = 100.0 * (*s.tlg - *baseline.tlg) / *baseline.tlg;
    tp.reason = not_comparable(baseline, s);
    tp.comparable = tp.reason.empty();
    if (progressed) {
      tp.response = MetabolicResponse::kPMD;
      tp.reason = "after progression";
    } else if (s.new_lesion) {
      tp.response = MetabolicResponse::kPMD;  // a new FDG-avid lesion is progression whatever else
      tp.reason = "new lesion";
    } else if (!a.baseline_measurable) {
      tp.reason = "no lesion at baseline reaches the measurability threshold (" + fmt("%.2f", a.measurability_threshold) +
                  " SUL, " + a.threshold_basis + ")";
    } else if (!tp.comparable) {
      // response stays NE; the reason says why
    } else {
      const double peak = s.sul_peak.value_or(0);
      const bool at_background = peak <= s.liver_mean + kSlack &&
                                 (!s.blood_pool_mean || peak <= *s.blood_pool_mean + 2 * s.blood_pool_sd.value_or(0) + kSlack);
      const double dp = *tp.change_pct, du = *tp.change_sul;
      if (!s.sul_peak || at_background)
        tp.response = MetabolicResponse::kCMR;
      else if (dp > 30 + kSlack && du > 0.8 + kSlack)
        tp.response = MetabolicResponse::kPMD;
      else if (tp.tlg_change_pct && *tp.tlg_change_pct > 75 + kSlack) {
        tp.response = MetabolicResponse::kPMD;
        tp.reason = "visible increase in extent (TLG +" + fmt("%.0f", *tp.tlg_change_pct) + " %)";
      } else if (dp <= -30 + kSlack && du <= -0.8 + kSlack)
        tp.response = MetabolicResponse::kPMR;
      else
        tp.response = MetabolicResponse::kSMD;
    }
    if (tp.response == MetabolicResponse::kPMD) progressed = true;
    if (rank(tp.response) > rank(a.best) && !(progressed && tp.response != MetabolicResponse::kPMD)) a.best = tp.response;
    a.timepoints.push_back(tp);
  }
  return a;
}

}  // namespace oq::recist
