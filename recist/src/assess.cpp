// Sections 2-5 and 7 of recist.md: target sums, time-point responses (RECIST 1.1 Tables 1 and
// 2), iRECIST's confirmation state, the best overall response (Table 3) and PFS.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "oq/recist/assess.h"
#include "organ.h"

namespace oq::recist {
namespace {

// Thresholds are inclusive ("exactly -30 % is PR"): compare with a little slack for sums like
// 0.1 + 0.2 that binary fractions cannot hold exactly.
constexpr double kSlack = 1e-9;

bool is_pd(double sum, double nadir) {
  return sum >= 1.2 * nadir - kSlack && sum - nadir >= 5 - kSlack;
}
bool is_pr(double sum, double baseline) {
  return baseline > 0 && sum <= 0.7 * baseline + kSlack;
}

struct Targets {
  std::vector<const BaselineLesion*> lesions;
  double baseline_sum = 0;
};

// A target's contribution at a follow-up (section 2); nothing when not evaluated.
std::optional<double> target_value(const BaselineLesion& l, const TargetMeasurement* m, double too_small_mm) {
  if (m == nullptr || m->status == TargetStatus::kNotEvaluated) return std::nullopt;
  if (!m->merged_into.empty()) return 0.0;
  if (m->status == TargetStatus::kAbsent) return 0.0;
  if (m->status == TargetStatus::kTooSmall) return too_small_mm;
  if (l.nodal) return m->short_axis_mm;
  if (!m->fragments_mm.empty()) {
    double s = 0;
    for (double v : m->fragments_mm) s += v;
    return s;
  }
  return m->long_axis_mm;
}

struct TargetState {
  std::optional<double> sum;  // complete sum, when every target was evaluated
  double measured_sum = 0;    // sum of the evaluated ones
  bool complete = true;
  bool all_gone = true;  // CR condition: non-nodal targets 0, every nodal SA < 10 mm
};

TargetState target_state(const Targets& t, const FollowUp& f, double too_small_mm) {
  TargetState s;
  for (const BaselineLesion* l : t.lesions) {
    const auto it = f.targets.find(l->id);
    const std::optional<double> v = target_value(*l, it == f.targets.end() ? nullptr : &it->second, too_small_mm);
    if (!v) {
      s.complete = false;
      s.all_gone = false;
      continue;
    }
    s.measured_sum += *v;
    if (l->nodal ? *v >= 10 : *v > 0) s.all_gone = false;
  }
  if (s.complete) s.sum = s.measured_sum;
  return s;
}

// `response_held`: a PR or CR was already assigned in this line, and confirmed where confirmation
// is required (section 4). A PR then stands until PD (EORTC clarification: 100 -> 70 -> 80 stays
// PR, although 80 is only -20 % from baseline); an unconfirmed one does not (50 -> 30 -> 35.5 is
// PR then SD).
Response target_response(const Targets& t, const TargetState& s, double nadir, bool response_held) {
  if (t.lesions.empty()) return Response::kNA;
  if (!s.complete) {
    // Missing targets can only add to the sum: PD by the measured ones stands, nothing else does.
    return is_pd(s.measured_sum, nadir) ? Response::kPD : Response::kNE;
  }
  if (s.all_gone) return Response::kCR;
  if (is_pd(*s.sum, nadir)) return Response::kPD;
  if (is_pr(*s.sum, t.baseline_sum) || response_held) return Response::kPR;
  return Response::kSD;
}

Response non_target_response(const Case& c, const FollowUp& f, bool* increased) {
  bool any = false, pd = false, ne = false, all_gone = true;
  *increased = false;
  for (const BaselineLesion& l : c.lesions) {
    if (l.target) continue;
    any = true;
    const auto it = f.non_targets.find(l.id);
    const LesionStatus st = it == f.non_targets.end() ? LesionStatus::kNotEvaluated : it->second;
    if (st == LesionStatus::kUnequivocalProgression) pd = true;
    if (st == LesionStatus::kIncreased || st == LesionStatus::kUnequivocalProgression) *increased = true;
    if (st == LesionStatus::kNotEvaluated) ne = true;
    if (st != LesionStatus::kAbsent) all_gone = false;
  }
  if (!any) return Response::kNA;
  if (pd) return Response::kPD;
  if (ne) return Response::kNE;
  if (all_gone) return Response::kCR;
  return Response::kNonCRNonPD;
}

bool shows(LesionStatus s) {
  return s == LesionStatus::kPresent || s == LesionStatus::kIncreased || s == LesionStatus::kUnequivocalProgression;
}

NewLesionFinding new_lesion_finding(const FollowUp& f) {
  NewLesionFinding out = NewLesionFinding::kNo;
  for (const NewLesion& n : f.new_lesions) {
    if (!shows(n.status)) continue;
    if (n.unequivocal) return NewLesionFinding::kYes;
    out = NewLesionFinding::kEquivocal;
  }
  return out;
}

// RECIST 1.1 Table 1 (with targets) and Table 2 (non-targets only).
Response overall(Response targets, Response non_targets, bool new_lesion) {
  if (targets == Response::kNA) {
    if (non_targets == Response::kPD || new_lesion) return Response::kPD;
    if (non_targets == Response::kCR) return Response::kCR;
    if (non_targets == Response::kNE) return Response::kNE;
    return Response::kNonCRNonPD;
  }
  if (targets == Response::kPD || non_targets == Response::kPD || new_lesion) return Response::kPD;
  if (targets == Response::kCR)
    return non_targets == Response::kCR || non_targets == Response::kNA ? Response::kCR : Response::kPR;
  return targets;  // PR, SD or NE; non-targets short of PD do not change them
}

// ---- best overall response (section 4) ----

// The plain category of an iRECIST response (iCPD counts as PD, iUPD as its own step).
Response plain(Response r) {
  switch (r) {
    case Response::kiCR:
      return Response::kCR;
    case Response::kiPR:
      return Response::kPR;
    case Response::kiSD:
      return Response::kSD;
    case Response::kiCPD:
      return Response::kPD;
    default:
      return r;
  }
}

int rank(Response r) {
  switch (plain(r)) {
    case Response::kCR:
      return 6;
    case Response::kPR:
      return 5;
    case Response::kSD:
    case Response::kNonCRNonPD:
      return 4;
    case Response::kiUPD:
      return 3;
    case Response::kPD:
      return 2;
    default:
      return 1;  // NE
  }
}

Response to_irecist(Response r) {
  switch (r) {
    case Response::kCR:
      return Response::kiCR;
    case Response::kPR:
      return Response::kiPR;
    case Response::kSD:
      return Response::kiSD;
    case Response::kPD:
      return Response::kiCPD;
    default:
      return r;
  }
}

}  // namespace

BestResponse best_overall_response(const Case& c, const std::vector<std::pair<int, Response>>& responses) {
  BestResponse best;
  const bool irecist = c.criteria == Criteria::kIrecist;
  auto sd_met = [&](int date) { return date - c.baseline_date >= c.sd_min_interval_days; };
  auto consider = [&](Response r, int date, bool is_response) {
    if (rank(r) > rank(best.response)) best.response = r;
    if (is_response && !best.response_date) best.response_date = date;
  };
  for (size_t i = 0; i < responses.size(); ++i) {
    const auto [date, r] = responses[i];
    const Response p = plain(r);
    if (p == Response::kSD || p == Response::kNonCRNonPD) {
      consider(sd_met(date) ? r : Response::kNE, date, false);
    } else if (p == Response::kCR || p == Response::kPR) {
      if (!c.confirmation_required) {
        consider(r, date, true);
        continue;
      }
      // Table 3: the next assessment at least the confirmation interval later, or an earlier PD.
      std::optional<Response> next;
      for (size_t j = i + 1; j < responses.size(); ++j) {
        const Response pj = plain(responses[j].second);
        if (pj == Response::kPD || responses[j].first - date >= c.confirmation_interval_days) {
          next = pj;
          break;
        }
      }
      const Response n = next.value_or(Response::kNE);
      const Response sd = irecist ? Response::kiSD : Response::kSD;
      const Response fallback_pd = irecist ? Response::kiCPD : Response::kPD;
      Response derived;
      if (p == Response::kCR && n == Response::kCR) {
        derived = r;
        consider(derived, date, true);
        continue;
      }
      if (p == Response::kPR && (n == Response::kCR || n == Response::kPR)) {
        consider(r, date, true);
        continue;
      }
      if (p == Response::kPR && (n == Response::kSD || n == Response::kNonCRNonPD))
        derived = sd;
      else if (n == Response::kPD || n == Response::kiUPD || (p == Response::kCR && n != Response::kNE))
        derived = sd_met(date) ? sd : fallback_pd;
      else  // NE next, or none yet
        derived = sd_met(date) ? sd : Response::kNE;
      consider(derived, date, false);
    } else {
      consider(r, date, false);
    }
  }
  return best;
}

namespace {

// ---- iRECIST new-lesion bookkeeping (section 5) ----

bool measurable_new(const NewLesion& n) {
  if (n.nodal) return n.short_axis_mm && *n.short_axis_mm >= 15;
  return n.long_axis_mm && *n.long_axis_mm >= 10;
}

struct NewLesionPicture {
  std::set<std::string> present;  // unequivocal new lesions showing at this date
  double nlt_sum = 0;
  bool any_nlt = false;
  bool nlnt_increase = false;     // an NLNT increased (any increase)
  bool nlnt_progression = false;  // an NLNT progressed unequivocally
};

}  // namespace

const char* to_string(Response r) {
  switch (r) {
    case Response::kCR:
      return "CR";
    case Response::kPR:
      return "PR";
    case Response::kSD:
      return "SD";
    case Response::kPD:
      return "PD";
    case Response::kNE:
      return "NE";
    case Response::kNA:
      return "NA";
    case Response::kNonCRNonPD:
      return "Non-CR/Non-PD";
    case Response::kiCR:
      return "iCR";
    case Response::kiPR:
      return "iPR";
    case Response::kiSD:
      return "iSD";
    case Response::kiUPD:
      return "iUPD";
    case Response::kiCPD:
      return "iCPD";
  }
  return "NE";
}

const char* to_string(NewLesionFinding f) {
  switch (f) {
    case NewLesionFinding::kYes:
      return "yes";
    case NewLesionFinding::kEquivocal:
      return "equivocal";
    case NewLesionFinding::kNo:
      return "no";
  }
  return "no";
}

Result<Assessment> assess(const Case& c) {
  const std::vector<RuleViolation> violations = check_case(c);
  if (!violations.empty()) {
    std::string msg = "the case cannot be assessed (" + std::to_string(violations.size()) + " problem" +
                      (violations.size() == 1 ? "" : "s") + "):";
    for (const RuleViolation& v : violations) msg += "\n  " + v.describe();
    return Error(ErrorCode::kInvalidArgument, msg);
  }
  Assessment a;
  a.criteria = c.criteria;
  const bool irecist = c.criteria == Criteria::kIrecist;
  const int start = c.treatment_start.value_or(c.baseline_date);
  if (start - c.baseline_date > 28)
    a.warnings.push_back("the baseline (" + format_date(c.baseline_date) + ") is " + std::to_string(start - c.baseline_date) +
                         " days before the treatment start; RECIST asks for at most 4 weeks");
  if (c.baseline_date > start)
    a.warnings.push_back("the baseline (" + format_date(c.baseline_date) + ") is after the treatment start (" +
                         format_date(start) + ")");
  for (const BaselineLesion& l : c.lesions)
    if (!l.target && l.nodal && l.short_axis_mm && *l.short_axis_mm < 10)
      a.warnings.push_back(l.id + ": a node with short axis < 10 mm is normal, not a non-target lesion");

  Targets targets;
  for (const BaselineLesion& l : c.lesions)
    if (l.target) {
      targets.lesions.push_back(&l);
      targets.baseline_sum += l.nodal ? l.short_axis_mm.value_or(0) : l.long_axis_mm.value_or(0);
    }
  a.baseline_sum_mm = targets.baseline_sum;

  double nadir = targets.baseline_sum;
  bool response_held = false;
  std::optional<int> first_response;      // date of the first PR/CR, confirmed or not
  std::map<std::string, int> first_seen;  // new lesion id -> index of the follow-up it first showed at
  std::vector<Response> overall_by_tp;
  std::optional<size_t> first_pd;       // RECIST: first PD; iRECIST: the iUPD that got confirmed
  std::optional<size_t> dated_back_to;  // equivocal new lesion confirmed later

  // iRECIST state.
  bool pending = false, confirmed = false;
  size_t pending_since = 0;
  std::optional<double> sum_at_iupd;
  double nlt_at_iupd = 0, nlt_nadir = 0;
  bool nlt_seen = false;
  std::set<std::string> new_at_iupd, known_new, known_before_iupd;
  std::map<std::string, bool> nlt_of;  // id -> is a new-lesion target (fixed at first sight)
  std::map<std::string, int> nlt_per_organ;
  int nlt_count = 0;

  for (size_t k = 0; k < c.followups.size(); ++k) {
    const FollowUp& f = c.followups[k];
    TimePointResult tp;
    tp.date = f.date;
    const TargetState ts = target_state(targets, f, c.too_small_mm);
    tp.sum_mm = targets.lesions.empty() ? std::optional<double>(0.0) : ts.sum;
    tp.nadir_mm = nadir;
    if (ts.sum && targets.baseline_sum > 0)
      tp.change_from_baseline_pct = 100.0 * (*ts.sum - targets.baseline_sum) / targets.baseline_sum;
    if (ts.sum && nadir > 0) tp.change_from_nadir_pct = 100.0 * (*ts.sum - nadir) / nadir;
    tp.target_response = target_response(targets, ts, nadir, response_held);
    if (tp.target_response == Response::kCR || tp.target_response == Response::kPR) {
      // Confirmed: seen again at least the confirmation interval after the first (Table 3).
      if (!c.confirmation_required || (first_response && f.date - *first_response >= c.confirmation_interval_days))
        response_held = true;
      if (!first_response) first_response = f.date;
    }
    if (!ts.complete && tp.target_response == Response::kNE)
      a.warnings.push_back(format_date(f.date) +
                           ": a target was not evaluated and the measured ones do not decide the response: NE");
    bool nt_increased = false;
    tp.non_target_response = non_target_response(c, f, &nt_increased);
    tp.new_lesions = new_lesion_finding(f);
    for (const NewLesion& n : f.new_lesions)
      if (shows(n.status) && !first_seen.count(n.id)) first_seen[n.id] = static_cast<int>(k);

    if (!irecist) {
      tp.overall_response = overall(tp.target_response, tp.non_target_response, tp.new_lesions == NewLesionFinding::kYes);
      if (tp.overall_response == Response::kPD && !first_pd) {
        first_pd = k;
        // An equivocal new lesion now confirmed: progression dates from its first sighting.
        for (const NewLesion& n : f.new_lesions)
          if (n.unequivocal && shows(n.status) && first_seen[n.id] < static_cast<int>(k))
            if (!dated_back_to || static_cast<size_t>(first_seen[n.id]) < *dated_back_to)
              dated_back_to = static_cast<size_t>(first_seen[n.id]);
      }
    } else {
      // New-lesion targets (NLT) and non-targets (NLNT): as labelled, else the first five
      // measurable ones (two per organ) in order of appearance are targets.
      NewLesionPicture nl;
      for (const NewLesion& n : f.new_lesions) {
        if (!n.unequivocal) continue;
        if (!nlt_of.count(n.id) && shows(n.status)) {
          bool is_target = n.kind == NewLesionKind::kTarget;
          if (n.kind == NewLesionKind::kUnspecified) {
            const std::string organ = detail::organ_key(n.organ, n.nodal);
            is_target = measurable_new(n) && nlt_count < 5 && nlt_per_organ[organ] < 2;
          }
          if (is_target) {
            ++nlt_count;
            ++nlt_per_organ[detail::organ_key(n.organ, n.nodal)];
          }
          nlt_of[n.id] = is_target;
        }
        if (!nlt_of.count(n.id)) continue;
        if (shows(n.status)) nl.present.insert(n.id);
        if (nlt_of[n.id]) {
          nl.any_nlt = true;
          if (shows(n.status)) nl.nlt_sum += n.nodal ? n.short_axis_mm.value_or(0) : n.long_axis_mm.value_or(0);
        } else {
          if (n.status == LesionStatus::kIncreased || n.status == LesionStatus::kUnequivocalProgression) nl.nlnt_increase = true;
          if (n.status == LesionStatus::kUnequivocalProgression) nl.nlnt_progression = true;
        }
      }
      if (nl.any_nlt) tp.new_lesion_target_sum_mm = nl.nlt_sum;
      bool added = false;
      for (const std::string& id : nl.present)
        if (!known_new.count(id)) added = true;

      if (confirmed) {
        tp.overall_response = Response::kiCPD;
      } else if (pending) {
        bool more_new = false;
        for (const std::string& id : nl.present)
          if (!new_at_iupd.count(id)) more_new = true;
        const bool confirms = (ts.sum && sum_at_iupd && *ts.sum - *sum_at_iupd >= 5 - kSlack) || nt_increased ||
                              (nl.nlt_sum - nlt_at_iupd >= 5 - kSlack) || nl.nlnt_increase || more_new;
        // Resolved when the categories that made the iUPD are back short of PD: targets and
        // non-targets not PD, and the new lesions it brought gone.
        bool iupd_lesions_left = false;
        for (const std::string& id : nl.present)
          if (!known_before_iupd.count(id)) iupd_lesions_left = true;
        const bool resolved = tp.target_response != Response::kPD && tp.non_target_response != Response::kPD &&
                              !iupd_lesions_left && tp.target_response != Response::kNE;
        if (confirms) {
          tp.overall_response = Response::kiCPD;
          confirmed = true;
          first_pd = pending_since;
          const int gap = f.date - c.followups[pending_since].date;
          if (gap < 28 || gap > 56)
            a.warnings.push_back(format_date(f.date) + ": iUPD confirmed " + std::to_string(gap) +
                                 " days after it was found; iRECIST confirms at the next assessment 4-8 weeks later");
        } else if (resolved) {
          tp.overall_response = to_irecist(overall(tp.target_response, tp.non_target_response, false));
          pending = false;
        } else if (tp.target_response == Response::kNE && tp.non_target_response != Response::kPD && !iupd_lesions_left) {
          tp.overall_response = Response::kNE;  // not evaluable; the iUPD stays pending
        } else {
          tp.overall_response = Response::kiUPD;
        }
      } else {
        // A new iUPD: RECIST PD by targets (against the nadir) or non-targets, a new lesion
        // never seen before, or - after a reset - growth of the new lesions already known.
        const bool nlt_growth = nlt_seen && nl.any_nlt && nl.nlt_sum >= 1.2 * nlt_nadir - kSlack && nl.nlt_sum > nlt_nadir;
        const bool trigger = tp.target_response == Response::kPD || tp.non_target_response == Response::kPD || added ||
                             (!known_new.empty() && (nlt_growth || nl.nlnt_progression));
        if (trigger) {
          tp.overall_response = Response::kiUPD;
          pending = true;
          pending_since = k;
          known_before_iupd = known_new;
          sum_at_iupd = ts.sum;
          nlt_at_iupd = nl.nlt_sum;
          new_at_iupd = nl.present;
          new_at_iupd.insert(known_new.begin(), known_new.end());
        } else {
          Response r = overall(tp.target_response, tp.non_target_response, false);
          if (r == Response::kCR && !nl.present.empty()) r = Response::kPR;  // known new lesions still there
          tp.overall_response = to_irecist(r);
        }
      }
      known_new.insert(nl.present.begin(), nl.present.end());
      if (nl.any_nlt) {
        nlt_nadir = nlt_seen ? std::min(nlt_nadir, nl.nlt_sum) : nl.nlt_sum;
        nlt_seen = true;
      }
    }
    if (ts.sum) nadir = std::min(nadir, *ts.sum);
    overall_by_tp.push_back(tp.overall_response);
    a.timepoints.push_back(tp);
  }

  // Progression and PFS (section 7).
  if (first_pd) {
    size_t at = *first_pd;
    if (dated_back_to && *dated_back_to < at) {
      a.warnings.push_back("progression dated back to " + format_date(c.followups[*dated_back_to].date) +
                           ", when the new lesion confirmed on " + format_date(c.followups[at].date) +
                           " was first seen (equivocal)");
      at = *dated_back_to;
    }
    a.progression_date = c.followups[at].date;
    a.pfs_days = *a.progression_date - start;
    a.pfs_censored = false;
  } else if (!c.followups.empty()) {
    a.pfs_days = c.followups.back().date - start;
    a.pfs_censored = true;
  }

  // Best overall response over the time points up to the first PD (iCPD).
  std::vector<std::pair<int, Response>> course;
  for (size_t k = 0; k < a.timepoints.size(); ++k) {
    Response r = a.timepoints[k].overall_response;
    if (a.progression_date && a.timepoints[k].date >= *a.progression_date) {
      course.emplace_back(a.timepoints[k].date, irecist ? Response::kiCPD : Response::kPD);
      break;
    }
    course.emplace_back(a.timepoints[k].date, r);
  }
  const BestResponse best = best_overall_response(c, course);
  a.best_overall_response = best.response;
  if (irecist && a.best_overall_response == Response::kPD) a.best_overall_response = Response::kiCPD;
  a.response_date = best.response_date;
  if (a.response_date) {
    const int end = a.progression_date ? *a.progression_date : c.followups.back().date;
    a.duration_of_response_days = end - *a.response_date;
  }
  return a;
}

}  // namespace oq::recist
