#include "oq/recist/survival.h"

#include <algorithm>

namespace oq::recist {

double KaplanMeier::survival_at(double days) const {
  double s = 1;
  for (const KaplanMeierStep& step : steps)
    if (step.days <= days) s = step.survival;
  return s;
}

int KaplanMeier::at_risk_at(double days) const {
  int leaving_before = 0;
  for (const KaplanMeierStep& step : steps)
    if (step.days < days) leaving_before += step.events + step.censored;
  return subjects - leaving_before;
}

KaplanMeier kaplan_meier(std::vector<SurvivalObservation> observations) {
  std::sort(observations.begin(), observations.end(),
            [](const auto& a, const auto& b) { return a.days < b.days || (a.days == b.days && a.event && !b.event); });
  KaplanMeier km;
  km.subjects = static_cast<int>(observations.size());
  int at_risk = km.subjects;
  double s = 1;
  for (std::size_t i = 0; i < observations.size();) {
    KaplanMeierStep step;
    step.days = observations[i].days;
    step.at_risk = at_risk;
    for (; i < observations.size() && observations[i].days == step.days; ++i)
      (observations[i].event ? step.events : step.censored)++;
    if (step.events > 0) s *= 1.0 - static_cast<double>(step.events) / static_cast<double>(at_risk);
    step.survival = s;
    at_risk -= step.events + step.censored;
    if (!km.median_days && s <= 0.5) km.median_days = step.days;
    km.steps.push_back(step);
  }
  return km;
}

}  // namespace oq::recist
