#include "oq/recist/report.h"

#include <map>

#include "oq/recist/assess.h"

namespace oq::recist {

std::string time_point_id(int followup_index) {
  return followup_index == 0 ? "baseline" : "follow-up " + std::to_string(followup_index);
}

namespace {

const char* criteria_name(Criteria c) {
  return c == Criteria::kIrecist ? "iRECIST" : "RECIST1.1";
}

// The value in force of each lesion at each date: the newest measurement recorded for that date.
using InForce = std::map<std::string, std::map<std::string, StoredMeasurement>>;  // label -> date -> value

Result<InForce> values_in_force(StudyStore& store, const PatientRecord& patient) {
  InForce out;
  for (const LesionRecord& l : patient.lesions) {
    auto history = store.measurement_history(patient.pseudonym, l.label);
    if (!history) return history.error();
    for (StoredMeasurement& m : *history) out[l.label][m.date] = std::move(m);  // ordered by date, then id
  }
  return out;
}

TimePointResponses responses_of(const TimePointResult& r) {
  TimePointResponses t;
  t.target = to_string(r.target_response);
  t.non_target = to_string(r.non_target_response);
  t.new_lesions = to_string(r.new_lesions);
  t.overall = to_string(r.overall_response);
  t.sum_mm = r.sum_mm;
  t.change_from_baseline_pct = r.change_from_baseline_pct;
  t.change_from_nadir_pct = r.change_from_nadir_pct;
  return t;
}

// The lesions of `line` with a value at `date`, in the order they were added.
Result<std::vector<ReportedLesion>> lesions_at(StudyStore& store, const PatientRecord& patient, const InForce& values, int line,
                                               int date) {
  std::vector<ReportedLesion> out;
  const auto roles = patient.roles.find(line);
  for (const LesionRecord& l : patient.lesions) {
    if (roles == patient.roles.end() || !roles->second.count(l.label)) continue;
    const auto byDate = values.find(l.label);
    if (byDate == values.end()) continue;
    const auto v = byDate->second.find(format_date(date));
    if (v == byDate->second.end()) continue;
    ReportedLesion r;
    r.label = l.label;
    r.tracking_uid = l.tracking_uid;
    r.organ = l.organ;
    r.nodal = l.nodal;
    r.role = roles->second.at(l.label);
    r.value = v->second.value;
    r.value.tracking_uid = l.tracking_uid;
    auto mask = store.mask_of(v->second.id);
    if (!mask) return mask.error();
    r.mask = std::move(*mask);
    out.push_back(std::move(r));
  }
  return out;
}

Result<bool> add_line(StudyStore& store, const PatientRecord& patient, const InForce& values, const TreatmentLineRecord& line,
                      PatientReport& out) {
  LineReport summary;
  summary.number = line.number;
  summary.start_date = format_date(line.start_date);
  summary.regimen = line.regimen;
  summary.criteria = criteria_name(line.criteria);
  auto c = store.build_case(patient.pseudonym, line.number);
  if (!c) {
    summary.warnings.push_back(c.error().message());
    out.lines.push_back(summary);
    return true;
  }
  summary.baseline_date = format_date(c->baseline_date);
  std::map<int, TimePointResult> results;
  if (auto a = assess(*c)) {
    summary.baseline_sum_mm = a->baseline_sum_mm;
    summary.best_response = to_string(a->best_overall_response);
    if (a->progression_date) summary.progression_date = format_date(*a->progression_date);
    summary.pfs_days = a->pfs_days;
    summary.pfs_censored = a->pfs_censored;
    summary.warnings = a->warnings;
    for (const TimePointResult& r : a->timepoints) results[r.date] = r;
  } else {
    summary.warnings.push_back("not assessed: " + a.error().message());
  }
  if (auto pending = store.pending_reviews(patient.pseudonym, line.number); pending && !pending->empty())
    for (const PendingReview& p : *pending)
      summary.warnings.push_back(format_date(p.date) + ": " + std::to_string(p.automatic_values) +
                                 " automatic value(s) not yet reviewed by a reader");

  std::vector<int> dates{c->baseline_date};
  for (const FollowUp& f : c->followups) dates.push_back(f.date);
  for (std::size_t i = 0; i < dates.size(); ++i) {
    TimePointReport tp;
    tp.patient_id = patient.pseudonym;
    tp.date = format_date(dates[i]);
    tp.line = line.number;
    tp.criteria = summary.criteria;
    tp.baseline = i == 0;
    tp.time_point_id = time_point_id(static_cast<int>(i));
    for (const TimePointRecord& t : patient.time_points)
      if (t.date == dates[i]) {
        tp.study_uid = t.study_uid;
        for (const SeriesRecord& s : t.series) tp.series.push_back({s.series_uid, s.modality});
      }
    auto lesions = lesions_at(store, patient, values, line.number, dates[i]);
    if (!lesions) return lesions.error();
    tp.lesions = std::move(*lesions);
    if (auto r = results.find(dates[i]); r != results.end() && i > 0) tp.responses = responses_of(r->second);
    out.time_points.push_back(std::move(tp));
  }
  out.lines.push_back(std::move(summary));
  return true;
}

}  // namespace

Result<PatientReport> gather_report(StudyStore& store, const std::string& pseudonym, std::optional<int> line) {
  auto patient = store.patient_record(pseudonym);
  if (!patient) return patient.error();
  auto values = values_in_force(store, *patient);
  if (!values) return values.error();
  PatientReport out;
  out.patient_id = pseudonym;
  bool found = false;
  for (const TreatmentLineRecord& l : patient->lines) {
    if (line && l.number != *line) continue;
    found = true;
    if (auto r = add_line(store, *patient, *values, l, out); !r) return r.error();
  }
  if (line && !found)
    return Error(ErrorCode::kNotFound, "the store holds no treatment line " + std::to_string(*line) + " for this patient",
                 pseudonym);
  if (!found)
    return Error(ErrorCode::kNotFound, "the store holds no treatment line for this patient: nothing to report", pseudonym);
  return out;
}

}  // namespace oq::recist
