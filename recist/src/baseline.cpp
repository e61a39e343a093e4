// Section 1 of recist.md: what may be a target, and how many; plus the follow-ups' fit to the
// baseline.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "oq/recist/assess.h"
#include "organ.h"

namespace oq::recist {
namespace {

std::string mm(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g mm", std::round(v * 100) / 100);
  return buf;
}

// The size a non-nodal lesion must reach to be measurable on this modality and slice thickness,
// with the rule's wording.
std::pair<double, std::string> measurable_size(const Case& c) {
  switch (c.modality) {
    case Modality::kXr:
      return {20.0, "a non-nodal target on chest X-ray needs a longest diameter >= 20 mm"};
    case Modality::kClinical:
      return {10.0, "a clinical target needs a longest diameter >= 10 mm by calipers"};
    default:
      break;
  }
  if (c.slice_thickness_mm > 5)
    return {2 * c.slice_thickness_mm, "on " + mm(c.slice_thickness_mm) +
                                          " slices a non-nodal target needs a longest diameter >= 2 x slice thickness (" +
                                          mm(2 * c.slice_thickness_mm) + ")"};
  return {10.0, "a non-nodal target needs a longest diameter >= 10 mm (slices <= 5 mm)"};
}

}  // namespace

namespace {
std::string organ_of(const BaselineLesion& l) {
  return detail::organ_key(l.organ, l.nodal);
}
}  // namespace

std::vector<RuleViolation> check_case(const Case& c) {
  std::vector<RuleViolation> out;
  auto violate = [&](const std::string& id, const std::string& rule) { out.push_back({id, rule}); };
  if (c.lesions.empty()) violate("", "the baseline lists no lesion (at least one target or non-target is needed)");
  std::set<std::string> ids;
  std::map<std::string, const BaselineLesion*> by_id;
  for (const BaselineLesion& l : c.lesions) {
    if (!ids.insert(l.id).second) violate(l.id, "the lesion id is used twice at baseline");
    by_id[l.id] = &l;
  }

  const auto [min_ld, size_rule] = measurable_size(c);
  std::map<std::string, int> per_organ;
  int targets = 0;
  for (const BaselineLesion& l : c.lesions) {
    if (!l.target) continue;
    if (l.nodal) {
      if (!l.short_axis_mm) {
        violate(l.id, "a nodal target needs its short axis (short_axis_mm)");
      } else if (*l.short_axis_mm < 10) {
        violate(l.id, "a lymph node with short axis " + mm(*l.short_axis_mm) +
                          " (< 10 mm) is normal, not a lesion, and cannot be a target");
      } else if (*l.short_axis_mm < 15) {
        violate(l.id, "a lymph node with short axis " + mm(*l.short_axis_mm) +
                          " (10 to < 15 mm) is a pathological non-target, never a target (targets need >= 15 mm)");
      }
    } else {
      if (l.bone == BoneLesion::kBlastic) {
        violate(l.id, "a blastic bone lesion is never measurable: record it as a non-target");
      }
      if (!l.long_axis_mm) {
        violate(l.id, "a non-nodal target needs its longest diameter (long_axis_mm)");
      } else if (*l.long_axis_mm + 1e-9 < min_ld) {
        violate(l.id, "longest diameter " + mm(*l.long_axis_mm) + " is too small: " + size_rule +
                          (l.bone == BoneLesion::kLytic || l.bone == BoneLesion::kMixed
                               ? " (for a lytic or mixed bone lesion, its soft-tissue component)"
                               : ""));
      }
    }
    if (l.previously_irradiated)
      violate(l.id, "a previously irradiated lesion is not measurable unless it has progressed since: record it as a non-target");
    // Counting rules apply to every lesion offered as a target, in the order given.
    ++targets;
    const std::string organ = organ_of(l);
    if (++per_organ[organ] > 2)
      violate(l.id, "target number " + std::to_string(per_organ[organ]) + " in organ '" + organ +
                        "': at most 2 targets per organ" + (l.nodal ? " (all lymph nodes count as one organ)" : ""));
    if (targets > 5) violate(l.id, "target number " + std::to_string(targets) + " overall: at most 5 targets in total");
  }

  // Follow-ups must fit the baseline.
  int previous = c.baseline_date;
  for (const FollowUp& f : c.followups) {
    const std::string when = "follow-up " + format_date(f.date);
    if (f.date <= previous) violate("", when + ": follow-ups must be dated after the baseline and after each other");
    previous = std::max(previous, f.date);
    for (const auto& [id, m] : f.targets) {
      const auto it = by_id.find(id);
      if (it == by_id.end() || !it->second->target) {
        violate(id, when + ": not a baseline target");
        continue;
      }
      const BaselineLesion& l = *it->second;
      if (!m.merged_into.empty()) {
        const auto into = by_id.find(m.merged_into);
        if (into == by_id.end() || !into->second->target || m.merged_into == id) {
          violate(id, when + ": merged into '" + m.merged_into + "', which is not another baseline target");
        } else if (const auto other = f.targets.find(m.merged_into);
                   other != f.targets.end() && !other->second.merged_into.empty()) {
          // The coalesced mass is measured on the lesion it merged into; a chain or a cycle
          // (T1 into T2, T2 into T1) leaves nothing that carries the measurement.
          violate(id, when + ": merged into '" + m.merged_into + "', which is itself merged into '" + other->second.merged_into +
                          "' at this follow-up; merge each into the target that is measured");
        }
        continue;
      }
      if (m.status != TargetStatus::kMeasured) continue;
      if (l.nodal && !m.short_axis_mm) violate(id, when + ": a measured nodal target needs its short axis (short_axis_mm)");
      if (!l.nodal && !m.long_axis_mm && m.fragments_mm.empty())
        violate(id, when + ": a measured target needs its longest diameter (long_axis_mm or fragments_mm)");
    }
    for (const auto& [id, status] : f.non_targets) {
      (void)status;
      const auto it = by_id.find(id);
      if (it == by_id.end() || it->second->target) violate(id, when + ": not a baseline non-target");
    }
    std::set<std::string> new_ids;
    for (const NewLesion& n : f.new_lesions) {
      if (!new_ids.insert(n.id).second) violate(n.id, when + ": the new lesion is listed twice");
      if (by_id.count(n.id)) violate(n.id, when + ": a new lesion cannot reuse a baseline lesion's id");
    }
  }
  return out;
}

}  // namespace oq::recist
