#include "oq/validation/lesion_model.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace oq::validation {

namespace {

constexpr double kPi = 3.14159265358979323846;

double modulation(const LesionShape& s, const P3& u) {
  double m = 1;
  if (!s.lobes.empty()) {
    const double az = std::atan2(u[1], u[0]);
    const double equator = std::sqrt(std::max(0.0, 1 - u[2] * u[2]));
    for (const auto& l : s.lobes) m += l.amplitude * std::cos(l.n * az + l.phase) * equator;
  }
  for (const auto& b : s.bumps) {
    const double cosine = u[0] * b.direction[0] + u[1] * b.direction[1] + u[2] * b.direction[2];
    m += b.amplitude * std::exp(-(1 - cosine) / (b.width * b.width));
  }
  return std::max(0.5, m);
}

double largest_modulation(const LesionShape& s) {
  double m = 1;
  for (const auto& l : s.lobes) m += std::abs(l.amplitude);
  for (const auto& b : s.bumps) m += std::max(0.0, b.amplitude);
  return m;
}

using Pt = std::array<double, 2>;

double cross(const Pt& o, const Pt& a, const Pt& b) {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

std::vector<Pt> convex_hull(std::vector<Pt> p) {
  std::sort(p.begin(), p.end());
  p.erase(std::unique(p.begin(), p.end()), p.end());
  if (p.size() < 3) return p;
  std::vector<Pt> h(2 * p.size());
  size_t k = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0) --k;
    h[k++] = p[i];
  }
  for (size_t i = p.size() - 1, t = k + 1; i-- > 0;) {
    while (k >= t && cross(h[k - 2], h[k - 1], p[i]) <= 0) --k;
    h[k++] = p[i];
  }
  h.resize(k - 1);
  return h;
}

}  // namespace

const char* to_string(ShapeKind s) {
  switch (s) {
    case ShapeKind::kEllipsoid:
      return "ellipsoid";
    case ShapeKind::kLobulated:
      return "lobulated";
    case ShapeKind::kIrregular:
      return "irregular";
  }
  return "?";
}

const char* to_string(Texture t) {
  switch (t) {
    case Texture::kUniform:
      return "uniform";
    case Texture::kHeterogeneous:
      return "heterogeneous";
    case Texture::kNecroticCentre:
      return "necrotic centre";
    case Texture::kCalcifiedRim:
      return "calcified rim";
  }
  return "?";
}

double LesionShape::rho(const P3& p) const {
  const double dx = p[0] - centre[0], dy = p[1] - centre[1], dz = p[2] - centre[2];
  const double cy = std::cos(yaw), sy = std::sin(yaw);
  const P3 q{(cy * dx + sy * dy) / a, (-sy * dx + cy * dy) / b, dz / c};
  const double r = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]);
  if (r == 0) return 0;
  return r / modulation(*this, {q[0] / r, q[1] / r, q[2] / r});
}

std::array<P3, 2> LesionShape::bounds() const {
  const double m = largest_modulation(*this), rxy = std::max(a, b) * m, rz = c * m;
  return {P3{centre[0] - rxy, centre[1] - rxy, centre[2] - rz}, P3{centre[0] + rxy, centre[1] + rxy, centre[2] + rz}};
}

LesionShape make_shape(ShapeKind kind, const P3& centre, double diameter_mm, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  LesionShape s;
  s.centre = centre;
  s.a = diameter_mm / 2;
  s.b = s.a * (0.65 + 0.35 * u(rng));
  s.c = s.a * (0.6 + 0.5 * u(rng));
  s.yaw = kPi * u(rng);
  if (kind == ShapeKind::kLobulated) {
    const int n = 2 + static_cast<int>(u(rng) * 2);
    for (int i = 0; i < n; ++i) s.lobes.push_back({2 + static_cast<int>(u(rng) * 4), 0.06 + 0.07 * u(rng), 2 * kPi * u(rng)});
  } else if (kind == ShapeKind::kIrregular) {
    const int n = 6 + static_cast<int>(u(rng) * 4);
    for (int i = 0; i < n; ++i) {
      const double z = 2 * u(rng) - 1, phi = 2 * kPi * u(rng), r = std::sqrt(1 - z * z);
      s.bumps.push_back({{r * std::cos(phi), r * std::sin(phi), z}, -0.15 + 0.4 * u(rng), 0.25 + 0.2 * u(rng)});
    }
  }
  return s;
}

double slice_profile(double dz, double thickness) {
  return std::max(0.0, 1 - std::abs(dz) / thickness);
}

SliceTruth truth_on_slice(const LesionShape& shape, double z, double thickness, double step) {
  SliceTruth out;
  out.z = z;
  const auto box = shape.bounds();
  if (z < box[0][2] - thickness || z > box[1][2] + thickness) return out;
  // The share of the slice profile inside the shape along the line through (x, y): the runs of
  // inside samples, their ends found by bisection, the triangular weight integrated exactly.
  constexpr int kZ = 32;
  const double T = thickness;
  auto cumulative = [&](double u) {  // integral of the profile from -T to u, over its total T
    u = std::clamp(u, -T, T);
    return (u <= 0 ? (u + T) * (u + T) / (2 * T) : T - (T - u) * (T - u) / (2 * T)) / T;
  };
  const double x0 = box[0][0] - step, y0 = box[0][1] - step;
  const int nx = static_cast<int>(std::ceil((box[1][0] - box[0][0]) / step)) + 3;
  const int ny = static_cast<int>(std::ceil((box[1][1] - box[0][1]) / step)) + 3;
  auto share = [&](double x, double y) {
    auto in = [&](double dz) { return shape.inside({x, y, z + dz}); };
    auto end_between = [&](double a, double b) {  // a inside, b outside
      for (int it = 0; it < 14; ++it) {
        const double m = (a + b) / 2;
        (in(m) ? a : b) = m;
      }
      return (a + b) / 2;
    };
    double total = 0, run_start = -T, prev_z = -T;
    bool prev = in(-T);
    for (int s = 1; s <= kZ; ++s) {
      const double dz = -T + s * 2 * T / kZ;
      const bool now = in(dz);
      if (now && !prev) run_start = end_between(dz, prev_z);
      if (!now && prev) total += cumulative(end_between(prev_z, dz)) - cumulative(run_start);
      prev = now;
      prev_z = dz;
    }
    if (prev) total += 1 - cumulative(run_start);
    return total;
  };
  std::vector<double> g(static_cast<size_t>(nx) * static_cast<size_t>(ny), 0);
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i)
      g[static_cast<size_t>(j) * static_cast<size_t>(nx) + static_cast<size_t>(i)] = share(x0 + i * step, y0 + j * step);
  // Where the share crosses 0.5 between two samples: bisection on the share itself (the outline
  // of a thin slice is a near step, which a straight line between samples would misplace).
  auto refine = [&](Pt inside, Pt outside) {
    for (int it = 0; it < 12; ++it) {
      const Pt mid{(inside[0] + outside[0]) / 2, (inside[1] + outside[1]) / 2};
      (share(mid[0], mid[1]) >= 0.5 ? inside : outside) = mid;
    }
    return Pt{(inside[0] + outside[0]) / 2, (inside[1] + outside[1]) / 2};
  };
  // Crossing points of the 0.5 level between neighbouring samples.
  std::vector<Pt> edge;
  size_t inside_count = 0;
  auto at = [&](int i, int j) { return g[static_cast<size_t>(j) * static_cast<size_t>(nx) + static_cast<size_t>(i)]; };
  for (int j = 0; j < ny; ++j)
    for (int i = 0; i < nx; ++i) {
      const double v = at(i, j);
      if (v >= 0.5) ++inside_count;
      // Inside is >= 0.5 (a sampled profile can read exactly half over a whole ring).
      const Pt here{x0 + i * step, y0 + j * step};
      if (i + 1 < nx && (v >= 0.5) != (at(i + 1, j) >= 0.5)) {
        const Pt there{here[0] + step, here[1]};
        edge.push_back(v >= 0.5 ? refine(here, there) : refine(there, here));
      }
      if (j + 1 < ny && (v >= 0.5) != (at(i, j + 1) >= 0.5)) {
        const Pt there{here[0], here[1] + step};
        edge.push_back(v >= 0.5 ? refine(here, there) : refine(there, here));
      }
    }
  out.area_mm2 = static_cast<double>(inside_count) * step * step;
  if (edge.size() < 3) return out;
  const std::vector<Pt> hull = convex_hull(edge);
  for (size_t p = 0; p < hull.size(); ++p)
    for (size_t q = p + 1; q < hull.size(); ++q) {
      const double d = std::hypot(hull[p][0] - hull[q][0], hull[p][1] - hull[q][1]);
      if (d > out.long_axis.length) out.long_axis = {d, hull[p], hull[q]};
    }
  // Longest chord perpendicular to the long axis: the crossing points binned along the axis.
  const Pt a = out.long_axis.a;
  const double ex = (out.long_axis.b[0] - a[0]) / out.long_axis.length, ey = (out.long_axis.b[1] - a[1]) / out.long_axis.length;
  std::map<long, std::pair<Pt, Pt>> bins;  // lowest and highest point across the axis, per bin
  for (const Pt& p : edge) {
    const double t = (p[0] - a[0]) * ex + (p[1] - a[1]) * ey, s = -(p[0] - a[0]) * ey + (p[1] - a[1]) * ex;
    const long key = std::lround(t / step);
    auto it = bins.find(key);
    if (it == bins.end()) {
      bins[key] = {p, p};
      continue;
    }
    auto across = [&](const Pt& q) { return -(q[0] - a[0]) * ey + (q[1] - a[1]) * ex; };
    if (s < across(it->second.first)) it->second.first = p;
    if (s > across(it->second.second)) it->second.second = p;
  }
  for (const auto& [key, ends] : bins) {
    const Pt& lo = ends.first;
    const Pt& hi = ends.second;
    const double across = std::abs(-(hi[0] - lo[0]) * ey + (hi[1] - lo[1]) * ex);
    if (across > out.short_axis.length) out.short_axis = {across, lo, hi};
  }
  return out;
}

}  // namespace oq::validation
