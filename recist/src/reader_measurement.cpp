#include "oq/recist/reader_measurement.h"

#include <algorithm>

namespace oq::recist {
namespace {

// The line the reader's role belongs to (see ReaderMeasurement::line_number).
Result<int> line_for(StudyStore& store, const ReaderMeasurement& m, const Actor& who, bool& created) {
  auto lines = store.treatment_lines(m.pseudonym);
  if (!lines) return lines.error();
  if (m.line_number) {
    if (std::find(lines->begin(), lines->end(), *m.line_number) == lines->end())
      return Error(ErrorCode::kNotFound, "no treatment line " + std::to_string(*m.line_number) + " for this patient",
                   m.pseudonym);
    return *m.line_number;
  }
  if (!lines->empty()) return lines->back();
  if (auto added = store.add_treatment_line(m.pseudonym, 1, m.date, "", Criteria::kRecist11, who); !added) return added.error();
  created = true;
  return 1;
}

}  // namespace

Result<ReaderMeasurementRecorded> record_reader_measurement(StudyStore& store, const ReaderMeasurement& m, const Actor& who) {
  ReaderMeasurementRecorded out;
  auto done = store.in_one_transaction([&]() -> Result<bool> {
    if (auto s = store.ensure_series(m.pseudonym, m.date, m.study_uid, m.series_uid, m.modality, m.slice_thickness_mm, who); !s)
      return s.error();
    auto line = line_for(store, m, who, out.line_created);
    if (!line) return line.error();
    out.line_number = *line;
    if (auto known = store.measurement_history(m.pseudonym, m.lesion.label); !known) {
      if (known.error().code() != ErrorCode::kNotFound) return known.error();
      if (auto added = store.add_lesion(m.pseudonym, m.lesion, who); !added) return added.error();
      out.lesion_created = true;
    }
    if (auto r = store.set_role(m.pseudonym, *line, m.lesion.label, m.role, who); !r) return r.error();
    auto id = store.record_measurement(m.pseudonym, m.lesion.label, m.date, m.value, who);
    if (!id) return id.error();
    out.measurement = *id;
    if (auto r = store.record_mask(*id, m.mask, who); !r) return r.error();
    return true;
  });
  if (!done) return done.error();
  return out;
}

}  // namespace oq::recist
