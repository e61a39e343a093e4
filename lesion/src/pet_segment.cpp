#include "oq/lesion/pet_segment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "common.h"
#include "oq/lesion/edits.h"

namespace oq::lesion {
namespace {

using detail::median;
using detail::where;

size_t index_of(const Grid& g, int i, int j, int k) {
  return (static_cast<size_t>(k) * g.size[1] + static_cast<size_t>(j)) * g.size[0] + static_cast<size_t>(i);
}

}  // namespace

double peak_of_sphere(const Volume& image, const Volume& mask, Vec3* at) {
  const Grid& g = image.grid();
  const double radius = std::cbrt(3.0 * 1000.0 / (4.0 * 3.14159265358979323846));  // 1 ml
  // Offsets of the voxels whose centres lie within the sphere.
  std::vector<std::array<int, 3>> offsets;
  const int ri = static_cast<int>(std::ceil(radius / g.spacing[0])), rj = static_cast<int>(std::ceil(radius / g.spacing[1]));
  const int rk = static_cast<int>(std::ceil(radius / g.spacing[2]));
  for (int k = -rk; k <= rk; ++k)
    for (int j = -rj; j <= rj; ++j)
      for (int i = -ri; i <= ri; ++i) {
        const double dx = i * g.spacing[0], dy = j * g.spacing[1], dz = k * g.spacing[2];
        if (dx * dx + dy * dy + dz * dz <= radius * radius) offsets.push_back({i, j, k});
      }
  const auto* m = mask.data<uint8_t>();
  double best = -1;
  for (int k = 0; k < static_cast<int>(g.size[2]); ++k)
    for (int j = 0; j < static_cast<int>(g.size[1]); ++j)
      for (int i = 0; i < static_cast<int>(g.size[0]); ++i) {
        if (!m[index_of(g, i, j, k)]) continue;
        double sum = 0;
        int n = 0;
        for (const auto& o : offsets) {
          const int x = i + o[0], y = j + o[1], z = k + o[2];
          if (x < 0 || y < 0 || z < 0 || x >= static_cast<int>(g.size[0]) || y >= static_cast<int>(g.size[1]) ||
              z >= static_cast<int>(g.size[2]))
            continue;
          sum += image.value(index_of(g, x, y, z));
          ++n;
        }
        if (n > 0 && sum / n > best) {
          best = sum / n;
          if (at) *at = g.to_lps(i, j, k);
        }
      }
  return std::max(0.0, best);
}

namespace {

struct VoxelIndex {
  int i = 0, j = 0, k = 0;
};

bool inside(const Grid& g, int i, int j, int k) {
  return i >= 0 && j >= 0 && k >= 0 && i < static_cast<int>(g.size[0]) && j < static_cast<int>(g.size[1]) &&
         k < static_cast<int>(g.size[2]);
}

double dist2(const Grid& g, int i, int j, int k, const VoxelIndex& c) {
  const double dx = (i - c.i) * g.spacing[0], dy = (j - c.j) * g.spacing[1], dz = (k - c.k) * g.spacing[2];
  return dx * dx + dy * dy + dz * dz;
}

// The hottest voxel within `radius_mm` of the click: readers click on the lesion, not on its
// hottest voxel.
VoxelIndex hottest_near(const Volume& pet, const VoxelIndex& click, double radius_mm) {
  const Grid& g = pet.grid();
  VoxelIndex best = click;
  double vmax = -1e300;
  const int ri = static_cast<int>(std::ceil(radius_mm / g.spacing[0])),
            rj = static_cast<int>(std::ceil(radius_mm / g.spacing[1]));
  const int rk = static_cast<int>(std::ceil(radius_mm / g.spacing[2]));
  for (int k = click.k - rk; k <= click.k + rk; ++k)
    for (int j = click.j - rj; j <= click.j + rj; ++j)
      for (int i = click.i - ri; i <= click.i + ri; ++i) {
        if (!inside(g, i, j, k) || dist2(g, i, j, k, click) > radius_mm * radius_mm) continue;
        const double v = pet.value(index_of(g, i, j, k));
        if (v > vmax) {
          vmax = v;
          best = {i, j, k};
        }
      }
  return best;
}

// Median uptake in a shell 15-25 mm from `centre`.
double shell_background(const Volume& pet, const VoxelIndex& centre) {
  const Grid& g = pet.grid();
  std::vector<double> shell;
  const int br = static_cast<int>(std::ceil(25 / std::min(g.spacing[0], g.spacing[2])));
  for (int k = centre.k - br; k <= centre.k + br; ++k)
    for (int j = centre.j - br; j <= centre.j + br; ++j)
      for (int i = centre.i - br; i <= centre.i + br; ++i) {
        if (!inside(g, i, j, k)) continue;
        const double d2 = dist2(g, i, j, k, centre);
        if (d2 >= 15 * 15 && d2 <= 25 * 25) shell.push_back(pet.value(index_of(g, i, j, k)));
      }
  return median(shell);
}

struct Region {
  Volume mask;
  double sum = 0;
  size_t count = 0;
  VoxelIndex hottest;
  double hottest_value = -1e300;
  bool reached_limit = false;
};

// The 26-connected region at or above `threshold` that holds `start`, no farther than `limit_mm`
// from it; its hottest voxel is tracked as it grows.
Region grow_region(const Volume& pet, const VoxelIndex& start, double threshold, double limit_mm) {
  const Grid& g = pet.grid();
  Region r;
  r.mask = Volume(g, VoxelType::kUInt8);
  r.mask.set_units("label");
  auto* m = r.mask.data<uint8_t>();
  std::vector<VoxelIndex> stack{start};
  m[index_of(g, start.i, start.j, start.k)] = 1;
  const double limit2 = limit_mm * limit_mm;
  while (!stack.empty()) {
    const VoxelIndex v = stack.back();
    stack.pop_back();
    const double value = pet.value(index_of(g, v.i, v.j, v.k));
    r.sum += value;
    ++r.count;
    if (value > r.hottest_value) {
      r.hottest_value = value;
      r.hottest = v;
    }
    for (int dk = -1; dk <= 1; ++dk)
      for (int dj = -1; dj <= 1; ++dj)
        for (int di = -1; di <= 1; ++di) {
          const int x = v.i + di, y = v.j + dj, z = v.k + dk;
          if (!inside(g, x, y, z)) continue;
          const size_t o = index_of(g, x, y, z);
          if (m[o] || pet.value(o) < threshold) continue;
          if (dist2(g, x, y, z, start) > limit2) {
            r.reached_limit = true;
            continue;
          }
          m[o] = 1;
          stack.push_back({x, y, z});
        }
  }
  return r;
}

// The threshold of each method, from the lesion's maximum and its background.
double threshold_for(PetThreshold mode, double vmax, double background, std::string* method) {
  switch (mode) {
    case PetThreshold::kAuto:
    case PetThreshold::kPercent41:
      *method = "pet-41%-suvmax";
      return 0.41 * vmax;
    case PetThreshold::kPercent50:
      *method = "pet-50%-suvmax";
      return 0.5 * vmax;
    case PetThreshold::kAdaptive50:
      *method = "pet-background-adaptive-50%";
      return background + 0.5 * (vmax - background);
  }
  return 0.41 * vmax;
}

std::string short_number(double v) {
  return std::to_string(v).substr(0, 5);
}

}  // namespace

Result<PetSegmentation> segment_pet(const Volume& pet, const Vec3& seed, const PetSegmentOptions& options) {
  const Grid& g = pet.grid();
  const Vec3 si = g.to_index(seed);
  for (size_t a = 0; a < 3; ++a)
    if (!std::isfinite(si[a]) || si[a] < -0.5 || si[a] > static_cast<double>(g.size[a]) - 0.5)
      return Error(ErrorCode::kInvalidArgument, "the seed " + where(seed) + " lies outside the series");
  const VoxelIndex click{static_cast<int>(std::lround(si[0])), static_cast<int>(std::lround(si[1])),
                         static_cast<int>(std::lround(si[2]))};
  VoxelIndex hot = hottest_near(pet, click, options.search_radius_mm);
  double vmax = pet.value(index_of(g, hot.i, hot.j, hot.k));
  const double background = shell_background(pet, hot);
  if (vmax <= 0 || vmax < 1.5 * background)
    return Error(ErrorCode::kNotFound, "no lesion found at " + where(seed) + ": the hottest uptake nearby (" +
                                           short_number(vmax) + ") is not above its background (" + short_number(background) +
                                           ")");
  PetSegmentation out;
  out.background = background;
  PetThreshold mode = options.threshold;
  if (mode == PetThreshold::kAuto) mode = 0.41 * vmax > 1.2 * background ? PetThreshold::kPercent41 : PetThreshold::kAdaptive50;
  // SUVmax is the lesion's maximum, which may lie beyond the click's neighbourhood (a large or
  // irregular tumour): when the region holds a hotter voxel, the threshold is taken again from it
  // and the region regrown, until the maximum no longer moves (a few passes at most).
  Region region;
  for (int pass = 0; pass < 8; ++pass) {
    out.threshold_value = threshold_for(mode, vmax, background, &out.method);
    region = grow_region(pet, hot, out.threshold_value, options.max_radius_mm);
    if (region.reached_limit || region.hottest_value <= vmax) break;
    vmax = region.hottest_value;
    hot = region.hottest;
  }
  if (region.reached_limit)
    return Error(ErrorCode::kNotFound, "no lesion found at " + where(seed) + ": the uptake above " +
                                           short_number(out.threshold_value) + " does not end within " +
                                           std::to_string(std::lround(options.max_radius_mm)) +
                                           " mm (an organ such as the bladder or brain?)");
  const double voxel_ml = g.spacing[0] * g.spacing[1] * g.spacing[2] / 1000.0;
  out.mask = std::move(region.mask);
  out.suv_max = region.hottest_value;
  out.suv_max_at = g.to_lps(region.hottest.i, region.hottest.j, region.hottest.k);
  out.suv_mean = region.sum / static_cast<double>(region.count);
  out.mtv_ml = static_cast<double>(region.count) * voxel_ml;
  out.tlg = out.suv_mean * out.mtv_ml;
  out.suv_peak = peak_of_sphere(pet, out.mask, &out.suv_peak_at);
  // Calipers of the metabolic volume on the axial slice where its long axis is longest.
  const AxialCalipers calipers = measure_mask(out.mask);
  out.axial_slice_index = calipers.slice;
  out.long_axis = calipers.long_axis;
  out.short_axis = calipers.short_axis;
  return out;
}

}  // namespace oq::lesion

namespace oq::lesion {

Result<LiverReference> find_liver_reference(const Volume& pet) {
  const Grid& g = pet.grid();
  const double radius = 15.0;  // 3 cm sphere
  std::vector<std::array<int, 3>> ball;
  const int ri = static_cast<int>(std::ceil(radius / g.spacing[0])), rj = static_cast<int>(std::ceil(radius / g.spacing[1]));
  const int rk = static_cast<int>(std::ceil(radius / g.spacing[2]));
  for (int k = -rk; k <= rk; ++k)
    for (int j = -rj; j <= rj; ++j)
      for (int i = -ri; i <= ri; ++i)
        if (std::pow(i * g.spacing[0], 2) + std::pow(j * g.spacing[1], 2) + std::pow(k * g.spacing[2], 2) <= radius * radius)
          ball.push_back({i, j, k});
  const int nx = static_cast<int>(g.size[0]), ny = static_cast<int>(g.size[1]), nz = static_cast<int>(g.size[2]);
  auto at = [&](int i, int j, int k) {
    return pet.value((static_cast<size_t>(k) * g.size[1] + static_cast<size_t>(j)) * g.size[0] + static_cast<size_t>(i));
  };
  struct Candidate {
    int i, j, k;
    double mean, sd;
  };
  std::vector<Candidate> uniform;
  // Sphere centres every ~8 mm on the patient's right (LPS x < -30 mm).
  const int stride_ij = std::max(1, static_cast<int>(std::lround(8 / g.spacing[0]))),
            stride_k = std::max(1, static_cast<int>(std::lround(8 / g.spacing[2])));
  for (int k = rk; k < nz - rk; k += stride_k)
    for (int j = rj; j < ny - rj; j += stride_ij)
      for (int i = ri; i < nx - ri; i += stride_ij) {
        if (g.to_lps(i, j, k)[0] > -30) continue;
        double sum = 0, sq = 0, lo = 1e300;
        for (const auto& o : ball) {
          const double v = at(i + o[0], j + o[1], k + o[2]);
          sum += v;
          sq += v * v;
          lo = std::min(lo, v);
        }
        const double n = static_cast<double>(ball.size()), mean = sum / n, sd = std::sqrt(std::max(0.0, sq / n - mean * mean));
        // Liver uptake is moderate and even; lung, gut and edges are not.
        if (mean < 0.8 || mean > 3.0 || sd > 0.25 * mean || lo < 0.4 * mean) continue;
        uniform.push_back({i, j, k, mean, sd});
      }
  if (uniform.empty()) return Error(ErrorCode::kNotFound, "no uniform 3 cm region of liver-like uptake on the patient's right");
  // The liver is the largest connected region of similar uptake: measure each candidate's region
  // (voxels within 30 % of its mean, 6-connected, capped) and keep the largest.
  // Candidates inside a region already flooded share its size (and need no flood of their own).
  Candidate best = uniform.front();
  std::vector<int> region(g.voxel_count(), -1);
  std::vector<size_t> region_size;
  for (const Candidate& c : uniform) {
    const size_t start = (static_cast<size_t>(c.k) * g.size[1] + static_cast<size_t>(c.j)) * g.size[0] + static_cast<size_t>(c.i);
    if (region[start] < 0) {
      const int id = static_cast<int>(region_size.size());
      std::vector<std::array<int, 3>> stack{{c.i, c.j, c.k}};
      region[start] = id;
      size_t size = 0;
      while (!stack.empty()) {
        const auto [i, j, k] = stack.back();
        stack.pop_back();
        ++size;
        const int nb[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
        for (const auto& d : nb) {
          const int x = i + d[0], y = j + d[1], z = k + d[2];
          if (x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= nz) continue;
          const size_t o = (static_cast<size_t>(z) * g.size[1] + static_cast<size_t>(y)) * g.size[0] + static_cast<size_t>(x);
          if (region[o] >= 0 || std::abs(pet.value(o) - c.mean) > 0.3 * c.mean) continue;
          region[o] = id;
          stack.push_back({x, y, z});
        }
      }
      region_size.push_back(size);
    }
  }
  // The liver is the largest uniform region of liver-like uptake (normal liver SUL is about 1-2.5;
  // the brain, the other large uniform organ, is hotter and left out by the uptake range).
  int chosen = -1;
  for (const Candidate& c : uniform) {
    const int id =
        region[(static_cast<size_t>(c.k) * g.size[1] + static_cast<size_t>(c.j)) * g.size[0] + static_cast<size_t>(c.i)];
    if (chosen < 0 || region_size[static_cast<size_t>(id)] > region_size[static_cast<size_t>(chosen)]) chosen = id;
  }
  bool first_pick = true;
  for (const Candidate& c : uniform) {
    const int id =
        region[(static_cast<size_t>(c.k) * g.size[1] + static_cast<size_t>(c.j)) * g.size[0] + static_cast<size_t>(c.i)];
    if (id != chosen) continue;
    if (first_pick || c.sd / c.mean < best.sd / best.mean) best = c;
    first_pick = false;
  }
  LiverReference r;
  r.centre = g.to_lps(best.i, best.j, best.k);
  r.mean = best.mean;
  r.sd = best.sd;
  return r;
}

}  // namespace oq::lesion

namespace oq::lesion {

Result<BloodPoolReference> find_blood_pool_reference(const Volume& pet, const Volume& ct) {
  const Grid& c = ct.grid();
  const size_t nx = c.size[0], ny = c.size[1], nz = c.size[2];
  auto hu = [&](size_t i, size_t j, size_t k) { return ct.value((k * ny + j) * nx + i); };
  // Slices through the lungs: a fifth of the body's area or more below -500 HU.
  std::vector<size_t> thorax;
  for (size_t k = 0; k < nz; ++k) {
    size_t body = 0, lung = 0;
    for (size_t j = 0; j < ny; j += 2)
      for (size_t i = 0; i < nx; i += 2) {
        const double v = hu(i, j, k);
        if (v > -300)
          ++body;
        else if (v < -500 && v > -950)
          ++lung;
      }
    if (lung > body / 4 && body > 0) thorax.push_back(k);
  }
  if (thorax.size() < 3)
    return Error(ErrorCode::kNotFound, "no slices through the lungs on the CT: the blood pool needs the thorax");
  // Middle third of the thorax, where the descending aorta runs straight.
  struct Hit {
    Vec3 centre;
    double area;
  };
  std::vector<Hit> hits;
  const size_t k0 = thorax[thorax.size() / 3], k1 = thorax[2 * thorax.size() / 3];
  std::vector<int> label(nx * ny);
  for (size_t k = k0; k <= k1; ++k) {
    std::fill(label.begin(), label.end(), 0);
    int next = 0;
    // Body centre on this slice, for "left of and behind the centre".
    double sx = 0, sy = 0, n = 0;
    for (size_t j = 0; j < ny; j += 2)
      for (size_t i = 0; i < nx; i += 2)
        if (hu(i, j, k) > -300) sx += static_cast<double>(i), sy += static_cast<double>(j), n += 1;
    if (n == 0) continue;
    const Vec3 body_centre = c.to_lps(sx / n, sy / n, static_cast<double>(k));
    Hit best{{0, 0, 0}, 0};
    bool found = false;
    for (size_t j = 0; j < ny; ++j)
      for (size_t i = 0; i < nx; ++i) {
        if (label[j * nx + i] || hu(i, j, k) < 130 || hu(i, j, k) > 400) continue;
        ++next;
        std::vector<size_t> stack{j * nx + i};
        label[j * nx + i] = next;
        double ai = 0, aj = 0, count = 0;
        size_t lo_i = i, hi_i = i, lo_j = j, hi_j = j;
        while (!stack.empty()) {
          const size_t p = stack.back();
          stack.pop_back();
          const size_t pi = p % nx, pj = p / nx;
          ai += static_cast<double>(pi), aj += static_cast<double>(pj), count += 1;
          lo_i = std::min(lo_i, pi), hi_i = std::max(hi_i, pi), lo_j = std::min(lo_j, pj), hi_j = std::max(hi_j, pj);
          const long d[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
          for (const auto& o : d) {
            const long qi = static_cast<long>(pi) + o[0], qj = static_cast<long>(pj) + o[1];
            if (qi < 0 || qj < 0 || qi >= static_cast<long>(nx) || qj >= static_cast<long>(ny)) continue;
            const size_t q = static_cast<size_t>(qj) * nx + static_cast<size_t>(qi);
            if (label[q] || hu(static_cast<size_t>(qi), static_cast<size_t>(qj), k) < 130 ||
                hu(static_cast<size_t>(qi), static_cast<size_t>(qj), k) > 400)
              continue;
            label[q] = next;
            stack.push_back(q);
          }
        }
        const double area = count * c.spacing[0] * c.spacing[1];
        const double w = static_cast<double>(hi_i - lo_i + 1) * c.spacing[0],
                     h = static_cast<double>(hi_j - lo_j + 1) * c.spacing[1];
        const double diameter = std::max(w, h);
        // Round (fills its bounding circle), 18-40 mm across.
        if (diameter < 18 || diameter > 40 || area < 0.6 * 3.14159 * diameter * diameter / 4) continue;
        const Vec3 centre = c.to_lps(ai / count, aj / count, static_cast<double>(k));
        // Descending aorta: left of the midline (LPS +x) and behind the body's centre (LPS +y).
        if (centre[0] <= body_centre[0] || centre[1] <= body_centre[1]) continue;
        if (!found || centre[1] > best.centre[1]) best = {centre, area};
        found = true;
      }
    if (found) hits.push_back(best);
  }
  if (hits.size() < 3) return Error(ErrorCode::kNotFound, "no contrast-filled descending aorta found on the CT");
  // The median slice's aorta centre; a 1 cm x 2 cm cylinder there on the PET.
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.centre[2] < b.centre[2]; });
  const Vec3 centre = hits[hits.size() / 2].centre;
  const Grid& g = pet.grid();
  std::vector<double> values;
  for (size_t k = 0; k < g.size[2]; ++k)
    for (size_t j = 0; j < g.size[1]; ++j)
      for (size_t i = 0; i < g.size[0]; ++i) {
        const Vec3 p = g.to_lps(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k));
        if (std::abs(p[2] - centre[2]) > 10 || std::hypot(p[0] - centre[0], p[1] - centre[1]) > 5) continue;
        values.push_back(pet.value((k * g.size[1] + j) * g.size[0] + i));
      }
  if (values.empty()) return Error(ErrorCode::kNotFound, "the aorta found on the CT lies outside the PET field of view");
  BloodPoolReference r;
  r.centre = centre;
  double sum = 0, sq = 0;
  for (double v : values) sum += v, sq += v * v;
  r.mean = sum / static_cast<double>(values.size());
  r.sd = std::sqrt(std::max(0.0, sq / static_cast<double>(values.size()) - r.mean * r.mean));
  return r;
}

}  // namespace oq::lesion
