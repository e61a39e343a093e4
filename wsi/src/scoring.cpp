#include "oq/wsi/scoring.h"

#include <algorithm>
#include <cmath>

namespace oq::wsi {

const char* to_string(ReceptorCategory c) {
  switch (c) {
    case ReceptorCategory::kPositive:
      return "positive";
    case ReceptorCategory::kLowPositive:
      return "low-positive";
    case ReceptorCategory::kNegative:
      return "negative";
  }
  return "negative";
}

ReceptorCategory receptor_category(double percent_positive) {
  if (percent_positive > 10) return ReceptorCategory::kPositive;
  if (percent_positive >= 1) return ReceptorCategory::kLowPositive;  // 1-10 %: still HR+
  return ReceptorCategory::kNegative;
}

ReceptorScore score_receptor(const NuclearCounts& c) {
  ReceptorScore s;
  const double n = static_cast<double>(c.total());
  if (n == 0) return s;
  auto pct = [&](std::size_t k) { return 100.0 * static_cast<double>(k) / n; };
  s.percent_positive = pct(c.weak + c.moderate + c.strong);
  s.h_score = pct(c.weak) + 2 * pct(c.moderate) + 3 * pct(c.strong);
  // Allred proportion: 0 none, 1 < 1 %, 2 1-10 %, 3 to one third, 4 to two thirds, 5 above.
  const std::size_t positive = c.weak + c.moderate + c.strong;
  const double share = static_cast<double>(positive) / n;
  if (positive == 0)
    s.allred_proportion = 0;
  else if (share < 0.01)
    s.allred_proportion = 1;
  else if (share <= 0.10)
    s.allred_proportion = 2;
  else if (share <= 1.0 / 3)
    s.allred_proportion = 3;
  else if (share <= 2.0 / 3)
    s.allred_proportion = 4;
  else
    s.allred_proportion = 5;
  // Intensity: the average intensity of the positive cells, 1 weak, 2 intermediate, 3 strong.
  if (positive > 0) {
    const double mean = static_cast<double>(c.weak + 2 * c.moderate + 3 * c.strong) / static_cast<double>(positive);
    s.allred_intensity = std::clamp(static_cast<int>(std::lround(mean)), 1, 3);
  }
  s.allred_total = s.allred_proportion == 0 ? 0 : s.allred_proportion + s.allred_intensity;
  s.category = receptor_category(s.percent_positive);
  return s;
}

const char* to_string(Her2Score s) {
  switch (s) {
    case Her2Score::k0:
      return "0";
    case Her2Score::k1:
      return "1+";
    case Her2Score::k2:
      return "2+";
    case Her2Score::k3:
      return "3+";
  }
  return "0";
}

std::optional<Her2Score> parse_her2_score(const std::string& t) {
  if (t == "0") return Her2Score::k0;
  if (t == "1+" || t == "1") return Her2Score::k1;
  if (t == "2+" || t == "2") return Her2Score::k2;
  if (t == "3+" || t == "3") return Her2Score::k3;
  return std::nullopt;
}

const char* to_string(Her2Category c) {
  switch (c) {
    case Her2Category::kNegative:
      return "negative";
    case Her2Category::kUltralow:
      return "ultralow";
    case Her2Category::kLow:
      return "low";
    case Her2Category::kEquivocal:
      return "equivocal";
    case Her2Category::kPositive:
      return "positive";
  }
  return "negative";
}

Her2Result score_her2(const MembraneCounts& c, double unusual_min_percent) {
  Her2Result r;
  const double n = static_cast<double>(c.total());
  if (n == 0) return r;
  auto pct = [&](std::size_t k) { return 100.0 * static_cast<double>(k) / n; };
  r.percent_none = pct(c.none);
  r.percent_faint_incomplete = pct(c.faint_incomplete);
  r.percent_weak_moderate_complete = pct(c.weak_moderate_complete);
  r.percent_intense_complete = pct(c.intense_complete);
  r.percent_unusual = pct(c.unusual);
  if (r.percent_intense_complete > 10)
    r.score = Her2Score::k3;
  else if (r.percent_weak_moderate_complete > 10 ||
           (c.intense_complete > 0 && r.percent_intense_complete >= unusual_min_percent) ||
           (c.unusual > 0 && r.percent_unusual >= unusual_min_percent))
    r.score = Her2Score::k2;  // including the unusual patterns
  else if (r.percent_faint_incomplete > 10)
    r.score = Her2Score::k1;
  else
    r.score = Her2Score::k0;
  switch (r.score) {
    case Her2Score::k3:
      r.category = Her2Category::kPositive;
      break;
    case Her2Score::k2:
      r.category = Her2Category::kEquivocal;
      break;
    case Her2Score::k1:
      r.category = Her2Category::kLow;
      break;
    case Her2Score::k0:
      r.category = c.faint_incomplete > 0 && r.percent_faint_incomplete >= unusual_min_percent ? Her2Category::kUltralow
                                                                                               : Her2Category::kNegative;
      break;
  }
  return r;
}

Phenotype assign_phenotype(const PhenotypeInput& in) {
  Phenotype p;
  const ReceptorCategory er = receptor_category(in.er_percent), pr = receptor_category(in.pr_percent);
  const bool hr = er != ReceptorCategory::kNegative || pr != ReceptorCategory::kNegative;
  p.hr_status = hr ? "positive" : "negative";
  if (er == ReceptorCategory::kLowPositive) p.flags.push_back("ER low positive");
  if (pr == ReceptorCategory::kLowPositive) p.flags.push_back("PR low positive");
  // 0-10 % results: the report states whether the internal control stained.
  if (in.er_percent <= 10) p.flags.push_back("ER 0-10 %: confirm the internal control stained");
  if (in.pr_percent <= 10) p.flags.push_back("PR 0-10 %: confirm the internal control stained");

  bool her2_positive = false, her2_known = true;
  switch (in.her2) {
    case Her2Score::k3:
      her2_positive = true;
      break;
    case Her2Score::k2:
      if (in.ish == Ish::kAmplified) {
        her2_positive = true;
      } else if (in.ish == Ish::kNotAmplified) {
        p.flags.push_back("HER2-low");  // 2+ with ISH not amplified
      } else {
        her2_known = false;
        p.flags.push_back("ISH required");
      }
      break;
    case Her2Score::k1:
      p.flags.push_back("HER2-low");
      break;
    case Her2Score::k0:
      if (in.her2_ultralow) p.flags.push_back("HER2-ultralow");
      break;
  }
  if (!her2_known) {
    p.her2_status = "equivocal";
    p.label = "HER2 equivocal, ISH required";
    return p;  // no group: never guessed
  }
  p.her2_status = her2_positive ? "positive" : "negative";
  if (her2_positive) {
    p.group = 2;
    p.label = "HER2+";
  } else if (hr) {
    p.group = 1;
    p.label = "HR+/HER2-";
  } else {
    p.group = 3;
    p.label = "triple negative";
  }
  return p;
}

}  // namespace oq::wsi
