// Lesions inserted into real CT slices: the second validation set of issue 19. Each case is one
// lesion in its own series, built on one real slice of ../shared/data (the slice's anatomy kept,
// its own noise texture moved about from slice to slice so that no two slices share it, more noise
// added, white or correlated, when the case asks for more than the image holds). The lesion is
// integrated over the voxel and the slice profile, then blurred by the in-plane point spread;
// its texture carries the image's noise like the tissue around it.
#pragma once

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "oq/error.h"
#include "oq/validation/lesion_model.h"

namespace oq::validation {

// One real axial CT slice, in HU.
struct Background {
  std::string name;         // short, for the case id
  std::string description;  // scanner, kernel, anatomy
  std::string path;         // the DICOM file
  int rows = 0, cols = 0;
  double row_spacing = 1, col_spacing = 1;  // mm (Pixel Spacing: between rows, between columns)
  P3 origin{};                              // Image Position (Patient) of the first pixel
  std::vector<float> hu;                    // rows x cols
  double own_noise_sd = 0;                  // estimated from the slice (soft tissue, MAD of the fine residual)
};
Result<Background> load_background(const std::string& path, const std::string& name, const std::string& description);

enum class Placement { kInOrgan, kJuxtaOrgan, kJuxtapleural };
enum class NoiseKind { kImageOwn, kWhite, kCorrelated };
const char* to_string(Placement p);
const char* to_string(NoiseKind n);

struct CaseSpec {
  std::string id;
  size_t background = 0;  // index into the backgrounds
  Placement placement = Placement::kInOrgan;
  ShapeKind shape = ShapeKind::kEllipsoid;
  Texture texture = Texture::kUniform;
  double diameter_mm = 20;
  double contrast_hu = -40;   // lesion minus background (ignored in lung, where the nodule is soft tissue)
  double thickness_mm = 2.5;  // slice thickness = spacing
  double psf_fwhm_mm = 1.0;   // in-plane
  double noise_sd_hu = 0;     // wanted; the image's own when smaller
  NoiseKind noise = NoiseKind::kImageOwn;
  unsigned seed = 1;
};

// A varied plan of `count` cases over the backgrounds: sizes 10-60 mm, the three shapes, the four
// textures, faint to strong contrast, slices 1.25-5 mm, point spread 0.5-2 mm FWHM, noise 5-80 HU
// white or correlated, in an organ, against its edge, or against the pleura.
std::vector<CaseSpec> plan_cases(const std::vector<Background>& backgrounds, int count, unsigned seed);

// Renders one case into `dir` (DICOM slices in dir/series, dir/truth.json, dir/truth_mask.mha)
// and returns its truth (also written). Errors when the background has no room for the placement.
Result<nlohmann::json> render_case(const Background& background, const CaseSpec& spec, const std::string& dir);

}  // namespace oq::validation
