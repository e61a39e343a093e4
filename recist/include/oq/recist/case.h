// One patient's lesions over one treatment line, as the response engine takes them: the
// baseline (targets and non-targets) and every follow-up's measurements. Mirrors
// ../shared/specs/recist-case.schema.json; dates are days since 1970-01-01.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "oq/error.h"

namespace oq::recist {

enum class Criteria { kRecist11, kIrecist };
enum class Modality { kCt, kMr, kXr, kPt, kClinical };
enum class BoneLesion { kNone, kLytic, kMixed, kBlastic };

struct BaselineLesion {
  std::string id;
  std::string organ;  // paired organs share one name; every node counts as one organ
  bool target = false;
  bool nodal = false;
  std::optional<double> long_axis_mm, short_axis_mm;
  BoneLesion bone = BoneLesion::kNone;
  bool previously_irradiated = false;
};

enum class TargetStatus { kMeasured, kAbsent, kTooSmall, kNotEvaluated };

// A target at a follow-up.
struct TargetMeasurement {
  TargetStatus status = TargetStatus::kMeasured;
  std::optional<double> long_axis_mm, short_axis_mm;
  std::vector<double> fragments_mm;  // a split lesion: the fragments' diameters, added
  std::string merged_into;           // coalesced into this target: counts 0
};

enum class LesionStatus { kAbsent, kPresent, kIncreased, kUnequivocalProgression, kNotEvaluated };
enum class NewLesionKind { kUnspecified, kTarget, kNonTarget };  // iRECIST NLT / NLNT

struct NewLesion {
  std::string id;
  std::string organ;
  bool nodal = false;
  bool unequivocal = true;
  NewLesionKind kind = NewLesionKind::kUnspecified;
  std::optional<double> long_axis_mm, short_axis_mm;
  LesionStatus status = LesionStatus::kPresent;
};

struct FollowUp {
  int date = 0;
  std::map<std::string, TargetMeasurement> targets;  // by baseline target id; missing = not evaluated
  std::map<std::string, LesionStatus> non_targets;   // by baseline non-target id; missing = not evaluated
  std::vector<NewLesion> new_lesions;                // every new lesion seen so far, as it is at this date
};

struct Case {
  Criteria criteria = Criteria::kRecist11;
  std::optional<int> treatment_start;  // PFS counts from here; the baseline date when absent
  bool confirmation_required = false;
  int confirmation_interval_days = 28;
  int sd_min_interval_days = 42;
  int baseline_date = 0;
  Modality modality = Modality::kCt;
  double slice_thickness_mm = 5;
  double too_small_mm = 5;  // what a target "present but too small to measure" counts
  std::vector<BaselineLesion> lesions;
  std::vector<FollowUp> followups;
};

// ISO 8601 calendar dates (YYYY-MM-DD) <-> days since 1970-01-01.
Result<int> parse_date(const std::string& text);
std::string format_date(int days);

}  // namespace oq::recist
