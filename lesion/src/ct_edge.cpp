// CT segmentation stages: one ray's edge, and the edges that need a second look (behind a dark
// patch, through a thin layer of fat). See ct_stages.h.
#include <algorithm>
#include <cmath>
#include <limits>

#include "common.h"
#include "ct_stages.h"

namespace oq::lesion::ct {

using detail::median;

namespace {

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

// Where the search along `ray` found a step that stays away from the lesion's level.
struct Departure {
  size_t first = 0;   // the first sample off the level
  size_t start = 0;   // where the search last set out
  double beyond = 0;  // median level past the step's ramp
  bool dark_patch = false;
  // Not a step but a thin layer of other tissue, the profile back at the lesion's level past it
  // (beyond: the layer's extreme).
  bool thin_layer = false;
};

// The first departure from the lesion's level whose far side stays away from it. A departure
// that comes back (a ripple: texture inside the lesion, a small vessel crossing it) does not end
// the search: the ray goes on from where the profile is back at the lesion's level.
std::optional<Departure> find_departure(RayProfile& ray, const EdgeSearch& s, std::vector<double>& ripples) {
  const double step = ray.step(), m = s.level, tau = s.tau;
  const std::vector<float>& profile = ray.samples();
  const auto window = static_cast<size_t>(s.window_mm / step);
  const auto reach_q = static_cast<size_t>(s.reach_mm / step);
  Departure d;
  for (size_t from = 0;;) {
    d.first = from;
    while (ray.sample_to(d.first) && std::abs(profile[d.first] - m) <= tau) ++d.first;
    if (!ray.sample_to(d.first) || d.first > reach_q) return std::nullopt;  // ran off: no boundary
    ray.sample_to(d.first + window + 1);
    std::vector<double> beyond;
    for (size_t q = d.first + static_cast<size_t>(s.ramp_mm / step); q <= d.first + window && ray.sample_to(q); ++q)
      beyond.push_back(profile[q]);
    if (beyond.empty()) return std::nullopt;
    d.beyond = median(beyond);
    if (std::abs(d.beyond - m) >= std::max(1.5 * tau, 20.0)) {
      // Past a dark patch, only a step up (to the liver) is the lesion's boundary.
      if (d.dark_patch && d.beyond <= m) return std::nullopt;
      d.start = from;
      return d;
    }
    size_t back = d.first;
    double excursion = 0, signed_excursion = 0;
    for (; ray.sample_to(back) && std::abs(profile[back] - m) > tau; ++back)
      if (std::abs(profile[back] - m) > excursion) {
        excursion = std::abs(profile[back] - m);
        signed_excursion = profile[back] - m;
      }
    if (!ray.sample_to(back)) return std::nullopt;
    if (excursion >= std::max(1.5 * tau, 20.0)) {
      // A thin layer of other tissue (fat between a node and the psoas): a boundary not
      // resolved - unless it was darker and the profile then stays at the lesion's level
      // for a while: a darker patch inside a hypo-attenuating metastasis (necrosis; on a
      // noisy series, a blob of noise), whose edge to the brighter liver lies beyond.
      // (Going on past brighter patches inside hyper-attenuating metastases found a thin
      // rim of liver before fat, and the long axis moved by 1 mm with the click.)
      size_t plateau = back;
      while (ray.sample_to(plateau) && std::abs(profile[plateau] - m) <= tau) ++plateau;
      if (d.dark_patch || signed_excursion > 0 || static_cast<double>(plateau - back) * step < kDipPlateauMm) {
        if (d.dark_patch) return std::nullopt;
        d.thin_layer = true;
        d.start = from;
        d.beyond = m + signed_excursion;
        return d;
      }
      d.dark_patch = true;
    } else {
      ripples.push_back(excursion);
    }
    from = back;
  }
}

// A thin layer of another tissue between the lesion and the far background (the fat rim between
// a node and the lung) shows as a shoulder on the near side of the far step: a single blurred
// step is back at the lesion's level one ramp before its middle. Returns the shoulder's level
// (relative to the lesion's, signed like the step) when there is one.
std::optional<double> shoulder_before(const std::vector<float>& profile, size_t q, double sign, double c, const EdgeSearch& s,
                                      double step) {
  const auto back = static_cast<size_t>(s.ramp_mm / step), span = static_cast<size_t>(0.5 / step) + 1;
  if (q <= back + span) return std::nullopt;
  // The layer's level: where the profile is flattest between the two steps (a layer thinner than
  // the blur leaves only an inflection there).
  size_t flat = q - back;
  double flattest = std::numeric_limits<double>::max();
  for (size_t u = q - back; u + span < q - back / 3; ++u) {
    const double slope = std::abs(profile[u + span] - profile[u - span]);
    if (slope < flattest) {
      flattest = slope;
      flat = u;
    }
  }
  const double shoulder = (profile[flat] - s.level) * sign;
  if (shoulder > std::max({0.12 * std::abs(c), 1.5 * s.tau, 20.0})) return shoulder;
  return std::nullopt;
}

// A thin layer's near side: where the profile rises (or falls) half-way to the layer's extreme.
RayEdge layer_rise(const std::vector<float>& profile, const Departure& d, double m, double step) {
  RayEdge e;
  e.thin_layer = true;
  e.contrast = d.beyond - m;
  e.from_mm = static_cast<double>(d.start) * step;
  const double sign = e.contrast > 0 ? 1 : -1, half = std::abs(e.contrast) / 2;
  size_t q = d.start;
  while (q + 1 < profile.size() && (profile[q] - m) * sign < half) ++q;
  double r = static_cast<double>(q) * step;
  if (q > d.start) {
    const double va = (profile[q - 1] - m) * sign - half, vb = (profile[q] - m) * sign - half;
    r = (static_cast<double>(q - 1) + va / (va - vb)) * step;
  }
  e.radius = r;
  return e;
}

}  // namespace

std::optional<RayEdge> find_edge(RayProfile& ray, const EdgeSearch& s, std::vector<double>& ripples) {
  const auto dep = find_departure(ray, s, ripples);
  if (!dep) return std::nullopt;
  const double step = ray.step(), m = s.level;
  if (dep->thin_layer) return layer_rise(ray.samples(), *dep, m, step);
  // The profile from where the search last set out (past any ripple) to the window's end.
  std::vector<float> profile = ray.samples();
  const auto window = static_cast<size_t>(s.window_mm / step);
  while (!profile.empty() && std::isnan(profile.back())) profile.pop_back();
  if (profile.size() > dep->first + window + 2) profile.resize(dep->first + window + 2);
  profile.erase(profile.begin(), profile.begin() + static_cast<std::ptrdiff_t>(dep->start));
  RayEdge e;
  e.from_mm = static_cast<double>(dep->start) * step;
  double c = dep->beyond - m;
  const double sign = c > 0 ? 1 : -1;
  double half = std::abs(c) / 2;
  size_t q = 0;
  while (q < profile.size() && (profile[q] - m) * sign < half) ++q;
  if (q >= profile.size()) return std::nullopt;
  // The lesion's boundary behind a thin layer is the half-contrast of the near step, to the
  // shoulder's level.
  if (const auto shoulder = shoulder_before(profile, q, sign, c, s, step)) {
    const double near_half = *shoulder / 2;
    size_t qn = 0;
    while (qn < q && (profile[qn] - m) * sign < near_half) ++qn;
    if (qn < q) {
      q = qn;
      c = *shoulder * sign;
      half = near_half;
    }
  }
  e.single_step = c == dep->beyond - m;
  if (e.single_step) {
    const double x25 = falls_to(profile, m + 0.25 * c, step, sign), x75 = falls_to(profile, m + 0.75 * c, step, sign);
    if (x25 >= 0 && x75 > x25) e.width_25_75 = x75 - x25;
  }
  double r = static_cast<double>(q) * step;
  if (q > 0) {
    const double va = (profile[q - 1] - m) * sign - half, vb = (profile[q] - m) * sign - half;
    r = (static_cast<double>(q - 1) + va / (va - vb)) * step;
  }
  e.radius = e.from_mm + r;
  e.contrast = c;
  e.past_ripple = dep->start > 0 && !dep->dark_patch;
  e.past_dark_patch = dep->dark_patch;
  return e;
}

// A ray past a dark patch keeps its boundary only when the lesion is darker than what lies around
// it (a hypo-attenuating metastasis in the liver) and the step is the lesion's own contrast (not
// another structure's beyond it), and only where a patch of the sphere saw no boundary directly,
// too large for the smooth shape to bridge: behind a blob of noise 40 HU below a 19 mm metastasis
// (22 HU noise, 3.75 mm slices) the ellipsoid cut its lobulated tip by 1 mm. A few rays behind a
// speck are bridged as before.
void drop_dark_patch_edges(RayCast& rays) {
  if (std::none_of(rays.past_dark_patch.begin(), rays.past_dark_patch.end(), [](char c) { return c != 0; })) return;
  std::vector<double> direct;
  for (size_t i = 0; i < kRays; ++i)
    if (rays.valid[i] && !rays.past_dark_patch[i]) direct.push_back(rays.contrast[i]);
  const double c_direct = median(direct);
  std::vector<char> hidden(kRays, 0);
  for (size_t i = 0; i < kRays; ++i) hidden[i] = (!rays.valid[i] && !rays.past_ripple[i]) || rays.past_dark_patch[i];
  const std::vector<double> patch = patch_share(hidden);
  for (size_t i = 0; i < kRays; ++i) {
    if (!rays.past_dark_patch[i] || !rays.valid[i]) continue;
    const bool own_step = c_direct > 0 && rays.contrast[i] <= 1.5 * c_direct && rays.contrast[i] >= c_direct / 1.5;
    if (own_step && patch[i] >= kContactPatch) continue;
    rays.valid[i] = 0;
    rays.radius[i] = -1;
    rays.contrast[i] = 0;
  }
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

// Fat's own CT number from the rays that end in it; a lesion seen mostly against fat (a node) may
// have a layer of it before the lung that is thinner than the blur.
void edges_through_thin_fat(RayCast& rays, const Roi& roi, const Vec3& s0, double m) {
  std::vector<double> fat;
  for (size_t i = 0; i < rays.valid.size(); ++i)
    if (rays.valid[i] && m + rays.contrast[i] > -180 && m + rays.contrast[i] < -40) fat.push_back(m + rays.contrast[i]);
  const bool lesion_in_fat = fat.size() >= rays.valid.size() / 4;
  const double f = median(fat);
  if (!lesion_in_fat || m - f < 60 || rays.dark_rays.empty() || rays.step_widths.size() < 20) return;
  // The blur along a ray: from single steps of similar steepness (slices are thicker than pixels).
  auto sigma_for = [&](double dz) {
    std::vector<double> w;
    for (const auto& [z, width] : rays.step_widths)
      if (std::abs(z - dz) < 0.2) w.push_back(width);
    if (w.size() < 10)
      for (const auto& sw : rays.step_widths) w.push_back(sw.second);
    return std::max(0.3, median(w) / 1.349);
  };
  std::vector<float> profile;
  for (const DarkRay& ray : rays.dark_rays) {
    // The ray again, on past the fat to the lung's own level.
    profile.clear();
    for (double s = ray.from_mm; s <= rays.radius[ray.idx] + 10; s += rays.step) {
      const float v = roi.sample(s0[0] + ray.di[0] * s, s0[1] + ray.di[1] * s, s0[2] + ray.di[2] * s);
      if (std::isnan(v)) break;
      profile.push_back(v);
    }
    if (profile.empty()) continue;
    const float far = *std::min_element(profile.begin(), profile.end());
    if (far > f - 150) continue;  // fat or soft tissue all the way: no lung beyond
    const Vec3 d = direction(ray.idx);
    const double edge = edge_through_fat(profile, rays.step, m, f, far, sigma_for(std::abs(d[2])));
    if (edge > 0 && ray.from_mm + edge < rays.radius[ray.idx]) {
      rays.radius[ray.idx] = ray.from_mm + edge;
      rays.contrast[ray.idx] = f - m;
    }
  }
}

}  // namespace oq::lesion::ct
