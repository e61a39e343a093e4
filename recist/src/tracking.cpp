// Carrying baseline lesions into a follow-up, and candidate new uptake on PET.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "oq/recist/tracking.h"

namespace oq::recist {
namespace {

double distance(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

Vec3 midpoint(const lesion::Caliper& c) {
  return {(c.a[0] + c.b[0]) / 2, (c.a[1] + c.b[1]) / 2, (c.a[2] + c.b[2]) / 2};
}

// Mean CT number in a 2 mm ball (a quick look at what lies at a point).
double hu_near(const Volume& ct, const Vec3& p) {
  const Grid& g = ct.grid();
  double s = 0;
  int n = 0;
  for (int dk = -1; dk <= 1; ++dk)
    for (int dj = -2; dj <= 2; ++dj)
      for (int di = -2; di <= 2; ++di) {
        const Vec3 q{p[0] + di * 0.8, p[1] + dj * 0.8, p[2] + dk * 1.0};
        const Vec3 idx = g.to_index(q);
        const long i = std::lround(idx[0]), j = std::lround(idx[1]), k = std::lround(idx[2]);
        if (i < 0 || j < 0 || k < 0 || i >= static_cast<long>(g.size[0]) || j >= static_cast<long>(g.size[1]) ||
            k >= static_cast<long>(g.size[2]))
          continue;
        s += ct.value((static_cast<size_t>(k) * g.size[1] + static_cast<size_t>(j)) * g.size[0] + static_cast<size_t>(i));
        ++n;
      }
  return n ? s / n : -1000;
}

// How well a follow-up segmentation fits the baseline lesion it is meant to be, 0-1, with the
// reason for anything that lowered it.
double confidence(const lesion::CtSegmentation& base, const lesion::CtSegmentation& fu, const Vec3& mapped, std::string* note) {
  const double la0 = std::max(base.long_axis.length_mm, 5.0);
  const double shift = distance(midpoint(fu.long_axis), mapped);
  const double allowed = 0.5 * la0 + 5;  // registration error plus the lesion's own change
  double c = std::exp(-0.5 * (shift / allowed) * (shift / allowed));
  if (shift > allowed) *note += "found " + std::to_string(std::lround(shift)) + " mm from the mapped position; ";
  // The CT number may drift by partial volume as a lesion shrinks: judge it against the
  // lesion's contrast with its surroundings (a lung nodule has 900 HU of it, a liver lesion 50).
  const double dhu = fu.lesion_hu - base.lesion_hu;
  const double tolerance = std::max(40.0, 0.25 * std::abs(base.background_hu - base.lesion_hu));
  c *= std::exp(-0.5 * (dhu / tolerance) * (dhu / tolerance));
  if (std::abs(dhu) > tolerance) *note += "CT number changed by " + std::to_string(std::lround(dhu)) + " HU; ";
  const double ratio = fu.long_axis.length_mm / la0;
  if (ratio > 3 || ratio < 0.15) {
    c *= 0.5;
    *note += "size changed " + std::to_string(std::lround(ratio * 100)) + " %; ";
  }
  c *= 1 - std::min(0.5, fu.leak_fraction);
  if (fu.leak_fraction > 0.25)
    *note += "boundary partly guessed (" + std::to_string(std::lround(fu.leak_fraction * 100)) + " % of rays); ";
  if (!note->empty()) note->resize(note->size() - 2);
  return std::clamp(c, 0.0, 1.0);
}

}  // namespace

std::vector<TrackedLesion> track_lesions(const Volume& baseline, const Volume& followup, const Registration& reg,
                                         const std::vector<TrackInput>& lesions) {
  std::vector<TrackedLesion> out;
  for (const TrackInput& in : lesions) {
    TrackedLesion t;
    t.id = in.id;
    t.nodal = in.nodal;
    auto base = lesion::segment_ct(baseline, in.seed);
    if (!base) {
      t.note = "not measurable on the baseline: " + base.error().message();
      out.push_back(t);
      continue;
    }
    t.baseline_found = true;
    t.baseline = std::move(base.value());
    // Carry the lesion's centre (middle of its long axis), not the click, into the follow-up.
    const Vec3 centre = midpoint(t.baseline.long_axis);
    t.mapped_seed = reg.map(centre);
    // Candidates: the mapped point first, then points around it holding the lesion's CT number,
    // nearest first (a shrunken lesion may no longer cover the mapped centre).
    std::vector<std::pair<double, Vec3>> tries = {{0.0, t.mapped_seed}};
    const double reach = std::clamp(0.5 * t.baseline.long_axis.length_mm, 6.0, 15.0);
    // Nearer the lesion's CT number than its surroundings' (20 HU at least): a shrinking lesion
    // reads closer to its background through partial volume (a 10 mm liver lesion on 5 mm
    // slices lost 22 of its 60 HU of contrast).
    const double near_lesion_hu = std::max(20.0, 0.5 * std::abs(t.baseline.lesion_hu - t.baseline.background_hu));
    for (double dz = -reach; dz <= reach; dz += 2.5)
      for (double dy = -reach; dy <= reach; dy += 2.5)
        for (double dx = -reach; dx <= reach; dx += 2.5) {
          const double d = std::sqrt(dx * dx + dy * dy + dz * dz);
          if (d < 1 || d > reach) continue;
          const Vec3 p{t.mapped_seed[0] + dx, t.mapped_seed[1] + dy, t.mapped_seed[2] + dz};
          if (std::abs(hu_near(followup, p) - t.baseline.lesion_hu) < near_lesion_hu) tries.emplace_back(d, p);
        }
    std::stable_sort(tries.begin(), tries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string last_error;
    // Up to 24 tries: a small, faint lesion (10 mm, 50 HU above the liver, on 5 mm slices) is
    // segmented from a few points only, which the grid of tries around the mapped centre may
    // reach after a dozen others (each failed try costs about 0.1 s).
    int attempts = 0;
    for (const auto& [d, p] : tries) {
      if (attempts++ >= 24) break;
      auto fu = lesion::segment_ct(followup, p);
      if (!fu) {
        last_error = fu.error().message();
        continue;
      }
      // The same lesion, not a neighbour or an organ: its centre near the mapped one.
      if (distance(midpoint(fu.value().long_axis), t.mapped_seed) > 0.75 * t.baseline.long_axis.length_mm + 8) {
        last_error = "the nearest lesion-like structure is too far from where the lesion should be";
        continue;
      }
      t.found = true;
      t.found_at = p;
      t.followup = std::move(fu.value());
      t.confidence = confidence(t.baseline, t.followup, t.mapped_seed, &t.note);
      break;
    }
    if (!t.found)
      t.note = "not found at the mapped position: vanished, or missed - review (" +
               (last_error.empty() ? std::string("no lesion-like CT number nearby") : last_error) + ")";
    out.push_back(std::move(t));
  }
  return out;
}

namespace {

// Mean of the voxels whose centres lie within 6.2 mm (a 1 ml sphere) of `at`.
double sphere_mean(const Volume& pet, const Vec3& at) {
  const Grid& g = pet.grid();
  const Vec3 c = g.to_index(at);
  double s = 0;
  int n = 0;
  const int r[3] = {static_cast<int>(std::ceil(6.2 / g.spacing[0])), static_cast<int>(std::ceil(6.2 / g.spacing[1])),
                    static_cast<int>(std::ceil(6.2 / g.spacing[2]))};
  for (int dk = -r[2]; dk <= r[2]; ++dk)
    for (int dj = -r[1]; dj <= r[1]; ++dj)
      for (int di = -r[0]; di <= r[0]; ++di) {
        const long i = std::lround(c[0]) + di, j = std::lround(c[1]) + dj, k = std::lround(c[2]) + dk;
        if (i < 0 || j < 0 || k < 0 || i >= static_cast<long>(g.size[0]) || j >= static_cast<long>(g.size[1]) ||
            k >= static_cast<long>(g.size[2]))
          continue;
        const Vec3 p = g.to_lps(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k));
        if (distance(p, at) > 6.2) continue;
        s += pet.value((static_cast<size_t>(k) * g.size[1] + static_cast<size_t>(j)) * g.size[0] + static_cast<size_t>(i));
        ++n;
      }
  return n ? s / n : 0;
}

// The highest 1 ml sphere mean with its centre within `radius_mm` of `at` (2 mm steps).
double best_sphere_near(const Volume& pet, const Vec3& at, double radius_mm) {
  double best = 0;
  for (double dz = -radius_mm; dz <= radius_mm; dz += 2)
    for (double dy = -radius_mm; dy <= radius_mm; dy += 2)
      for (double dx = -radius_mm; dx <= radius_mm; dx += 2)
        if (dx * dx + dy * dy + dz * dz <= radius_mm * radius_mm)
          best = std::max(best, sphere_mean(pet, {at[0] + dx, at[1] + dy, at[2] + dz}));
  return best;
}

}  // namespace

std::vector<UptakeCandidate> find_new_uptake(const Volume& pet, double threshold, const std::vector<Vec3>& known,
                                             const Volume* baseline_pet, const Registration* reg,
                                             const NewUptakeOptions& options) {
  const Grid& g = pet.grid();
  const size_t n = g.voxel_count();
  std::vector<char> hot(n, 0), seen(n, 0);
  for (size_t o = 0; o < n; ++o) hot[o] = pet.value(o) >= threshold ? 1 : 0;
  const double voxel_ml = g.spacing[0] * g.spacing[1] * g.spacing[2] / 1000.0;
  std::vector<UptakeCandidate> out;
  std::vector<size_t> stack, members;
  auto lps = [&](size_t o) {
    return g.to_lps(static_cast<double>(o % g.size[0]), static_cast<double>((o / g.size[0]) % g.size[1]),
                    static_cast<double>(o / (g.size[0] * g.size[1])));
  };
  for (size_t start = 0; start < n; ++start) {
    if (!hot[start] || seen[start]) continue;
    // One 6-connected component.
    members.clear();
    stack.assign(1, start);
    seen[start] = 1;
    while (!stack.empty()) {
      const size_t o = stack.back();
      stack.pop_back();
      members.push_back(o);
      const size_t i = o % g.size[0], j = (o / g.size[0]) % g.size[1], k = o / (g.size[0] * g.size[1]);
      const size_t nb[6] = {i > 0 ? o - 1 : o,
                            i + 1 < g.size[0] ? o + 1 : o,
                            j > 0 ? o - g.size[0] : o,
                            j + 1 < g.size[1] ? o + g.size[0] : o,
                            k > 0 ? o - g.size[0] * g.size[1] : o,
                            k + 1 < g.size[2] ? o + g.size[0] * g.size[1] : o};
      for (size_t q : nb)
        if (hot[q] && !seen[q]) {
          seen[q] = 1;
          stack.push_back(q);
        }
    }
    UptakeCandidate c;
    c.volume_ml = static_cast<double>(members.size()) * voxel_ml;
    if (c.volume_ml > options.max_volume_ml) continue;
    Vec3 sum{0, 0, 0};
    size_t hottest = members.front();
    for (size_t o : members) {
      const Vec3 p = lps(o);
      for (size_t a = 0; a < 3; ++a) sum[a] += p[a];
      if (pet.value(o) > pet.value(hottest)) hottest = o;
    }
    for (size_t a = 0; a < 3; ++a) c.centre[a] = sum[a] / static_cast<double>(members.size());
    c.hottest = lps(hottest);
    c.sul_max = pet.value(hottest);
    // PERCIST measures uptake by SULpeak, the best 1 ml sphere on the hottest part: spheres on
    // the 30 hottest voxels and on the centre. Single hot voxels (noise) do not reach it.
    std::partial_sort(members.begin(), members.begin() + static_cast<long>(std::min<size_t>(30, members.size())), members.end(),
                      [&](size_t a, size_t b) { return pet.value(a) > pet.value(b); });
    c.sul_peak = sphere_mean(pet, c.centre);
    for (size_t q = 0; q < std::min<size_t>(30, members.size()); ++q)
      c.sul_peak = std::max(c.sul_peak, sphere_mean(pet, lps(members[q])));
    if (c.sul_peak < threshold) continue;
    bool near_known = false;
    for (const Vec3& k : known)
      if (distance(k, c.hottest) < options.exclusion_mm || distance(k, c.centre) < options.exclusion_mm) near_known = true;
    if (near_known) continue;
    if (baseline_pet && reg) {
      c.baseline_sul_peak = best_sphere_near(*baseline_pet, reg->unmap(c.hottest), 10);
      if (c.baseline_sul_peak >= options.already_there_share * c.sul_peak) continue;
    }
    out.push_back(c);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.sul_peak > b.sul_peak; });
  return out;
}

}  // namespace oq::recist
