#include "oq/lesion/bone_scan.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"

namespace oq::lesion {
namespace {

using detail::median;

// Index of pixel (x, row y) in a row-major image of width w, computed in size_t.
size_t offset(int y, int w, int x) {
  return static_cast<size_t>(y) * static_cast<size_t>(w) + static_cast<size_t>(x);
}

// Threshold between the two classes of a histogram of values (Otsu), over the given values.
double otsu(const std::vector<double>& values) {
  if (values.empty()) return 0;
  const auto [lo_it, hi_it] = std::minmax_element(values.begin(), values.end());
  const double lo = *lo_it, hi = *hi_it;
  if (hi <= lo) return lo;
  const int bins = 256;
  std::vector<double> hist(bins, 0);
  for (double v : values) hist[static_cast<size_t>(std::min(bins - 1, static_cast<int>((v - lo) / (hi - lo) * bins)))] += 1;
  const double total = static_cast<double>(values.size());
  double sum_all = 0;
  for (int b = 0; b < bins; ++b) sum_all += b * hist[static_cast<size_t>(b)];
  double w0 = 0, sum0 = 0, best = -1;
  int best_b = 0;
  for (int b = 0; b < bins; ++b) {
    w0 += hist[static_cast<size_t>(b)];
    sum0 += b * hist[static_cast<size_t>(b)];
    if (w0 <= 0 || w0 >= total) continue;
    const double m0 = sum0 / w0, m1 = (sum_all - sum0) / (total - w0);
    const double between = w0 * (total - w0) * (m0 - m1) * (m0 - m1);
    if (between > best) {
      best = between;
      best_b = b;
    }
  }
  return lo + (best_b + 1) * (hi - lo) / bins;
}

std::vector<double> gaussian_blur(const std::vector<double>& img, int w, int h, double sigma) {
  const int r = static_cast<int>(std::ceil(3 * sigma));
  std::vector<double> k(2 * static_cast<size_t>(r) + 1);
  double s = 0;
  for (int i = -r; i <= r; ++i) s += k[static_cast<size_t>(i + r)] = std::exp(-0.5 * i * i / (sigma * sigma));
  for (double& x : k) x /= s;
  std::vector<double> tmp(img.size()), out(img.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double acc = 0;
      for (int i = -r; i <= r; ++i) acc += k[static_cast<size_t>(i + r)] * img[offset(y, w, std::clamp(x + i, 0, w - 1))];
      tmp[offset(y, w, x)] = acc;
    }
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      double acc = 0;
      for (int i = -r; i <= r; ++i) acc += k[static_cast<size_t>(i + r)] * tmp[offset(std::clamp(y + i, 0, h - 1), w, x)];
      out[offset(y, w, x)] = acc;
    }
  return out;
}

// Two lesions close together (adjacent vertebrae, a rib beside the spine) can join into one hot
// region: each of its peaks that stands clear of the others (the uptake between them dips below
// 80 % of the lower peak) and lies at least about 15 mm from them is a hot spot of its own; the
// region's pixels go to the nearest peak.
template <class Local>
std::vector<HotSpot> split_at_peaks(const std::vector<int>& members, const std::vector<double>& s, int w, double px_mm2,
                                    const Local& local_at) {
  std::vector<int> peaks;
  for (int p : members) {
    const int py = p / w, px = p % w;
    bool is_max = true;
    for (int q : members) {
      const int qy = q / w, qx = q % w;
      if (q != p && std::abs(qy - py) <= 3 && std::abs(qx - px) <= 3 && s[static_cast<size_t>(q)] > s[static_cast<size_t>(p)])
        is_max = false;
    }
    if (is_max) peaks.push_back(p);
  }
  std::sort(peaks.begin(), peaks.end(), [&](int a, int b) { return s[static_cast<size_t>(a)] > s[static_cast<size_t>(b)]; });
  std::vector<int> kept;
  for (int p : peaks) {
    bool separate = true;
    for (int k : kept) {
      const int py = p / w, px = p % w, ky = k / w, kx = k % w;
      const double d = std::hypot(py - ky, px - kx);
      // The lowest uptake on the straight line between the two peaks.
      double saddle = s[static_cast<size_t>(p)];
      for (int t = 1; t < 32; ++t) {
        const int ly = static_cast<int>(std::lround(py + (ky - py) * t / 32.0)),
                  lx = static_cast<int>(std::lround(px + (kx - px) * t / 32.0));
        saddle = std::min(saddle, s[offset(ly, w, lx)]);
      }
      if (d * std::sqrt(px_mm2) < 15 || saddle > 0.8 * s[static_cast<size_t>(p)]) separate = false;
    }
    if (separate) kept.push_back(p);
  }
  std::vector<HotSpot> parts(kept.size());
  std::vector<double> n(kept.size(), 0);
  for (int p : members) {
    const int py = p / w, px = p % w;
    size_t best = 0;
    double best_d = 1e18;
    for (size_t k = 0; k < kept.size(); ++k) {
      const double d = std::hypot(py - kept[k] / w, px - kept[k] % w);
      if (d < best_d) best_d = d, best = k;
    }
    parts[best].row += py;
    parts[best].column += px;
    n[best] += 1;
  }
  for (size_t k = 0; k < kept.size(); ++k) {
    parts[k].row /= n[k];
    parts[k].column /= n[k];
    parts[k].area_mm2 = n[k] * px_mm2;
    parts[k].peak_ratio = s[static_cast<size_t>(kept[k])] / local_at(kept[k] % w, kept[k] / w);
  }
  return parts;
}

}  // namespace

Result<BoneScanResult> detect_hot_spots(const Volume& views, const std::vector<std::string>& names) {
  const Grid& g = views.grid();
  const int w = static_cast<int>(g.size[0]), h = static_cast<int>(g.size[1]);
  if (w < 32 || h < 64) return Error(ErrorCode::kUnsupported, "the image is too small for a whole-body view");
  const double px_mm2 = g.spacing[0] * g.spacing[1];
  BoneScanResult out;
  double bii_sum = 0;
  for (size_t v = 0; v < g.size[2]; ++v) {
    BoneScanView info;
    info.view = v < names.size() && !names[v].empty() ? names[v] : "frame " + std::to_string(v + 1);
    std::vector<double> img(static_cast<size_t>(w) * static_cast<size_t>(h));
    for (size_t i = 0; i < img.size(); ++i) img[i] = views.value(v * img.size() + i);
    // Smooth counts (about one camera resolution element), then body and skeleton by Otsu.
    const std::vector<double> s = gaussian_blur(img, w, h, 1.0);
    std::vector<double> logs;
    for (double c : s) logs.push_back(std::log1p(std::max(0.0, c)));
    const double body_cut = otsu(logs);
    // Bone against soft tissue: most of the body is soft tissue, so its median is the soft-tissue
    // level, and bone takes up several times more tracer.
    std::vector<double> body_values;
    for (size_t i = 0; i < s.size(); ++i)
      if (logs[i] > body_cut) body_values.push_back(s[i]);
    const double soft_tissue = median(body_values);
    std::vector<char> skeleton(s.size(), 0);
    std::vector<double> bone_values;
    for (size_t i = 0; i < s.size(); ++i)
      if (logs[i] > body_cut && s[i] > 2.5 * soft_tissue) {
        skeleton[i] = 1;
        bone_values.push_back(s[i]);
      }
    if (bone_values.size() < 100) return Error(ErrorCode::kUnsupported, info.view + ": no skeleton found; is this a bone scan?");
    info.normal_bone_counts = median(bone_values);
    // Local normal bone: median skeleton counts in 32-pixel blocks (about 75 mm), interpolated.
    const int block = 32, bw = (w + block - 1) / block, bh = (h + block - 1) / block;
    std::vector<double> local(static_cast<size_t>(bw) * static_cast<size_t>(bh), info.normal_bone_counts);
    for (int by = 0; by < bh; ++by)
      for (int bx = 0; bx < bw; ++bx) {
        std::vector<double> vals;
        for (int y = std::max(0, by * block - block / 2); y < std::min(h, (by + 1) * block + block / 2); ++y)
          for (int x = std::max(0, bx * block - block / 2); x < std::min(w, (bx + 1) * block + block / 2); ++x)
            if (skeleton[offset(y, w, x)]) vals.push_back(s[offset(y, w, x)]);
        if (vals.size() >= 20) local[offset(by, bw, bx)] = median(vals);
      }
    auto local_at = [&](int x, int y) {
      const double fx = std::clamp((x + 0.5) / block - 0.5, 0.0, bw - 1.0),
                   fy = std::clamp((y + 0.5) / block - 0.5, 0.0, bh - 1.0);
      const int x0 = std::min(static_cast<int>(fx), std::max(0, bw - 2)),
                y0 = std::min(static_cast<int>(fy), std::max(0, bh - 2));
      const int x1 = std::min(x0 + 1, bw - 1), y1 = std::min(y0 + 1, bh - 1);
      const double ax = fx - x0, ay = fy - y0;
      auto L = [&](int xx, int yy) { return local[offset(yy, bw, xx)]; };
      return (1 - ay) * ((1 - ax) * L(x0, y0) + ax * L(x1, y0)) + ay * ((1 - ax) * L(x0, y1) + ax * L(x1, y1));
    };
    // Hot: twice the surrounding normal bone and well above the patient's typical bone.
    std::vector<char> hot(s.size(), 0);
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const size_t i = offset(y, w, x);
        if (skeleton[i] && s[i] > 2.0 * local_at(x, y) && s[i] > 1.5 * info.normal_bone_counts) hot[i] = 1;
      }
    // Body extent, for telling the bladder from a metastasis.
    int top = h, bottom = -1;
    double col_sum = 0, col_n = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        if (logs[offset(y, w, x)] > body_cut) {
          top = std::min(top, y);
          bottom = std::max(bottom, y);
          col_sum += x;
          col_n += 1;
        }
    const double midline = col_n > 0 ? col_sum / col_n : w / 2.0;
    // Connected hot regions (8-connected).
    std::vector<int> label(s.size(), 0);
    int next = 0;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const size_t i0 = offset(y, w, x);
        if (!hot[i0] || label[i0]) continue;
        ++next;
        std::vector<int> stack{y * w + x}, members;
        label[i0] = next;
        double sy = 0, sx = 0, n = 0, peak = 0, peak_ratio = 0;
        while (!stack.empty()) {
          const int p = stack.back();
          stack.pop_back();
          members.push_back(p);
          const int py = p / w, px = p % w;
          sy += py;
          sx += px;
          n += 1;
          if (s[static_cast<size_t>(p)] > peak) {
            peak = s[static_cast<size_t>(p)];
            peak_ratio = peak / local_at(px, py);
          }
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx) {
              const int qx = px + dx, qy = py + dy;
              if (qx < 0 || qy < 0 || qx >= w || qy >= h) continue;
              const size_t q = offset(qy, w, qx);
              if (hot[q] && !label[q]) {
                label[q] = next;
                stack.push_back(qy * w + qx);
              }
            }
        }
        const double area = n * px_mm2;
        // A hot spot peaks at 2.5 times the surrounding bone at least (its pixels above twice belong
        // to it); weaker, few-pixel rises are the normal unevenness of the skeleton and noise.
        if (n < 3 || peak_ratio < 2.5) continue;
        // The bladder: a hot region of more than 300 mm2 on the midline of the pelvis (38-62 % down
        // the body). A metastasis there of that size would be left out too; the reader sees it listed.
        const double cy = sy / n, cx = sx / n;
        const double height = bottom > top ? (cy - top) / (bottom - top) : 0;
        if (area > 300 && std::abs(cx - midline) < 0.12 * w && height > 0.38 && height < 0.62) {
          info.excluded.push_back("bladder (" + std::to_string(std::lround(area)) + " mm2)");
          continue;
        }
        info.hot_area_mm2 += area;
        for (const HotSpot& part : split_at_peaks(members, s, w, px_mm2, local_at)) {
          if (part.peak_ratio < 2.5) continue;
          out.hot_spots.push_back(part);
          out.hot_spots.back().view = info.view;
        }
      }
    info.skeleton_area_mm2 = static_cast<double>(bone_values.size()) * px_mm2;
    bii_sum += 100.0 * info.hot_area_mm2 / info.skeleton_area_mm2;
    out.views.push_back(info);
  }
  out.bone_involvement_index_pct = out.views.empty() ? 0 : bii_sum / static_cast<double>(out.views.size());
  return out;
}

std::vector<BoneScanLesion> pair_views(const std::vector<HotSpot>& spots, const ViewGeometry& geometry, double tolerance_mm) {
  struct Candidate {
    double distance_mm;
    int anterior, posterior;
  };
  std::vector<Candidate> candidates;
  for (size_t a = 0; a < spots.size(); ++a) {
    if (spots[a].view != "anterior") continue;
    for (size_t p = 0; p < spots.size(); ++p) {
      if (spots[p].view != "posterior") continue;
      // Pixel centres run 0 .. columns - 1: a mirrored column c is columns - 1 - c.
      const double column = geometry.posterior_mirrored ? geometry.columns - 1 - spots[p].column : spots[p].column;
      const double d = std::hypot(spots[a].row - spots[p].row, spots[a].column - column) * geometry.pixel_mm;
      if (d <= tolerance_mm) candidates.push_back({d, static_cast<int>(a), static_cast<int>(p)});
    }
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& x, const Candidate& y) { return x.distance_mm < y.distance_mm; });
  std::vector<char> used(spots.size(), 0);
  std::vector<BoneScanLesion> lesions;
  for (const Candidate& c : candidates) {
    if (used[static_cast<size_t>(c.anterior)] || used[static_cast<size_t>(c.posterior)]) continue;
    used[static_cast<size_t>(c.anterior)] = used[static_cast<size_t>(c.posterior)] = 1;
    lesions.push_back({c.anterior, c.posterior});
  }
  for (size_t i = 0; i < spots.size(); ++i) {
    if (used[i]) continue;
    if (spots[i].view == "anterior") lesions.push_back({static_cast<int>(i), -1});
    if (spots[i].view == "posterior") lesions.push_back({-1, static_cast<int>(i)});
  }
  // Head to foot, as a reader lists them.
  auto row_of = [&](const BoneScanLesion& l) {
    return spots[static_cast<size_t>(l.anterior >= 0 ? l.anterior : l.posterior)].row;
  };
  std::stable_sort(lesions.begin(), lesions.end(),
                   [&](const BoneScanLesion& x, const BoneScanLesion& y) { return row_of(x) < row_of(y); });
  return lesions;
}

}  // namespace oq::lesion
