#include "oq/lesion/ct_segment.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "common.h"
#include "ct_stages.h"

namespace oq::lesion {
namespace {

using ct::kPi;
using detail::median;
using detail::where;

// Whether an LPS point lies on a voxel of the segmentation's mask.
bool inside_mask(const CtSegmentation& seg, const Vec3& lps) {
  const Grid& mg = seg.mask.grid();
  const Vec3 f = mg.to_index(lps);
  size_t idx[3];
  for (size_t a = 0; a < 3; ++a) {
    const long i = std::lround(f[a]);
    if (i < 0 || static_cast<size_t>(i) >= mg.size[a]) return false;
    idx[a] = static_cast<size_t>(i);
  }
  return seg.mask.data<uint8_t>()[(idx[2] * mg.size[1] + idx[1]) * mg.size[0] + idx[0]] != 0;
}

Error organ_not_lesion(const Vec3& seed, double across_mm) {
  return Error(ErrorCode::kNotFound, "no lesion found at " + where(seed) + ": the structure under the seed is about " +
                                         std::to_string(std::lround(across_mm)) + " mm across (an organ, not a lesion?)");
}

// The seed's refusals: outside the series, on air or lung, on bone.
Error seed_off_lesion(const Vec3& seed, const std::string& why) {
  return Error(ErrorCode::kNotFound, "no lesion found at " + where(seed) + ": " + why);
}

// One segmentation from `seed`, at the lesion's CT number `level` when given (else the seed's),
// stage by stage (ct_stages.h); `centre` receives the segmented lesion's centre of mass and
// `core_hu` the median (smoothed) CT number of its inner part (within 60 % of the radius).
Result<CtSegmentation> segment_from(const Volume& ct, const Vec3& seed, const CtSegmentOptions& options,
                                    std::optional<double> level, Vec3& centre, double& core_hu) {
  const Grid& g = ct.grid();
  const Vec3 si = g.to_index(seed);
  for (size_t a = 0; a < 3; ++a)
    if (si[a] < -0.5 || si[a] > static_cast<double>(g.size[a]) - 0.5)
      return Error(ErrorCode::kInvalidArgument, "the seed " + where(seed) + " lies outside the series");
  // The largest lesion we look for, plus room for the background beyond it.
  const ct::Roi roi = ct::region_around(ct, si, options.max_radius_mm + 8);
  const Vec3 s0{si[0] - roi.x0, si[1] - roi.y0, si[2] - roi.z0};
  const ct::SeedLevel at_seed = ct::level_at(roi, s0, g.spacing);
  const double m = level.value_or(at_seed.hu);
  if (m < -400) return seed_off_lesion(seed, "the seed is on air or lung (" + std::to_string(std::lround(m)) + " HU)");
  if (m > 300)
    return seed_off_lesion(seed, "the seed is on bone or calcification (" + std::to_string(std::lround(m)) +
                                     " HU); only soft-tissue lesions are segmented");

  ct::RayCast rays = ct::cast_rays(roi, s0, g, m, at_seed.noise, options.max_radius_mm);
  ct::drop_dark_patch_edges(rays);
  ct::edges_through_thin_fat(rays, roi, s0, m);
  ct::Outline outline;
  std::optional<ct::Wall> wall;
  double background = m;
  if (rays.valid_share() < 0.35) {
    // No edge closes around the seed; a thin ring all round may (a ring-enhancing lesion clicked
    // on its necrotic centre).
    wall = ct::wall_of_thin_layers(rays, roi, s0, g, m);
    if (!wall)
      return seed_off_lesion(seed, "no boundary closes around the seed within " +
                                       std::to_string(std::lround(options.max_radius_mm)) + " mm (normal tissue?)");
  } else {
    std::vector<double> cs;
    for (size_t i = 0; i < rays.valid.size(); ++i)
      if (rays.valid[i]) cs.push_back(rays.contrast[i]);
    const double c_med = median(cs);
    if (m > 150 && c_med > 0 && m + c_med > 400)
      return seed_off_lesion(seed, "the seed is inside bone (" + std::to_string(std::lround(m)) + " HU within a " +
                                       std::to_string(std::lround(m + c_med)) + " HU cortex)");
    outline = ct::repair_leaks(rays.radius, rays.valid, rays.past_ripple);
    background = m + c_med;
    wall = ct::wall_around(outline, roi, s0, g, m, rays.tau);
  }
  if (wall) {
    outline = std::move(wall->outline);
    background = wall->beyond_hu;
  }
  if (outline.median_radius > 0.66 * options.max_radius_mm) return organ_not_lesion(seed, 2 * outline.median_radius);
  std::vector<double> radius = outline.radius;
  ct::correct_for_blur(radius, g);
  auto filled = ct::fill_star(ct, seed, radius, roi);
  if (!filled) return seed_off_lesion(seed, "the boundary is closer than one voxel");
  CtSegmentation out = std::move(filled->seg);
  centre = filled->centre;
  core_hu = filled->core_hu.value_or(m);
  out.lesion_hu = m;
  out.background_hu = background;
  if (wall) out.wall_hu = wall->hu;
  out.leak_fraction = outline.leak_fraction();
  out.noise_hu = at_seed.noise;
  out.method = "ct-star-rays-half-contrast";
  return out;
}

}  // namespace

Result<CtSegmentation> segment_ct(const Volume& ct, const Vec3& seed, const CtSegmentOptions& options) {
  Vec3 centre{};
  double core_hu = 0;
  Result<CtSegmentation> best = segment_from(ct, seed, options, std::nullopt, centre, core_hu);
  if (!best) return best;
  // The rays see the lesion from the click: from near its edge they meet the far side at a slant
  // and bridge a hidden contact differently than from its middle. Cast again from the centre each
  // pass found, so that where in the lesion the reader clicked does not change the calipers.
  // Three passes in all: a fourth (and a finer stop) did not change the lesion set's repeatability.
  // A heterogeneous lesion's CT number at the click may also be off its own (a brighter patch
  // inside a faint hypo-attenuating metastasis read 69 HU for 60): when its core's median differs
  // by more than a sixth of the contrast, the next pass takes that as the lesion's level.
  constexpr int kPasses = 3;
  Vec3 from = seed;
  std::optional<double> level;
  for (int pass = 1; pass < kPasses; ++pass) {
    const double equivalent_radius = std::cbrt(best->volume_ml * 1000.0 * 3 / (4 * kPi));
    const double off = std::sqrt((centre[0] - from[0]) * (centre[0] - from[0]) + (centre[1] - from[1]) * (centre[1] - from[1]) +
                                 (centre[2] - from[2]) * (centre[2] - from[2]));
    const bool level_off =
        std::abs(core_hu - best->lesion_hu) > std::max(5.0, std::abs(best->background_hu - best->lesion_hu) / 6);
    const bool recentre = off > std::max(0.5, 0.1 * equivalent_radius) && inside_mask(*best, centre);
    if (!recentre && !level_off) break;  // already from the middle (a crescent's centre lies outside it: stay on the lesion)
    if (recentre) from = centre;
    if (level_off) level = core_hu;
    Result<CtSegmentation> next = segment_from(ct, from, options, level, centre, core_hu);
    if (!next) break;
    best = std::move(next);
  }
  // Each pass refuses a structure whose median radius is organ-sized, but an elongated organ
  // passes that: clicks on homogeneous tissue of liver or spleen density far from every lesion of
  // the lesion set came back as 'lesions' 105-139 mm long. Lesions are looked for up to about
  // 100 mm across (5/3 of the search radius); anything longer is refused too.
  if (best->max_3d.length_mm > 5.0 / 3.0 * options.max_radius_mm) return organ_not_lesion(seed, best->max_3d.length_mm);
  assess_confidence(*best);
  return best;
}

void assess_confidence(CtSegmentation& seg) {
  // A quarter of the rays without a boundary: the lesion touches tissue of its own density over
  // much of its surface, and the shape fitted over the gap is a guess (a sarcoma in muscle, clicked
  // at its centre, had half its rays so and leaked to 64 mm for the expert's 39).
  constexpr double kMaxLeakFraction = 0.25;
  // The edge's step against the noise the rays saw: below two SD a boundary may be noise.
  constexpr double kMinContrastToNoise = 2.0;
  // The edge is the wall's where the lesion has one.
  const double contrast = std::abs(seg.background_hu - seg.wall_hu.value_or(seg.lesion_hu));
  std::string reason;
  if (seg.leak_fraction >= kMaxLeakFraction)
    reason = std::to_string(std::lround(100 * seg.leak_fraction)) +
             " % of the outline was not seen (no edge against the tissue around it there): the outline across that part "
             "is interpolated";
  if (seg.noise_hu > 0 && contrast < kMinContrastToNoise * seg.noise_hu) {
    if (!reason.empty()) reason += "; ";
    reason += "the edge's contrast (" + std::to_string(std::lround(contrast)) + " HU) is within twice the noise (" +
              std::to_string(std::lround(seg.noise_hu)) + " HU SD)";
  }
  seg.confidence = reason.empty() ? CtSegmentation::Confidence::kHigh : CtSegmentation::Confidence::kLow;
  seg.confidence_reason = reason.empty() ? "" : reason + "; check the calipers";
}

Volume mask_on_series_grid(const CtSegmentation& seg, const Grid& series) {
  Volume full(series, VoxelType::kUInt8);
  full.set_units("label");
  const Grid& m = seg.mask.grid();
  const auto* src = seg.mask.data<uint8_t>();
  auto* dst = full.data<uint8_t>();
  for (size_t k = 0; k < m.size[2]; ++k)
    for (size_t j = 0; j < m.size[1]; ++j)
      for (size_t i = 0; i < m.size[0]; ++i)
        dst[((k + seg.mask_offset[2]) * series.size[1] + j + seg.mask_offset[1]) * series.size[0] + i + seg.mask_offset[0]] =
            src[(k * m.size[1] + j) * m.size[0] + i];
  return full;
}

}  // namespace oq::lesion
