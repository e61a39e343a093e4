// PET lesion segmentation from a click (on the PET or on its CT: same Frame of Reference, same
// coordinates) and the uptake measures PERCIST and RECIST reports use.
#pragma once

#include <string>

#include "oq/error.h"
#include "oq/lesion/ct_segment.h"
#include "oq/volume.h"

namespace oq::lesion {

enum class PetThreshold {
  kAuto,        // 41 % of SUVmax unless that cut lies in the background uptake (liver, marrow): then adaptive
  kPercent41,   // 41 % of SUVmax (EANM guideline default for MTV)
  kPercent50,   // 50 % of SUVmax
  kAdaptive50,  // background + 50 % of (SUVmax - background): for lesions on a warm background
};

struct PetSegmentOptions {
  PetThreshold threshold = PetThreshold::kAuto;
  double search_radius_mm = 10;  // the hottest voxel is looked for this far from the click
  double max_radius_mm = 60;
};

struct PetSegmentation {
  Volume mask;  // uint8 on the PET grid
  std::string method;
  double suv_max = 0;
  Vec3 suv_max_at{};
  double suv_peak = 0;  // highest mean of a 1 ml sphere centred in the lesion
  Vec3 suv_peak_at{};
  double suv_mean = 0;
  double mtv_ml = 0;      // metabolic tumour volume
  double tlg = 0;         // total lesion glycolysis = SUVmean x MTV
  double background = 0;  // median uptake around the lesion
  double threshold_value = 0;
  int axial_slice_index = -1;
  Caliper long_axis, short_axis;
};

// `pet` in SUV (or SUL: the measures follow its units). Errors as segment_ct: the seed outside
// the series, no uptake above background near the seed.
Result<PetSegmentation> segment_pet(const Volume& pet, const Vec3& seed, const PetSegmentOptions& options = {});

// Highest mean over a 1 ml sphere (radius 6.2 mm) of voxels whose centres fall inside it, for
// sphere centres at the voxels of `mask` (PERCIST's SUVpeak / SULpeak).
double peak_of_sphere(const Volume& image, const Volume& mask, Vec3* at = nullptr);

}  // namespace oq::lesion

namespace oq::lesion {

// PERCIST's normal-liver reference: a 3 cm sphere in the right lobe, found in the PET alone as the
// most uniform sphere of moderate uptake inside the largest uniform organ on the patient's right.
struct LiverReference {
  Vec3 centre{};
  double mean = 0, sd = 0;  // in the image's units (SUL for PERCIST)
  // PERCIST 1.0 measurability: SULpeak >= 1.5 x liver mean + 2 x liver SD.
  double measurability_threshold() const { return 1.5 * mean + 2 * sd; }
};
Result<LiverReference> find_liver_reference(const Volume& pet);

}  // namespace oq::lesion

namespace oq::lesion {

// PERCIST's blood-pool reference (used when the liver is abnormal): a cylinder 1 cm across and
// 2 cm long in the descending thoracic aorta. The aorta is found on the PET-CT's CT (same Frame
// of Reference): a round, contrast-filled structure (130-400 HU, 18-40 mm across) left of and in
// front of the spine on the slices through the lungs. Without contrast it is not found (error).
struct BloodPoolReference {
  Vec3 centre{};
  double mean = 0, sd = 0;
  // PERCIST 1.0 with an abnormal liver: SULpeak >= 2.0 x blood-pool mean + 2 x SD.
  double measurability_threshold() const { return 2.0 * mean + 2 * sd; }
};
Result<BloodPoolReference> find_blood_pool_reference(const Volume& pet, const Volume& ct);

}  // namespace oq::lesion
