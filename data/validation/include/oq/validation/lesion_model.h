// A CT validation set that shares none of the phantom generator's assumptions: lesions of chosen
// shape, texture and contrast inserted into real CT slices of ../shared/data (other scanners, other
// kernels, their own noise), rendered with an in-plane point spread and a slice profile. This
// header is the lesion's geometry and its truth; ct_insert.h renders it into a series.
//
// Truth is computed from the shape alone, never by OncoQuant's measuring code: on each acquired
// slice, the outline where the slice profile sees half of the lesion (the 50 % partial-volume
// outline on the acquired plane); its longest diameter and the longest one perpendicular to it.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace oq::validation {

using P3 = std::array<double, 3>;  // LPS mm

enum class ShapeKind { kEllipsoid, kLobulated, kIrregular };
enum class Texture { kUniform, kHeterogeneous, kNecroticCentre, kCalcifiedRim };
const char* to_string(ShapeKind s);
const char* to_string(Texture t);

// A star-shaped lesion: an ellipsoid (semi-axes a, b in the axial plane turned by `yaw`, c along
// z) whose radius in each direction is scaled by a modulation (1 for an ellipsoid; low-order
// lobes; or several narrow bumps and dents for an irregular outline).
struct LesionShape {
  P3 centre{};
  double a = 10, b = 10, c = 10, yaw = 0;
  struct Lobe {
    int n;  // lobes around the axis
    double amplitude, phase;
  };
  struct Bump {
    P3 direction;  // unit, in the ellipsoid's normalised frame
    double amplitude, width;
  };
  std::vector<Lobe> lobes;
  std::vector<Bump> bumps;

  // |p - centre| over the surface's distance that way, in the ellipsoid's normalised frame:
  // <= 1 inside. Also the fraction of the way to the surface (texture by depth).
  double rho(const P3& p) const;
  bool inside(const P3& p) const { return rho(p) <= 1.0; }
  // A box (LPS mm, min and max corners) that holds the whole shape.
  std::array<P3, 2> bounds() const;
};

LesionShape make_shape(ShapeKind kind, const P3& centre, double diameter_mm, std::mt19937& rng);

// The slice profile: triangular, full width at half maximum = the slice thickness (a helical
// scan's slice sensitivity profile, roughly). Weight of an offset dz from the slice's centre.
double slice_profile(double dz, double thickness);

struct Caliper2D {
  double length = 0;
  std::array<double, 2> a{}, b{};  // LPS x, y of the end points (mm)
};

// The 50 % partial-volume outline of the shape on the acquired slice at `z` (thickness as above),
// sampled every `step` mm in the plane: its longest diameter (from the crossing points of the
// 0.5 level, their convex hull) and the longest chord perpendicular to it.
struct SliceTruth {
  double z = 0;
  Caliper2D long_axis, short_axis;
  double area_mm2 = 0;
};
SliceTruth truth_on_slice(const LesionShape& shape, double z, double thickness, double step = 0.2);

}  // namespace oq::validation
