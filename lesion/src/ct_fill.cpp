// CT segmentation stages: the blur correction and the star shape's mask and measurements (see
// ct_stages.h).
#include <algorithm>
#include <cmath>

#include "common.h"
#include "ct_stages.h"
#include "oq/lesion/measure.h"

namespace oq::lesion::ct {

using detail::median;

namespace {

// How far blur moves the half-contrast surface in along ray `d` at radius `r`, from the surface's
// curvature: that of the quadric through it when it fits (F(x) = x'Ax + b'x - 1: normal
// n = grad F / |grad F|, second fundamental form 2A / |grad F| on the tangent plane; the surface
// moves in by half the trace of the blur's tangential covariance times it), else a sphere's.
double blur_shift(const Vec3& d, double r, double var_xy, double var_z, const Quadric* q) {
  const double sphere = (2 * var_xy + var_z - (var_xy * (d[0] * d[0] + d[1] * d[1]) + var_z * d[2] * d[2])) / (2 * r);
  if (!q) return sphere;
  const Vec3 x{d[0] * r, d[1] * r, d[2] * r};
  const double A[3][3] = {{(*q)[0], (*q)[3], (*q)[4]}, {(*q)[3], (*q)[1], (*q)[5]}, {(*q)[4], (*q)[5], (*q)[2]}};
  Vec3 grad{};
  for (size_t i = 0; i < 3; ++i) grad[i] = 2 * (A[i][0] * x[0] + A[i][1] * x[1] + A[i][2] * x[2]) + (*q)[6 + i];
  const double gn = std::sqrt(grad[0] * grad[0] + grad[1] * grad[1] + grad[2] * grad[2]);
  const Vec3 n{grad[0] / gn, grad[1] / gn, grad[2] / gn};
  const double cos_in = n[0] * d[0] + n[1] * d[1] + n[2] * d[2];
  if (!(gn > 1e-9 && cos_in > 0.5)) return sphere;
  // Two tangents: away from z first (stable unless the normal is along z).
  Vec3 t1 = std::abs(n[2]) < 0.9 ? Vec3{-n[1], n[0], 0} : Vec3{0, -n[2], n[1]};
  const double l1 = std::sqrt(t1[0] * t1[0] + t1[1] * t1[1] + t1[2] * t1[2]);
  t1 = {t1[0] / l1, t1[1] / l1, t1[2] / l1};
  const Vec3 t2{n[1] * t1[2] - n[2] * t1[1], n[2] * t1[0] - n[0] * t1[2], n[0] * t1[1] - n[1] * t1[0]};
  auto form = [&](const Vec3& u, const Vec3& v) {  // second fundamental form
    double sum = 0;
    for (size_t i = 0; i < 3; ++i)
      for (size_t j = 0; j < 3; ++j) sum += u[i] * A[i][j] * v[j];
    return 2 * sum / gn;
  };
  auto blur = [&](const Vec3& u, const Vec3& v) { return var_xy * (u[0] * v[0] + u[1] * v[1]) + var_z * u[2] * v[2]; };
  const double along_normal = 0.5 * (blur(t1, t1) * form(t1, t1) + 2 * blur(t1, t2) * form(t1, t2) + blur(t2, t2) * form(t2, t2));
  return along_normal > 0 ? along_normal / cos_in : sphere;
}

}  // namespace

// Blur rounds a convex body off: the half-contrast surface of a blurred sphere of radius r lies
// inside the true one by the blur's variance across the surface over 2r (sigma^2 / r when
// isotropic) - a few tenths of a millimetre for a node on 2.5 mm slices, enough to put a 15 mm
// short axis 1 mm short. The blur: our smoothing, a typical body kernel's point spread
// (kScannerBlurMm), and the pixel and slice as boxes. (Measured from the rays' own step widths
// it is too noisy on faint edges: a hypo-attenuating liver lesion read 3 mm of blur.) The
// surface's curvature comes from the ellipsoid through it: a node twice as long along z as across
// is much flatter along z than its in-plane radius says, and slices blur it along z.
void correct_for_blur(std::vector<double>& radius, const Grid& g) {
  const double common = kSmoothingMm * kSmoothingMm + kScannerBlurMm * kScannerBlurMm;
  const double var_xy = common + g.spacing[0] * g.spacing[0] / 12;
  const double var_z = common + g.spacing[2] * g.spacing[2] / 12;
  Quadric q{};
  const bool have_quadric = ellipsoid_radii(radius, std::vector<char>(radius.size(), 1), &q).has_value();
  for (size_t i = 0; i < radius.size(); ++i)
    if (radius[i] > 1) radius[i] += blur_shift(direction(i), radius[i], var_xy, var_z, have_quadric ? &q : nullptr);
}

namespace {

// r(theta, phi) of the star shape, by bilinear interpolation over the ray grid.
double star_radius(const std::vector<double>& radius, const Vec3& d) {
  const double theta = std::acos(std::clamp(d[2], -1.0, 1.0));
  double phi = std::atan2(d[1], d[0]);
  if (phi < 0) phi += 2 * kPi;
  const double ft = std::clamp(theta / kPi * kTheta - 0.5, 0.0, kTheta - 1.0), fp = phi / (2 * kPi) * kPhi;
  const int t0 = std::min(static_cast<int>(ft), kTheta - 2), p0 = static_cast<int>(fp) % kPhi;
  const int p1 = (p0 + 1) % kPhi;
  const double at = ft - t0, ap = fp - std::floor(fp);
  const auto R = [&](int t, int p) { return radius[static_cast<size_t>(t * kPhi + p)]; };
  return (1 - at) * ((1 - ap) * R(t0, p0) + ap * R(t0, p1)) + at * ((1 - ap) * R(t0 + 1, p0) + ap * R(t0 + 1, p1));
}

// The star shape's bounding box on the series grid, and per axial slice in it the signed distance
// to the surface along the ray through each voxel (positive inside): its zero level is the outline,
// computed once for the mask and the calipers.
struct StarField {
  int lo[3], hi[3];
  int nx = 0, ny = 0;
  std::vector<std::vector<float>> slices;
  float at(int i, int j, int k) const {
    return slices[static_cast<size_t>(k - lo[2])]
                 [static_cast<size_t>(j - lo[1]) * static_cast<size_t>(nx) + static_cast<size_t>(i - lo[0])];
  }
};

StarField star_field(const Grid& g, const Vec3& seed, const std::vector<double>& radius) {
  const Vec3 si = g.to_index(seed);
  double r_max = 0;
  for (double r : radius) r_max = std::max(r_max, r);
  StarField f;
  for (int a = 0; a < 3; ++a) {
    const auto ua = static_cast<size_t>(a);
    const int half = static_cast<int>(std::ceil((r_max + 1) / g.spacing[ua]));
    f.lo[a] = std::max(0, static_cast<int>(std::lround(si[ua])) - half);
    f.hi[a] = std::min(static_cast<int>(g.size[ua]) - 1, static_cast<int>(std::lround(si[ua])) + half);
  }
  f.nx = f.hi[0] - f.lo[0] + 1;
  f.ny = f.hi[1] - f.lo[1] + 1;
  auto inside_margin = [&](double i, double j, double k) {
    const Vec3 p = g.to_lps(i, j, k);
    const Vec3 v{p[0] - seed[0], p[1] - seed[1], p[2] - seed[2]};
    const double rho = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (rho < 1e-9) return star_radius(radius, {0, 0, 1});
    return star_radius(radius, {v[0] / rho, v[1] / rho, v[2] / rho}) - rho;
  };
  f.slices.resize(static_cast<size_t>(f.hi[2] - f.lo[2] + 1));
  for (int k = f.lo[2]; k <= f.hi[2]; ++k) {
    std::vector<float>& field = f.slices[static_cast<size_t>(k - f.lo[2])];
    field.resize(static_cast<size_t>(f.nx) * static_cast<size_t>(f.ny));
    for (int j = 0; j < f.ny; ++j)
      for (int i = 0; i < f.nx; ++i)
        field[static_cast<size_t>(j) * static_cast<size_t>(f.nx) + static_cast<size_t>(i)] =
            static_cast<float>(inside_margin(f.lo[0] + i, f.lo[1] + j, k));
  }
  return f;
}

// RECIST calipers on every axial slice through the lesion; the slice with the longest wins. For
// nodes, the largest short axis on any slice too.
void recist_calipers(const StarField& f, const Grid& g, CtSegmentation& out) {
  for (int k = f.lo[2]; k <= f.hi[2]; ++k) {
    const std::vector<float>& field = f.slices[static_cast<size_t>(k - f.lo[2])];
    if (std::none_of(field.begin(), field.end(), [](float v) { return v >= 0; })) continue;
    const SliceCalipers c = measure_outline(contour(field, f.nx, f.ny, g.spacing[0], g.spacing[1], 0.0f));
    auto to_lps = [&](const Point2& q) { return g.to_lps(f.lo[0] + q[0] / g.spacing[0], f.lo[1] + q[1] / g.spacing[1], k); };
    if (c.short_axis.length_mm > out.largest_short_axis.length_mm) {
      out.largest_short_axis_slice_index = k;
      out.largest_short_axis = {c.short_axis.length_mm, to_lps(c.short_axis.a), to_lps(c.short_axis.b)};
    }
    if (c.long_axis.length_mm <= out.long_axis.length_mm) continue;
    out.axial_slice_index = k;
    out.long_axis = {c.long_axis.length_mm, to_lps(c.long_axis.a), to_lps(c.long_axis.b)};
    out.short_axis = {c.short_axis.length_mm, to_lps(c.short_axis.a), to_lps(c.short_axis.b)};
  }
}

// The largest 3D diameter between ray ends (every other ray each way).
Caliper largest_diameter(const Vec3& seed, const std::vector<double>& radius) {
  std::vector<Vec3> ends;
  for (int t = 0; t < kTheta; t += 2)
    for (int p = 0; p < kPhi; p += 2) {
      const Vec3 d = direction(t, p);
      const double r = radius[static_cast<size_t>(t * kPhi + p)];
      ends.push_back({seed[0] + r * d[0], seed[1] + r * d[1], seed[2] + r * d[2]});
    }
  Caliper best;
  for (size_t i = 0; i < ends.size(); ++i)
    for (size_t j = i + 1; j < ends.size(); ++j) {
      const double dx = ends[i][0] - ends[j][0], dy = ends[i][1] - ends[j][1], dz = ends[i][2] - ends[j][2];
      const double d = std::sqrt(dx * dx + dy * dy + dz * dz);
      if (d > best.length_mm) best = {d, ends[i], ends[j]};
    }
  return best;
}

}  // namespace

std::optional<Filled> fill_star(const Volume& ct, const Vec3& seed, const std::vector<double>& radius, const Roi& roi) {
  const Grid& g = ct.grid();
  const StarField f = star_field(g, seed, radius);
  Filled out;
  // The mask covers the lesion's bounding box only: memory follows the lesion, not the series.
  Grid mg = g;
  for (size_t a = 0; a < 3; ++a) {
    mg.size[a] = static_cast<size_t>(f.hi[a] - f.lo[a] + 1);
    out.seg.mask_offset[a] = static_cast<size_t>(f.lo[a]);
  }
  mg.origin = g.to_lps(f.lo[0], f.lo[1], f.lo[2]);
  out.seg.mask = Volume(mg, VoxelType::kUInt8);
  out.seg.mask.set_units("label");
  uint8_t* mask = out.seg.mask.data<uint8_t>();
  double hu_sum = 0, i_sum = 0, j_sum = 0, k_sum = 0;
  size_t count = 0;
  std::vector<double> core;
  for (int k = f.lo[2]; k <= f.hi[2]; ++k)
    for (int j = f.lo[1]; j <= f.hi[1]; ++j)
      for (int i = f.lo[0]; i <= f.hi[0]; ++i) {
        const double margin = f.at(i, j, k);
        if (margin < 0) continue;
        mask[(static_cast<size_t>(k - f.lo[2]) * mg.size[1] + static_cast<size_t>(j - f.lo[1])) * mg.size[0] +
             static_cast<size_t>(i - f.lo[0])] = 1;
        hu_sum += ct.value((static_cast<size_t>(k) * g.size[1] + static_cast<size_t>(j)) * g.size[0] + static_cast<size_t>(i));
        const Vec3 p = g.to_lps(i, j, k);
        const double rho = std::sqrt((p[0] - seed[0]) * (p[0] - seed[0]) + (p[1] - seed[1]) * (p[1] - seed[1]) +
                                     (p[2] - seed[2]) * (p[2] - seed[2]));
        const int ri = i - roi.x0, rj = j - roi.y0, rk = k - roi.z0;
        if (rho <= 0.6 * (rho + margin) && ri >= 0 && rj >= 0 && rk >= 0 && ri < roi.nx && rj < roi.ny && rk < roi.nz)
          core.push_back(roi.at(ri, rj, rk));
        i_sum += i;
        j_sum += j;
        k_sum += k;
        ++count;
      }
  if (count == 0) return std::nullopt;
  const auto n = static_cast<double>(count);
  out.centre = g.to_lps(i_sum / n, j_sum / n, k_sum / n);
  if (!core.empty()) out.core_hu = median(core);
  out.seg.volume_ml = n * g.spacing[0] * g.spacing[1] * g.spacing[2] / 1000.0;
  out.seg.mean_hu = hu_sum / n;
  recist_calipers(f, g, out.seg);
  out.seg.max_3d = largest_diameter(seed, radius);
  return out;
}

}  // namespace oq::lesion::ct
