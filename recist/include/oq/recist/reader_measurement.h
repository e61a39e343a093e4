// A reader's click, recorded: `segment --db` measures a lesion on a series and keeps the value, its
// calipers and its mask in the study store at the time point of the series' study, beside what
// `track` and `store measure` record. One transaction: all of it or nothing.
#pragma once

#include <optional>
#include <string>

#include "oq/measurement.h"
#include "oq/recist/store.h"

namespace oq::recist {

struct ReaderMeasurement {
  std::string pseudonym;
  int date = 0;  // the series' study date (days, as recist::parse_date gives it)
  std::string study_uid, series_uid, modality;
  std::optional<double> slice_thickness_mm;
  LesionRecord lesion;  // created with a new tracking UID when the patient has no lesion of that label
  LesionRole role = LesionRole::kTarget;
  // The line the role is for. Unset: the patient's latest line, or, when the store holds none yet,
  // line 1 starting at this date (a first read before any treatment is the baseline).
  std::optional<int> line_number;
  LesionMeasurement value;
  LesionMask mask;
};

struct ReaderMeasurementRecorded {
  RowId measurement = 0;
  int line_number = 0;
  bool lesion_created = false, line_created = false;
};

Result<ReaderMeasurementRecorded> record_reader_measurement(StudyStore& store, const ReaderMeasurement& m, const Actor& who);

}  // namespace oq::recist
