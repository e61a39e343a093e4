// Kaplan-Meier estimate of progression-free survival (the cohort's primary outcome): the product-limit
// estimator, with the numbers at risk a published curve prints under its axis.
#pragma once

#include <optional>
#include <vector>

namespace oq::recist {

struct SurvivalObservation {
  double days = 0;     // from the line's start to progression, or to the last assessment
  bool event = false;  // true: progression; false: censored (no progression seen yet)
};

struct KaplanMeierStep {
  double days = 0;
  double survival = 1;  // S(t) just after `days`
  int at_risk = 0;      // under observation just before `days`
  int events = 0, censored = 0;
};

struct KaplanMeier {
  std::vector<KaplanMeierStep> steps;  // one per distinct time with an event or a censoring, by time
  int subjects = 0;
  double survival_at(double days) const;  // S(t), right-continuous
  int at_risk_at(double days) const;      // still observed at `days` (time >= days)
  std::optional<double> median_days;      // the first time S(t) <= 0.5; none when it never falls that far
};

// At a time with both, events are counted before censorings (the usual convention: a patient
// censored at t was at risk of progressing at t).
KaplanMeier kaplan_meier(std::vector<SurvivalObservation> observations);

}  // namespace oq::recist
