// What is measured of a lesion, in the clinic's words, as types: the segmenters produce it, the
// study store keeps it in typed columns, tracking proposes it and the reports (DICOM SR TID 1500,
// JSON, CSV) write it. Nothing travels between modules as JSON text or free-text status.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oq/volume.h"

namespace oq {

// A RECIST caliper: two end points in patient coordinates (LPS mm) on the image it was drawn on
// (TID 1500 gives each axis its SCOORD on a referenced image).
struct Caliper {
  Vec3 a{}, b{};
  std::string sop_instance_uid;  // the image the caliper lies on; "" when not known
  int frame = 0;                 // frame number (1-based) in a multi-frame image; 0 for a single-frame image
  double length_mm() const;
};

enum class LesionRole { kTarget, kNonTarget, kNew };

// What a reader records of a lesion at a time point. Targets: measured, absent, too small (RECIST
// 1.1 counts 5 mm), not evaluated. Non-targets and new lesions: present, absent, increased,
// unequivocal progression, not evaluated.
enum class MeasurementStatus {
  kMeasured,
  kAbsent,
  kTooSmall,
  kNotEvaluated,
  kPresent,
  kIncreased,
  kUnequivocalProgression,
};

// Automatic: what OncoQuant measured; edited: a reader corrected an automatic value; manual: a
// reader's own value (a case file, a reader's SR).
enum class MeasurementMethod { kAutomatic, kEdited, kManual };

// The names used in the store, the JSON outputs and the command line ("non-target",
// "too-small", "unequivocal-progression", "edited").
const char* to_string(LesionRole role);
const char* to_string(MeasurementStatus status);
const char* to_string(MeasurementMethod method);
std::optional<LesionRole> lesion_role_from(const std::string& name);
std::optional<MeasurementStatus> measurement_status_from(const std::string& name);
std::optional<MeasurementMethod> measurement_method_from(const std::string& name);

// PET uptake of a lesion, in SUVbw (SULpeak on the lean-body-mass image, for PERCIST).
struct SuvMetrics {
  std::optional<double> suv_max, suv_peak, suv_mean, mtv_ml, tlg, sul_peak;
};

// A lesion's segmentation on its series' grid, kept as its bounding box: `inside` holds
// size[0] x size[1] x size[2] voxels (x fastest), nonzero inside; `offset` is the index of the
// box's first voxel in the series. What a DICOM SEG segment is written from.
struct LesionMask {
  std::array<std::size_t, 3> offset{}, size{};
  std::vector<std::uint8_t> inside;
  std::size_t voxels_inside() const;
};

struct LesionMeasurement {
  std::string lesion_id;           // what readers call it in this patient: T1, N1, NT2, NEW-2024-03-01-1
  std::string tracking_uid;        // TID 1500 Tracking UID: the same lesion at every time point
  std::optional<LesionRole> role;  // in a treatment line; a lesion may be a target in one line only
  MeasurementStatus status = MeasurementStatus::kMeasured;

  std::optional<double> long_axis_mm, short_axis_mm;  // the values RECIST sums
  std::optional<Caliper> long_axis, short_axis;       // where they were drawn, when known
  std::optional<double> volume_ml, mean_hu;
  SuvMetrics suv;
  std::optional<Vec3> location;  // a candidate new lesion's hottest point, for the reader to look at

  std::vector<double> fragments_mm;  // a target split into fragments: their long axes
  std::string merged_into;           // a target merged into another: that lesion's id
  bool unequivocal = true;           // new lesions: a candidate stays equivocal until a reader confirms it

  std::string series_uid;  // the series measured on
  std::string mask;        // the segmentation: a file, or a SEG's SOP Instance UID and segment
  MeasurementMethod method = MeasurementMethod::kAutomatic;
  std::string author;       // "oncoquant" for automatic values, else the reader
  std::string recorded_at;  // ISO 8601
};

}  // namespace oq
