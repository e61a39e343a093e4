// Small builders for cases in the unit tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "oq/recist/assess.h"

namespace oq::recist::testing {

inline int day(const std::string& iso) {
  return parse_date(iso).value();
}

inline BaselineLesion target(const std::string& id, const std::string& organ, double long_axis) {
  BaselineLesion l;
  l.id = id;
  l.organ = organ;
  l.target = true;
  l.long_axis_mm = long_axis;
  return l;
}

inline BaselineLesion nodal_target(const std::string& id, double short_axis) {
  BaselineLesion l;
  l.id = id;
  l.organ = "lymph node";
  l.target = true;
  l.nodal = true;
  l.short_axis_mm = short_axis;
  return l;
}

inline BaselineLesion non_target(const std::string& id, const std::string& organ) {
  BaselineLesion l;
  l.id = id;
  l.organ = organ;
  return l;
}

inline TargetMeasurement la(double mm) {
  TargetMeasurement m;
  m.long_axis_mm = mm;
  return m;
}
inline TargetMeasurement sa(double mm) {
  TargetMeasurement m;
  m.short_axis_mm = mm;
  return m;
}
inline TargetMeasurement with_status(TargetStatus s) {
  TargetMeasurement m;
  m.status = s;
  return m;
}

inline NewLesion new_lesion(const std::string& id, const std::string& organ, bool unequivocal = true,
                            std::optional<double> long_axis = std::nullopt) {
  NewLesion n;
  n.id = id;
  n.organ = organ;
  n.unequivocal = unequivocal;
  n.long_axis_mm = long_axis;
  return n;
}

// A case with one liver target of `baseline_mm` (and, if asked, one non-target), baseline on
// 2025-01-06, follow-ups every 8 weeks.
inline Case single_target_case(double baseline_mm, const std::vector<double>& followups, bool with_non_target = false) {
  Case c;
  c.baseline_date = day("2025-01-06");
  c.lesions.push_back(target("T1", "liver", baseline_mm));
  if (with_non_target) c.lesions.push_back(non_target("NT1", "bone"));
  int d = c.baseline_date;
  for (double v : followups) {
    d += 56;
    FollowUp f;
    f.date = d;
    f.targets["T1"] = la(v);
    if (with_non_target) f.non_targets["NT1"] = LesionStatus::kPresent;
    c.followups.push_back(f);
  }
  return c;
}

inline Assessment assessed(const Case& c) {
  Result<Assessment> a = assess(c);
  EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().describe());
  return a.ok() ? a.value() : Assessment{};
}

inline std::string response(const Assessment& a, size_t tp) {
  return tp < a.timepoints.size() ? to_string(a.timepoints[tp].overall_response) : "missing";
}

}  // namespace oq::recist::testing
