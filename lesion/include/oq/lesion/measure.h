// RECIST measurement of a lesion outline on one axial slice, as a radiologist measures it: the
// long axis is the longest in-plane diameter, the short axis the longest diameter perpendicular
// to it. Outlines are contour segments in millimetres in the slice plane (sub-voxel, from
// marching squares), so the result does not depend on the voxel staircase.
#pragma once

#include <array>
#include <vector>

namespace oq::lesion {

using Point2 = std::array<double, 2>;

struct Segment2 {
  Point2 a, b;
};

struct Caliper2 {
  double length_mm = 0;
  Point2 a{}, b{};
};

struct SliceCalipers {
  Caliper2 long_axis;
  Caliper2 short_axis;
};

// Calipers of the outline made of these segments (empty outline: zero lengths).
SliceCalipers measure_outline(const std::vector<Segment2>& outline);

// Contour segments where `field` (nx x ny samples, spacing sx, sy mm, sample (i, j) at (i*sx, j*sy))
// crosses `level`, by marching squares with linear interpolation along cell edges.
std::vector<Segment2> contour(const std::vector<float>& field, int nx, int ny, double sx, double sy, float level);

}  // namespace oq::lesion
