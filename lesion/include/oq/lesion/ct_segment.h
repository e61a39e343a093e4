// Semi-automatic CT lesion segmentation from one click, and its RECIST measurement.
//
// Method (star-shaped boundary search, as ray-casting segmenters do for liver, lung and nodal
// lesions): the neighbourhood is smoothed, the lesion's CT number is taken at the seed, and rays
// cast from the seed in 7 200 directions stop where the CT number crosses halfway to what lies
// beyond (the half-contrast boundary, where a voxel is half lesion); a ray that crosses a darker
// or brighter patch inside the lesion and comes back to its level searches on, and its boundary
// joins where it agrees with the shape the other rays give. Rays that meet no boundary
// (into tissue of the lesion's own density: chest wall, a vessel, an abutting organ) or run far
// beyond their neighbours are leaks: they take their neighbours' radius. The lesion is the star
// shape the rays enclose, so it cannot flow along a vessel or into the pleura. Each ray's edge is
// moved out by what blur takes off a curved surface, and a click off the lesion's middle is cast
// again from the centre it found (up to three passes), so the calipers do not depend on the click;
// a pass is also cast again when the lesion's core reads a CT number other than the click's
// neighbourhood (a heterogeneous lesion), at the core's level. A lesion whose wall is another
// tissue than its core (a calcified rim, the viable rim around a necrotic centre: a reader
// measures to its outside) stops the rays at the core: where a wall of even level closes around
// it, no thicker than the core is wide and neither fat nor air, the outline is the wall's outer
// edge. The stages are in lesion/src/ct_stages.h.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>

#include "oq/error.h"
#include "oq/volume.h"

namespace oq::lesion {

struct Caliper {
  double length_mm = 0;
  Vec3 a{}, b{};  // endpoints, LPS mm
};

struct CtSegmentOptions {
  double max_radius_mm = 60;  // lesions up to about 100 mm across
};

struct CtSegmentation {
  Volume mask;                          // uint8 0/1 over the lesion's bounding box (its grid is a sub-grid of the series)
  std::array<size_t, 3> mask_offset{};  // index of the box's first voxel in the series
  std::string method;
  double lesion_hu = 0;      // CT number at the seed, or the centre it was moved to (smoothed median)
  double background_hu = 0;  // median CT number just outside the boundary
  // A lesion whose wall is another tissue than its core (a calcified rim, the viable rim around a
  // necrotic centre): the wall's CT number. The outline is the wall's outer edge.
  std::optional<double> wall_hu;
  int axial_slice_index = -1;
  Caliper long_axis, short_axis;  // on that slice
  // For nodes (RECIST follows their short axis): the largest short axis on any slice.
  int largest_short_axis_slice_index = -1;
  Caliper largest_short_axis;
  double volume_ml = 0;
  double mean_hu = 0;
  Caliper max_3d;
  double leak_fraction = 0;  // share of rays that met no boundary and took their neighbours' radius
  double noise_hu = 0;       // noise SD around the seed (after the smoothing the rays see)
  // Whether the outline can be trusted: low when much of the boundary was not seen (the rays took
  // their neighbours' radius) or when the edge's contrast is within the noise. The reason says
  // which, in the reader's words; a low-confidence measurement wants a reader's calipers.
  enum class Confidence { kHigh, kLow };
  Confidence confidence = Confidence::kHigh;
  std::string confidence_reason;
};

// The confidence of a finished segmentation (see CtSegmentation::confidence), from its leak
// fraction and its edge contrast against the noise. Thresholds: a quarter of the rays without a
// boundary; an edge weaker than twice the noise.
void assess_confidence(CtSegmentation& seg);

// `ct` in HU; `seed` in LPS mm. Errors: the seed outside the series (kInvalidArgument); air,
// lung, bone or no closed boundary under the seed (kNotFound, "no lesion found at ...").
Result<CtSegmentation> segment_ct(const Volume& ct, const Vec3& seed, const CtSegmentOptions& options = {});

// The mask on the whole series grid, for writing next to the series (NIfTI for ITK-SNAP/Slicer).
Volume mask_on_series_grid(const CtSegmentation& seg, const Grid& series);

}  // namespace oq::lesion
