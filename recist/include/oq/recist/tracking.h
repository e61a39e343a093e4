// Lesion tracking across time points: a follow-up CT registered to the baseline (rigid then
// affine, multi-resolution; ITK inside), each baseline lesion mapped into the follow-up and
// re-segmented there (lesion/), and the measurement proposed with a confidence. A lesion not
// found is reported as such - vanished or missed, for the reader to decide - never dropped.
// On a follow-up PET, uptake above the PERCIST threshold away from every known lesion is
// proposed as a candidate new lesion.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/lesion/ct_segment.h"
#include "oq/volume.h"

namespace oq::recist {

// Maps baseline LPS points to the follow-up: p' = matrix * (p - centre) + centre + translation.
struct Registration {
  std::array<double, 9> matrix{1, 0, 0, 0, 1, 0, 0, 0, 1};
  Vec3 centre{}, translation{};
  double rigid_metric = 0, final_metric = 0;  // Mattes mutual information (lower is better)
  int iterations = 0;
  double seconds = 0;
  Vec3 map(const Vec3& baseline_point) const;
  Vec3 unmap(const Vec3& followup_point) const;  // the inverse
};

struct RegistrationOptions {
  double working_spacing_mm = 2.0;  // both CTs are block-averaged to about this before registering
  // false: hand ITK the full-resolution CTs and let its own pyramid (smoothing + shrink) reach
  // the same 4 mm / 2 mm levels - the usual way, kept for the benchmark.
  bool block_average = true;
  bool affine = true;  // after the rigid stage
};

// `baseline` and `followup` in HU. Errors: too small to register, or the optimiser failing.
Result<Registration> register_ct(const Volume& baseline, const Volume& followup, const RegistrationOptions& options = {});

struct TrackInput {
  std::string id;
  Vec3 seed{};  // on the baseline CT
  bool nodal = false;
};

struct TrackedLesion {
  std::string id;
  bool nodal = false;
  // Baseline measurement (re-segmented at the seed), for reference and for the case.
  bool baseline_found = false;
  lesion::CtSegmentation baseline;
  Vec3 mapped_seed{};  // the seed carried into the follow-up by the registration
  bool found = false;
  Vec3 found_at{};  // where the follow-up segmentation started
  lesion::CtSegmentation followup;
  double confidence = 0;  // 0-1: position, CT number, size change and boundary quality agree
  std::string note;       // why not found, or what lowered the confidence
};

// Segments each lesion on the baseline, maps it, and segments it on the follow-up; when the
// mapped point holds no lesion, nearby points of the lesion's CT number are tried before the
// lesion is reported as not found.
std::vector<TrackedLesion> track_lesions(const Volume& baseline, const Volume& followup, const Registration& reg,
                                         const std::vector<TrackInput>& lesions);

struct UptakeCandidate {
  Vec3 centre{}, hottest{};
  double sul_max = 0;
  double sul_peak = 0;            // mean of a 1 ml sphere on the hottest voxel
  double volume_ml = 0;           // above the threshold
  double baseline_sul_peak = -1;  // the same place on the baseline PET (-1 when not given)
};

struct NewUptakeOptions {
  double exclusion_mm = 15;   // this close to a known (tracked) lesion it is that lesion
  double max_volume_ml = 50;  // larger hot regions are organs: brain, bladder, heart
  // With a baseline PET: uptake already there (baseline SULpeak within 10 mm at least this share
  // of the follow-up's) is not new - kidneys, bowel, known disease.
  double already_there_share = 0.75;
};

// Connected uptake whose SULpeak reaches `threshold` (PERCIST measurability, in the image's
// units), smaller than an organ, away from every point in `known`, and - when the baseline PET
// and the registration are given - absent at baseline (section 3: uptake absent at baseline and
// present at follow-up is a new lesion). Hottest first.
std::vector<UptakeCandidate> find_new_uptake(const Volume& pet, double threshold, const std::vector<Vec3>& known,
                                             const Volume* baseline_pet = nullptr, const Registration* reg = nullptr,
                                             const NewUptakeOptions& options = {});

}  // namespace oq::recist
