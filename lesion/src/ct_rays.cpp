// CT segmentation stages: the region, the seed's level and the rays (see ct_stages.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "common.h"
#include "ct_stages.h"

namespace oq::lesion::ct {

using detail::median;

Vec3 direction(int t, int p) {
  const double theta = (t + 0.5) * kPi / kTheta, phi = p * 2 * kPi / kPhi;
  return {std::sin(theta) * std::cos(phi), std::sin(theta) * std::sin(phi), std::cos(theta)};
}

Vec3 index_steps(const Grid& g, const Vec3& d) {
  Vec3 di{};
  for (int a = 0; a < 3; ++a) {
    const Vec3 ax = g.axis(a);
    di[static_cast<size_t>(a)] = (ax[0] * d[0] + ax[1] * d[1] + ax[2] * d[2]) / g.spacing[static_cast<size_t>(a)];
  }
  return di;
}

double edge_ramp_mm(const Grid& g, const Vec3& d) {
  return 2.5 + 0.5 * g.spacing[2] * std::abs(d[2]) + 0.5 * g.spacing[0];
}

float Roi::sample(double i, double j, double k) const {
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

namespace {

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

}  // namespace

// CT noise of 10-25 HU would otherwise hide a 40-60 HU lesion boundary; 1 mm keeps the edge where
// it is. Every loop runs along x, the contiguous axis (rows of a padded copy for x; whole rows of
// the neighbouring rows or slices for y and z), so the compiler vectorises it: the smoothing is
// most of a click's time.
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

Roi region_around(const Volume& ct, const Vec3& si, double reach_mm) {
  const Grid& g = ct.grid();
  Roi roi;
  int lo[3], hi[3];
  for (int a = 0; a < 3; ++a) {
    const auto ua = static_cast<size_t>(a);
    const int half = static_cast<int>(std::ceil(reach_mm / g.spacing[ua]));
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
  size_t o = 0;
  for (int k = 0; k < roi.nz; ++k)
    for (int j = 0; j < roi.ny; ++j)
      for (int i = 0; i < roi.nx; ++i)
        roi.v[o++] = static_cast<float>(
            ct.value((static_cast<size_t>(k + roi.z0) * g.size[1] + static_cast<size_t>(j + roi.y0)) * g.size[0] +
                     static_cast<size_t>(i + roi.x0)));
  smooth(roi, {kSmoothingMm / g.spacing[0], kSmoothingMm / g.spacing[1], kSmoothingMm / g.spacing[2]});
  return roi;
}

SeedLevel level_at(const Roi& roi, const Vec3& s0, const Vec3& spacing) {
  std::vector<double> near;
  for (int k = -2; k <= 2; ++k)
    for (int j = -3; j <= 3; ++j)
      for (int i = -3; i <= 3; ++i) {
        const double dx = i * spacing[0], dy = j * spacing[1], dz = k * spacing[2];
        if (dx * dx + dy * dy + dz * dz > 2.5 * 2.5) continue;
        const float v = roi.sample(s0[0] + i, s0[1] + j, s0[2] + k);
        if (!std::isnan(v)) near.push_back(v);
      }
  SeedLevel out;
  out.hu = median(near);
  std::vector<double> dev(near.size());
  std::transform(near.begin(), near.end(), dev.begin(), [&](double v) { return std::abs(v - out.hu); });
  out.noise = std::max(2.0, 1.4826 * median(dev));
  return out;
}

bool RayProfile::sample_to(size_t q) {
  while (v_.size() <= q && v_.size() <= cap_) {
    const double s = static_cast<double>(v_.size()) * step_;
    const float x = roi_->sample(from_[0] + di_[0] * s, from_[1] + di_[1] * s, from_[2] + di_[2] * s);
    v_.push_back(x);
    if (std::isnan(x)) break;  // a NaN ends the ray
  }
  return q < v_.size() && !std::isnan(v_[q]);
}

double RayCast::layer_share() const {
  return static_cast<double>(std::count_if(layer_radius.begin(), layer_radius.end(), [](double r) { return r >= 0; })) /
         static_cast<double>(layer_radius.size());
}

double RayCast::valid_share() const {
  return static_cast<double>(std::count(valid.begin(), valid.end(), 1)) / static_cast<double>(valid.size());
}

}  // namespace oq::lesion::ct

namespace oq::lesion::ct {

namespace {

// Every ray once with threshold `tau`; `ripples` receives how far each ripple strayed.
RayCast cast_once(const Roi& roi, const Vec3& s0, const Grid& g, double m, double tau, double max_radius_mm,
                  std::vector<double>& ripples) {
  RayCast rays;
  rays.radius.assign(kRays, -1);
  rays.contrast.assign(kRays, 0);
  rays.valid.assign(kRays, 0);
  rays.past_ripple.assign(kRays, 0);
  rays.past_dark_patch.assign(kRays, 0);
  rays.layer_radius.assign(kRays, -1);
  rays.tau = tau;
  rays.step = 0.25 * std::min({g.spacing[0], g.spacing[1], g.spacing[2]});
  ripples.clear();
  for (size_t idx = 0; idx < kRays; ++idx) {
    const Vec3 d = direction(idx), di = index_steps(g, d);
    // What lies beyond the edge is sampled past its blurred ramp (smoothing, pixel size and, for
    // steep rays, slice thickness), else a high-contrast edge's own ramp would pass for the
    // background. Nothing past that window is needed: sampling stops there.
    EdgeSearch s;
    s.level = m;
    s.tau = tau;
    s.ramp_mm = edge_ramp_mm(g, d);
    s.window_mm = s.ramp_mm + 4;
    s.reach_mm = max_radius_mm;
    const auto window = static_cast<size_t>(s.window_mm / rays.step);
    const auto limit = static_cast<size_t>((max_radius_mm + 5) / rays.step);
    RayProfile ray(roi, s0, di, rays.step, limit + window + 1);
    const auto e = find_edge(ray, s, ripples);
    if (!e) continue;
    if (e->thin_layer) {
      rays.layer_radius[idx] = e->radius;
      continue;
    }
    // Beyond a fat layer thinner than the blur, the window holds fat and lung both: any ray that
    // ends darker than fat can be is checked against fat's own level (edges_through_thin_fat).
    if (e->single_step && m > -40 && m + e->contrast < -150) rays.dark_rays.push_back({idx, di, e->from_mm});
    if (e->width_25_75 > 0) rays.step_widths.emplace_back(std::abs(d[2]), e->width_25_75);
    rays.radius[idx] = e->radius;
    rays.contrast[idx] = e->contrast;
    (e->past_ripple ? rays.past_ripple : rays.valid)[idx] = 1;
    rays.past_dark_patch[idx] = e->past_dark_patch;
  }
  return rays;
}

}  // namespace

// When too few rays saw a boundary directly (the lesion would be refused), they are cast once
// more with another threshold:
// - a textured lesion (a heterogeneous metastasis) may vary more than the noise around the click
//   says: when a quarter or more of the rays met ripples before their boundary, the ripples set
//   it (the 90th centile of how far they strayed). (Doing so whenever a quarter met ripples lost
//   faint boundaries between a node and abutting tissue of nearly its density: a para-aortic node
//   leaked to 39 mm for 23.)
// - else the lesion may be faint for the noise read at the click, which holds some texture too:
//   a boundary needs a step of 1.5 thresholds, 4.5 noise SD, and a hypo-attenuating liver
//   metastasis 45 HU below the liver, clicked 1.5 mm off its centre where the noise read 10 HU,
//   had none. The threshold comes down to 2 noise SD.
RayCast cast_rays(const Roi& roi, const Vec3& s0, const Grid& g, double m, double noise, double max_radius_mm) {
  double tau = std::max(3 * noise, 12.0);
  std::vector<double> ripples;
  for (int cast = 0;; ++cast) {
    RayCast rays = cast_once(roi, s0, g, m, tau, max_radius_mm, ripples);
    const auto rippled = static_cast<size_t>(std::count(rays.past_ripple.begin(), rays.past_ripple.end(), 1));
    const auto clean = static_cast<size_t>(std::count(rays.valid.begin(), rays.valid.end(), 1));
    if (cast > 0 || clean * 100 >= 35 * kRays) return rays;
    if (rippled * 4 >= kRays) {
      std::sort(ripples.begin(), ripples.end());
      const double texture = ripples[ripples.size() * 9 / 10];
      if (texture <= tau) return rays;
      tau = texture;
    } else {
      const double faint = std::max(2 * noise, 12.0);
      if (faint >= tau) return rays;
      tau = faint;
    }
  }
}

}  // namespace oq::lesion::ct
