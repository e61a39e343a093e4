#include "oq/recist/reader_import.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace oq::recist {

namespace {

Vec3 midpoint(const Caliper& c) {
  return {(c.a[0] + c.b[0]) / 2, (c.a[1] + c.b[1]) / 2, (c.a[2] + c.b[2]) / 2};
}

double distance(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

// Every lesion's value in force at `date`, by label.
using InForce = std::map<std::string, LesionMeasurement>;

Result<InForce> in_force_at(StudyStore& store, const PatientRecord& patient, int date) {
  InForce out;
  const std::string day = format_date(date);
  for (const LesionRecord& l : patient.lesions) {
    auto history = store.measurement_history(patient.pseudonym, l.label);
    if (!history) return history.error();
    for (const StoredMeasurement& m : *history)
      if (m.date == day) out[l.label] = m.value;  // the newest of the day wins
  }
  return out;
}

// The lesion the measurement is of: its Tracking UID, else the lesion whose long axis at that time
// point has its centre within half its length (at least 5 mm) of the measurement's centre.
std::optional<ImportOutcome::Match> match(const ImportedMeasurement& m, const PatientRecord& patient, const InForce& values) {
  for (const LesionRecord& l : patient.lesions)
    if (!m.tracking_uid.empty() && l.tracking_uid == m.tracking_uid) return ImportOutcome::Match{l.label, "tracking UID"};
  if (!m.long_axis) return std::nullopt;
  std::optional<ImportOutcome::Match> best;
  double nearest = 0;
  for (const auto& [label, v] : values) {
    if (!v.long_axis) continue;
    const double d = distance(midpoint(*m.long_axis), midpoint(*v.long_axis));
    if (d <= std::max(5.0, v.long_axis->length_mm() / 2) && (!best || d < nearest)) {
      best = ImportOutcome::Match{label, "location"};
      nearest = d;
    }
  }
  return best;
}

bool same_value(const ImportedMeasurement& m, const LesionMeasurement& v) {
  const auto close = [](std::optional<double> a, std::optional<double> b) {
    return a.has_value() == b.has_value() && (!a || std::fabs(*a - *b) < 0.01);
  };
  return close(m.long_axis_mm, v.long_axis_mm) && (!m.short_axis_mm || close(m.short_axis_mm, v.short_axis_mm));
}

std::string describe(const ImportedMeasurement& m) {
  char buf[64];
  std::snprintf(buf, sizeof buf, " (long axis %.2f mm)", m.long_axis_mm);
  return (m.label.empty() ? std::string("a measurement") : "'" + m.label + "'") + buf;
}

}  // namespace

Result<ImportOutcome> import_reader_measurements(StudyStore& store, const std::string& pseudonym, int date,
                                                 const std::vector<ImportedMeasurement>& measurements, const Actor& who) {
  auto patient = store.patient_record(pseudonym);
  if (!patient) return patient.error();
  auto values = in_force_at(store, *patient, date);
  if (!values) return values.error();
  ImportOutcome out;
  auto done = store.in_one_transaction([&]() -> Result<bool> {
    for (const ImportedMeasurement& m : measurements) {
      const auto lesion = match(m, *patient, *values);
      if (!lesion) {
        out.unmatched.push_back(describe(m) + ": no lesion has its Tracking UID" +
                                (m.long_axis ? " or lies there at " + format_date(date) : " (no images to place it by)"));
        continue;
      }
      const auto current = values->find(lesion->lesion);
      if (current != values->end() && same_value(m, current->second)) {
        out.unchanged.push_back(*lesion);
        continue;
      }
      LesionMeasurement v;
      v.status = MeasurementStatus::kMeasured;
      v.long_axis_mm = m.long_axis_mm;
      v.short_axis_mm = m.short_axis_mm;
      v.long_axis = m.long_axis;
      v.short_axis = m.short_axis;
      v.method = MeasurementMethod::kEdited;
      if (current != values->end()) v.series_uid = current->second.series_uid;
      if (auto r = store.record_measurement(pseudonym, lesion->lesion, date, v, who); !r) return r.error();
      out.edited.push_back(*lesion);
    }
    return true;
  });
  if (!done) return done.error();
  return out;
}

}  // namespace oq::recist
