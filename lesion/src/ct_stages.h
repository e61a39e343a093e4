// The stages of the CT segmentation from one click (the method is described in
// oq/lesion/ct_segment.h), one function each so that each can be tested on inputs whose answer is
// known in closed form (lesion/test/ct_stages_test.cpp). Internal to lesion/.
//
//   region_around       the seed's neighbourhood, smoothed against noise
//   level_at            the lesion's CT number and the noise at the seed
//   cast_rays           7 200 rays, each stopping at its half-contrast edge (find_edge)
//   drop_dark_patch_edges, edges_through_thin_fat   edges that need a second look
//   repair_leaks        rays that met no edge, or ran far beyond their neighbours
//   wall_around         a lesion whose wall (a calcified rim, the viable rim around necrosis) is
//                       another tissue than its core: the wall's outer edge
//   correct_for_blur    blur rounds a convex body off
//   fill_star           the mask the rays enclose, and what is measured on it
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <vector>

#include "oq/lesion/ct_segment.h"
#include "oq/volume.h"

namespace oq::lesion::ct {

constexpr double kPi = 3.14159265358979323846;
constexpr int kTheta = 60, kPhi = 120;  // ray directions: 3 degrees apart
constexpr std::size_t kRays = static_cast<std::size_t>(kTheta) * kPhi;
constexpr double kDipPlateauMm = 2.0;   // back at the lesion's level this long after a deep dip
constexpr double kContactPatch = 0.04;  // of the sphere: about 40 x 40 degrees of rays
constexpr double kSmoothingMm = 1.0;    // Gaussian sigma against noise before the rays are cast
constexpr double kScannerBlurMm = 0.6;  // in-plane point spread of a typical body kernel (FWHM 1.4 mm)

// Ray `t * kPhi + p`: polar angle index t, azimuth index p.
Vec3 direction(int t, int p);
inline Vec3 direction(std::size_t ray) {
  return direction(static_cast<int>(ray) / kPhi, static_cast<int>(ray) % kPhi);
}

// Index steps per millimetre along `d` on the grid (its axes are orthonormal).
Vec3 index_steps(const Grid& g, const Vec3& d);
// How long an edge's blurred ramp is along `d` (smoothing, pixel size and, for steep rays, slice
// thickness), mm: what lies beyond an edge is read past it.
double edge_ramp_mm(const Grid& g, const Vec3& d);

// ---- Region ----------------------------------------------------------------------------------

// The neighbourhood of the seed as float HU, smoothed.
struct Roi {
  int x0 = 0, y0 = 0, z0 = 0, nx = 0, ny = 0, nz = 0;
  std::vector<float> v;
  float at(int i, int j, int k) const {
    return v[(static_cast<std::size_t>(k) * static_cast<std::size_t>(ny) + static_cast<std::size_t>(j)) *
                 static_cast<std::size_t>(nx) +
             static_cast<std::size_t>(i)];
  }
  // Trilinear sample at ROI index coordinates; NaN outside.
  float sample(double i, double j, double k) const;
};

// Separable Gaussian, sigma per axis in voxels (axes under 0.3 voxel are left alone).
void smooth(Roi& r, const Vec3& sigma_vox);

// The series within `reach_mm` of `seed_index` (clipped to the series), smoothed by kSmoothingMm.
Roi region_around(const Volume& ct, const Vec3& seed_index, double reach_mm);

// ---- Seed level ------------------------------------------------------------------------------

struct SeedLevel {
  double hu = 0;     // median within 2.5 mm
  double noise = 0;  // robust SD (1.4826 x median absolute deviation) there, at least 2 HU
};
// At ROI index `at`; `spacing` in mm.
SeedLevel level_at(const Roi& roi, const Vec3& at, const Vec3& spacing);

// ---- Rays ------------------------------------------------------------------------------------

// One ray's samples, `step` mm apart from `from` (ROI index) along `di` (index steps per mm),
// read from the region only as far as the search needs them; a NaN sample ends the ray.
class RayProfile {
 public:
  RayProfile(const Roi& roi, const Vec3& from, const Vec3& di, double step, std::size_t cap)
      : roi_(&roi), from_(from), di_(di), step_(step), cap_(cap) {}
  // Whether sample q exists (read up to it when needed).
  bool sample_to(std::size_t q);
  std::vector<float>& samples() { return v_; }
  double step() const { return step_; }

 private:
  const Roi* roi_;
  Vec3 from_, di_;
  double step_;
  std::size_t cap_;
  std::vector<float> v_;
};

// What one ray's search needs: the lesion's level, the threshold for leaving it, and in mm the
// blurred ramp of an edge along this ray, the window beyond it and the farthest edge looked for.
struct EdgeSearch {
  double level = 0, tau = 0, ramp_mm = 0, window_mm = 0, reach_mm = 0;
};

// The edge one ray found.
struct RayEdge {
  double radius = 0;    // mm from the seed, at half the contrast
  double contrast = 0;  // what lies beyond minus the lesion's level (of the near step, after a thin layer)
  double from_mm = 0;   // where the search last set out (past any ripple)
  bool past_ripple = false, past_dark_patch = false;
  bool single_step = false;  // no shoulder of a thin layer before the far step
  double width_25_75 = -1;   // the single step's 25-75 % width, mm (-1: not measured)
  // Not an edge: a thin layer of other tissue with the lesion's level past it (a vessel, a fat
  // plane; all round, the ring of a ring-enhancing lesion). radius is its near side, contrast its
  // extreme.
  bool thin_layer = false;
};

// The first departure from the lesion's level whose far side stays away from it, or a thin layer
// (see RayEdge::thin_layer); ripples (how far each excursion that came back strayed) are appended
// to `ripples`. Nothing when the ray ran off.
std::optional<RayEdge> find_edge(RayProfile& ray, const EdgeSearch& s, std::vector<double>& ripples);

// Rays from a soft-tissue lesion that end in lung or air, for the fat-layer check.
struct DarkRay {
  std::size_t idx;
  Vec3 di;
  double from_mm;  // where its search set out (past any ripple)
};

struct RayCast {
  std::vector<double> radius, contrast;  // per ray (-1 / 0: no edge)
  std::vector<char> valid;               // the edge was seen directly (or past a dark patch)
  std::vector<char> past_ripple, past_dark_patch;
  std::vector<double> layer_radius;  // a thin layer's near side (-1: none)
  std::vector<DarkRay> dark_rays;
  std::vector<std::pair<double, double>> step_widths;  // |dz| of the ray, 25-75 % width in mm
  double tau = 0;                                      // the threshold the rays were cast with
  double step = 0;                                     // mm between a ray's samples
  double valid_share() const;
  double layer_share() const;
};

// All rays from `s0` (ROI index) at the lesion's `level`: once, and once more with another
// threshold when too few saw an edge directly.
RayCast cast_rays(const Roi& roi, const Vec3& s0, const Grid& g, double level, double noise, double max_radius_mm);

// Rays that went on past a deep dark patch keep their edge only on the lesion's own step and
// where a patch of the sphere saw no edge directly.
void drop_dark_patch_edges(RayCast& rays);

// A soft-tissue lesion against lung through a fat layer thinner than the blur: the lesion's edge.
void edges_through_thin_fat(RayCast& rays, const Roi& roi, const Vec3& s0, double level);
double two_step_crossing(double m, double f, double b, double sigma, double w, double level);
double edge_through_fat(const std::vector<float>& profile, double step, double m, double f, double b, double sigma);

// ---- Shape and leak repair -------------------------------------------------------------------

using Quadric = std::array<double, 9>;
std::vector<double> patch_share(const std::vector<char>& marked);
std::optional<std::vector<double>> ellipsoid_radii(const std::vector<double>& radius, const std::vector<char>& use,
                                                   Quadric* quadric = nullptr);
std::vector<double> robust_shape_fit(const std::vector<double>& radius, const std::vector<char>& valid);

struct Outline {
  std::vector<double> radius;  // per ray, mm
  std::vector<char> valid;     // seen directly
  std::vector<char> fixed;     // taken from the shape or the neighbours
  double median_radius = 0;    // over the rays seen or repaired
  double leak_fraction() const;
};
// Rays without an edge, or far from the lesion's smooth shape, take the shape's radius (the
// ellipsoid's across a large patch), rays past a ripple join where they agree with it, and
// outliers among neighbours take their neighbours' median.
Outline repair_leaks(const std::vector<double>& radius, const std::vector<char>& valid, const std::vector<char>& past_ripple);

// ---- The wall --------------------------------------------------------------------------------

// A lesion whose wall is another tissue than its core (a calcified rim around a soft-tissue core,
// the viable rim around a necrotic centre) stops the rays at the core's edge. Past each ray's
// inner edge the wall's level is read, and the wall's own edge searched as the rays search theirs.
struct Wall {
  Outline outline;          // the wall's outer edge, repaired as the rays' edges are
  double hu = 0;            // the wall's CT number (median over the rays)
  double beyond_hu = 0;     // what lies beyond it (median)
  double closed_share = 0;  // of the rays that found the wall's edge
};
// The wall around `inner`, or nothing when none closes around it: `level` is the core's CT
// number, `tau` the rays' threshold.
std::optional<Wall> wall_around(const Outline& inner, const Roi& roi, const Vec3& s0, const Grid& g, double level, double tau);
// Where no edge closes around the seed but most rays met a thin layer with the seed's level past it
// (a ring-enhancing lesion clicked on its necrotic centre): the wall that layer is, if it is one.
std::optional<Wall> wall_of_thin_layers(const RayCast& rays, const Roi& roi, const Vec3& s0, const Grid& g, double level);

// ---- Blur and fill ---------------------------------------------------------------------------

// The half-contrast surface of a blurred convex body lies inside the true one: each radius moves
// out by the blur's variance across the surface times the surface's curvature.
void correct_for_blur(std::vector<double>& radius, const Grid& g);

// The star shape's mask and what is measured on it (everything of CtSegmentation but the seed's
// level, background, noise, leak fraction and confidence); `centre` receives the mask's centre of
// mass and `core_hu` the median smoothed CT number within 60 % of the radius (or nothing).
struct Filled {
  CtSegmentation seg;
  Vec3 centre{};
  std::optional<double> core_hu;
};
std::optional<Filled> fill_star(const Volume& ct, const Vec3& seed, const std::vector<double>& radius, const Roi& roi);

}  // namespace oq::lesion::ct
