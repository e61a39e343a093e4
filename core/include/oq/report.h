// What a report says about one time point of one patient: the lesions with the values in force,
// where they were measured, and the responses the engine assessed. The study store fills it
// (recist/report.h); the DICOM SR, SEG, JSON, CSV and HTML/PDF writers read it. Plain data.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oq/measurement.h"

namespace oq {

struct ReportedLesion {
  std::string label;         // T1, N1, NT2, NEW-2026-07-20-1: what the reader calls it
  std::string tracking_uid;  // the same at every time point
  std::string organ;         // as recorded ("liver", "lung", "lymph node", ...)
  bool nodal = false;
  std::optional<LesionRole> role;  // in the reported treatment line
  LesionMeasurement value;         // the value in force at this time point (the newest)
  std::optional<LesionMask> mask;  // its segmentation on `value.series_uid`, when one was recorded
};

struct ReportedSeries {
  std::string uid, modality;
};

// The response at a time point, in the names of the response engine (recist::to_string).
struct TimePointResponses {
  std::string target, non_target, new_lesions, overall;
  std::optional<double> sum_mm, change_from_baseline_pct, change_from_nadir_pct;
};

struct TimePointReport {
  std::string patient_id;  // the pseudonym
  std::string date;        // ISO 8601
  std::string study_uid;   // the imaging study of the time point
  int line = 0;            // the treatment line the roles and responses belong to
  std::string criteria;    // "RECIST1.1" or "iRECIST"
  bool baseline = false;
  std::string time_point_id;  // TID 1500 Subject Time Point Identifier: "baseline", "follow-up 1", ...
  std::vector<ReportedSeries> series;
  std::vector<ReportedLesion> lesions;
  std::optional<TimePointResponses> responses;  // none at baseline
};

// One treatment line as a whole: what the response engine concluded over its time points.
struct LineReport {
  int number = 0;
  std::string start_date, regimen, criteria;
  std::string baseline_date;
  std::optional<double> baseline_sum_mm;
  std::string best_response;  // "" when the line could not be assessed
  std::optional<std::string> progression_date;
  std::optional<int> pfs_days;
  bool pfs_censored = true;
  std::vector<std::string> warnings;  // why it could not be assessed, or what the reader should know
};

// A lesion's key image for the report people read: the axial slice its long axis was drawn on,
// cropped around it and windowed to 8-bit grey, with its outline and calipers in that crop's pixels.
struct KeyImage {
  std::string lesion, date;
  int width = 0, height = 0;
  std::vector<std::uint8_t> grey;    // width x height, row by row
  std::vector<std::uint8_t> inside;  // the lesion's mask on that slice, same size (empty when not stored)
  double mm_per_pixel = 1;
  std::array<double, 4> long_axis{}, short_axis{};  // x1, y1, x2, y2 (pixel centres at +0.5)
  bool has_short_axis = false;
  std::string window;  // "soft tissue W400/L40"
};

// The biopsy's immunohistochemistry as `oncoquant ihc` scored it, and the phenotype group.
struct IhcMarker {
  std::string marker;  // ER, PR, HER2
  bool evaluable = true;
  std::string not_evaluable_reason;
  std::optional<double> percent_positive, h_score;
  std::optional<int> allred;
  std::string her2_score, her2_category;  // HER2: "1+", "low"
  std::string category;                   // positive, negative, low, ...
  std::string overlay_png;                // the detection overlay, when there is one
};
struct IhcPanel {
  std::vector<IhcMarker> markers;
  std::optional<int> group;  // 1 HR+/HER2-, 2 HER2+, 3 triple negative; none when it cannot be told
  std::string group_label;
  std::vector<std::string> flags;
};

struct PatientReport {
  std::string patient_id;
  std::vector<LineReport> lines;
  std::vector<TimePointReport> time_points;  // by line, then date
  std::vector<KeyImage> key_images;          // filled when the images are at hand
  std::optional<IhcPanel> ihc;               // when IHC results were given
};

// A cohort as a batch sees it: per patient, what each treatment line gave and the phenotype group;
// what the cohort's summary, waterfall, swimmer and Kaplan-Meier plots are drawn from.
struct CohortTimePoint {
  std::string date, overall_response;
  std::string new_lesions;  // yes, no, equivocal (a candidate a reader has not confirmed)
};

struct CohortLine {
  int number = 0;
  std::string regimen, criteria, start_date;
  std::string not_assessed;  // why there is no response, or empty
  std::string best_response;
  std::optional<int> pfs_days;
  bool pfs_censored = true;
  std::optional<std::string> progression_date;
  std::optional<double> baseline_sum_mm, best_change_pct;  // the waterfall's bar: best change of the sum
  int time_points = 0, pending_review = 0;
  std::vector<CohortTimePoint> responses;  // by date
};

struct CohortCase {
  std::string patient;
  std::string status;  // complete, partial, failed, not-assessed
  std::vector<std::string> problems, notes;
  std::vector<CohortLine> lines;
  std::optional<int> group;  // phenotype group 1-3
  std::string group_label, er, pr, her2;
};

}  // namespace oq
