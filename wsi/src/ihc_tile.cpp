// IHC analysis stages on one tile: unmixing, nuclei, cells (see ihc_stages.h).
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

#include "ihc_stages.h"
#include "nuclei.h"

namespace oq::wsi::stages {

StainLookup stain_lookup(const OdTable& od_of, const cv::Matx33d& inv, double hematoxylin_read_as_dab, bool dab_present,
                         bool membrane_marker) {
  StainLookup l;
  for (size_t c = 0; c < 3; ++c)
    for (size_t v = 0; v < 256; ++v) {
      l.h_of[c][v] = static_cast<float>(od_of[c][v] * inv(static_cast<int>(c), 0));
      l.d_of[c][v] =
          static_cast<float>(od_of[c][v] * (inv(static_cast<int>(c), 1) - hematoxylin_read_as_dab * inv(static_cast<int>(c), 0)));
    }
  l.dab_present = dab_present;
  l.membrane_marker = membrane_marker;
  return l;
}

// OD (a row) = concentrations x [H; DAB; residual], so concentrations = OD x inverse. Nuclei:
// hematoxylin, plus DAB up to three times the hematoxylin under it (a positive nucleus takes both;
// cytoplasmic and membranous DAB have little hematoxylin under it). Up to once the hematoxylin was
// too little: a strongly positive nucleus reads little hematoxylin when the DAB vector is a few
// degrees off, stood out less than its negative neighbours, and the watershed gave most of it to
// them (OQ-IHC-006's PR tile: a 3+ nucleus of 88 um2 read as a 26 um2 stromal cell). HER2 stains
// membranes, not nuclei: there hematoxylin alone, else an intense membrane over the cytoplasm's
// faint counterstain would join the nuclei.
void unmix_tile(const cv::Mat& rgb, const StainLookup& l, TileImages& im) {
  im.hem.create(rgb.size(), CV_32F);
  im.dab.create(rgb.size(), CV_32F);
  im.nuc.create(rgb.size(), CV_32F);
  for (int y = 0; y < rgb.rows; ++y) {
    const std::uint8_t* in = rgb.ptr<std::uint8_t>(y);
    float* h = im.hem.ptr<float>(y);
    float* d = im.dab.ptr<float>(y);
    float* n = im.nuc.ptr<float>(y);
    for (int x = 0; x < rgb.cols; ++x, in += 3) {
      h[x] = std::max(0.0f, l.h_of[0][in[0]] + l.h_of[1][in[1]] + l.h_of[2][in[2]]);
      // No DAB among the slide's stains (an H&E slide): nothing is DAB; what leaves the stains'
      // plane is noise, and amplified into a DAB channel it would pass for staining.
      d[x] = l.dab_present ? std::max(0.0f, l.d_of[0][in[0]] + l.d_of[1][in[1]] + l.d_of[2][in[2]]) : 0.0f;
      n[x] = l.membrane_marker ? h[x] : h[x] + std::min(d[x], 3 * h[x]);
    }
  }
}

namespace {

// The nucleus stain smoothed by about 1 um, and the foreground: stain above the local background
// (cytoplasm, stroma), which is the stain's grey opening over a square wider than a nucleus, taken
// at a quarter of the resolution (a smooth field; 16x fewer pixels). The absolute level used before
// (0.18) followed the glass value I0 and the counterstain's strength: on tiles without glass, with
// I0 taken as 255 for glass at 240, the cytoplasm of tumour nests crossed it and whole nests became
// one 'nucleus' (too large, dropped).
void nucleus_foreground(TileImages& im, double mpp, const cv::Mat& background_square, double min_od) {
  cv::GaussianBlur(im.nuc, im.smooth, {}, 1.0 / mpp);
  cv::resize(im.smooth, im.quarter, {}, 0.25, 0.25, cv::INTER_AREA);
  cv::morphologyEx(im.quarter, im.quarter, cv::MORPH_OPEN, background_square);
  cv::resize(im.quarter, im.local_bg, im.smooth.size(), 0, 0, cv::INTER_LINEAR);
  cv::subtract(im.smooth, im.local_bg, im.above_bg);
  const double fg_level = nuclei::nucleus_level(im.above_bg, min_od);
  cv::compare(im.above_bg, fg_level, im.fg, cv::CMP_GT);
  cv::morphologyEx(im.fg, im.fg, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, {3, 3}));
}

// Seeds: local maxima of the (lightly smoothed) distance at least 1.5 um inside and 5 um apart:
// one per nucleus up to about 12 um across, touching nuclei kept apart. Crowded tissue (real
// glands and tumour sheets): the cytoplasm between nuclei stands above the local background too,
// the foreground is one sheet of many nuclei and its distance has too few maxima (EndoNuke's
// endometrium: a third of the nuclei found). Such sheets are seeded from the stain itself.
// Returns the seed count (labels in im.markers, 0 included).
int seed_nuclei(TileImages& im, double mpp, const IhcSettings& st) {
  const double um2_per_px = mpp * mpp;
  cv::distanceTransform(im.fg, im.dist, cv::DIST_L2, 3);
  cv::GaussianBlur(im.dist, im.dist, {}, 1.0);
  const int k = std::max(3, static_cast<int>(std::lround(5.0 / mpp)) | 1);
  cv::dilate(im.dist, im.dil, cv::getStructuringElement(cv::MORPH_ELLIPSE, {k, k}));
  cv::compare(im.dist, im.dil, im.peaks, cv::CMP_GE);
  cv::compare(im.dist, 1.5 / mpp, im.above, cv::CMP_GT);
  cv::bitwise_and(im.peaks, im.above, im.peaks);
  cv::bitwise_and(im.peaks, im.fg, im.peaks);
  im.sheet = nuclei::sheets_of(im.fg, im.peaks, 4 * st.max_nucleus_um2 / um2_per_px, st.max_nucleus_um2 / 2 / um2_per_px);
  if (cv::countNonZero(im.sheet) > 0) nuclei::seed_sheets(im.nuc, im.sheet, mpp, im.peaks);
  const int nseeds = cv::connectedComponents(im.peaks, im.markers, 8, CV_32S);
  return merge_seeds(im.markers, nseeds, im.dist, im.sheet, im.above_bg, mpp);
}

// Watershed on the smoothed stain from the seeds only: it decides where touching nuclei part;
// what belongs to a nucleus at all is the foreground (a background marker would compete for the
// nuclei's blurred rims and shrink them). OpenCV floods by the colour difference between
// neighbours, so the flood that reached the background first climbs a nucleus's rim from outside
// too and leaves its label on the core: the mean DAB OD the intensity classes are set for.
// (Flooding each patch of foreground on its own, or giving a patch with one seed all of it, took
// in the rims: nuclei read 41 % larger and one class weaker.) In a sheet, the nucleus is the part
// of its cell where the stain is at least half its peak: returns each label's peak there.
std::vector<float> flood_nuclei(TileImages& im, int nseeds) {
  im.smooth.convertTo(im.gray8, CV_8U, -255.0, 255.0);  // 255 - 255 x stain, saturated
  cv::cvtColor(im.gray8, im.img8, cv::COLOR_GRAY2BGR);
  const bool any_sheet = cv::countNonZero(im.sheet) > 0;
  cv::Mat seeds_only;
  if (any_sheet) seeds_only = im.markers.clone();
  cv::watershed(im.img8, im.markers);
  return any_sheet ? nuclei::give_sheets_to_nearest_seeds(seeds_only, im.sheet, im.above_bg, nseeds, im.markers)
                   : std::vector<float>{};
}

// The flood that reaches the background first climbs every other nucleus's rim from outside and
// leaves each its core; its own nucleus kept the background and those rims, read hundreds of square
// microns and was dropped as too large (a nucleus lost per tile). Each label is held to the
// foreground part its seed lies in, and the background's owner to where the stain is at least half
// its peak, as the others' cores are. Returns per label whether it is kept to that half (the
// owner), with the parts in im.fg_parts.
struct LabelParts {
  std::vector<int> part;    // the foreground part of each label's seed
  std::vector<float> half;  // owner: half its peak stain; others 0
};
LabelParts seed_parts(TileImages& im, int nseeds) {
  cv::connectedComponents(im.fg, im.fg_parts, 8, CV_32S);
  LabelParts p{std::vector<int>(static_cast<size_t>(nseeds), -1), std::vector<float>(static_cast<size_t>(nseeds), 0)};
  for (int y = 0; y < im.markers.rows; ++y)
    for (int x = 0; x < im.markers.cols; ++x)
      if (const int l = im.markers.at<int>(y, x); l > 0 && l < nseeds && p.part[static_cast<size_t>(l)] < 0)
        p.part[static_cast<size_t>(l)] = im.fg_parts.at<int>(y, x);
  return p;
}

// After the flood: which label owns the background (has foreground in another part than its seed's).
void find_owner(const TileImages& im, int nseeds, LabelParts& p) {
  std::vector<char> owner(static_cast<size_t>(nseeds), 0);
  std::vector<float> peak(static_cast<size_t>(nseeds), 0);
  for (int y = 0; y < im.markers.rows; ++y)
    for (int x = 0; x < im.markers.cols; ++x) {
      const int l = im.markers.at<int>(y, x);
      if (l <= 0 || l >= nseeds || !im.fg.at<std::uint8_t>(y, x)) continue;
      const auto u = static_cast<size_t>(l);
      if (im.fg_parts.at<int>(y, x) != p.part[u])
        owner[u] = 1;
      else
        peak[u] = std::max(peak[u], im.above_bg.at<float>(y, x));
    }
  for (size_t u = 0; u < owner.size(); ++u)
    if (owner[u]) p.half[u] = 0.5f * peak[u];
}

NucleusSums sum_nuclei(const TileImages& im, int nseeds, const std::vector<float>& sheet_peak, const LabelParts& parts) {
  NucleusSums n;
  n.count = nseeds;
  for (auto* v : {&n.area, &n.sx, &n.sy, &n.sxx, &n.syy, &n.sxy, &n.sh, &n.sd}) v->assign(static_cast<size_t>(nseeds), 0);
  const bool any_sheet = !sheet_peak.empty();
  for (int y = 0; y < im.markers.rows; ++y)
    for (int x = 0; x < im.markers.cols; ++x) {
      const int l = im.markers.at<int>(y, x);
      if (l <= 0 || l >= nseeds || !im.fg.at<std::uint8_t>(y, x)) continue;
      if (im.fg_parts.at<int>(y, x) != parts.part[static_cast<size_t>(l)] ||
          im.above_bg.at<float>(y, x) < parts.half[static_cast<size_t>(l)])
        continue;
      if (im.fg_parts.at<int>(y, x) != parts.part[static_cast<size_t>(l)] ||
          im.above_bg.at<float>(y, x) < parts.half[static_cast<size_t>(l)])
        continue;
      if (any_sheet && im.sheet.at<std::uint8_t>(y, x) && im.above_bg.at<float>(y, x) < 0.5f * sheet_peak[static_cast<size_t>(l)])
        continue;
      const auto u = static_cast<size_t>(l);
      n.area[u] += 1;
      n.sx[u] += x;
      n.sy[u] += y;
      n.sxx[u] += static_cast<double>(x) * x;
      n.syy[u] += static_cast<double>(y) * y;
      n.sxy[u] += static_cast<double>(x) * y;
      n.sh[u] += im.hem.at<float>(y, x);
      n.sd[u] += im.dab.at<float>(y, x);
    }
  return n;
}

}  // namespace

int merge_seeds(cv::Mat& markers, int nseeds, const cv::Mat& dist, const cv::Mat& sheet, const cv::Mat& above_bg, double mpp) {
  std::vector<double> px(static_cast<size_t>(nseeds), 0), py(px), pr(px), pn(px);
  for (int y = 0; y < markers.rows; ++y)
    for (int x = 0; x < markers.cols; ++x)
      if (const int l = markers.at<int>(y, x); l > 0) {
        const auto u = static_cast<size_t>(l);
        px[u] += x;
        py[u] += y;
        pr[u] = std::max(pr[u], static_cast<double>(dist.at<float>(y, x)));
        pn[u] += 1;
      }
  std::vector<int> parent(static_cast<size_t>(nseeds));
  for (int l = 0; l < nseeds; ++l) parent[static_cast<size_t>(l)] = l;
  std::function<int(int)> root = [&](int l) {
    while (parent[static_cast<size_t>(l)] != l)
      l = parent[static_cast<size_t>(l)] = parent[static_cast<size_t>(parent[static_cast<size_t>(l)])];
    return l;
  };
  for (int a = 1; a < nseeds; ++a) {
    const auto ua = static_cast<size_t>(a);
    px[ua] /= pn[ua];
    py[ua] /= pn[ua];
  }
  for (int a = 1; a < nseeds; ++a)
    for (int b = a + 1; b < nseeds; ++b) {
      const auto ua = static_cast<size_t>(a), ub = static_cast<size_t>(b);
      const double dx = px[ua] - px[ub], dy = py[ua] - py[ub];
      const bool in_sheets = sheet.at<std::uint8_t>(static_cast<int>(py[ua]), static_cast<int>(px[ua])) &&
                             sheet.at<std::uint8_t>(static_cast<int>(py[ub]), static_cast<int>(px[ub]));
      if (in_sheets) {
        // Two stain maxima in a sheet are one nucleus unless the stain dips between them.
        const double lim = 10 / mpp;
        if (std::abs(dx) > lim || std::abs(dy) > lim || !nuclei::same_blob(above_bg, px[ua], py[ua], px[ub], py[ub])) continue;
      } else {
        const double lim = 0.8 * (pr[ua] + pr[ub]);
        if (std::abs(dx) > lim || std::abs(dy) > lim || dx * dx + dy * dy > lim * lim) continue;
      }
      parent[static_cast<size_t>(root(b))] = root(a);
    }
  std::vector<int> relabel(static_cast<size_t>(nseeds), 0);
  int next_label = 0;
  for (int l = 1; l < nseeds; ++l)
    if (root(l) == l) relabel[static_cast<size_t>(l)] = ++next_label;
  for (int y = 0; y < markers.rows; ++y)
    for (int x = 0; x < markers.cols; ++x)
      if (int& l = markers.at<int>(y, x); l > 0) l = relabel[static_cast<size_t>(root(l))];
  return next_label + 1;
}

NucleusSums find_nuclei(TileImages& im, double mpp, const cv::Mat& background_square, const IhcSettings& st) {
  nucleus_foreground(im, mpp, background_square, st.nucleus_min_od_above_background);
  const int nseeds = seed_nuclei(im, mpp, st);
  LabelParts parts = seed_parts(im, nseeds);
  const std::vector<float> sheet_peak = flood_nuclei(im, nseeds);
  find_owner(im, nseeds, parts);
  return sum_nuclei(im, nseeds, sheet_peak, parts);
}

std::vector<Cell> cells_of_tile(const NucleusSums& n, const Tile& t, std::int64_t ox, std::int64_t oy, const TilePlan& plan,
                                const IhcSettings& st, std::vector<std::array<double, 3>>& centres) {
  std::vector<Cell> found;
  const double um2_per_px = plan.mpp * plan.mpp;
  for (int l = 1; l < n.count; ++l) {
    const auto u = static_cast<size_t>(l);
    if (n.area[u] < 3) continue;
    const double a_um2 = n.area[u] * um2_per_px;
    if (a_um2 < st.min_nucleus_um2 || a_um2 > st.max_nucleus_um2) continue;
    const double cx = n.sx[u] / n.area[u], cy = n.sy[u] / n.area[u];
    // Only the tile's core keeps its cells: the overlap belongs to the neighbours.
    const double core_x = cx - static_cast<double>(t.x0 - ox) / plan.l0_per_px,
                 core_y = cy - static_cast<double>(t.y0 - oy) / plan.l0_per_px;
    if (core_x < 0 || core_y < 0 || core_x >= t.core_w || core_y >= t.core_h) continue;
    const double vx = n.sxx[u] / n.area[u] - cx * cx, vy = n.syy[u] / n.area[u] - cy * cy, cxy = n.sxy[u] / n.area[u] - cx * cy;
    const double tr = vx + vy, det = vx * vy - cxy * cxy, disc = std::sqrt(std::max(0.0, tr * tr / 4 - det));
    const double l1 = tr / 2 + disc, l2 = std::max(1e-6, tr / 2 - disc);
    Cell c;
    c.x = static_cast<double>(ox) + cx * plan.l0_per_px;
    c.y = static_cast<double>(oy) + cy * plan.l0_per_px;
    c.area_um2 = a_um2;
    c.aspect = std::sqrt(l1 / l2);
    c.hematoxylin_od = n.sh[u] / n.area[u];
    c.dab_od = n.sd[u] / n.area[u];
    if (!st.roi.empty() && !inside(st.roi, c.x, c.y)) continue;
    found.push_back(c);
    centres.push_back({cx, cy, std::sqrt(a_um2 / CV_PI) / plan.mpp});
  }
  return found;
}

}  // namespace oq::wsi::stages
