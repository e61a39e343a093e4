// The IHC analysis. OpenCV does the pixel work; the rules (thresholds, sizes) are settings.
#include "oq/wsi/analysis.h"

#include "nuclei.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

namespace oq::wsi {
namespace {

using Vec = std::array<double, 3>;

// Below this gray level the brightest tenth of an image is not glass (slides' glass: CMU-1 246,
// the generated ones 236-246; the real IHC tile's lumen 226).
constexpr double kDimmestGlass = 224;

Vec normalised(Vec v) {
  const double n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  if (n > 0)
    for (double& x : v) x /= n;
  return v;
}

double angle_deg(const Vec& a, const Vec& b) {
  const Vec x = normalised(a), y = normalised(b);
  return std::acos(std::clamp(x[0] * y[0] + x[1] * y[1] + x[2] * y[2], -1.0, 1.0)) * 180.0 / CV_PI;
}

cv::Mat to_mat(const RgbImage& img) {
  return cv::Mat(img.height, img.width, CV_8UC3, const_cast<std::uint8_t*>(img.rgb.data())).clone();
}

// Optical density per channel and 8-bit value: -log10(I / I0), I clamped to at least 1, and
// unless `signed_od`, never negative (three logarithms per pixel would dominate the analysis time).
using OdTable = std::array<std::array<float, 256>, 3>;
OdTable od_table(const Vec& background, bool signed_od = false) {
  OdTable t{};
  for (size_t c = 0; c < 3; ++c)
    for (size_t v = 0; v < 256; ++v) {
      const double od = -std::log10(std::max(1.0, static_cast<double>(v)) / background[c]);
      t[c][v] = static_cast<float>(signed_od ? od : std::max(0.0, od));
    }
  return t;
}

cv::Mat optical_density(const cv::Mat& rgb, const Vec& background) {
  const OdTable table = od_table(background);
  cv::Mat od(rgb.size(), CV_32FC3);
  for (int y = 0; y < rgb.rows; ++y) {
    const auto* in = rgb.ptr<std::uint8_t>(y);
    auto* out = od.ptr<float>(y);
    for (int x = 0; x < rgb.cols; ++x)
      for (size_t c = 0; c < 3; ++c) out[3 * x + static_cast<int>(c)] = table[c][in[3 * x + static_cast<int>(c)]];
  }
  return od;
}

// The slide at about `um_per_px` (>= the finest level's), read level by level in strips.
Result<cv::Mat> overview(SlideReader& slide, double mpp0, double um_per_px, double* actual_um_per_px) {
  const SlideInfo& info = slide.info();
  int level = 0;
  for (size_t l = 0; l < info.levels.size(); ++l)
    if (info.levels[l].downsample * mpp0 <= um_per_px) level = static_cast<int>(l);
  const SlideLevel& lv = info.levels[static_cast<size_t>(level)];
  const double scale = std::min(1.0, lv.downsample * mpp0 / um_per_px);
  const int out_w = std::max(1, static_cast<int>(std::lround(static_cast<double>(lv.width) * scale)));
  const int out_h = std::max(1, static_cast<int>(std::lround(static_cast<double>(lv.height) * scale)));
  cv::Mat out(out_h, out_w, CV_8UC3);
  // Block by block, so that a slide without a low-resolution level (one huge level) is read in
  // pieces of bounded size.
  const int block = 2048;
  for (std::int64_t y = 0; y < lv.height; y += block) {
    const int h = static_cast<int>(std::min<std::int64_t>(block, lv.height - y));
    const int y0 = static_cast<int>(std::lround(static_cast<double>(y) * scale));
    const int y1 = std::min(out_h, static_cast<int>(std::lround(static_cast<double>(y + h) * scale)));
    if (y1 <= y0) continue;
    for (std::int64_t x = 0; x < lv.width; x += block) {
      const int w = static_cast<int>(std::min<std::int64_t>(block, lv.width - x));
      const int x0 = static_cast<int>(std::lround(static_cast<double>(x) * scale));
      const int x1 = std::min(out_w, static_cast<int>(std::lround(static_cast<double>(x + w) * scale)));
      if (x1 <= x0) continue;
      auto r = slide.read_region(level, static_cast<std::int64_t>(static_cast<double>(x) * lv.downsample),
                                 static_cast<std::int64_t>(static_cast<double>(y) * lv.downsample), w, h);
      if (!r) return r.error();
      cv::Mat small;
      cv::resize(to_mat(*r), small, cv::Size(x1 - x0, y1 - y0), 0, 0, cv::INTER_AREA);
      small.copyTo(out(cv::Rect(x0, y0, x1 - x0, y1 - y0)));
    }
  }
  *actual_um_per_px = lv.downsample * mpp0 / scale;
  return out;
}

// Macenko et al. 2009: the plane of the two strongest OD directions of stained pixels, and the
// robust extremes (1st and 99th percentile angles) in it. Which is hematoxylin and which DAB is
// decided against the reference vectors; a vector more than 25 degrees from its reference (an
// H&E slide has eosin, not DAB) keeps the reference instead.
// Stained pixels of an OD image (every `stride`-th), for the stain estimate.
void collect_stained(const cv::Mat& od, int stride, std::vector<Vec>& px) {
  for (int y = 0; y < od.rows; y += stride)
    for (int x = 0; x < od.cols; x += stride) {
      const auto& v = od.at<cv::Vec3f>(y, x);
      const double sum = v[0] + v[1] + v[2];
      if (sum > 0.15 && sum < 3 && v[0] > 0.05 && v[1] > 0.05 && v[2] > 0.05) px.push_back({v[0], v[1], v[2]});
    }
}

// Where DAB lies for a nuclear stain, from its darkest nuclei. Nuclear DAB is never seen pure:
// a positive nucleus holds hematoxylin too, so its colour is a mixture short of DAB, and the
// extreme pixels only bound DAB from below. The darkest nuclei (3+, DAB well above the 3+ level)
// are mostly DAB, though: a nucleus holding rho OD of hematoxylin per OD of DAB shows at
// phi = atan(sin t / (rho + cos t)) from hematoxylin when DAB lies at t, so
// t = phi + asin(rho sin phi). rho is an assumption, not a measurement: we take 0.4 and allow
// 0.2-0.6 (a nucleus's counterstain is of the order of 0.3-0.6 OD and partly masked where DAB is
// dense; the generated slides' 3+ nuclei hold 0.3-0.6), over which t moves about +-5 degrees,
// where a lab's DAB may lie 10 degrees or more from the reference. Only a slide with such nuclei
// says it: their DAB must come out well above the 3+ level (a slide whose positive nuclei are all
// weak would place DAB far too near hematoxylin), else nothing is found and the caller keeps the
// reference. Pixels rather than nuclei, as this runs before nuclei are found: the top quarter
// percent of pixels by their distance from hematoxylin's line (at least 30) are the darkest
// nuclei's cores.
constexpr double kDarkestNucleusHematoxylinPerDab = 0.4;
struct DarkestNuclei {
  bool found = false;
  double mixture_from_h = 0, dab_from_h = 0;  // radians, in the stains' plane
};
DarkestNuclei darkest_nuclei(const std::vector<Vec>& px, const Vec& e1, const Vec& e2, double h_angle, double side) {
  // In the plane: distance from hematoxylin's line (the DAB-ish part) and angle from it.
  std::vector<std::pair<double, double>> off_h(px.size());
  for (size_t i = 0; i < px.size(); ++i) {
    const double a = px[i][0] * e1[0] + px[i][1] * e1[1] + px[i][2] * e1[2];
    const double b = px[i][0] * e2[0] + px[i][1] * e2[1] + px[i][2] * e2[2];
    const double t = side * std::remainder(std::atan2(b, a) - h_angle, 2 * CV_PI);
    off_h[i] = {std::hypot(a, b) * std::sin(t), t};
  }
  const size_t n = std::max<size_t>(30, px.size() / 400);
  DarkestNuclei out;
  if (px.size() < 2 * n) return out;
  std::nth_element(off_h.begin(), off_h.begin() + static_cast<long>(n), off_h.end(), std::greater<>());
  std::vector<double> angle(n), off(n);
  for (size_t i = 0; i < n; ++i) std::tie(off[i], angle[i]) = off_h[i];
  std::nth_element(angle.begin(), angle.begin() + static_cast<long>(n / 2), angle.end());
  std::nth_element(off.begin(), off.begin() + static_cast<long>(n / 2), off.end());
  const double phi = angle[n / 2];
  if (phi <= 0) return out;
  out.mixture_from_h = phi;
  out.dab_from_h = phi + std::asin(kDarkestNucleusHematoxylinPerDab * std::sin(phi));
  // Their DAB once DAB lies there: 1.25 x the 3+ level (0.6 OD) at least.
  constexpr double kDarkestDabMin = 0.75;
  out.found = off[n / 2] / std::sin(out.dab_from_h) >= kDarkestDabMin;
  return out;
}

void estimate_stains(const std::vector<Vec>& px, bool dab_on_membranes, StainVectors& s) {
  if (px.size() < 200) {
    s.note = "too little stained tissue to estimate stain vectors: reference vectors used";
    return;
  }
  cv::Mat data(static_cast<int>(px.size()), 3, CV_64F);
  for (size_t i = 0; i < px.size(); ++i)
    for (int c = 0; c < 3; ++c) data.at<double>(static_cast<int>(i), c) = px[i][static_cast<size_t>(c)];
  cv::PCA pca(data, cv::Mat(), cv::PCA::DATA_AS_ROW, 2);
  const cv::Mat e = pca.eigenvectors;  // 2 x 3
  Vec e1{e.at<double>(0, 0), e.at<double>(0, 1), e.at<double>(0, 2)},
      e2{e.at<double>(1, 0), e.at<double>(1, 1), e.at<double>(1, 2)};
  if (e1[0] + e1[1] + e1[2] < 0)
    for (double& x : e1) x = -x;
  std::vector<double> phi(px.size());
  for (size_t i = 0; i < px.size(); ++i) {
    const double a = px[i][0] * e1[0] + px[i][1] * e1[1] + px[i][2] * e1[2];
    const double b = px[i][0] * e2[0] + px[i][1] * e2[1] + px[i][2] * e2[2];
    phi[i] = std::atan2(b, a);
  }
  std::sort(phi.begin(), phi.end());
  const double lo = phi[phi.size() / 100], hi = phi[phi.size() * 99 / 100];
  auto dir = [&](double t) {
    Vec v = normalised({std::cos(t) * e1[0] + std::sin(t) * e2[0], std::cos(t) * e1[1] + std::sin(t) * e2[1],
                        std::cos(t) * e1[2] + std::sin(t) * e2[2]});
    if (v[0] + v[1] + v[2] < 0)
      for (double& x : v) x = -x;
    return v;
  };
  auto plane_angle = [&](const Vec& v) {
    return std::atan2(v[0] * e2[0] + v[1] * e2[1] + v[2] * e2[2], v[0] * e1[0] + v[1] * e1[1] + v[2] * e1[2]);
  };
  const Vec h_ref = normalised(s.hematoxylin), d_ref = normalised(s.dab);
  // Which extreme is hematoxylin: the pairing nearer both references. Hematoxylin's reference
  // alone misleads on a slide with little DAB, whose extremes both lie near hematoxylin: a lab's
  // hematoxylin 10 degrees from the reference can lie farther from it than the other edge of its
  // own cloud (OQ-IHC-027's PR slide in the set at the defaults: 9.6 against 6.5 degrees).
  double h_angle = lo, d_angle = hi;
  if (angle_deg(dir(lo), h_ref) + angle_deg(dir(hi), d_ref) > angle_deg(dir(hi), h_ref) + angle_deg(dir(lo), d_ref))
    std::swap(h_angle, d_angle);
  // A nuclear stain is never seen pure: every DAB pixel also holds hematoxylin, so the extreme
  // angle falls short of DAB towards hematoxylin. The data only says DAB lies at least that far
  // from hematoxylin; the reference DAB, projected into the plane, is taken when it lies farther,
  // unless the darkest nuclei place it (below). A membrane stain (HER2) is seen pure on the
  // membranes: there the extreme is DAB itself.
  // Only when DAB is in the plane at all: an H&E slide's plane (hematoxylin, eosin) leaves the
  // DAB reference about 37 degrees out of it; a lab's DAB may lie 10 degrees from the reference.
  constexpr double kDabOutOfPlaneMax = 25;
  const Vec normal = normalised({e1[1] * e2[2] - e1[2] * e2[1], e1[2] * e2[0] - e1[0] * e2[2], e1[0] * e2[1] - e1[1] * e2[0]});
  const double out_of_plane =
      std::asin(std::min(1.0, std::abs(d_ref[0] * normal[0] + d_ref[1] * normal[1] + d_ref[2] * normal[2]))) * 180 / CV_PI;
  const double ref_angle = plane_angle(d_ref);
  const double data_from_h = std::abs(std::remainder(d_angle - h_angle, 2 * CV_PI)),
               ref_from_h = std::abs(std::remainder(ref_angle - h_angle, 2 * CV_PI));
  // With little membrane staining (HER2 0 or 1+) the extreme is not DAB but the edge of the
  // hematoxylin cloud: only an extreme nearly as far from hematoxylin as DAB usually lies is DAB.
  const bool pure_dab_seen = dab_on_membranes && data_from_h >= 0.75 * ref_from_h;
  const bool dab_from_reference = !pure_dab_seen && out_of_plane <= kDabOutOfPlaneMax && ref_from_h > data_from_h;
  // A nuclear stain's DAB from its darkest nuclei (see darkest_nuclei), where the most DAB-rich
  // pixels fall short of the reference (beyond it, DAB shows nearly pure: a cytoplasmic stain such
  // as the real skimage tile's): when the slide has such nuclei, they place DAB better than the
  // reference can for a lab whose DAB lies a few degrees off it. Never nearer hematoxylin than
  // the most DAB-rich pixels, and no farther from the reference than labs' stains vary (the
  // model's assumption is not trusted beyond that).
  const double side = std::remainder(d_angle - h_angle, 2 * CV_PI) >= 0 ? 1 : -1;
  const DarkestNuclei darkest =
      dab_on_membranes || !dab_from_reference ? DarkestNuclei{} : darkest_nuclei(px, e1, e2, h_angle, side);
  constexpr double kFromReferenceMax = 15 * CV_PI / 180;
  if (darkest.found) {
    d_angle = h_angle + side * std::max(data_from_h, std::clamp(darkest.dab_from_h, ref_from_h - kFromReferenceMax,
                                                                ref_from_h + kFromReferenceMax));
  } else if (dab_from_reference) {
    d_angle = ref_angle;
  }
  const Vec a = dir(h_angle), b = dir(d_angle);
  std::string note;
  if (out_of_plane > kDabOutOfPlaneMax) {
    s.hematoxylin = a;
    s.counterstain = dir(d_angle);  // the plane's other stain
    s.dab_from = "absent";
    s.note = "no DAB among this slide's stains (the DAB reference lies " + std::to_string(std::lround(out_of_plane)) +
             " degrees out of their plane; an H&E slide?): DAB taken as absent";
    return;
  }
  if (angle_deg(a, h_ref) <= 25) {
    s.hematoxylin = a;
  } else {
    note += "no hematoxylin-like stain found (reference kept); ";
  }
  const bool dab_found = angle_deg(b, d_ref) <= 25;
  if (dab_found) {
    s.dab = b;
  } else {
    note += "no DAB-like stain found (reference kept; an H&E slide?); ";
  }
  s.estimated = note.empty();
  s.dab_from_reference = dab_found && !darkest.found && dab_from_reference;
  s.dab_from = !dab_found || s.dab_from_reference ? "reference" : darkest.found ? "darkest nuclei" : "slide";
  const auto deg = [](double rad) { return std::to_string(std::lround(rad * 180 / CV_PI)); };
  if (note.empty() && darkest.found) {
    char rho[16];
    std::snprintf(rho, sizeof rho, "%.1f", kDarkestNucleusHematoxylinPerDab);
    s.note =
        "hematoxylin and the stains' plane estimated per slide (Macenko); DAB from the darkest nuclei: their "
        "hematoxylin-DAB mixture lies " +
        deg(darkest.mixture_from_h) + " degrees from hematoxylin, so DAB about " +
        deg(std::abs(std::remainder(d_angle - h_angle, 2 * CV_PI))) + " (the reference " + deg(ref_from_h) +
        "), taking a strongly stained nucleus to hold " + rho +
        " OD of hematoxylin per OD of DAB; give the lab's vectors with --stains when known";
    return;
  }
  if (note.empty() && s.dab_from_reference) {
    // Say so: the reader (or the lab) can then give the vectors of the staining run.
    s.note =
        "hematoxylin and the stains' plane estimated per slide (Macenko); DAB is the reference turned into that "
        "plane: the most DAB-rich pixels lie " +
        deg(data_from_h) + " degrees from hematoxylin, the reference " + deg(ref_from_h) +
        "; DAB is not seen pure on this slide (" +
        (dab_on_membranes ? "membranes too faint" : "nuclear DAB is always mixed with hematoxylin") +
        "), so it cannot show a lab whose DAB lies nearer hematoxylin than the reference: give the lab's vectors with "
        "--stains when known";
    return;
  }
  s.note = note.empty() ? "estimated per slide (Macenko)" : note.substr(0, note.size() - 2);
}

// Rows of the inverse of [H; DAB; third]: concentrations = OD x inverse. The third is the
// counterstain when the slide has one instead of DAB, else the residual (cross product).
cv::Matx33d unmixing(const StainVectors& s) {
  const Vec h = normalised(s.hematoxylin), d = normalised(s.dab);
  Vec r{h[1] * d[2] - h[2] * d[1], h[2] * d[0] - h[0] * d[2], h[0] * d[1] - h[1] * d[0]};
  r = s.counterstain ? normalised(*s.counterstain) : normalised(r);
  const cv::Matx33d m(h[0], h[1], h[2], d[0], d[1], d[2], r[0], r[1], r[2]);
  return m.inv();
}

bool inside(const std::vector<std::array<double, 2>>& poly, double x, double y) {
  bool in = false;
  for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    const auto& a = poly[i];
    const auto& b = poly[j];
    if ((a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]) in = !in;
  }
  return in;
}

// The tissue's own DAB, for HER2, whose stain is on membranes only. Two things shift every DAB
// OD without any staining, and a faint membrane (about 0.05 OD above its surroundings once
// blurred) is lost or invented by either:
// - Hematoxylin read as DAB: when the hematoxylin or DAB vector is a few degrees off, unmixing
//   puts a share of the hematoxylin into DAB (-0.34 to +0.22 OD per OD of hematoxylin on the
//   generated labs). Nuclei carry no HER2, so their DAB above the stroma's, per unit of
//   hematoxylin above the stroma's, is that share; it is taken out of the DAB channel.
// - I0: on an image without glass the brightest tenth is stroma, and every DAB OD reads lower by
//   the stroma's own nonspecific DAB (about 0.015 on the generated slides).
// Membranes are then measured above the commonest DAB of tissue pixels with little hematoxylin
// (stroma and cytoplasm; membranes are a minority of pixels, spread over many levels), as a
// pathologist judges faint staining against the background. Unclamped OD: on an image without
// glass much of the stroma is brighter than I0 in some channel.
struct TissueDab {
  double background = 0;  // DAB OD of the tissue off nuclei, once the hematoxylin share is out
  double hematoxylin_share = 0;
  std::string warning;  // when the nuclei read too much DAB for the share to be the unmixing's
};
TissueDab tissue_dab(const std::vector<cv::Mat>& samples, const Vec& background, const cv::Matx33d& inv, bool white_i0) {
  const OdTable od_of = od_table(background, true);
  OdTable h_of{}, d_of{};
  for (size_t c = 0; c < 3; ++c)
    for (size_t v = 0; v < 256; ++v) {
      h_of[c][v] = static_cast<float>(od_of[c][v] * inv(static_cast<int>(c), 0));
      d_of[c][v] = static_cast<float>(od_of[c][v] * inv(static_cast<int>(c), 1));
    }
  // Histograms of DAB and hematoxylin OD, in bins of 0.0025 from -0.2, for the tissue off nuclei
  // (hematoxylin < 0.25) and for nuclei (0.3-0.8: tumour and stromal nuclei, not lymphocytes).
  constexpr double kBin = 0.0025, kLow = -0.2;
  using Histogram = std::array<std::uint64_t, 400>;
  Histogram tissue_d{}, tissue_h{}, nucleus_d{}, nucleus_h{};
  auto bin_of = [&](double od) { return static_cast<long>(std::floor((od - kLow) / kBin)); };
  // Every other pixel of every other row: a million and a half pixels are plenty for a median.
  for (const cv::Mat& rgb : samples)
    for (int y = 0; y < rgb.rows; y += 2) {
      const std::uint8_t* p = rgb.ptr<std::uint8_t>(y);
      for (int x = 0; x < rgb.cols; x += 2, p += 6) {
        // Glass is not tissue: its OD is noise around zero, the stroma's about 0.1 - when I0 is
        // the scanner's white (glass, or given), not the stroma itself.
        if (white_i0 && od_of[0][p[0]] + od_of[1][p[1]] + od_of[2][p[2]] < 0.06f) continue;
        const double h = h_of[0][p[0]] + h_of[1][p[1]] + h_of[2][p[2]];
        const long hb = bin_of(h), db = bin_of(d_of[0][p[0]] + d_of[1][p[1]] + d_of[2][p[2]]);
        if (hb < 0 || db < 0 || hb >= static_cast<long>(tissue_d.size()) || db >= static_cast<long>(tissue_d.size())) continue;
        if (h < 0.25) {
          ++tissue_d[static_cast<size_t>(db)];
          ++tissue_h[static_cast<size_t>(hb)];
        } else if (h > 0.3 && h < 0.8) {
          ++nucleus_d[static_cast<size_t>(db)];
          ++nucleus_h[static_cast<size_t>(hb)];
        }
      }
    }
  auto count = [](const Histogram& hist) {
    std::uint64_t n = 0;
    for (const auto c : hist) n += c;
    return n;
  };
  auto median = [&](const Histogram& hist) {
    const std::uint64_t total = count(hist);
    std::uint64_t seen = 0;
    for (size_t b = 0; b < hist.size(); ++b) {
      seen += hist[b];
      if (seen * 2 >= total) return kLow + (static_cast<double>(b) + 0.5) * kBin;
    }
    return 0.0;
  };
  TissueDab t;
  if (count(tissue_d) == 0) return t;
  // The tissue's DAB: the mode, over five bins (8-bit values and JPEG leave single bins ragged).
  size_t mode = 2;
  std::uint64_t best = 0;
  for (size_t b = 2; b + 2 < tissue_d.size(); ++b) {
    const std::uint64_t n = tissue_d[b - 2] + tissue_d[b - 1] + tissue_d[b] + tissue_d[b + 1] + tissue_d[b + 2];
    if (n > best) {
      best = n;
      mode = b;
    }
  }
  const double tissue_dab_od = kLow + (static_cast<double>(mode) + 0.5) * kBin, tissue_h_od = median(tissue_h);
  // A thousand nucleus pixels (a dozen nuclei) at least. A vector 10 degrees off reads about
  // sin 10 / sin 30 = 0.35 of hematoxylin as DAB (the generated labs, up to 13 degrees off: -0.34
  // to +0.23); beyond 0.5 it is not the unmixing but stained nuclei (a nuclear stain's slide: the
  // real skimage tile reads 1.7) or vectors far off. Then nothing is taken out, and the result says so.
  if (count(nucleus_d) >= 1000) {
    const double share = (median(nucleus_d) - tissue_dab_od) / (median(nucleus_h) - tissue_h_od);
    if (std::abs(share) <= 0.5) {
      t.hematoxylin_share = share;
    } else {
      char text[320];
      std::snprintf(text, sizeof text,
                    "the nuclei read %.2f OD of DAB per OD of hematoxylin, more than stain vectors a few degrees off "
                    "explain: stained nuclei (HER2 stains membranes: check the overlay) or the lab's vectors far from "
                    "the estimate (give --stains); nothing taken out",
                    share);
      t.warning = text;
    }
  }
  t.background = tissue_dab_od - t.hematoxylin_share * tissue_h_od;
  return t;
}

struct Tile {
  std::int64_t x0, y0;  // level-0 pixels of the tile's core
  int core_w, core_h;   // analysis pixels
};

// The membrane of one cell: along 48 directions from the nucleus edge out to the bisector with
// the nearest neighbour that way (at most 6 um), the peak DAB OD above the tissue's own (see
// tissue_dab); a direction is stained when the peak reaches the stained level.
// Completeness = stained share; intensity = their median peak.
void measure_membrane(const cv::Mat& dab, const cv::Mat& hematoxylin, const std::array<double, 3>& c,
                      const std::vector<std::array<double, 2>>& nuclei, double mpp, const IhcSettings& st, double tissue_dab_od,
                      Cell& cell) {
  constexpr int kDirections = 48;
  std::vector<std::array<double, 2>> near;
  const double reach = c[2] + 6.0 / mpp;
  for (const auto& n : nuclei) {
    const double dx = n[0] - c[0], dy = n[1] - c[1];
    const double d2 = dx * dx + dy * dy;
    if (d2 > 1e-6 && d2 < 4 * reach * reach) near.push_back({dx, dy});
  }
  std::vector<double> peaks;
  int stained = 0;
  for (int k = 0; k < kDirections; ++k) {
    const double a = 2 * CV_PI * k / kDirections, ux = std::cos(a), uy = std::sin(a);
    double end = reach;
    for (const auto& v : near) {
      const double along = ux * v[0] + uy * v[1];
      if (along > 0) end = std::min(end, (v[0] * v[0] + v[1] * v[1]) / (2 * along) + 0.3 / mpp);
    }
    // From the nucleus's own edge that way (an elongated nucleus reaches past its mean radius,
    // and its blurred rim carries some DAB) out to the bisector or a neighbour's nucleus: where
    // the (smoothed) hematoxylin falls below half the nucleus's own, and rises above it again.
    // An intense membrane leaves some DAB in the hematoxylin channel, never that much.
    const double edge = 0.5 * cell.hematoxylin_od;
    auto at = [&](double r, int& x, int& y) {
      x = static_cast<int>(std::lround(c[0] + r * ux));
      y = static_cast<int>(std::lround(c[1] + r * uy));
      return x >= 0 && y >= 0 && x < dab.cols && y < dab.rows;
    };
    // Half-pixel steps along the ray.
    const int last = static_cast<int>(end / 0.5);
    double start = c[2];
    for (int step = 0; step <= last; ++step) {
      int x = 0, y = 0;
      if (!at(0.5 * step, x, y) || hematoxylin.at<float>(y, x) < edge) {
        start = 0.5 * step;
        break;
      }
    }
    double peak = 0;
    for (int step = static_cast<int>(std::ceil((start + 0.5 / mpp) / 0.5)); step <= last; ++step) {
      int x = 0, y = 0;
      if (!at(0.5 * step, x, y) || hematoxylin.at<float>(y, x) >= edge) break;
      peak = std::max(peak, static_cast<double>(dab.at<float>(y, x)));
    }
    peak -= tissue_dab_od;
    if (peak >= st.membrane_stained_od) {
      ++stained;
      peaks.push_back(peak);
    }
  }
  cell.membrane_completeness = static_cast<double>(stained) / kDirections;
  if (!peaks.empty()) {
    std::nth_element(peaks.begin(), peaks.begin() + static_cast<long>(peaks.size() / 2), peaks.end());
    cell.membrane_od = peaks[peaks.size() / 2];
  }
}

}  // namespace

const char* to_string(Marker m) {
  switch (m) {
    case Marker::kER:
      return "ER";
    case Marker::kPR:
      return "PR";
    case Marker::kHER2:
      return "HER2";
  }
  return "ER";
}

const char* to_string(CellKind k) {
  switch (k) {
    case CellKind::kTumour:
      return "tumour";
    case CellKind::kLymphocyte:
      return "lymphocyte";
    case CellKind::kStroma:
      return "stroma";
    case CellKind::kOther:
      return "other";
  }
  return "other";
}

Result<IhcResult> analyse_ihc(SlideReader& slide, Marker marker, const IhcSettings& st,
                              const std::function<void(int, int)>& progress, const std::atomic<bool>* cancel) {
  const auto t0 = std::chrono::steady_clock::now();
  const SlideInfo& info = slide.info();
  if (!info.mpp_x || *info.mpp_x <= 0)
    return Error(ErrorCode::kUnavailable, "the slide does not say its microns per pixel: give --mpp", info.path);
  const double mpp0 = *info.mpp_x;
  IhcResult res;
  res.marker = marker;
  res.roi_used = !st.roi.empty();

  // 1. Overview at about 8 um/px: tissue, glass colour, stain vectors.
  double ov_um = 0;
  auto ov = overview(slide, mpp0, std::max(8.0, mpp0), &ov_um);
  if (!ov) return ov.error();
  // Glass: the brightest tenth of the overview (the median of it per channel), at least 200.
  // Pure white is not glass but where the file has no pixels (a sparse DICOM slide's missing
  // tiles, transparent areas composited over white): left out. Histograms, not copies: the
  // overview of a large slide runs to hundreds of megapixels.
  bool i0_from_tissue = false;  // no glass in the image: I0 is its lightest tissue
  cv::Mat gray;
  cv::cvtColor(*ov, gray, cv::COLOR_RGB2GRAY);
  auto no_pixels = [](const cv::Vec3b& p) { return p[0] == 255 && p[1] == 255 && p[2] == 255; };
  {
    std::array<std::uint64_t, 256> gray_hist{};
    std::uint64_t total = 0;
    for (int y = 0; y < gray.rows; ++y) {
      const std::uint8_t* row = gray.ptr<std::uint8_t>(y);
      const cv::Vec3b* p = ov->ptr<cv::Vec3b>(y);
      for (int x = 0; x < gray.cols; ++x)
        if (!no_pixels(p[x])) {
          ++gray_hist[row[x]];
          ++total;
        }
    }
    int cut = 255;
    for (std::uint64_t above = 0; cut > 0; --cut) {
      above += gray_hist[static_cast<size_t>(cut)];
      if (above >= total / 10) break;
    }
    std::array<std::array<std::uint64_t, 256>, 3> hist{};
    std::uint64_t bright = 0;
    for (int y = 0; y < ov->rows; ++y) {
      const std::uint8_t* g = gray.ptr<std::uint8_t>(y);
      const cv::Vec3b* p = ov->ptr<cv::Vec3b>(y);
      for (int x = 0; x < ov->cols; ++x)
        if (g[x] >= cut && !no_pixels(p[x])) {
          ++bright;
          for (int c = 0; c < 3; ++c) ++hist[static_cast<size_t>(c)][p[x][c]];
        }
    }
    for (size_t c = 0; c < 3; ++c) {
      int median = 255;
      for (std::uint64_t seen = 0, v = 0; v < 256; ++v) {
        seen += hist[c][v];
        if (seen * 2 > bright) {
          median = static_cast<int>(v);
          break;
        }
      }
      res.stains.background[c] = std::max(200, bright == 0 ? 255 : median);
    }
    // Scanners set glass to about 230-250; a brightest tenth dimmer than that is tissue (an image
    // cut from inside the tissue), and its OD is then read low by the tissue's own.
    const double gray_bg = 0.299 * res.stains.background[0] + 0.587 * res.stains.background[1] + 0.114 * res.stains.background[2];
    if (st.given_background) {
      res.stains.background = *st.given_background;
      res.stains.background_from = "given";
    } else if (gray_bg < kDimmestGlass) {
      i0_from_tissue = true;
      res.stains.background_from = "the brightest tenth of the image, dimmer than glass (gray " +
                                   std::to_string(std::lround(gray_bg)) +
                                   "): no glass in the image? Give the scanner's white with --background";
    } else {
      res.stains.background_from = "glass (the brightest tenth of the overview)";
    }
  }
  // Tissue: summed optical density above 0.15, from a table per channel (no float copy).
  const OdTable od_of = od_table(res.stains.background);
  cv::Mat tissue(ov->size(), CV_8U);
  for (int y = 0; y < ov->rows; ++y) {
    const cv::Vec3b* p = ov->ptr<cv::Vec3b>(y);
    std::uint8_t* t = tissue.ptr<std::uint8_t>(y);
    for (int x = 0; x < ov->cols; ++x) t[x] = od_of[0][p[x][0]] + od_of[1][p[x][1]] + od_of[2][p[x][2]] > 0.15f ? 255 : 0;
  }
  gray.release();
  cv::morphologyEx(tissue, tissue, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_ELLIPSE, {5, 5}));
  cv::morphologyEx(tissue, tissue, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, {3, 3}));
  res.tissue_mm2 = static_cast<double>(cv::countNonZero(tissue)) * ov_um * ov_um / 1e6;

  // 2. Tiles at the analysis resolution over the tissue.
  int level = 0;
  for (size_t l = 0; l < info.levels.size(); ++l)
    if (info.levels[l].downsample * mpp0 <= st.analysis_mpp * 1.25) level = static_cast<int>(l);
  const double level_mpp = info.levels[static_cast<size_t>(level)].downsample * mpp0;
  const double resample = level_mpp / st.analysis_mpp;  // analysis px per level px
  res.mpp = resample >= 0.8 && resample <= 1.25 ? level_mpp : st.analysis_mpp;
  const double l0_per_px = res.mpp / mpp0;  // level-0 px per analysis px
  const int overlap = 32;
  std::vector<Tile> tiles;
  const auto w_px = static_cast<std::int64_t>(static_cast<double>(info.width) / l0_per_px);
  const auto h_px = static_cast<std::int64_t>(static_cast<double>(info.height) / l0_per_px);
  for (std::int64_t ty = 0; ty < h_px; ty += st.tile_px)
    for (std::int64_t tx = 0; tx < w_px; tx += st.tile_px) {
      const int cw = static_cast<int>(std::min<std::int64_t>(st.tile_px, w_px - tx));
      const int ch = static_cast<int>(std::min<std::int64_t>(st.tile_px, h_px - ty));
      // Tissue in this tile (overview pixels)?
      const double f = res.mpp / ov_um;
      cv::Rect r(static_cast<int>(static_cast<double>(tx) * f), static_cast<int>(static_cast<double>(ty) * f),
                 std::max(1, static_cast<int>(cw * f)), std::max(1, static_cast<int>(ch * f)));
      r &= cv::Rect(0, 0, tissue.cols, tissue.rows);
      if (r.area() == 0 || cv::countNonZero(tissue(r)) == 0) continue;
      tiles.push_back({static_cast<std::int64_t>(static_cast<double>(tx) * l0_per_px),
                       static_cast<std::int64_t>(static_cast<double>(ty) * l0_per_px), cw, ch});
    }

  // Stain vectors from a few tissue tiles at the analysis resolution: at low resolution every
  // pixel mixes nucleus and stroma, and the pure stains never show. HER2 also takes the tissue's
  // own DAB from them (below).
  const bool estimate = !(st.given_hematoxylin && st.given_dab);
  std::vector<cv::Mat> samples;
  if (estimate || marker == Marker::kHER2) {
    const size_t n = std::min<size_t>(6, tiles.size());
    for (size_t q = 0; q < n; ++q) {
      const Tile& t = tiles[q * tiles.size() / n];
      const double lds = info.levels[static_cast<size_t>(level)].downsample;
      auto region = slide.read_region(level, t.x0, t.y0, static_cast<int>(std::ceil(t.core_w * l0_per_px / lds)),
                                      static_cast<int>(std::ceil(t.core_h * l0_per_px / lds)));
      if (!region) return region.error();
      samples.push_back(to_mat(*region));
    }
  }
  if (!estimate) {
    res.stains.hematoxylin = normalised(*st.given_hematoxylin);
    res.stains.dab = normalised(*st.given_dab);
    res.stains.note = "given (not estimated)";
    res.stains.dab_from = "given";
  } else {
    std::vector<Vec> px;
    for (const cv::Mat& rgb : samples) collect_stained(optical_density(rgb, res.stains.background), 3, px);
    estimate_stains(px, marker == Marker::kHER2, res.stains);
  }
  const cv::Matx33d inv = unmixing(res.stains);
  if (marker == Marker::kHER2 && !res.stains.counterstain) {
    const TissueDab td = tissue_dab(samples, res.stains.background, inv, !i0_from_tissue);
    res.tissue_dab_od = td.background;
    res.hematoxylin_read_as_dab = td.hematoxylin_share;
    res.her2_warning = td.warning;
  }
  const double um2_per_px = res.mpp * res.mpp;
  std::mutex mu;
  std::atomic<size_t> next{0};
  std::atomic<int> done{0};
  std::optional<Error> failure;
  // Per channel and 8-bit value, each stain's share of the optical density: unmixing a pixel is
  // then six lookups and four additions.
  std::array<std::array<float, 256>, 3> h_of{}, d_of{};
  for (size_t c = 0; c < 3; ++c)
    for (size_t v = 0; v < 256; ++v) {
      h_of[c][v] = static_cast<float>(od_of[c][v] * inv(static_cast<int>(c), 0));
      d_of[c][v] = static_cast<float>(od_of[c][v] *
                                      (inv(static_cast<int>(c), 1) - res.hematoxylin_read_as_dab * inv(static_cast<int>(c), 0)));
    }
  const bool dab_present = !res.stains.counterstain, membrane_marker = marker == Marker::kHER2;
  // The local background of the nucleus channel: a grey opening over this square, at a quarter of
  // the analysis resolution (see the foreground below).
  const int background_side = 2 * static_cast<int>(std::lround(st.nucleus_background_radius_um / res.mpp / 4)) + 1;
  const cv::Mat background_square = cv::getStructuringElement(cv::MORPH_RECT, {background_side, background_side});
  auto work = [&]() {
    // Each thread's images, reused from tile to tile: fresh ones for every tile cost a page fault
    // per 4 KiB on first touch (a fifth of the analysis time on a virtual machine).
    cv::Mat hem, dab, nuc, smooth, quarter, local_bg, above_bg, fg, dist, dil, peaks, above, markers, gray8, img8;
    for (;;) {
      const size_t i = next++;
      if (i >= tiles.size()) return;
      if ((cancel && cancel->load()) || failure) return;
      const Tile& t = tiles[i];
      // Read the tile with its overlap, at the level, then bring it to the analysis resolution.
      const std::int64_t ox = std::max<std::int64_t>(0, t.x0 - static_cast<std::int64_t>(overlap * l0_per_px));
      const std::int64_t oy = std::max<std::int64_t>(0, t.y0 - static_cast<std::int64_t>(overlap * l0_per_px));
      const double lds = info.levels[static_cast<size_t>(level)].downsample;
      const int rw = static_cast<int>(std::ceil((t.core_w + 2 * overlap) * l0_per_px / lds));
      const int rh = static_cast<int>(std::ceil((t.core_h + 2 * overlap) * l0_per_px / lds));
      auto region = slide.read_region(level, ox, oy, rw, rh);
      if (!region) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failure) failure = region.error();
        return;
      }
      // The region's pixels as they are (no copy), or resampled to the analysis resolution.
      cv::Mat rgb(region->height, region->width, CV_8UC3, region->rgb.data());
      if (std::abs(resample - 1) > 0.25) cv::resize(rgb, rgb, {}, resample, resample, cv::INTER_AREA);
      // OD (a row) = concentrations x [H; DAB; residual], so concentrations = OD x inverse.
      // Nuclei: hematoxylin, plus DAB up to three times the hematoxylin under it (a positive
      // nucleus takes both; cytoplasmic and membranous DAB have little hematoxylin under it),
      // smoothed by about 1 um. Up to once the hematoxylin was too little: a strongly positive
      // nucleus reads little hematoxylin when the DAB vector is a few degrees off, stood out less
      // than its negative neighbours, and the watershed gave most of it to them (OQ-IHC-006's PR
      // tile: a 3+ nucleus of 88 um2 read as a 26 um2 stromal cell). HER2 stains membranes, not
      // nuclei: there hematoxylin alone, else an intense membrane over the cytoplasm's faint
      // counterstain would join the nuclei.
      hem.create(rgb.size(), CV_32F);
      dab.create(rgb.size(), CV_32F);
      nuc.create(rgb.size(), CV_32F);
      for (int y = 0; y < rgb.rows; ++y) {
        const std::uint8_t* in = rgb.ptr<std::uint8_t>(y);
        float* h = hem.ptr<float>(y);
        float* d = dab.ptr<float>(y);
        float* n = nuc.ptr<float>(y);
        for (int x = 0; x < rgb.cols; ++x, in += 3) {
          h[x] = std::max(0.0f, h_of[0][in[0]] + h_of[1][in[1]] + h_of[2][in[2]]);
          // No DAB among the slide's stains (an H&E slide): nothing is DAB; what leaves the
          // stains' plane is noise, and amplified into a DAB channel it would pass for staining.
          d[x] = dab_present ? std::max(0.0f, d_of[0][in[0]] + d_of[1][in[1]] + d_of[2][in[2]]) : 0.0f;
          n[x] = membrane_marker ? h[x] : h[x] + std::min(d[x], 3 * h[x]);
        }
      }
      const double sigma = 1.0 / res.mpp;
      cv::GaussianBlur(nuc, smooth, {}, sigma);
      // Foreground: stain above the local background (cytoplasm, stroma), which is the stain's
      // grey opening over a square wider than a nucleus, taken at a quarter of the resolution (a
      // smooth field; 16x fewer pixels). The absolute level used before (0.18) followed the glass
      // value I0 and the counterstain's strength: on tiles without glass, with I0 taken as 255
      // for glass at 240, the cytoplasm of tumour nests crossed it and whole nests became one
      // 'nucleus' (too large, dropped).
      cv::resize(smooth, quarter, {}, 0.25, 0.25, cv::INTER_AREA);
      cv::morphologyEx(quarter, quarter, cv::MORPH_OPEN, background_square);
      cv::resize(quarter, local_bg, smooth.size(), 0, 0, cv::INTER_LINEAR);
      cv::subtract(smooth, local_bg, above_bg);
      const double fg_level = nuclei::nucleus_level(above_bg, st.nucleus_min_od_above_background);
      cv::compare(above_bg, fg_level, fg, cv::CMP_GT);
      cv::morphologyEx(fg, fg, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, {3, 3}));
      cv::distanceTransform(fg, dist, cv::DIST_L2, 3);
      // Seeds: local maxima of the (lightly smoothed) distance at least 1.5 um inside and 5 um
      // apart: one per nucleus up to about 12 um across, touching nuclei kept apart.
      cv::GaussianBlur(dist, dist, {}, 1.0);
      const int k = std::max(3, static_cast<int>(std::lround(5.0 / res.mpp)) | 1);
      cv::dilate(dist, dil, cv::getStructuringElement(cv::MORPH_ELLIPSE, {k, k}));
      cv::compare(dist, dil, peaks, cv::CMP_GE);
      cv::compare(dist, 1.5 / res.mpp, above, cv::CMP_GT);
      cv::bitwise_and(peaks, above, peaks);
      cv::bitwise_and(peaks, fg, peaks);
      // Crowded tissue (real glands and tumour sheets): the cytoplasm between nuclei stands above
      // the local background too, the foreground is one sheet of many nuclei and its distance has
      // too few maxima (EndoNuke's endometrium: a third of the nuclei found). Such sheets are
      // seeded from the stain itself.
      const cv::Mat sheet =
          nuclei::sheets_of(fg, peaks, 4 * st.max_nucleus_um2 / um2_per_px, st.max_nucleus_um2 / 2 / um2_per_px);
      const bool any_sheet = cv::countNonZero(sheet) > 0;
      if (any_sheet) nuclei::seed_sheets(nuc, sheet, res.mpp, peaks);
      int nseeds = cv::connectedComponents(peaks, markers, 8, CV_32S);
      // An elongated nucleus has a ridge of distance with a maximum near each end: seeds closer
      // than 0.8 x the sum of their inscribed radii are one nucleus (two touching round nuclei
      // sit a full sum apart).
      {
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
              const double lim = 10 / res.mpp;
              if (std::abs(dx) > lim || std::abs(dy) > lim || !nuclei::same_blob(above_bg, px[ua], py[ua], px[ub], py[ub]))
                continue;
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
        nseeds = next_label + 1;
      }
      // Watershed on the smoothed stain from the seeds only: it decides where touching nuclei
      // part; what belongs to a nucleus at all is the foreground (a background marker would
      // compete for the nuclei's blurred rims and shrink them). OpenCV floods by the colour
      // difference between neighbours, so the flood that reached the background first climbs
      // a nucleus's rim from outside too and leaves its label on the core: the mean DAB OD the
      // intensity classes are set for. (Flooding each patch of foreground on its own, or giving a
      // patch with one seed all of it, took in the rims: nuclei read 41 % larger and one class
      // weaker.)
      smooth.convertTo(gray8, CV_8U, -255.0, 255.0);  // 255 - 255 x stain, saturated
      cv::cvtColor(gray8, img8, cv::COLOR_GRAY2BGR);
      cv::Mat seeds_only;
      if (any_sheet) seeds_only = markers.clone();
      cv::watershed(img8, markers);
      // In a sheet, the nucleus is the part of its cell where the stain is at least half its peak.
      const std::vector<float> peak =
          any_sheet ? nuclei::give_sheets_to_nearest_seeds(seeds_only, sheet, above_bg, nseeds, markers) : std::vector<float>{};
      std::vector<double> area(static_cast<size_t>(nseeds), 0), sx(area), sy(area), sxx(area), syy(area), sxy(area), sh(area),
          sd(area);
      for (int y = 0; y < markers.rows; ++y)
        for (int x = 0; x < markers.cols; ++x) {
          const int l = markers.at<int>(y, x);
          if (l <= 0 || l >= nseeds || !fg.at<std::uint8_t>(y, x)) continue;
          if (any_sheet && sheet.at<std::uint8_t>(y, x) && above_bg.at<float>(y, x) < 0.5f * peak[static_cast<size_t>(l)])
            continue;
          const auto u = static_cast<size_t>(l);
          area[u] += 1;
          sx[u] += x;
          sy[u] += y;
          sxx[u] += static_cast<double>(x) * x;
          syy[u] += static_cast<double>(y) * y;
          sxy[u] += static_cast<double>(x) * y;
          sh[u] += hem.at<float>(y, x);
          sd[u] += dab.at<float>(y, x);
        }
      std::vector<Cell> found;
      std::vector<std::array<double, 3>> centres;  // tile px: x, y, nucleus radius
      const double scale_back = l0_per_px;         // analysis px -> level-0 px
      for (int l = 1; l < nseeds; ++l) {
        const auto u = static_cast<size_t>(l);
        if (area[u] < 3) continue;
        const double a_um2 = area[u] * um2_per_px;
        if (a_um2 < st.min_nucleus_um2 || a_um2 > st.max_nucleus_um2) continue;
        const double cx = sx[u] / area[u], cy = sy[u] / area[u];
        // Only the tile's core keeps its cells: the overlap belongs to the neighbours.
        const double core_x = cx - static_cast<double>(t.x0 - ox) / l0_per_px,
                     core_y = cy - static_cast<double>(t.y0 - oy) / l0_per_px;
        if (core_x < 0 || core_y < 0 || core_x >= t.core_w || core_y >= t.core_h) continue;
        const double vx = sxx[u] / area[u] - cx * cx, vy = syy[u] / area[u] - cy * cy, cxy = sxy[u] / area[u] - cx * cy;
        const double tr = vx + vy, det = vx * vy - cxy * cxy, disc = std::sqrt(std::max(0.0, tr * tr / 4 - det));
        const double l1 = tr / 2 + disc, l2 = std::max(1e-6, tr / 2 - disc);
        Cell c;
        c.x = static_cast<double>(ox) + cx * scale_back;
        c.y = static_cast<double>(oy) + cy * scale_back;
        c.area_um2 = a_um2;
        c.aspect = std::sqrt(l1 / l2);
        c.hematoxylin_od = sh[u] / area[u];
        c.dab_od = sd[u] / area[u];
        if (!st.roi.empty() && !inside(st.roi, c.x, c.y)) continue;
        found.push_back(c);
        centres.push_back({cx, cy, std::sqrt(a_um2 / CV_PI) / res.mpp});
      }
      if (marker == Marker::kHER2) {
        // Every nucleus of the tile (overlap included) bounds its neighbours' membranes.
        std::vector<std::array<double, 2>> all;
        for (int l = 1; l < nseeds; ++l) {
          const auto u = static_cast<size_t>(l);
          if (area[u] * um2_per_px >= st.min_nucleus_um2) all.push_back({sx[u] / area[u], sy[u] / area[u]});
        }
        for (size_t q = 0; q < found.size(); ++q)
          measure_membrane(dab, smooth, centres[q], all, res.mpp, st, res.tissue_dab_od, found[q]);
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        res.cells.insert(res.cells.end(), found.begin(), found.end());
        res.megapixels += static_cast<double>(t.core_w) * t.core_h / 1e6;
      }
      const int d = ++done;
      if (progress) {
        std::lock_guard<std::mutex> lock(mu);
        progress(d, static_cast<int>(tiles.size()));
      }
    }
  };
  const int n = st.threads > 0 ? st.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) pool.emplace_back(work);
  for (auto& th : pool) th.join();
  if (failure) return *failure;
  if (cancel && cancel->load()) return Error(ErrorCode::kInvalidArgument, "cancelled", info.path);

  // Deterministic order whatever the threads did.
  std::sort(res.cells.begin(), res.cells.end(), [](const Cell& a, const Cell& b) { return a.y != b.y ? a.y < b.y : a.x < b.x; });
  // Cell kinds, once every nucleus is measured. Lymphocytes: small, round, darker in
  // hematoxylin than the slide's tumour-sized nuclei (hyperchromatic) and without nuclear DAB
  // (they do not express ER or PR). Fibroblasts: elongated. Tumour: the rest of tumour size.
  double h_ref = 0;
  {
    std::vector<double> h;
    for (const Cell& c : res.cells)
      if (c.area_um2 > st.lymphocyte_max_um2 && c.aspect < st.stroma_min_aspect && c.dab_od < st.nuclear_dab_thresholds[0])
        h.push_back(c.hematoxylin_od);
    if (!h.empty()) {
      std::nth_element(h.begin(), h.begin() + static_cast<long>(h.size() / 2), h.end());
      h_ref = h[h.size() / 2];
    }
  }
  for (Cell& c : res.cells) {
    const bool small_round = c.area_um2 <= 1.5 * st.lymphocyte_max_um2 && c.aspect <= st.lymphocyte_max_aspect;
    const bool dark = h_ref > 0 ? c.hematoxylin_od >= st.lymphocyte_darkness * h_ref : c.area_um2 <= st.lymphocyte_max_um2;
    if (c.aspect >= st.stroma_min_aspect)
      c.kind = CellKind::kStroma;
    else if (small_round && dark && c.dab_od < st.nuclear_dab_thresholds[0])
      c.kind = CellKind::kLymphocyte;
    else if (c.area_um2 > st.lymphocyte_max_um2 || c.dab_od >= st.nuclear_dab_thresholds[0] || !dark)
      c.kind = CellKind::kTumour;
    else
      c.kind = CellKind::kOther;
    if (c.kind == CellKind::kTumour) {
      c.dab_class = 0;
      for (int q = 0; q < 3; ++q)
        if (c.dab_od >= st.nuclear_dab_thresholds[static_cast<size_t>(q)]) c.dab_class = q + 1;
      if (marker == Marker::kHER2) {
        // The membrane pattern (ihc.md section 3).
        const bool complete = c.membrane_completeness >= st.membrane_complete;
        if (c.membrane_completeness < 0.2)
          c.membrane_pattern = 0;
        else if (c.membrane_od < st.membrane_faint_max)
          c.membrane_pattern = complete ? 2 : 1;  // faint but complete reads as weak complete
        else if (c.membrane_od < st.membrane_intense_min)
          c.membrane_pattern = complete ? 2 : 4;
        else
          c.membrane_pattern = complete ? 3 : 4;
        c.dab_class = c.membrane_pattern == 4 ? 2 : c.membrane_pattern;  // for the overlay colours
      }
    }
  }
  for (const Cell& c : res.cells) switch (c.kind) {
      case CellKind::kTumour:
        (c.dab_class == 0   ? res.tumour.negative
         : c.dab_class == 1 ? res.tumour.weak
         : c.dab_class == 2 ? res.tumour.moderate
                            : res.tumour.strong)++;
        break;
      case CellKind::kLymphocyte:
        ++res.lymphocytes;
        break;
      case CellKind::kStroma:
        ++res.stromal;
        break;
      case CellKind::kOther:
        ++res.other;
        break;
    }
  res.score = score_receptor(res.tumour);
  if (marker == Marker::kHER2) {
    for (const Cell& c : res.cells)
      if (c.kind == CellKind::kTumour) switch (c.membrane_pattern) {
          case 0:
            ++res.membranes.none;
            break;
          case 1:
            ++res.membranes.faint_incomplete;
            break;
          case 2:
            ++res.membranes.weak_moderate_complete;
            break;
          case 3:
            ++res.membranes.intense_complete;
            break;
          default:
            ++res.membranes.unusual;
            break;
        }
    res.her2 = score_her2(res.membranes, st.unusual_min_percent);
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

namespace {

class PlainImage final : public SlideReader {
 public:
  PlainImage(cv::Mat rgb, SlideInfo info) : rgb_(std::move(rgb)), info_(std::move(info)) {}
  const SlideInfo& info() const override { return info_; }
  Result<RgbImage> read_region(int level, std::int64_t x0, std::int64_t y0, int width, int height) override {
    if (level != 0 || width <= 0 || height <= 0) return Error(ErrorCode::kInvalidArgument, "no such region", info_.path);
    RgbImage out;
    out.width = width;
    out.height = height;
    out.rgb.assign(static_cast<size_t>(width) * static_cast<size_t>(height) * 3, 255);  // outside: glass white
    for (int y = 0; y < height; ++y) {
      const std::int64_t sy = y0 + y;
      if (sy < 0 || sy >= rgb_.rows) continue;
      for (int x = 0; x < width; ++x) {
        const std::int64_t sx = x0 + x;
        if (sx < 0 || sx >= rgb_.cols) continue;
        const auto& p = rgb_.at<cv::Vec3b>(static_cast<int>(sy), static_cast<int>(sx));
        std::copy(&p[0], &p[0] + 3, &out.rgb[(static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 3]);
      }
    }
    return out;
  }

 private:
  cv::Mat rgb_;
  SlideInfo info_;
};

}  // namespace

namespace {

// Writes `text` (or an image through `write`) under a temporary name, then renames it.
Result<bool> atomically(const std::string& path, const std::function<bool(const std::string&)>& write) {
  const std::string tmp = path + ".part" + std::filesystem::path(path).extension().string();
  if (!write(tmp)) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    return Error(ErrorCode::kIo, "cannot be written", path);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot be written: " + ec.message(), path);
  return true;
}

cv::Scalar colour(const Cell& c) {  // RGB
  switch (c.kind) {
    case CellKind::kTumour: {
      static const cv::Scalar k[4] = {{40, 90, 220}, {240, 220, 40}, {245, 140, 30}, {215, 30, 30}};
      return k[c.dab_class];
    }
    case CellKind::kLymphocyte:
      return {40, 180, 60};
    case CellKind::kStroma:
      return {150, 150, 150};
    case CellKind::kOther:
      break;
  }
  return {255, 255, 255};
}

}  // namespace

Result<bool> write_overlay(SlideReader& slide, const IhcResult& r, const std::string& png_path) {
  const SlideInfo& info = slide.info();
  const double mpp0 = info.mpp_x.value_or(r.mpp);
  const double um = std::max(1.0, static_cast<double>(std::max(info.width, info.height)) * mpp0 / 8192.0);
  double actual = 0;
  auto ov = overview(slide, mpp0, um, &actual);
  if (!ov) return ov.error();
  cv::Mat img = ov->clone();
  const double f = mpp0 / actual;  // overview px per level-0 px
  const int radius = std::max(2, static_cast<int>(std::lround(3.0 / actual)));
  for (const Cell& c : r.cells)
    if (c.kind != CellKind::kOther)
      cv::circle(img, {static_cast<int>(c.x * f), static_cast<int>(c.y * f)}, radius, colour(c),
                 c.kind == CellKind::kTumour ? -1 : 1);
  cv::Mat bgr;
  cv::cvtColor(img, bgr, cv::COLOR_RGB2BGR);
  return atomically(png_path, [&](const std::string& tmp) { return cv::imwrite(tmp, bgr); });
}

Result<bool> write_detections(const IhcResult& r, double mpp0, const std::string& path) {
  static const char* const kTumourClass[] = {"Tumor: Negative", "Tumor: 1+", "Tumor: 2+", "Tumor: 3+"};
  std::string out = "{\"type\": \"FeatureCollection\", \"features\": [";
  char buf[96];
  bool first = true;
  for (const Cell& c : r.cells) {
    if (c.kind == CellKind::kOther) continue;
    const char* name = c.kind == CellKind::kTumour       ? kTumourClass[c.dab_class]
                       : c.kind == CellKind::kLymphocyte ? "Immune cells"
                                                         : "Stroma";
    const cv::Scalar col = colour(c);
    const double rad = std::sqrt(c.area_um2 / CV_PI) / mpp0;
    out += first ? "\n" : ",\n";
    first = false;
    out += "{\"type\": \"Feature\", \"geometry\": {\"type\": \"Polygon\", \"coordinates\": [[";
    for (int k = 0; k <= 8; ++k) {  // an octagon of the nucleus's area, closed
      const double a = 2 * CV_PI * (k % 8) / 8;
      std::snprintf(buf, sizeof buf, "%s[%.1f, %.1f]", k ? ", " : "", c.x + rad * std::cos(a), c.y + rad * std::sin(a));
      out += buf;
    }
    out += "]]}, \"properties\": {\"objectType\": \"detection\", \"classification\": {\"name\": \"";
    out += name;
    std::snprintf(buf, sizeof buf, "\", \"color\": [%d, %d, %d]}, ", static_cast<int>(col[0]), static_cast<int>(col[1]),
                  static_cast<int>(col[2]));
    out += buf;
    std::snprintf(buf, sizeof buf, "\"measurements\": {\"Nucleus: Area um^2\": %.1f, ", c.area_um2);
    out += buf;
    std::snprintf(buf, sizeof buf, "\"Nucleus: DAB OD mean\": %.3f, \"Nucleus: Hematoxylin OD mean\": %.3f}}}", c.dab_od,
                  c.hematoxylin_od);
    out += buf;
  }
  out += "\n]}\n";
  return atomically(path, [&](const std::string& tmp) {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return false;
    const bool ok = std::fwrite(out.data(), 1, out.size(), f) == out.size();
    return std::fclose(f) == 0 && ok;
  });
}

Result<std::unique_ptr<SlideReader>> open_plain_image(const std::string& path, double mpp) {
  if (mpp <= 0) return Error(ErrorCode::kInvalidArgument, "a plain image needs --mpp (microns per pixel)", path);
  cv::Mat img = cv::imread(path, cv::IMREAD_UNCHANGED);
  if (img.empty()) return Error(ErrorCode::kUnreadable, "not an image OpenCV can read", path);
  if (img.depth() != CV_8U) img.convertTo(img, CV_8U, img.depth() == CV_16U ? 1.0 / 257 : 1.0);
  cv::Mat rgb;
  if (img.channels() == 4) {
    // Transparent pixels are glass: composited over white, as a slide reader does. Read as
    // colour they turned black and passed for dark tissue with nuclei in it (an EndoNuke tile
    // whose lower third is transparent had 13 such 'nuclei').
    rgb.create(img.size(), CV_8UC3);
    for (int y = 0; y < img.rows; ++y)
      for (int x = 0; x < img.cols; ++x) {
        const cv::Vec4b p = img.at<cv::Vec4b>(y, x);
        const int a = p[3];
        for (int c = 0; c < 3; ++c)
          rgb.at<cv::Vec3b>(y, x)[c] = static_cast<std::uint8_t>((p[2 - c] * a + 255 * (255 - a) + 127) / 255);
      }
  } else if (img.channels() == 1) {
    cv::cvtColor(img, rgb, cv::COLOR_GRAY2RGB);
  } else {
    cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB);
  }
  SlideInfo info;
  info.path = path;
  info.vendor = "plain image";
  info.loader = "opencv";
  info.width = rgb.cols;
  info.height = rgb.rows;
  info.mpp_x = info.mpp_y = mpp;
  info.levels.push_back({rgb.cols, rgb.rows, 1.0});
  return std::unique_ptr<SlideReader>(std::make_unique<PlainImage>(std::move(rgb), std::move(info)));
}

}  // namespace oq::wsi
