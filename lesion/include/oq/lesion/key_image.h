// The key image of a measured lesion, for the report people read (oq/report.h KeyImage).
#pragma once

#include <optional>

#include "oq/error.h"
#include "oq/measurement.h"
#include "oq/report.h"
#include "oq/volume.h"

namespace oq::lesion {

// The axial slice of `ct` the long axis lies on, cropped to a square around the lesion (three times
// its long axis, at least 40 mm), windowed for soft tissue (W400/L40), resampled to `size` pixels
// square; the mask's outline and the calipers in that picture's pixels. kInvalidArgument when the
// measurement has no long-axis caliper or it lies outside the volume.
Result<KeyImage> key_image(const Volume& ct, const LesionMeasurement& m, const std::optional<LesionMask>& mask, int size = 256);

}  // namespace oq::lesion
