// Hot spots on whole-body bone scintigraphy (anterior and posterior planar views), normalised to
// the patient's normal bone uptake, with an exploratory bone-involvement index.
#pragma once

#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/volume.h"

namespace oq::lesion {

struct HotSpot {
  std::string view;            // "anterior", "posterior", or "frame N"
  double row = 0, column = 0;  // centroid, pixels
  double area_mm2 = 0;
  double peak_ratio = 0;  // peak counts / the surrounding normal bone
};

struct BoneScanView {
  std::string view;
  double normal_bone_counts = 0;  // median counts per pixel of the skeleton
  double skeleton_area_mm2 = 0;
  double hot_area_mm2 = 0;
  std::vector<std::string> excluded;  // e.g. "bladder (2150 mm2)"
};

struct BoneScanResult {
  std::vector<BoneScanView> views;
  std::vector<HotSpot> hot_spots;
  // Hot-spot area as a percentage of skeleton area, mean over the views. Exploratory: not a
  // validated bone scan index.
  double bone_involvement_index_pct = 0;
};

// `views` holds one planar view per slice (z); `names` names them (may be empty).
Result<BoneScanResult> detect_hot_spots(const Volume& views, const std::vector<std::string>& names);

// One metastasis as the views show it: its hot spot on the anterior and on the posterior view
// (indices into the hot spots given to pair_views; -1 where that view does not show it).
struct BoneScanLesion {
  int anterior = -1, posterior = -1;
};

// How the two views' columns relate in the patient.
struct ViewGeometry {
  double columns = 0;              // image width, pixels (the same for both views)
  double pixel_mm = 1;             // column and row spacing
  bool posterior_mirrored = true;  // stored as seen from behind: patient left on the image left
};

// A metastasis seen on both views lies at the same head-foot position (row) and, once the
// posterior view is mirrored back when it is stored as seen from behind, at the same left-right
// position (column). Pairs each anterior hot spot with the nearest posterior one within
// `tolerance_mm` (closest pairs first); the others are lesions seen on one view only. Hot spots
// of other views are left out.
std::vector<BoneScanLesion> pair_views(const std::vector<HotSpot>& spots, const ViewGeometry& geometry, double tolerance_mm = 15);

}  // namespace oq::lesion
