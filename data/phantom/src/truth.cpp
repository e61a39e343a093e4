#include "oq/phantom/truth.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace oq::phantom {
namespace {

// Rounds to a decimal step (0.1, 0.001) so the JSON shows 46.8, not 46.800000000000004.
double round_to(double v, double step) {
  const double inv = std::round(1 / step);
  return std::round(v * inv) / inv;
}

Json point_json(const Vec3& p) {
  return Json::array({round_to(p.x, 0.001), round_to(p.y, 0.001), round_to(p.z, 0.001)});
}

struct TargetChoice {
  size_t lesion;
  bool nodal;
  std::string organ;
};

}  // namespace

Json caliper_json(const Caliper& c) {
  return Json{{"length_mm", round_to(c.length_mm, 0.001)}, {"endpoints_mm", Json::array({point_json(c.a), point_json(c.b)})}};
}

LesionTruth measure_lesion(const Blob& blob, const std::vector<double>& plane_z) {
  LesionTruth t;
  t.present = true;
  std::vector<double> zs = plane_z;
  std::sort(zs.begin(), zs.end());
  for (size_t i = 0; i < zs.size(); ++i) {
    if (std::abs(zs[i] - blob.centre().z) > blob.bounding_radius()) continue;
    const AxialMeasurement m = blob.measure_axial(zs[i]);
    if (m.long_axis.length_mm > t.on_long.long_axis.length_mm) {
      t.on_long = m;
      t.long_slice = static_cast<int>(i);
    }
    if (m.short_axis.length_mm > t.on_short.short_axis.length_mm) {
      t.on_short = m;
      t.short_slice = static_cast<int>(i);
    }
  }
  t.volume_ml = blob.volume_mm3() / 1000.0;
  t.max_3d = blob.max_diameter_3d();
  return t;
}

std::vector<LesionTruth> measure_time_point(const PlacedPatient& p, size_t tp, const std::vector<double>& plane_z) {
  std::vector<LesionTruth> out;
  for (size_t i = 0; i < p.lesions.size(); ++i) {
    LesionTruth t;
    if (p.lesions[i].present(tp)) t = measure_lesion(lesion_in_scan(p, i, tp), plane_z);
    t.lesion = i;
    out.push_back(t);
  }
  return out;
}

Json to_json(const LesionTruth& t, const PlacedLesion& l) {
  Json j;
  j["id"] = l.plan.id;
  j["tracking_uid"] = l.tracking_uid;
  j["kind"] = lesion_kind_name(l.plan.kind);
  j["organ"] = lesion_organ(l.plan.kind);
  j["site"] = l.plan.site;
  j["nodal"] = is_nodal(l.plan.kind);
  j["present"] = t.present;
  if (!t.present) return j;
  j["long_axis"] = caliper_json(t.on_long.long_axis);
  j["long_axis"]["slice_index"] = t.long_slice;
  j["long_axis"]["z_mm"] = round_to(t.on_long.z_mm, 0.001);
  j["short_axis"] = caliper_json(t.on_long.short_axis);
  j["short_axis"]["slice_index"] = t.long_slice;
  j["largest_short_axis"] = caliper_json(t.on_short.short_axis);
  j["largest_short_axis"]["slice_index"] = t.short_slice;
  j["recist_diameter_mm"] = round_to(t.recist_mm(is_nodal(l.plan.kind)), 0.001);
  j["volume_ml"] = round_to(t.volume_ml, 0.0001);
  j["max_3d_diameter"] = caliper_json(t.max_3d);
  return j;
}

Json recist_truth(const PlacedPatient& p, const std::vector<std::vector<LesionTruth>>& per_tp) {
  const double thickness = p.plan.slice_thickness_mm;
  const double min_ld = thickness > 5 ? 2 * thickness : 10.0;
  Json lines = Json::array();
  for (size_t li = 0; li < p.plan.lines.size(); ++li) {
    const TreatmentLinePlan& line = p.plan.lines[li];
    const auto base = static_cast<size_t>(line.baseline_time_point);
    const size_t last = li + 1 < p.plan.lines.size() ? static_cast<size_t>(p.plan.lines[li + 1].baseline_time_point)
                                                     : p.plan.time_points.size() - 1;
    const std::string start_date = add_days(p.plan.first_scan_date, line.start_day);
    // Baseline: measurable lesions, largest first, at most 2 per organ (nodes one organ) and 5 in all.
    std::vector<size_t> order;
    for (size_t i = 0; i < p.lesions.size(); ++i)
      if (per_tp[base][i].present) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return per_tp[base][a].recist_mm(is_nodal(p.lesions[a].plan.kind)) >
             per_tp[base][b].recist_mm(is_nodal(p.lesions[b].plan.kind));
    });
    std::vector<TargetChoice> targets;
    std::vector<size_t> non_targets;
    std::map<std::string, int> per_organ;
    Json baseline_lesions = Json::array();
    for (size_t i : order) {
      const PlacedLesion& l = p.lesions[i];
      const bool nodal = is_nodal(l.plan.kind);
      const double v = per_tp[base][i].recist_mm(nodal);
      const std::string organ = lesion_organ(l.plan.kind);
      if (nodal && v < 10) continue;  // a normal node is not a lesion
      const bool measurable = !is_bone(l.plan.kind) && (nodal ? v >= 15 : v >= min_ld);
      Json bl{{"id", l.plan.id}, {"organ", organ}};
      if (measurable && targets.size() < 5 && per_organ[organ] < 2) {
        ++per_organ[organ];
        targets.push_back({i, nodal, organ});
        bl["kind"] = "target";
        if (nodal) {
          bl["nodal"] = true;
          bl["short_axis_mm"] = round_to(v, 0.1);
        } else {
          bl["long_axis_mm"] = round_to(v, 0.1);
        }
      } else {
        non_targets.push_back(i);
        bl["kind"] = "non-target";
        if (nodal) bl["nodal"] = true;
        if (l.plan.kind == LesionKind::kBoneBlastic) bl["bone"] = "blastic";
        if (l.plan.kind == LesionKind::kBoneLytic) bl["bone"] = "lytic";
      }
      baseline_lesions.push_back(bl);
    }
    auto sum_at = [&](size_t tp) {
      double s = 0;
      for (const TargetChoice& t : targets) s += round_to(per_tp[tp][t.lesion].recist_mm(t.nodal), 0.1);
      return s;
    };
    const double base_sum = sum_at(base);
    double nadir = base_sum;
    bool iupd_pending = false;
    double iupd_sum = 0;
    size_t iupd_new = 0;
    std::string first_pd_date;
    Json followups = Json::array(), case_followups = Json::array();
    for (size_t tp = base + 1; tp <= last; ++tp) {
      const std::string date = p.study_date(tp);
      const double sum = sum_at(tp);
      bool all_gone = true;
      for (const TargetChoice& t : targets) {
        const double v = per_tp[tp][t.lesion].recist_mm(t.nodal);
        if (t.nodal ? v >= 10 : v > 0) all_gone = false;
      }
      std::string target_response;
      if (!targets.empty() && sum - nadir >= 5 - 1e-9 && sum >= 1.2 * nadir - 1e-9)
        target_response = "PD";
      else if (all_gone)
        target_response = "CR";
      else if (sum <= 0.7 * base_sum + 1e-9)
        target_response = "PR";
      else
        target_response = "SD";
      bool nt_all_gone = true;
      for (size_t i : non_targets)
        if (per_tp[tp][i].present) nt_all_gone = false;
      const std::string nt_response = non_targets.empty() ? "" : nt_all_gone ? "CR" : "Non-CR/Non-PD";
      std::vector<size_t> new_lesions;
      for (size_t i = 0; i < p.lesions.size(); ++i)
        if (!per_tp[base][i].present && per_tp[tp][i].present) new_lesions.push_back(i);
      std::string overall;
      if (target_response == "PD" || !new_lesions.empty())
        overall = "PD";
      else if (target_response == "CR")
        overall = (non_targets.empty() || nt_response == "CR") ? "CR" : "PR";
      else
        overall = target_response;
      // iRECIST: PD is unconfirmed (iUPD) until the next assessment confirms it.
      std::string irecist;
      if (!iupd_pending) {
        if (overall == "PD") {
          irecist = "iUPD";
          iupd_pending = true;
          iupd_sum = sum;
          iupd_new = new_lesions.size();
        } else {
          irecist = "i" + overall;
        }
      } else if (sum - iupd_sum >= 5 - 1e-9 || new_lesions.size() > iupd_new) {
        irecist = "iCPD";
      } else if (target_response != "PD" && new_lesions.empty()) {
        irecist = "i" + overall;
        iupd_pending = false;
      } else {
        irecist = "iUPD";
      }
      if (overall == "PD" && first_pd_date.empty()) first_pd_date = date;
      nadir = std::min(nadir, sum);
      Json f{{"time_point", tp},
             {"date", date},
             {"sum_mm", round_to(sum, 0.1)},
             {"change_from_baseline_pct", round_to(base_sum > 0 ? 100 * (sum - base_sum) / base_sum : 0, 0.1)},
             {"target_response", target_response},
             {"non_target_response", nt_response},
             {"new_lesions", Json::array()},
             {"overall_response", overall},
             {"irecist_response", irecist}};
      Json case_targets = Json::object(), case_nt = Json::object(), case_new = Json::array();
      for (const TargetChoice& t : targets) {
        const LesionTruth& lt = per_tp[tp][t.lesion];
        if (!lt.present)
          case_targets[p.lesions[t.lesion].plan.id] = Json{{"status", "absent"}};
        else
          case_targets[p.lesions[t.lesion].plan.id] =
              Json{{t.nodal ? "short_axis_mm" : "long_axis_mm", round_to(lt.recist_mm(t.nodal), 0.1)}};
      }
      for (size_t i : non_targets) case_nt[p.lesions[i].plan.id] = per_tp[tp][i].present ? "present" : "absent";
      for (size_t i : new_lesions) {
        const PlacedLesion& l = p.lesions[i];
        f["new_lesions"].push_back(l.plan.id);
        Json n{{"id", l.plan.id}, {"organ", lesion_organ(l.plan.kind)}, {"unequivocal", true}};
        n[is_nodal(l.plan.kind) ? "short_axis_mm" : "long_axis_mm"] =
            round_to(per_tp[tp][i].recist_mm(is_nodal(l.plan.kind)), 0.1);
        case_new.push_back(n);
      }
      followups.push_back(f);
      Json cf{{"date", date}, {"targets", case_targets}};
      if (!case_nt.empty()) cf["non_targets"] = case_nt;
      if (!case_new.empty()) cf["new_lesions"] = case_new;
      case_followups.push_back(cf);
    }
    Json target_ids = Json::array();
    for (const TargetChoice& t : targets) target_ids.push_back(p.lesions[t.lesion].plan.id);
    Json non_target_ids = Json::array();
    for (size_t i : non_targets) non_target_ids.push_back(p.lesions[i].plan.id);
    Json pfs;
    if (!first_pd_date.empty())
      pfs = Json{{"days", days_between(start_date, first_pd_date)}, {"event", "progression"}, {"date", first_pd_date}};
    else
      pfs = Json{{"days", days_between(start_date, p.study_date(last))}, {"event", "censored"}, {"date", p.study_date(last)}};
    Json out{{"line", line.number},
             {"regimen", line.regimen},
             {"start_date", start_date},
             {"baseline_time_point", base},
             {"baseline_date", p.study_date(base)},
             {"baseline_sum_mm", round_to(base_sum, 0.1)},
             {"targets", target_ids},
             {"non_targets", non_target_ids},
             {"followups", followups},
             {"pfs", pfs}};
    out["recist_case"] =
        Json{{"criteria", "RECIST1.1"},
             {"treatment_start", start_date},
             {"baseline", {{"date", p.study_date(base)}, {"slice_thickness_mm", thickness}, {"lesions", baseline_lesions}}},
             {"followups", case_followups}};
    lines.push_back(out);
  }
  return lines;
}

}  // namespace oq::phantom
