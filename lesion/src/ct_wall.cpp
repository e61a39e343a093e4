// CT segmentation stage: the wall around a lesion's core (see ct_stages.h).
#include <algorithm>
#include <cmath>

#include "common.h"
#include "ct_stages.h"

namespace oq::lesion::ct {

using detail::median;

namespace {

// What one ray sees of a wall.
struct WallRay {
  double hu = 0;          // the wall's level
  double outer = -1;      // mm from the seed to the wall's own edge (-1: none within reach)
  double beyond_hu = 0;   // past that edge
  double plateau_mm = 0;  // how long the profile stays at the wall's level
};

// A ray whose edge already lies past the wall: the wall (a calcified rim before the lung) was an
// excursion to the other side of the core's level from what lies beyond, within a ramp before
// the edge. `at` samples the ray, mm from the seed.
template <typename Sample>
std::optional<WallRay> wall_passed(const Sample& at, double r_in, double ramp, double step, double m, double tau) {
  std::vector<double> past;
  for (double x = r_in + 0.5 * ramp; x <= r_in + 0.5 * ramp + 2; x += step)
    if (const float v = at(x); !std::isnan(v)) past.push_back(v);
  if (past.empty()) return std::nullopt;
  WallRay w;
  w.beyond_hu = median(past);
  const double away = w.beyond_hu > m ? -1 : 1;
  double farthest = 0;
  for (double x = std::max(0.0, r_in - ramp); x <= r_in; x += step)
    if (const float v = at(x); !std::isnan(v) && (v - m) * away > farthest) {
      farthest = (v - m) * away;
      w.hu = v;
    }
  if (farthest < std::max(1.5 * tau, 20.0)) return std::nullopt;
  w.outer = r_in;
  return w;
}

// Where the profile falls fastest (rises, for sign -1) within half a ramp of `near`, mm from the
// seed; the slope is read over 1 mm, and the search stays on the near side of the wall's peak.
template <typename Sample>
double steepest_fall(const Sample& at, double near, double ramp, double step, double sign) {
  double best = near, steepest = 0;
  for (double x = near - 0.5 * ramp; x <= near + 0.5 * ramp; x += step) {
    const float a = at(x - 0.5), b = at(x + 0.5);
    if (std::isnan(a) || std::isnan(b)) continue;
    if ((a - b) * sign > steepest) {
      steepest = (a - b) * sign;
      best = x;
    }
  }
  return best;
}

// The wall past a ray's edge at `r_in`: its level is where the profile strays farthest from the
// core's within half a ramp (a thin wall before lung must not read as the lung); its own edge is
// searched from there as a ray searches from the seed, no farther than the core's radius.
WallRay wall_on_ray(const Roi& roi, const Vec3& s0, const Grid& g, size_t idx, double r_in, double m, double tau) {
  const Vec3 d = direction(idx), di = index_steps(g, d);
  const double step = 0.25 * std::min({g.spacing[0], g.spacing[1], g.spacing[2]});
  auto at = [&](double x) { return roi.sample(s0[0] + di[0] * x, s0[1] + di[1] * x, s0[2] + di[2] * x); };
  EdgeSearch s;
  s.ramp_mm = edge_ramp_mm(g, d);
  s.window_mm = s.ramp_mm + 4;
  s.tau = tau;
  if (const auto passed = wall_passed(at, r_in, s.ramp_mm, step, m, tau)) return *passed;
  WallRay w;
  double peak_at = r_in, peak = 0;
  for (double x = r_in; x <= r_in + 0.5 * s.ramp_mm; x += step) {
    const float v = at(x);
    if (std::isnan(v)) return w;
    if (std::abs(v - m) > peak) {
      peak = std::abs(v - m);
      peak_at = x;
      w.hu = v;
    }
  }
  for (double x = peak_at; !std::isnan(at(x)) && std::abs(at(x) - w.hu) <= tau; x += step) w.plateau_mm = x - peak_at;
  s.level = w.hu;
  s.reach_mm = std::max(r_in, 3.0);
  const Vec3 from{s0[0] + di[0] * peak_at, s0[1] + di[1] * peak_at, s0[2] + di[2] * peak_at};
  RayProfile ray(roi, from, di, step, static_cast<size_t>((s.reach_mm + s.window_mm + 5) / step));
  std::vector<double> ripples;
  const auto e = find_edge(ray, s, ripples);
  if (!e || e->thin_layer) return w;
  w.outer = peak_at + e->radius;
  w.beyond_hu = w.hu + e->contrast;
  // A wall thinner than the blur never reaches its own level: half-way between its blurred peak
  // and what lies beyond sits outside its edge (0.7 mm for a 2 mm rim under 1 mm of blur). Its
  // edge is where the profile falls fastest, near there.
  if ((w.hu - m) * (w.hu - w.beyond_hu) > 0) w.outer = steepest_fall(at, w.outer, s.ramp_mm, step, w.hu > w.beyond_hu ? 1 : -1);
  return w;
}

}  // namespace

std::optional<Wall> wall_around(const Outline& inner, const Roi& roi, const Vec3& s0, const Grid& g, double m, double tau) {
  std::vector<double> outer(kRays, -1), hu, beyond, thickness;
  std::vector<char> seen(kRays, 0);
  for (size_t i = 0; i < kRays; ++i) {
    const WallRay r = wall_on_ray(roi, s0, g, i, inner.radius[i], m, tau);
    // A wall is an extreme between the core and what lies beyond (a calcified rim), or a level
    // between them that holds for a while (the viable rim between a necrotic centre and the
    // liver); a profile still falling from the core to the lung is the edge's own ramp. And it is
    // soft tissue, fluid or calcium: never fat or air.
    const bool extreme = (r.hu - m) * (r.hu - r.beyond_hu) > 0;
    if (r.outer < 0 || !(extreme || r.plateau_mm >= kDipPlateauMm) || r.hu < -30) continue;
    outer[i] = r.outer;
    seen[i] = 1;
    hu.push_back(r.hu);
    beyond.push_back(r.beyond_hu);
    thickness.push_back((r.outer - inner.radius[i]) / inner.radius[i]);
  }
  Wall w;
  w.closed_share = static_cast<double>(hu.size()) / kRays;
  // Closed: seen on most of the sphere (a few rays may graze a gap, or a vessel crossing the
  // wall); no thicker than the core is wide across (else it is the organ the lesion lies in).
  constexpr double kClosedShare = 0.85, kMaxThicknessToRadius = 1.0;
  if (w.closed_share < kClosedShare || median(thickness) > kMaxThicknessToRadius) return std::nullopt;
  w.hu = median(hu);
  w.beyond_hu = median(beyond);
  w.outline = repair_leaks(outer, seen, std::vector<char>(kRays, 0));
  return w;
}

std::optional<Wall> wall_of_thin_layers(const RayCast& rays, const Roi& roi, const Vec3& s0, const Grid& g, double m) {
  // Half the rays at least, for the inner side's shape to bridge the rest.
  if (rays.layer_share() < 0.5) return std::nullopt;
  std::vector<char> seen(kRays, 0);
  for (size_t i = 0; i < kRays; ++i) seen[i] = rays.layer_radius[i] >= 0;
  const Outline inner = repair_leaks(rays.layer_radius, seen, std::vector<char>(kRays, 0));
  return wall_around(inner, roi, s0, g, m, rays.tau);
}

}  // namespace oq::lesion::ct
