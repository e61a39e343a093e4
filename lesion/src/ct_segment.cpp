#include "oq/lesion/ct_segment.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <optional>
#include <vector>

#include "common.h"
#include "oq/lesion/measure.h"

namespace oq::lesion {
namespace {

using detail::median;
using detail::where;

constexpr double kPi = 3.14159265358979323846;
constexpr int kTheta = 60, kPhi = 120;  // ray directions: 3 degrees apart
constexpr double kDipPlateauMm = 2.0;   // back at the lesion's level this long after a deep dip
constexpr double kContactPatch = 0.04;  // of the sphere: about 40 x 40 degrees of rays
constexpr double kSmoothingMm = 1.0;    // Gaussian sigma against noise before the rays are cast
constexpr double kScannerBlurMm = 0.6;  // in-plane point spread of a typical body kernel (FWHM 1.4 mm)

// The neighbourhood of the seed as float HU, smoothed.
struct Roi {
  int x0 = 0, y0 = 0, z0 = 0, nx = 0, ny = 0, nz = 0;
  std::vector<float> v;
  float at(int i, int j, int k) const {
    return v[(static_cast<size_t>(k) * static_cast<size_t>(ny) + static_cast<size_t>(j)) * static_cast<size_t>(nx) +
             static_cast<size_t>(i)];
  }
  // Trilinear sample at ROI index coordinates; NaN outside.
  float sample(double i, double j, double k) const {
    if (i < 0 || j < 0 || k < 0 || i > nx - 1 || j > ny - 1 || k > nz - 1) return std::numeric_limits<float>::quiet_NaN();
    const int i0 = std::min(static_cast<int>(i), nx - 2 < 0 ? 0 : nx - 2),
              j0 = std::min(static_cast<int>(j), ny - 2 < 0 ? 0 : ny - 2);
    const int k0 = std::min(static_cast<int>(k), nz - 2 < 0 ? 0 : nz - 2);
    const int i1 = std::min(i0 + 1, nx - 1), j1 = std::min(j0 + 1, ny - 1), k1 = std::min(k0 + 1, nz - 1);
    const double fi = i - i0, fj = j - j0, fk = k - k0;
    auto lerp = [](double a, double b, double t) { return a + (b - a) * t; };
    const double c00 = lerp(at(i0, j0, k0), at(i1, j0, k0), fi), c10 = lerp(at(i0, j1, k0), at(i1, j1, k0), fi);
    const double c01 = lerp(at(i0, j0, k1), at(i1, j0, k1), fi), c11 = lerp(at(i0, j1, k1), at(i1, j1, k1), fi);
    return static_cast<float>(lerp(lerp(c00, c10, fj), lerp(c01, c11, fj), fk));
  }
};

// Normalised Gaussian taps out to 2.5 sigma.
std::vector<float> gaussian_weights(double sigma_vox) {
  const auto rad = static_cast<size_t>(std::ceil(2.5 * sigma_vox));
  std::vector<double> g(2 * rad + 1);
  for (size_t k = 0; k < g.size(); ++k) {
    const double t = static_cast<double>(k) - static_cast<double>(rad);
    g[k] = std::exp(-0.5 * t * t / (sigma_vox * sigma_vox));
  }
  const double sum = std::accumulate(g.begin(), g.end(), 0.0);
  std::vector<float> w(g.size());
  for (size_t k = 0; k < g.size(); ++k) w[k] = static_cast<float>(g[k] / sum);
  return w;
}

// Separable Gaussian along each axis whose sigma (in voxels) is worth it: CT noise of 10-25 HU
// would otherwise hide a 40-60 HU lesion boundary; 1 mm keeps the edge where it is. Every loop
// runs along x, the contiguous axis (rows of a padded copy for x; whole rows of the
// neighbouring rows or slices for y and z), so the compiler vectorises it: the smoothing is most
// of a click's time.
void smooth(Roi& r, const Vec3& sigma_vox) {
  const auto nx = static_cast<size_t>(r.nx), ny = static_cast<size_t>(r.ny), nz = static_cast<size_t>(r.nz);
  if (sigma_vox[0] >= 0.3 && nx >= 3) {
    const std::vector<float> w = gaussian_weights(sigma_vox[0]);
    const size_t rad = w.size() / 2;
    std::vector<float> line(nx + 2 * rad);
    for (size_t row = 0; row < ny * nz; ++row) {
      float* v = r.v.data() + row * nx;
      std::fill(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(rad), v[0]);
      std::copy(v, v + nx, line.begin() + static_cast<std::ptrdiff_t>(rad));
      std::fill(line.begin() + static_cast<std::ptrdiff_t>(rad + nx), line.end(), v[nx - 1]);
      for (size_t i = 0; i < nx; ++i) {
        float acc = 0;
        for (size_t t = 0; t < w.size(); ++t) acc += w[t] * line[i + t];
        v[i] = acc;
      }
    }
  }
  // Along y (rows of a slice) or z (slices): each output row is a weighted sum of whole rows.
  auto along = [&](double sigma, size_t count, size_t stride) {
    if (sigma < 0.3 || count < 3) return;
    const std::vector<float> w = gaussian_weights(sigma);
    const auto rad = static_cast<long>(w.size() / 2);
    std::vector<float> out(r.v.size());
    const size_t outer = r.v.size() / (count * stride);  // slices for y, 1 for z
    for (size_t o = 0; o < outer; ++o)
      for (size_t c = 0; c < count; ++c) {
        float* dst = out.data() + o * count * stride + c * stride;
        std::fill(dst, dst + stride, 0.0f);
        for (long t = -rad; t <= rad; ++t) {
          const auto q = static_cast<size_t>(std::clamp(static_cast<long>(c) + t, 0L, static_cast<long>(count) - 1));
          const float* src = r.v.data() + o * count * stride + q * stride;
          const float wt = w[static_cast<size_t>(t + rad)];
          for (size_t i = 0; i < stride; ++i) dst[i] += wt * src[i];
        }
      }
    r.v.swap(out);
  };
  along(sigma_vox[1], ny, nx);
  along(sigma_vox[2], nz, nx * ny);
}

Vec3 direction(int t, int p) {
  const double theta = (t + 0.5) * kPi / kTheta, phi = p * 2 * kPi / kPhi;
  return {std::sin(theta) * std::cos(phi), std::sin(theta) * std::sin(phi), std::cos(theta)};
}

// Basis of polynomials of degree <= L on the unit sphere (x^a y^b z^c with c <= 1: the (L+1)^2
// functions span the same space as the spherical harmonics up to degree L).
std::vector<double> shape_basis(const Vec3& d, int degree) {
  std::vector<double> f;
  for (int c = 0; c <= 1; ++c)
    for (int a = 0; a <= degree - c; ++a)
      for (int b = 0; a + b <= degree - c; ++b) f.push_back(std::pow(d[0], a) * std::pow(d[1], b) * std::pow(d[2], c));
  return f;
}

// Solves the small symmetric system A x = y by Gaussian elimination with partial pivoting.
std::vector<double> solve(std::vector<std::vector<double>> A, std::vector<double> y) {
  const size_t n = y.size();
  for (size_t col = 0; col < n; ++col) {
    size_t piv = col;
    for (size_t r = col + 1; r < n; ++r)
      if (std::abs(A[r][col]) > std::abs(A[piv][col])) piv = r;
    std::swap(A[col], A[piv]);
    std::swap(y[col], y[piv]);
    if (std::abs(A[col][col]) < 1e-12) continue;
    for (size_t r = 0; r < n; ++r) {
      if (r == col) continue;
      const double f = A[r][col] / A[col][col];
      for (size_t k = col; k < n; ++k) A[r][k] -= f * A[col][k];
      y[r] -= f * y[col];
    }
  }
  std::vector<double> x(n, 0);
  for (size_t i = 0; i < n; ++i)
    if (std::abs(A[i][i]) >= 1e-12) x[i] = y[i] / A[i][i];
  return x;
}

// Robust smooth radius per ray: iteratively reweighted least squares with Tukey's biweight from
// a starting shape, so rays far from it (leaks) carry no weight.
std::vector<double> tukey_shape_fit(const std::vector<double>& radius, const std::vector<char>& valid, int degree,
                                    std::vector<double> fit) {
  const size_t n = radius.size();
  std::vector<std::vector<double>> basis(n);
  for (int t = 0; t < kTheta; ++t)
    for (int p = 0; p < kPhi; ++p) basis[static_cast<size_t>(t * kPhi + p)] = shape_basis(direction(t, p), degree);
  const size_t m = basis[0].size();
  // Directions crowd towards the poles of the ray grid: weigh each ray by its solid angle.
  std::vector<double> area(n);
  for (int t = 0; t < kTheta; ++t)
    for (int p = 0; p < kPhi; ++p) area[static_cast<size_t>(t * kPhi + p)] = std::sin((t + 0.5) * kPi / kTheta);
  for (int iter = 0; iter < 12; ++iter) {
    std::vector<double> res;
    for (size_t i = 0; i < n; ++i)
      if (valid[i]) res.push_back(std::abs(radius[i] - fit[i]));
    const double scale = std::max(0.5, 1.4826 * median(res));
    const double c = 3.5 * scale;
    std::vector<std::vector<double>> A(m, std::vector<double>(m, 0));
    std::vector<double> y(m, 0);
    for (size_t i = 0; i < n; ++i) {
      if (!valid[i]) continue;
      const double e = (radius[i] - fit[i]) / c;
      if (std::abs(e) >= 1) continue;
      const double w = area[i] * (1 - e * e) * (1 - e * e);
      for (size_t a = 0; a < m; ++a) {
        y[a] += w * basis[i][a] * radius[i];
        for (size_t b = 0; b < m; ++b) A[a][b] += w * basis[i][a] * basis[i][b];
      }
    }
    for (size_t a = 0; a < m; ++a) A[a][a] += 1e-6;
    const std::vector<double> coef = solve(A, y);
    for (size_t i = 0; i < n; ++i) {
      double f = 0;
      for (size_t a = 0; a < m; ++a) f += coef[a] * basis[i][a];
      fit[i] = std::max(0.0, f);
    }
  }
  return fit;
}

// For each marked ray, the share of the sphere covered by its connected patch of marked rays
// (neighbours on the ray grid, around in phi); 0 for unmarked rays.
std::vector<double> patch_share(const std::vector<char>& marked) {
  std::vector<double> out(marked.size(), 0);
  std::vector<int> patch(marked.size(), -1);
  double sphere = 0;
  for (int t = 0; t < kTheta; ++t) sphere += kPhi * std::sin((t + 0.5) * kPi / kTheta);
  std::vector<size_t> members, stack;
  for (size_t i0 = 0; i0 < marked.size(); ++i0) {
    if (!marked[i0] || patch[i0] >= 0) continue;
    members.clear();
    stack.assign(1, i0);
    patch[i0] = static_cast<int>(i0);
    double area = 0;
    while (!stack.empty()) {
      const size_t i = stack.back();
      stack.pop_back();
      members.push_back(i);
      const int t = static_cast<int>(i) / kPhi, p = static_cast<int>(i) % kPhi;
      area += std::sin((t + 0.5) * kPi / kTheta);
      for (int dt = -1; dt <= 1; ++dt)
        for (int dp = -1; dp <= 1; ++dp) {
          const int tt = t + dt;
          if (tt < 0 || tt >= kTheta) continue;
          const auto nb = static_cast<size_t>(tt * kPhi + (p + dp + kPhi) % kPhi);
          if (marked[nb] && patch[nb] < 0) {
            patch[nb] = static_cast<int>(i0);
            stack.push_back(nb);
          }
        }
    }
    for (size_t i : members) out[i] = area / sphere;
  }
  return out;
}

// An ellipsoid through the boundary points seen from the seed (inside it): y'Ay + b'y = 1 for
// y = r d, linear in A (symmetric) and b, fitted with Tukey weights on the radial residuals.
// Returns the radius along every ray, or nothing when the fit is not an ellipsoid around the seed;
// `quadric` (when given) receives the coefficients (xx, yy, zz, xy, xz, yz, x, y, z).
using Quadric = std::array<double, 9>;
std::optional<std::vector<double>> ellipsoid_radii(const std::vector<double>& radius, const std::vector<char>& use,
                                                   Quadric* quadric = nullptr) {
  const size_t n = radius.size();
  auto terms = [](const Vec3& d, double r) {
    const double x = d[0] * r, yy = d[1] * r, z = d[2] * r;
    return std::array<double, 9>{x * x, yy * yy, z * z, 2 * x * yy, 2 * x * z, 2 * yy * z, x, yy, z};
  };
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) used += use[i] && radius[i] > 0;
  if (used < 50) return std::nullopt;
  std::vector<double> out(n), weight(n, 1.0);
  // Iteratively reweighted, as the smooth shape: rays that graze the contact (their beyond is part
  // abutting tissue, part fat) read short and would pull the ellipsoid in.
  for (int iter = 0; iter < 6; ++iter) {
    std::vector<std::vector<double>> A(9, std::vector<double>(9, 0));
    std::vector<double> y(9, 0);
    for (int t = 0; t < kTheta; ++t)
      for (int p = 0; p < kPhi; ++p) {
        const size_t i = static_cast<size_t>(t * kPhi + p);
        if (!use[i] || radius[i] <= 0 || weight[i] <= 0) continue;
        const double w = weight[i] * std::sin((t + 0.5) * kPi / kTheta);
        const auto f = terms(direction(t, p), radius[i]);
        for (size_t a = 0; a < 9; ++a) {
          y[a] += w * f[a];
          for (size_t b = 0; b < 9; ++b) A[a][b] += w * f[a] * f[b];
        }
      }
    const std::vector<double> q = solve(A, y);
    if (quadric) std::copy(q.begin(), q.end(), quadric->begin());
    for (int t = 0; t < kTheta; ++t)
      for (int p = 0; p < kPhi; ++p) {
        const Vec3 d = direction(t, p);
        const double a = q[0] * d[0] * d[0] + q[1] * d[1] * d[1] + q[2] * d[2] * d[2] + 2 * q[3] * d[0] * d[1] +
                         2 * q[4] * d[0] * d[2] + 2 * q[5] * d[1] * d[2];
        const double b = q[6] * d[0] + q[7] * d[1] + q[8] * d[2];
        if (a <= 0) return std::nullopt;
        out[static_cast<size_t>(t * kPhi + p)] = (-b + std::sqrt(b * b + 4 * a)) / (2 * a);
      }
    // Tukey's biweight on the radial residuals for the next round.
    std::vector<double> res;
    for (size_t i = 0; i < n; ++i)
      if (use[i] && radius[i] > 0) res.push_back(std::abs(radius[i] - out[i]));
    const double c = 3.5 * std::max(0.25, 1.4826 * median(res));
    for (size_t i = 0; i < n; ++i) {
      const double e = (radius[i] - out[i]) / c;
      weight[i] = std::abs(e) >= 1 ? 0 : (1 - e * e) * (1 - e * e);
    }
  }
  return out;
}

// The lesion's own smooth shape, from a sphere of the median radius. Degree 4 follows lobulated
// lesions; when many rays found no boundary the fit has to bridge large gaps and degree 2 (an
// ellipsoid-like shape) extrapolates more safely. (Starting degree 4 from a degree-2 fit
// resists leaks better but clips lobules, and the long axis then depends more on the seed.)
std::vector<double> robust_shape_fit(const std::vector<double>& radius, const std::vector<char>& valid) {
  const size_t n = radius.size();
  const double share = static_cast<double>(std::count(valid.begin(), valid.end(), 1)) / static_cast<double>(n);
  std::vector<double> rs;
  for (size_t i = 0; i < n; ++i)
    if (valid[i]) rs.push_back(radius[i]);
  return tukey_shape_fit(radius, valid, share >= 0.75 ? 4 : 2, std::vector<double>(n, median(rs)));
}

// Standard normal distribution function.
double phi_cdf(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

// First position along a sampled profile (samples `step` mm apart) where it falls to `level`
// (the profile starts above it; with sign +1, where it rises to it from below), linearly
// interpolated; negative when it never does.
double falls_to(const std::vector<float>& profile, double level, double step, double sign = -1) {
  for (size_t q = 1; q < profile.size(); ++q)
    if ((profile[q] - level) * sign >= 0) {
      const double a = (level - profile[q - 1]) * sign, b = (level - profile[q]) * sign;
      return (static_cast<double>(q - 1) + (a > b ? a / (a - b) : 0.0)) * step;
    }
  return -1;
}

// A soft-tissue lesion seen through a layer of fat of width w before lung or air: the blurred
// profile m + (f - m) Phi(x / sigma) + (b - f) Phi((x - w) / sigma), the lesion's edge at x = 0.
// Returns where it falls to `level` (to a micrometre: this runs for every such ray).
double two_step_crossing(double m, double f, double b, double sigma, double w, double level) {
  double lo = -6 * sigma, hi = w + 6 * sigma;
  while (hi - lo > 1e-3) {
    const double x = 0.5 * (lo + hi);
    const double v = m + (f - m) * phi_cdf(x / sigma) + (b - f) * phi_cdf((x - w) / sigma);
    (v > level ? lo : hi) = x;
  }
  return 0.5 * (lo + hi);
}

// The lesion's edge on a ray that leaves a soft-tissue lesion (m) for lung or air (b) through fat
// (f): a fat layer thinner than the blur leaves no plateau, and the half-contrast between lesion
// and lung then lies out in the fat. Where the profile falls to the lesion/fat midpoint (x1)
// and to the fat/lung midpoint (x2) are both measured; their distance gives the layer's width
// through the blurred two-step model, and x1 then the edge. A distance no longer than a single
// step's (no fat) returns a negative value: the half-contrast stands.
double edge_through_fat(const std::vector<float>& profile, double step, double m, double f, double b, double sigma) {
  const double l1 = 0.5 * (m + f), l2 = 0.5 * (f + b);
  const double x1 = falls_to(profile, l1, step), x2 = falls_to(profile, l2, step);
  if (x1 < 0 || x2 <= x1) return -1;
  const double measured = x2 - x1;
  auto gap = [&](double w) { return two_step_crossing(m, f, b, sigma, w, l2) - two_step_crossing(m, f, b, sigma, w, l1); };
  if (measured <= gap(0) + 0.05) return -1;
  double lo = 0, hi = 15;
  if (measured >= gap(hi)) return -1;  // not a thin layer: something else lies between
  while (hi - lo > 1e-3) {
    const double w = 0.5 * (lo + hi);
    (gap(w) < measured ? lo : hi) = w;
  }
  return x1 - two_step_crossing(m, f, b, sigma, 0.5 * (lo + hi), l1);
}

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

// One segmentation from `seed`, at the lesion's CT number `level` when given (else the seed's);
// `centre` receives the segmented lesion's centre of mass and `core_hu` the median (smoothed) CT
// number of its inner part (within 60 % of the radius).
Result<CtSegmentation> segment_from(const Volume& ct, const Vec3& seed, const CtSegmentOptions& options,
                                    std::optional<double> level, Vec3& centre, double& core_hu) {
  const Grid& g = ct.grid();
  const Vec3 si = g.to_index(seed);
  for (int a = 0; a < 3; ++a)
    if (si[static_cast<size_t>(a)] < -0.5 ||
        si[static_cast<size_t>(a)] > static_cast<double>(g.size[static_cast<size_t>(a)]) - 0.5)
      return Error(ErrorCode::kInvalidArgument, "the seed " + where(seed) + " lies outside the series");

  // Region of interest: the largest lesion we look for, plus room for the background beyond it.
  const double reach = options.max_radius_mm + 8;
  Roi roi;
  int lo[3], hi[3];
  for (int a = 0; a < 3; ++a) {
    const auto ua = static_cast<size_t>(a);
    const int half = static_cast<int>(std::ceil(reach / g.spacing[ua]));
    const int c = static_cast<int>(std::lround(si[ua]));
    lo[a] = std::max(0, c - half);
    hi[a] = std::min(static_cast<int>(g.size[ua]) - 1, c + half);
  }
  roi.x0 = lo[0];
  roi.y0 = lo[1];
  roi.z0 = lo[2];
  roi.nx = hi[0] - lo[0] + 1;
  roi.ny = hi[1] - lo[1] + 1;
  roi.nz = hi[2] - lo[2] + 1;
  roi.v.resize(static_cast<size_t>(roi.nx) * static_cast<size_t>(roi.ny) * static_cast<size_t>(roi.nz));
  for (int k = 0; k < roi.nz; ++k)
    for (int j = 0; j < roi.ny; ++j)
      for (int i = 0; i < roi.nx; ++i)
        roi.v[(static_cast<size_t>(k) * static_cast<size_t>(roi.ny) + static_cast<size_t>(j)) * static_cast<size_t>(roi.nx) +
              static_cast<size_t>(i)] =
            static_cast<float>(
                ct.value((static_cast<size_t>(k + roi.z0) * g.size[1] + static_cast<size_t>(j + roi.y0)) * g.size[0] +
                         static_cast<size_t>(i + roi.x0)));
  smooth(roi, {kSmoothingMm / g.spacing[0], kSmoothingMm / g.spacing[1], kSmoothingMm / g.spacing[2]});

  // The lesion's CT number and noise at the seed.
  const Vec3 s0{si[0] - roi.x0, si[1] - roi.y0, si[2] - roi.z0};
  std::vector<double> near;
  for (int k = -2; k <= 2; ++k)
    for (int j = -3; j <= 3; ++j)
      for (int i = -3; i <= 3; ++i) {
        const double dx = i * g.spacing[0], dy = j * g.spacing[1], dz = k * g.spacing[2];
        if (dx * dx + dy * dy + dz * dz > 2.5 * 2.5) continue;
        const float v = roi.sample(s0[0] + i, s0[1] + j, s0[2] + k);
        if (!std::isnan(v)) near.push_back(v);
      }
  const double seed_hu = median(near);
  std::vector<double> dev(near.size());
  std::transform(near.begin(), near.end(), dev.begin(), [&](double v) { return std::abs(v - seed_hu); });
  const double noise = std::max(2.0, 1.4826 * median(dev));
  const double m = level.value_or(seed_hu);
  if (m < -400)
    return Error(ErrorCode::kNotFound, "no lesion found at " + where(seed) + ": the seed is on air or lung (" +
                                           std::to_string(std::lround(m)) + " HU)");
  if (m > 300)
    return Error(ErrorCode::kNotFound, "no lesion found at " + where(seed) + ": the seed is on bone or calcification (" +
                                           std::to_string(std::lround(m)) + " HU); only soft-tissue lesions are segmented");

  // Cast the rays.
  const double step = 0.25 * std::min({g.spacing[0], g.spacing[1], g.spacing[2]});
  double tau = std::max(3 * noise, 12.0);
  std::vector<double> radius, contrast;
  std::vector<char> valid;
  // Rays whose boundary lies past a ripple: they join only where they agree with the shape the
  // other rays give (past a ripple may also lie an abutting organ's far side).
  std::vector<char> past_ripple;
  // Rays whose search went on past a deep dark patch (necrosis, or noise); see below.
  std::vector<char> past_dark_patch;
  std::vector<double> ripples;  // how far each ripple strayed from the lesion's level
  std::vector<float> profile;
  // Rays from a soft-tissue lesion that end in lung or air, for the fat-layer check below (their
  // index steps per millimetre), and the width of each single step (for the blur along rays of
  // that steepness).
  struct DarkRay {
    size_t idx;
    Vec3 di;
    double from_mm;  // where its search set out (past any ripple)
  };
  std::vector<DarkRay> dark_rays;
  std::vector<std::pair<double, double>> step_widths;  // |dz|, 25-75 % width in mm
  // When too few rays saw a boundary directly (the lesion would be refused), they are cast once
  // more with another threshold:
  // - a textured lesion (a heterogeneous metastasis) may vary more than the noise around the
  //   click says: when a quarter or more of the rays met ripples before their boundary, the
  //   ripples set it (the 90th centile of how far they strayed). (Doing so whenever a quarter met
  //   ripples lost faint boundaries between a node and abutting tissue of nearly its density: a
  //   para-aortic node leaked to 39 mm for 23.)
  // - else the lesion may be faint for the noise read at the click, which holds some texture
  //   too: a boundary needs a step of 1.5 thresholds, 4.5 noise SD, and a hypo-attenuating liver
  //   metastasis 45 HU below the liver, clicked 1.5 mm off its centre where the noise read
  //   10 HU, had none. The threshold comes down to 2 noise SD.
  constexpr auto kRays = static_cast<size_t>(kTheta) * kPhi;
  for (int cast = 0; cast < 2; ++cast) {
    radius.assign(kRays, -1);
    contrast.assign(kRays, 0);
    valid.assign(kRays, 0);
    past_ripple.assign(kRays, 0);
    past_dark_patch.assign(kRays, 0);
    ripples.clear();
    dark_rays.clear();
    step_widths.clear();
    for (int t = 0; t < kTheta; ++t)
      for (int p = 0; p < kPhi; ++p) {
        const Vec3 d = direction(t, p);
        // Index steps per millimetre along d (the grid axes are orthonormal).
        Vec3 di{};
        for (int a = 0; a < 3; ++a) {
          const Vec3 ax = g.axis(a);
          di[static_cast<size_t>(a)] = (ax[0] * d[0] + ax[1] * d[1] + ax[2] * d[2]) / g.spacing[static_cast<size_t>(a)];
        }
        // What lies beyond the edge is sampled past its blurred ramp (smoothing, pixel size and,
        // for steep rays, slice thickness), else a high-contrast edge's own ramp would pass for
        // the background. Nothing past that window is needed: sampling stops there.
        const double ramp = 2.5 + 0.5 * g.spacing[2] * std::abs(d[2]) + 0.5 * g.spacing[0];
        const auto window = static_cast<size_t>((ramp + 4) / step);
        const auto limit = static_cast<size_t>((options.max_radius_mm + 5) / step);
        profile.clear();
        // Samples the ray up to index `q` (fewer where it leaves the region).
        auto sample_to = [&](size_t q) {
          while (profile.size() <= q && profile.size() <= limit + window + 1) {
            const double s = static_cast<double>(profile.size()) * step;
            const float v = roi.sample(s0[0] + di[0] * s, s0[1] + di[1] * s, s0[2] + di[2] * s);
            if (std::isnan(v)) {
              profile.push_back(v);  // a NaN ends the ray
              break;
            }
            profile.push_back(v);
          }
          return q < profile.size() && !std::isnan(profile[q]);
        };
        const int idx = t * kPhi + p;
        // The first departure from the lesion's level whose far side stays away from it is the
        // boundary. A departure that comes back (a ripple: texture inside the lesion, a small
        // vessel crossing it) does not end the search: the ray goes on from where the profile is
        // back at the lesion's level.
        const auto reach_q = static_cast<size_t>(options.max_radius_mm / step);
        size_t first = 0, start = 0;
        double b = 0;
        bool found = false;
        bool dark_patch = false;  // went on past a deep dark patch
        for (size_t from = 0;;) {
          first = from;
          while (sample_to(first) && std::abs(profile[first] - m) <= tau) ++first;
          if (!sample_to(first) || first > reach_q) break;  // ran off: no boundary
          sample_to(first + window + 1);
          std::vector<double> beyond;
          for (size_t q = first + static_cast<size_t>(ramp / step); q <= first + window && sample_to(q); ++q)
            beyond.push_back(profile[q]);
          if (beyond.empty()) break;
          b = median(beyond);
          if (std::abs(b - m) >= std::max(1.5 * tau, 20.0)) {
            // Past a dark patch, only a step up (to the liver) is the lesion's boundary.
            found = !dark_patch || b > m;
            start = from;
            break;
          }
          size_t back = first;
          double excursion = 0, signed_excursion = 0;
          for (; sample_to(back) && std::abs(profile[back] - m) > tau; ++back)
            if (std::abs(profile[back] - m) > excursion) {
              excursion = std::abs(profile[back] - m);
              signed_excursion = profile[back] - m;
            }
          if (!sample_to(back)) break;
          if (excursion >= std::max(1.5 * tau, 20.0)) {
            // A thin layer of other tissue (fat between a node and the psoas): a boundary not
            // resolved - unless it was darker and the profile then stays at the lesion's level
            // for a while: a darker patch inside a hypo-attenuating metastasis (necrosis; on a
            // noisy series, a blob of noise), whose edge to the brighter liver lies beyond.
            // (Going on past brighter patches inside hyper-attenuating metastases found a thin
            // rim of liver before fat, and the long axis moved by 1 mm with the click.)
            size_t plateau = back;
            while (sample_to(plateau) && std::abs(profile[plateau] - m) <= tau) ++plateau;
            if (dark_patch || signed_excursion > 0 || static_cast<double>(plateau - back) * step < kDipPlateauMm) break;
            dark_patch = true;
          } else {
            ripples.push_back(excursion);
          }
          from = back;
        }
        if (!found) continue;
        // The profile from where the search last set out (past any ripple) to the window's end.
        while (!profile.empty() && std::isnan(profile.back())) profile.pop_back();
        if (profile.size() > first + window + 2) profile.resize(first + window + 2);
        profile.erase(profile.begin(), profile.begin() + static_cast<std::ptrdiff_t>(start));
        const double offset = static_cast<double>(start) * step;
        double c = b - m;
        const double sign = c > 0 ? 1 : -1;
        double half = std::abs(c) / 2;
        size_t q = 0;
        while (q < profile.size() && (profile[q] - m) * sign < half) ++q;
        if (q >= profile.size()) continue;
        // A thin layer of another tissue between the lesion and the far background (the fat rim
        // between a node and the lung) shows as a shoulder on the near side of the far step: a
        // single blurred step is back at the lesion's level one ramp before its middle. The
        // lesion's boundary is then the half-contrast of the near step, to the shoulder's level.
        const auto back = static_cast<size_t>(ramp / step), span = static_cast<size_t>(0.5 / step) + 1;
        if (q > back + span) {
          // The layer's level: where the profile is flattest between the two steps (a layer
          // thinner than the blur leaves only an inflection there).
          size_t flat = q - back;
          double flattest = std::numeric_limits<double>::max();
          for (size_t u = q - back; u + span < q - back / 3; ++u) {
            const double slope = std::abs(profile[u + span] - profile[u - span]);
            if (slope < flattest) {
              flattest = slope;
              flat = u;
            }
          }
          const double shoulder = (profile[flat] - m) * sign;
          if (shoulder > std::max({0.12 * std::abs(c), 1.5 * tau, 20.0})) {
            const double near_half = shoulder / 2;
            size_t qn = 0;
            while (qn < q && (profile[qn] - m) * sign < near_half) ++qn;
            if (qn < q) {
              q = qn;
              c = shoulder * sign;
              half = near_half;
            }
          }
        }
        const bool single_step = c == b - m;
        // Beyond a fat layer thinner than the blur, the window holds fat and lung both: any ray that
        // ends darker than fat can be is checked against fat's own level below.
        if (single_step && m > -40 && m + c < -150) dark_rays.push_back({static_cast<size_t>(idx), di, offset});
        if (single_step) {
          const double x25 = falls_to(profile, m + 0.25 * c, step, sign), x75 = falls_to(profile, m + 0.75 * c, step, sign);
          if (x25 >= 0 && x75 > x25) step_widths.emplace_back(std::abs(d[2]), x75 - x25);
        }
        double r = static_cast<double>(q) * step;
        if (q > 0) {
          const double va = (profile[q - 1] - m) * sign - half, vb = (profile[q] - m) * sign - half;
          r = (static_cast<double>(q - 1) + va / (va - vb)) * step;
        }
        radius[static_cast<size_t>(idx)] = offset + r;
        contrast[static_cast<size_t>(idx)] = c;
        (start > 0 && !dark_patch ? past_ripple : valid)[static_cast<size_t>(idx)] = 1;
        past_dark_patch[static_cast<size_t>(idx)] = dark_patch;
      }
    const auto rippled = static_cast<size_t>(std::count(past_ripple.begin(), past_ripple.end(), 1));
    const auto clean = static_cast<size_t>(std::count(valid.begin(), valid.end(), 1));
    if (cast > 0 || clean * 100 >= 35 * valid.size()) break;
    if (rippled * 4 >= past_ripple.size()) {
      std::sort(ripples.begin(), ripples.end());
      const double texture = ripples[ripples.size() * 9 / 10];
      if (texture <= tau) break;
      tau = texture;
    } else {
      const double faint = std::max(2 * noise, 12.0);
      if (faint >= tau) break;
      tau = faint;
    }
  }
  // A ray past a dark patch keeps its boundary only when the lesion is darker than what lies
  // around it (a hypo-attenuating metastasis in the liver) and the step is the lesion's own
  // contrast (not another structure's beyond it), and only where a patch of the sphere saw no
  // boundary directly, too large for the smooth shape to bridge: behind a blob of noise 40 HU
  // below a 19 mm metastasis (22 HU noise, 3.75 mm slices) the ellipsoid cut its lobulated tip by
  // 1 mm. A few rays behind a speck are bridged as before.
  if (std::any_of(past_dark_patch.begin(), past_dark_patch.end(), [](char c) { return c != 0; })) {
    std::vector<double> direct;
    for (size_t i = 0; i < kRays; ++i)
      if (valid[i] && !past_dark_patch[i]) direct.push_back(contrast[i]);
    const double c_direct = median(direct);
    std::vector<char> hidden(kRays, 0);
    for (size_t i = 0; i < kRays; ++i) hidden[i] = (!valid[i] && !past_ripple[i]) || past_dark_patch[i];
    const std::vector<double> patch = patch_share(hidden);
    for (size_t i = 0; i < kRays; ++i) {
      if (!past_dark_patch[i] || !valid[i]) continue;
      const bool own_step = c_direct > 0 && contrast[i] <= 1.5 * c_direct && contrast[i] >= c_direct / 1.5;
      if (own_step && patch[i] >= kContactPatch) continue;
      valid[i] = 0;
      radius[i] = -1;
      contrast[i] = 0;
    }
  }
  // Fat's own CT number from the rays that end in it; a lesion seen mostly against fat (a node)
  // may have a layer of it before the lung that is thinner than the blur.
  std::vector<double> fat;
  for (size_t i = 0; i < valid.size(); ++i)
    if (valid[i] && m + contrast[i] > -180 && m + contrast[i] < -40) fat.push_back(m + contrast[i]);
  const bool lesion_in_fat = fat.size() >= valid.size() / 4;
  const double f = median(fat);
  if (lesion_in_fat && m - f >= 60 && !dark_rays.empty() && step_widths.size() >= 20) {
    // The blur along a ray: from single steps of similar steepness (slices are thicker than pixels).
    auto sigma_for = [&](double dz) {
      std::vector<double> w;
      for (const auto& [z, width] : step_widths)
        if (std::abs(z - dz) < 0.2) w.push_back(width);
      if (w.size() < 10)
        for (const auto& sw : step_widths) w.push_back(sw.second);
      return std::max(0.3, median(w) / 1.349);
    };
    for (const DarkRay& ray : dark_rays) {
      // The ray again, on past the fat to the lung's own level.
      profile.clear();
      for (double s = ray.from_mm; s <= radius[ray.idx] + 10; s += step) {
        const float v = roi.sample(s0[0] + ray.di[0] * s, s0[1] + ray.di[1] * s, s0[2] + ray.di[2] * s);
        if (std::isnan(v)) break;
        profile.push_back(v);
      }
      if (profile.empty()) continue;
      const float far = *std::min_element(profile.begin(), profile.end());
      if (far > f - 150) continue;  // fat or soft tissue all the way: no lung beyond
      const Vec3 d = direction(static_cast<int>(ray.idx) / kPhi, static_cast<int>(ray.idx) % kPhi);
      const double edge = edge_through_fat(profile, step, m, f, far, sigma_for(std::abs(d[2])));
      if (edge > 0 && ray.from_mm + edge < radius[ray.idx]) {
        radius[ray.idx] = ray.from_mm + edge;
        contrast[ray.idx] = f - m;
      }
    }
  }
  const double valid_share = static_cast<double>(std::count(valid.begin(), valid.end(), 1)) / static_cast<double>(valid.size());
  if (valid_share < 0.35)
    return Error(ErrorCode::kNotFound, "no lesion found at " + where(seed) + ": no boundary closes around the seed within " +
                                           std::to_string(std::lround(options.max_radius_mm)) + " mm (normal tissue?)");
  std::vector<double> cs;
  for (size_t i = 0; i < valid.size(); ++i)
    if (valid[i]) cs.push_back(contrast[i]);
  const double c_med = median(cs);
  if (m > 150 && c_med > 0 && m + c_med > 400)
    return Error(ErrorCode::kNotFound, "no lesion found at " + where(seed) + ": the seed is inside bone (" +
                                           std::to_string(std::lround(m)) + " HU within a " +
                                           std::to_string(std::lround(m + c_med)) + " HU cortex)");

  // Leaks: a patch of rays that ran into an abutting structure of the lesion's own density
  // (chest wall, psoas, a vessel) stops only at that structure's far side. A smooth shape - a
  // robust (Tukey-weighted) fit of spherical harmonics up to degree 4 - follows the lesion's own
  // boundary; rays far from it, or without a boundary, take the fitted radius.
  std::vector<char> fixed(valid.size(), 0);
  const std::vector<double> beyond_ripple = radius;
  {
    const std::vector<double> fit = robust_shape_fit(radius, valid);
    for (size_t i = 0; i < radius.size(); ++i) {
      const double e = radius[i] - fit[i];
      if (!valid[i] || std::abs(e) > std::max(1.0, 0.15 * fit[i])) {
        radius[i] = fit[i];
        fixed[i] = 1;
      }
    }
    // A patch of rays without a boundary where the lesion abuts tissue of its own density (a node
    // against the crus or psoas): the degree-4 shape is free there and dips into the lesion. When
    // the boundary was seen all around it (the degree-4 case), the patch is bridged by the
    // ellipsoid through the boundary that was seen instead; small patches keep the smooth shape,
    // which follows lobules.
    if (valid_share >= 0.75) {
      std::vector<char> use(valid.size());
      for (size_t i = 0; i < use.size(); ++i) use[i] = valid[i] && !fixed[i];
      if (auto ell = ellipsoid_radii(radius, use)) {
        const std::vector<double> patch = patch_share(fixed);
        for (size_t i = 0; i < radius.size(); ++i)
          if (fixed[i] && patch[i] >= kContactPatch) radius[i] = (*ell)[i];
      }
    }
    // A ray that found its boundary past a ripple joins where it agrees with the shape, when the
    // other rays saw the boundary on at least half the sphere (else the shape is a guess to agree
    // with). (At three quarters, a textured 45 mm liver lesion read 1.3 mm short from a click
    // towards one corner of the inner half, where fewer rays saw it directly.)
    for (size_t i = 0; i < radius.size(); ++i)
      if (valid_share >= 0.5 && past_ripple[i] && std::abs(beyond_ripple[i] - radius[i]) <= std::max(1.0, 0.15 * radius[i])) {
        radius[i] = beyond_ripple[i];
        valid[i] = 1;
        fixed[i] = 0;
      }
  }

  for (int pass = 0; pass < 4; ++pass) {
    std::vector<double> next = radius;
    for (int t = 0; t < kTheta; ++t)
      for (int p = 0; p < kPhi; ++p) {
        std::vector<double> nb;
        for (int dt = -1; dt <= 1; ++dt)
          for (int dp = -1; dp <= 1; ++dp) {
            if (dt == 0 && dp == 0) continue;
            const int tt = t + dt;
            if (tt < 0 || tt >= kTheta) continue;
            const size_t n = static_cast<size_t>(tt * kPhi + (p + dp + kPhi) % kPhi);
            if (valid[n] || fixed[n]) nb.push_back(radius[n]);
          }
        const size_t idx = static_cast<size_t>(t * kPhi + p);
        if (nb.size() < 3) continue;
        const double mnb = median(nb);
        const bool usable = valid[idx] || fixed[idx];
        if (!usable || radius[idx] > 1.3 * mnb + 1.5 || radius[idx] < 0.6 * mnb - 1.5) {
          next[idx] = mnb;
          if (!fixed[idx]) fixed[idx] = 2;  // marked in this pass
        }
      }
    for (char& mark : fixed)
      if (mark == 2) mark = 1;
    radius = next;
  }
  std::vector<double> all_valid;
  for (size_t i = 0; i < radius.size(); ++i)
    if (valid[i] || fixed[i]) all_valid.push_back(radius[i]);
  const double r_med = median(all_valid);
  for (size_t i = 0; i < radius.size(); ++i)
    if (!valid[i] && !fixed[i]) radius[i] = r_med;
  if (r_med > 0.66 * options.max_radius_mm) return organ_not_lesion(seed, 2 * r_med);

  // Blur rounds a convex body off: the half-contrast surface of a blurred sphere of radius r lies
  // inside the true one by the blur's variance across the surface over 2r (sigma^2 / r when
  // isotropic) - a few tenths of a millimetre for a node on 2.5 mm slices, enough to put a 15 mm
  // short axis 1 mm short. The blur: our smoothing, a typical body kernel's point spread
  // (kScannerBlurMm), and the pixel and slice as boxes. (Measured from the rays' own step widths
  // it is too noisy on faint edges: a hypo-attenuating liver lesion read 3 mm of blur.)
  {
    const double common = kSmoothingMm * kSmoothingMm + kScannerBlurMm * kScannerBlurMm;
    const double var_xy = common + g.spacing[0] * g.spacing[0] / 12;
    const double var_z = common + g.spacing[2] * g.spacing[2] / 12;
    // The surface's curvature from the ellipsoid through it: a node twice as long along z as
    // across is much flatter along z than its in-plane radius says, and slices blur it along z.
    Quadric q{};
    const bool have_quadric = ellipsoid_radii(radius, std::vector<char>(radius.size(), 1), &q).has_value();
    for (size_t i = 0; i < radius.size(); ++i) {
      if (radius[i] <= 1) continue;
      const Vec3 d = direction(static_cast<int>(i) / kPhi, static_cast<int>(i) % kPhi);
      double shift = (2 * var_xy + var_z - (var_xy * (d[0] * d[0] + d[1] * d[1]) + var_z * d[2] * d[2])) / (2 * radius[i]);
      if (have_quadric) {
        // F(x) = x'Ax + b'x - 1: normal n = grad F / |grad F|, second fundamental form 2A / |grad F|
        // on the tangent plane; the half-contrast surface moves in by half the trace of the blur's
        // tangential covariance times it.
        const Vec3 x{d[0] * radius[i], d[1] * radius[i], d[2] * radius[i]};
        const double A[3][3] = {{q[0], q[3], q[4]}, {q[3], q[1], q[5]}, {q[4], q[5], q[2]}};
        Vec3 grad{};
        for (size_t r = 0; r < 3; ++r) grad[r] = 2 * (A[r][0] * x[0] + A[r][1] * x[1] + A[r][2] * x[2]) + q[6 + r];
        const double gn = std::sqrt(grad[0] * grad[0] + grad[1] * grad[1] + grad[2] * grad[2]);
        const Vec3 n{grad[0] / gn, grad[1] / gn, grad[2] / gn};
        const double cos_in = n[0] * d[0] + n[1] * d[1] + n[2] * d[2];
        if (gn > 1e-9 && cos_in > 0.5) {
          // Two tangents: away from z first (stable unless the normal is along z).
          Vec3 t1 = std::abs(n[2]) < 0.9 ? Vec3{-n[1], n[0], 0} : Vec3{0, -n[2], n[1]};
          const double l1 = std::sqrt(t1[0] * t1[0] + t1[1] * t1[1] + t1[2] * t1[2]);
          t1 = {t1[0] / l1, t1[1] / l1, t1[2] / l1};
          const Vec3 t2{n[1] * t1[2] - n[2] * t1[1], n[2] * t1[0] - n[0] * t1[2], n[0] * t1[1] - n[1] * t1[0]};
          auto form = [&](const Vec3& u, const Vec3& v) {  // second fundamental form
            double sum = 0;
            for (size_t r = 0; r < 3; ++r)
              for (size_t c = 0; c < 3; ++c) sum += u[r] * A[r][c] * v[c];
            return 2 * sum / gn;
          };
          auto blur = [&](const Vec3& u, const Vec3& v) { return var_xy * (u[0] * v[0] + u[1] * v[1]) + var_z * u[2] * v[2]; };
          const double along_normal =
              0.5 * (blur(t1, t1) * form(t1, t1) + 2 * blur(t1, t2) * form(t1, t2) + blur(t2, t2) * form(t2, t2));
          if (along_normal > 0) shift = along_normal / cos_in;
        }
      }
      radius[i] += shift;
    }
  }
  // Star shape: r(theta, phi) by bilinear interpolation over the ray grid.
  auto r_at = [&](const Vec3& d) {
    const double theta = std::acos(std::clamp(d[2], -1.0, 1.0));
    double phi = std::atan2(d[1], d[0]);
    if (phi < 0) phi += 2 * kPi;
    const double ft = std::clamp(theta / kPi * kTheta - 0.5, 0.0, kTheta - 1.0), fp = phi / (2 * kPi) * kPhi;
    const int t0 = std::min(static_cast<int>(ft), kTheta - 2), p0 = static_cast<int>(fp) % kPhi;
    const int p1 = (p0 + 1) % kPhi;
    const double at = ft - t0, ap = fp - std::floor(fp);
    const auto R = [&](int t, int p) { return radius[static_cast<size_t>(t * kPhi + p)]; };
    return (1 - at) * ((1 - ap) * R(t0, p0) + ap * R(t0, p1)) + at * ((1 - ap) * R(t0 + 1, p0) + ap * R(t0 + 1, p1));
  };
  double r_max = 0;
  for (double r : radius) r_max = std::max(r_max, r);
  CtSegmentation out;
  int bb_lo[3], bb_hi[3];
  for (int a = 0; a < 3; ++a) {
    const auto ua = static_cast<size_t>(a);
    const int half = static_cast<int>(std::ceil((r_max + 1) / g.spacing[ua]));
    bb_lo[a] = std::max(0, static_cast<int>(std::lround(si[ua])) - half);
    bb_hi[a] = std::min(static_cast<int>(g.size[ua]) - 1, static_cast<int>(std::lround(si[ua])) + half);
  }
  // The mask covers the lesion's bounding box only: memory follows the lesion, not the series.
  Grid mg = g;
  for (size_t a = 0; a < 3; ++a) {
    mg.size[a] = static_cast<size_t>(bb_hi[a] - bb_lo[a] + 1);
    out.mask_offset[a] = static_cast<size_t>(bb_lo[a]);
  }
  mg.origin = g.to_lps(bb_lo[0], bb_lo[1], bb_lo[2]);
  out.mask = Volume(mg, VoxelType::kUInt8);
  out.mask.set_units("label");
  uint8_t* mask = out.mask.data<uint8_t>();
  // Signed distance to the star surface along the ray through each point (positive inside).
  auto inside_margin = [&](double i, double j, double k) {
    const Vec3 p = g.to_lps(i, j, k);
    const Vec3 v{p[0] - seed[0], p[1] - seed[1], p[2] - seed[2]};
    const double rho = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (rho < 1e-9) return r_at({0, 0, 1});
    return r_at({v[0] / rho, v[1] / rho, v[2] / rho}) - rho;
  };
  // The outline on each axial slice, as a field whose zero level is the boundary: computed once
  // for the mask and the calipers.
  const int bnx = bb_hi[0] - bb_lo[0] + 1, bny = bb_hi[1] - bb_lo[1] + 1;
  std::vector<std::vector<float>> slice_field(static_cast<size_t>(bb_hi[2] - bb_lo[2] + 1));
  for (int k = bb_lo[2]; k <= bb_hi[2]; ++k) {
    std::vector<float>& field = slice_field[static_cast<size_t>(k - bb_lo[2])];
    field.resize(static_cast<size_t>(bnx) * static_cast<size_t>(bny));
    for (int j = 0; j < bny; ++j)
      for (int i = 0; i < bnx; ++i)
        field[static_cast<size_t>(j) * static_cast<size_t>(bnx) + static_cast<size_t>(i)] =
            static_cast<float>(inside_margin(bb_lo[0] + i, bb_lo[1] + j, k));
  }
  double hu_sum = 0, i_sum = 0, j_sum = 0, k_sum = 0;
  size_t count = 0;
  std::vector<double> core;
  for (int k = bb_lo[2]; k <= bb_hi[2]; ++k)
    for (int j = bb_lo[1]; j <= bb_hi[1]; ++j)
      for (int i = bb_lo[0]; i <= bb_hi[0]; ++i)
        if (slice_field[static_cast<size_t>(k - bb_lo[2])]
                       [static_cast<size_t>(j - bb_lo[1]) * static_cast<size_t>(bnx) + static_cast<size_t>(i - bb_lo[0])] >= 0) {
          const size_t o = (static_cast<size_t>(k) * g.size[1] + static_cast<size_t>(j)) * g.size[0] + static_cast<size_t>(i);
          mask[(static_cast<size_t>(k - bb_lo[2]) * mg.size[1] + static_cast<size_t>(j - bb_lo[1])) * mg.size[0] +
               static_cast<size_t>(i - bb_lo[0])] = 1;
          hu_sum += ct.value(o);
          const Vec3 p = g.to_lps(i, j, k);
          const double rho = std::sqrt((p[0] - seed[0]) * (p[0] - seed[0]) + (p[1] - seed[1]) * (p[1] - seed[1]) +
                                       (p[2] - seed[2]) * (p[2] - seed[2]));
          const double margin =
              slice_field[static_cast<size_t>(k - bb_lo[2])]
                         [static_cast<size_t>(j - bb_lo[1]) * static_cast<size_t>(bnx) + static_cast<size_t>(i - bb_lo[0])];
          const int ri = i - roi.x0, rj = j - roi.y0, rk = k - roi.z0;
          if (rho <= 0.6 * (rho + margin) && ri >= 0 && rj >= 0 && rk >= 0 && ri < roi.nx && rj < roi.ny && rk < roi.nz)
            core.push_back(roi.at(ri, rj, rk));
          i_sum += i;
          j_sum += j;
          k_sum += k;
          ++count;
        }
  if (count == 0)
    return Error(ErrorCode::kNotFound, "no lesion found at " + where(seed) + ": the boundary is closer than one voxel");
  const auto n = static_cast<double>(count);
  centre = g.to_lps(i_sum / n, j_sum / n, k_sum / n);
  core_hu = core.empty() ? m : median(core);
  out.volume_ml = n * g.spacing[0] * g.spacing[1] * g.spacing[2] / 1000.0;
  out.mean_hu = hu_sum / static_cast<double>(count);
  out.lesion_hu = m;
  out.background_hu = m + c_med;
  out.leak_fraction = static_cast<double>(std::count(fixed.begin(), fixed.end(), 1)) / static_cast<double>(fixed.size());
  out.noise_hu = noise;
  out.method = "ct-star-rays-half-contrast";

  // RECIST calipers on every axial slice through the lesion; the slice with the longest wins.
  for (int k = bb_lo[2]; k <= bb_hi[2]; ++k) {
    const int nx = bnx, ny = bny;
    const std::vector<float>& field = slice_field[static_cast<size_t>(k - bb_lo[2])];
    if (std::none_of(field.begin(), field.end(), [](float v) { return v >= 0; })) continue;
    const SliceCalipers c = measure_outline(contour(field, nx, ny, g.spacing[0], g.spacing[1], 0.0f));
    auto to_lps = [&](const Point2& q) { return g.to_lps(bb_lo[0] + q[0] / g.spacing[0], bb_lo[1] + q[1] / g.spacing[1], k); };
    if (c.short_axis.length_mm > out.largest_short_axis.length_mm) {
      out.largest_short_axis_slice_index = k;
      out.largest_short_axis = {c.short_axis.length_mm, to_lps(c.short_axis.a), to_lps(c.short_axis.b)};
    }
    if (c.long_axis.length_mm <= out.long_axis.length_mm) continue;
    out.axial_slice_index = k;
    out.long_axis = {c.long_axis.length_mm, to_lps(c.long_axis.a), to_lps(c.long_axis.b)};
    out.short_axis = {c.short_axis.length_mm, to_lps(c.short_axis.a), to_lps(c.short_axis.b)};
  }
  // Largest 3D diameter between ray ends.
  std::vector<Vec3> ends;
  for (int t = 0; t < kTheta; t += 2)
    for (int p = 0; p < kPhi; p += 2) {
      const Vec3 d = direction(t, p);
      const double r = radius[static_cast<size_t>(t * kPhi + p)];
      ends.push_back({seed[0] + r * d[0], seed[1] + r * d[1], seed[2] + r * d[2]});
    }
  for (size_t i = 0; i < ends.size(); ++i)
    for (size_t j = i + 1; j < ends.size(); ++j) {
      const double dx = ends[i][0] - ends[j][0], dy = ends[i][1] - ends[j][1], dz = ends[i][2] - ends[j][2];
      const double d = std::sqrt(dx * dx + dy * dy + dz * dz);
      if (d > out.max_3d.length_mm) out.max_3d = {d, ends[i], ends[j]};
    }
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
  const double contrast = std::abs(seg.background_hu - seg.lesion_hu);
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
