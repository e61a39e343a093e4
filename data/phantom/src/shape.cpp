#include "oq/phantom/shape.h"

#include <algorithm>
#include <utility>

namespace oq::phantom {
namespace {
constexpr double kPi = 3.14159265358979323846;
}

Blob::Blob(Vec3 centre, Vec3 semi_axes, double yaw_rad, double pitch_rad, std::vector<Lobe> lobes)
    : centre_(centre), semi_(semi_axes), yaw_(yaw_rad), pitch_(pitch_rad), lobes_(std::move(lobes)) {}

Vec3 Blob::to_local(Vec3 p) const {
  const Vec3 d = p - centre_;
  const double cy = std::cos(yaw_), sy = std::sin(yaw_);
  const Vec3 r1{cy * d.x + sy * d.y, -sy * d.x + cy * d.y, d.z};  // undo yaw about z
  const double cp = std::cos(pitch_), sp = std::sin(pitch_);
  return {r1.x, cp * r1.y + sp * r1.z, -sp * r1.y + cp * r1.z};  // undo pitch about x
}

Vec3 Blob::to_world(Vec3 l) const {
  const double cp = std::cos(pitch_), sp = std::sin(pitch_);
  const Vec3 r1{l.x, cp * l.y - sp * l.z, sp * l.y + cp * l.z};
  const double cy = std::cos(yaw_), sy = std::sin(yaw_);
  return centre_ + Vec3{cy * r1.x - sy * r1.y, sy * r1.x + cy * r1.y, r1.z};
}

double Blob::lobe_factor(double phi, double sin2_theta) const {
  double f = 1.0;
  for (const Lobe& l : lobes_) f += l.amplitude * std::cos(l.order * phi + l.phase) * sin2_theta;
  return f;
}

bool Blob::contains(Vec3 p) const {
  const Vec3 l = to_local(p);
  const double qx = l.x / semi_.x, qy = l.y / semi_.y, qz = l.z / semi_.z;
  const double rho2 = qx * qx + qy * qy + qz * qz;
  if (lobes_.empty()) return rho2 <= 1.0;
  double max_f = 1.0;
  for (const Lobe& lobe : lobes_) max_f += std::abs(lobe.amplitude);
  if (rho2 > max_f * max_f) return false;
  if (rho2 == 0) return true;
  const double sin2 = (qx * qx + qy * qy) / rho2;
  const double f = lobe_factor(std::atan2(qy, qx), sin2);
  return rho2 <= f * f;
}

Blob Blob::scaled(double factor) const {
  Blob b = *this;
  b.semi_ = factor * semi_;
  return b;
}

Blob Blob::moved(Vec3 offset) const {
  Blob b = *this;
  b.centre_ = centre_ + offset;
  return b;
}

double Blob::bounding_radius() const {
  double max_f = 1.0;
  for (const Lobe& l : lobes_) max_f += std::abs(l.amplitude);
  return max_f * std::max({semi_.x, semi_.y, semi_.z});
}

Vec3 Blob::surface_point(double theta, double phi) const {
  const double st = std::sin(theta);
  const double f = lobe_factor(phi, st * st);
  const Vec3 local{f * st * std::cos(phi) * semi_.x, f * st * std::sin(phi) * semi_.y, f * std::cos(theta) * semi_.z};
  return to_world(local);
}

std::vector<std::array<double, 2>> Blob::axial_outline(double z, int rays) const {
  const double R = bounding_radius() * 1.02;
  if (std::abs(z - centre_.z) > R) return {};
  // Centroid of the section from a 0.5 mm grid: rays start there, so sections that do not hold
  // the blob's centre (tilted blobs) are still traced.
  double sx = 0, sy = 0;
  int n = 0;
  const double step = std::max(0.1, std::min({semi_.x, semi_.y, semi_.z}) / 20.0);
  for (double y = centre_.y - R; y <= centre_.y + R; y += step)
    for (double x = centre_.x - R; x <= centre_.x + R; x += step)
      if (contains({x, y, z})) {
        sx += x;
        sy += y;
        ++n;
      }
  if (n == 0) return {};
  const double cx = sx / n, cy = sy / n;
  std::vector<std::array<double, 2>> outline;
  outline.reserve(static_cast<size_t>(rays));
  const double coarse = std::max(0.05, R / 200.0);
  for (int i = 0; i < rays; ++i) {
    const double psi = 2 * kPi * i / rays;
    const double ux = std::cos(psi), uy = std::sin(psi);
    // Outermost crossing: march inward from outside, then bisect.
    double outside = 2 * R, inside = -1;
    for (double s = 2 * R; s >= 0; s -= coarse) {
      if (contains({cx + s * ux, cy + s * uy, z})) {
        inside = s;
        break;
      }
      outside = s;
    }
    if (inside < 0) continue;
    for (int k = 0; k < 40; ++k) {
      const double mid = 0.5 * (inside + outside);
      (contains({cx + mid * ux, cy + mid * uy, z}) ? inside : outside) = mid;
    }
    outline.push_back({cx + inside * ux, cy + inside * uy});
  }
  return outline;
}

AxialMeasurement measure_outline(const std::vector<std::array<double, 2>>& pts, double z) {
  AxialMeasurement m;
  m.z_mm = z;
  const size_t n = pts.size();
  if (n < 3) return m;
  // Long axis: the farthest pair of boundary points.
  double best = -1;
  size_t ia = 0, ib = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      const double dx = pts[i][0] - pts[j][0], dy = pts[i][1] - pts[j][1];
      const double d2 = dx * dx + dy * dy;
      if (d2 > best) {
        best = d2;
        ia = i;
        ib = j;
      }
    }
  m.long_axis = {std::sqrt(best), {pts[ia][0], pts[ia][1], z}, {pts[ib][0], pts[ib][1], z}};
  // Short axis: the longest chord perpendicular to the long axis.
  const double L = m.long_axis.length_mm;
  const double ux = (pts[ib][0] - pts[ia][0]) / L, uy = (pts[ib][1] - pts[ia][1]) / L;
  const double vx = -uy, vy = ux;
  std::vector<double> s(n), w(n);
  for (size_t i = 0; i < n; ++i) {
    const double dx = pts[i][0] - pts[ia][0], dy = pts[i][1] - pts[ia][1];
    s[i] = dx * ux + dy * uy;
    w[i] = dx * vx + dy * vy;
  }
  const int steps = 2000;
  double best_chord = 0, best_t = 0, best_lo = 0, best_hi = 0;
  for (int k = 1; k < steps; ++k) {
    const double t = L * k / steps;
    double lo = 1e300, hi = -1e300;
    for (size_t i = 0; i < n; ++i) {
      const size_t j = (i + 1) % n;
      if ((s[i] - t) * (s[j] - t) > 0 || s[i] == s[j]) continue;
      const double f = (t - s[i]) / (s[j] - s[i]);
      const double wc = w[i] + f * (w[j] - w[i]);
      lo = std::min(lo, wc);
      hi = std::max(hi, wc);
    }
    if (hi > lo && hi - lo > best_chord) {
      best_chord = hi - lo;
      best_t = t;
      best_lo = lo;
      best_hi = hi;
    }
  }
  auto at = [&](double t, double wv) { return Vec3{pts[ia][0] + t * ux + wv * vx, pts[ia][1] + t * uy + wv * vy, z}; };
  m.short_axis = {best_chord, at(best_t, best_lo), at(best_t, best_hi)};
  double area = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t j = (i + 1) % n;
    area += pts[i][0] * pts[j][1] - pts[j][0] * pts[i][1];
  }
  m.area_mm2 = std::abs(area) / 2;
  return m;
}

AxialMeasurement Blob::measure_axial(double z) const {
  return measure_outline(axial_outline(z), z);
}

double Blob::volume_mm3() const {
  const int nt = 400, np = 800;
  double sum = 0;
  for (int i = 0; i < nt; ++i) {
    const double theta = kPi * (i + 0.5) / nt;
    const double st = std::sin(theta);
    for (int j = 0; j < np; ++j) {
      const double phi = 2 * kPi * (j + 0.5) / np;
      const double f = lobe_factor(phi, st * st);
      sum += f * f * f / 3.0 * st;
    }
  }
  return sum * (kPi / nt) * (2 * kPi / np) * semi_.x * semi_.y * semi_.z;
}

Caliper Blob::max_diameter_3d() const {
  std::vector<Vec3> pts;
  const int nt = 48, np = 96;
  for (int i = 0; i <= nt; ++i)
    for (int j = 0; j < np; ++j) pts.push_back(surface_point(kPi * i / nt, 2 * kPi * j / np));
  Caliper best;
  for (size_t i = 0; i < pts.size(); ++i)
    for (size_t j = i + 1; j < pts.size(); ++j) {
      const double d = norm(pts[i] - pts[j]);
      if (d > best.length_mm) best = {d, pts[i], pts[j]};
    }
  return best;
}

}  // namespace oq::phantom
