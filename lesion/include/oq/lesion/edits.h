// A lesion's measurements as a reader reviews them: the automatic result is kept as it was, and
// every correction (a caliper endpoint moved, a contour replaced) is added as a new record with
// who made it and when. Nothing is overwritten; the current value is the latest record. The
// review viewer and the study store build on this.
#pragma once

#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/lesion/ct_segment.h"
#include "oq/measurement.h"
#include "oq/volume.h"

namespace oq::lesion {

struct AxialCalipers {
  int slice = -1;
  Caliper long_axis, short_axis;
  double volume_ml = 0;
};

// Calipers of a binary mask (uint8, nonzero inside) on the axial slice where its long axis is
// longest, from marching squares at half height (sub-voxel), and its volume.
AxialCalipers measure_mask(const Volume& mask);

// One revision of a lesion's calipers: the automatic result, or a reader's correction of it.
// `method` and the calipers are the suite's own (oq/measurement.h); as_measurement() gives the
// value the study store and the reports take.
struct CaliperRevision {
  MeasurementMethod method = MeasurementMethod::kAutomatic;
  std::string who;   // reader id; "oncoquant" for the automatic result
  std::string when;  // ISO 8601
  std::string what;  // "automatic segmentation", "long axis endpoint 2 moved", "contour replaced"
  AxialCalipers calipers;
  double perpendicular_deviation_deg = 0;  // of the short axis from the long axis' normal

  LesionMeasurement as_measurement() const;
};

// A caliper drawn on axial slice `slice` of `series` as the suite's measurements carry it: its end
// points and the image that slice came from (when the volume knows it).
oq::Caliper on_image(const Caliper& c, const Volume& series, int slice);

// A segmentation as the study store keeps it: the bounding box of the nonzero voxels of `mask`,
// whose first voxel lies at `offset` in the series (a CT segmentation's box, or a PET mask on the
// whole grid with offset 0). An empty mask gives an empty box.
LesionMask lesion_mask(const Volume& mask, const std::array<std::size_t, 3>& offset = {0, 0, 0});

enum class Axis { kLong, kShort };

class LesionMeasurements {
 public:
  LesionMeasurements(const CtSegmentation& automatic, const Grid& grid, std::string when);

  const CaliperRevision& automatic() const { return records_.front(); }
  const CaliperRevision& current() const { return records_.back(); }
  const std::vector<CaliperRevision>& history() const { return records_; }

  // Moves endpoint 0 or 1 of an axis to a new point on the same axial slice.
  Result<CaliperRevision> move_endpoint(Axis axis, int endpoint, const Vec3& to, const std::string& who, const std::string& when);
  // Replaces the lesion's contour (a mask on the series grid) and measures it again.
  Result<CaliperRevision> replace_contour(const Volume& mask, const std::string& who, const std::string& when);

 private:
  Grid grid_;
  std::vector<CaliperRevision> records_;
};

}  // namespace oq::lesion
