// The IHC analysis. OpenCV does the pixel work; the rules (thresholds, sizes) are settings.
#include "oq/wsi/analysis.h"

#include "ihc_stages.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

namespace oq::wsi {
namespace {

using stages::od_table;
using stages::OdTable;
using stages::Vec;

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
Result<cv::Mat> overview(SlideReader& slide, double mpp0, double um_per_px, double* actual_um_per_px,
                         const std::atomic<bool>* cancel = nullptr) {
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
    // A slide with one huge level takes minutes to read here: Ctrl-C and SIGTERM stop it too.
    if (cancel && cancel->load()) return Error(ErrorCode::kInvalidArgument, "cancelled", info.path);
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

namespace {

// The stain vectors (estimated from a few tissue tiles at the analysis resolution unless given:
// at low resolution every pixel mixes nucleus and stroma, and the pure stains never show), and for
// HER2 the tissue's own DAB from the same tiles. Returns the unmixing matrix.
Result<cv::Matx33d> find_stains(SlideReader& slide, const stages::TilePlan& plan, Marker marker, const IhcSettings& st,
                                bool i0_from_tissue, IhcResult& res) {
  const bool estimate = !(st.given_hematoxylin && st.given_dab);
  std::vector<cv::Mat> samples;
  if (estimate || marker == Marker::kHER2) {
    const size_t n = std::min<size_t>(6, plan.tiles.size());
    for (size_t q = 0; q < n; ++q) {
      const stages::Tile& t = plan.tiles[q * plan.tiles.size() / n];
      auto region = slide.read_region(plan.level, t.x0, t.y0,
                                      static_cast<int>(std::ceil(t.core_w * plan.l0_per_px / plan.level_downsample)),
                                      static_cast<int>(std::ceil(t.core_h * plan.l0_per_px / plan.level_downsample)));
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
  return inv;
}

// Analysis pixels of overlap around each tile: a nucleus on a tile's edge is seen whole by it.
constexpr int kTileOverlapPx = 32;

// The cells of one tile (its core), read with its overlap at the plan's level and brought to the
// analysis resolution.
Result<std::vector<Cell>> analyse_tile(SlideReader& slide, const stages::Tile& t, const stages::TilePlan& plan, Marker marker,
                                       const IhcSettings& st, const stages::StainLookup& lookup, const cv::Mat& background_square,
                                       double tissue_dab_od, stages::TileImages& im) {
  const auto margin = static_cast<std::int64_t>(kTileOverlapPx * plan.l0_per_px);
  const std::int64_t ox = std::max<std::int64_t>(0, t.x0 - margin), oy = std::max<std::int64_t>(0, t.y0 - margin);
  const int rw = static_cast<int>(std::ceil((t.core_w + 2 * kTileOverlapPx) * plan.l0_per_px / plan.level_downsample));
  const int rh = static_cast<int>(std::ceil((t.core_h + 2 * kTileOverlapPx) * plan.l0_per_px / plan.level_downsample));
  auto region = slide.read_region(plan.level, ox, oy, rw, rh);
  if (!region) return region.error();
  // The region's pixels as they are (no copy), or resampled to the analysis resolution.
  cv::Mat rgb(region->height, region->width, CV_8UC3, region->rgb.data());
  if (std::abs(plan.resample - 1) > 0.25) cv::resize(rgb, rgb, {}, plan.resample, plan.resample, cv::INTER_AREA);
  stages::unmix_tile(rgb, lookup, im);
  const stages::NucleusSums n = stages::find_nuclei(im, plan.mpp, background_square, st);
  std::vector<std::array<double, 3>> centres;  // tile px: x, y, nucleus radius
  std::vector<Cell> found = stages::cells_of_tile(n, t, ox, oy, plan, st, centres);
  if (marker == Marker::kHER2) {
    // Every nucleus of the tile (overlap included) bounds its neighbours' membranes.
    std::vector<std::array<double, 2>> all;
    for (int l = 1; l < n.count; ++l) {
      const auto u = static_cast<size_t>(l);
      if (n.area[u] * plan.mpp * plan.mpp >= st.min_nucleus_um2) all.push_back({n.sx[u] / n.area[u], n.sy[u] / n.area[u]});
    }
    for (size_t q = 0; q < found.size(); ++q)
      measure_membrane(im.dab, im.smooth, centres[q], all, plan.mpp, st, tissue_dab_od, found[q]);
  }
  return found;
}

// Every tile on `threads` threads (0: every core); cells and megapixels go into `res`.
Result<bool> analyse_tiles(SlideReader& slide, const stages::TilePlan& plan, Marker marker, const IhcSettings& st,
                           const stages::StainLookup& lookup, IhcResult& res, const std::function<void(int, int)>& progress,
                           const std::atomic<bool>* cancel) {
  // The local background of the nucleus channel: a grey opening over this square, at a quarter of
  // the analysis resolution (see stages::find_nuclei).
  const int background_side = 2 * static_cast<int>(std::lround(st.nucleus_background_radius_um / plan.mpp / 4)) + 1;
  const cv::Mat background_square = cv::getStructuringElement(cv::MORPH_RECT, {background_side, background_side});
  std::mutex mu;
  std::atomic<size_t> next{0};
  std::atomic<int> done{0};
  std::optional<Error> failure;
  auto work = [&]() {
    stages::TileImages im;
    for (;;) {
      const size_t i = next++;
      if (i >= plan.tiles.size()) return;
      if ((cancel && cancel->load()) || failure) return;
      const stages::Tile& t = plan.tiles[i];
      auto found = analyse_tile(slide, t, plan, marker, st, lookup, background_square, res.tissue_dab_od, im);
      std::lock_guard<std::mutex> lock(mu);
      if (!found) {
        if (!failure) failure = found.error();
        return;
      }
      res.cells.insert(res.cells.end(), found->begin(), found->end());
      res.megapixels += static_cast<double>(t.core_w) * t.core_h / 1e6;
      const int d = ++done;
      if (progress) progress(d, static_cast<int>(plan.tiles.size()));
    }
  };
  const int n = st.threads > 0 ? st.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) pool.emplace_back(work);
  for (auto& th : pool) th.join();
  if (failure) return *failure;
  if (cancel && cancel->load()) return Error(ErrorCode::kInvalidArgument, "cancelled", slide.info().path);
  return true;
}

std::string not_evaluable(const IhcResult& res, const IhcSettings& st) {
  if (res.tumour.total() == 0)
    return std::string("no tumour nuclei found in ") + (st.roi.empty() ? "the tissue" : "the region of interest") +
           (res.cells.empty() ? "" : " (" + std::to_string(res.cells.size()) + " other nuclei)");
  return "";
}

}  // namespace

// Stains closer than this cannot be unmixed: every pixel's share of each is noise.
constexpr double kMinStainAngleDeg = 5;

std::string stains_apart(const StainVectors& s) {
  const double angle = angle_deg(s.hematoxylin, s.dab);
  if (s.counterstain || angle >= kMinStainAngleDeg) return "";
  return std::isfinite(angle) ? "the hematoxylin and DAB vectors are " + std::to_string(std::lround(angle)) +
                                    " degrees apart: the stains cannot be told apart"
                              : "the hematoxylin or DAB vector is not a direction (zero or not finite)";
}

std::string larger_than_glass(const SlideInfo& info, double mpp0) {
  // The largest glass slides in use are 75 x 50 mm; a scan claiming more than 100 mm on a side has
  // a wrong size or a wrong resolution, and reading it would take hours and gigabytes for nothing.
  constexpr double kLargestGlassUm = 100000;
  const double w_um = static_cast<double>(info.width) * mpp0, h_um = static_cast<double>(info.height) * mpp0;
  if (w_um <= kLargestGlassUm && h_um <= kLargestGlassUm) return "";
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "the slide would be %.0f x %.0f mm (%lld x %lld px at %.3g um/px), larger than any glass slide "
                "(at most 100 mm a side): its size or its microns per pixel is wrong",
                w_um / 1000, h_um / 1000, static_cast<long long>(info.width), static_cast<long long>(info.height), mpp0);
  return buf;
}

Result<IhcResult> analyse_ihc(SlideReader& slide, Marker marker, const IhcSettings& st,
                              const std::function<void(int, int)>& progress, const std::atomic<bool>* cancel) {
  const auto t0 = std::chrono::steady_clock::now();
  const SlideInfo& info = slide.info();
  if (!info.mpp_x || *info.mpp_x <= 0)
    return Error(ErrorCode::kUnavailable, "the slide does not say its microns per pixel: give --mpp", info.path);
  const double mpp0 = *info.mpp_x;
  if (const std::string why = larger_than_glass(info, mpp0); !why.empty()) return Error(ErrorCode::kUnsupported, why, info.path);
  IhcResult res;
  res.marker = marker;
  res.roi_used = !st.roi.empty();
  // 1. Overview at about 8 um/px: glass, tissue.
  double ov_um = 0;
  auto ov = overview(slide, mpp0, std::max(8.0, mpp0), &ov_um, cancel);
  if (!ov) return ov.error();
  const stages::Glass glass = stages::find_glass(*ov, st.given_background);
  res.stains.background = glass.background;
  res.stains.background_from = glass.from;
  const stages::OdTable od_of = stages::od_table(res.stains.background);
  const cv::Mat tissue = stages::tissue_of(*ov, od_of);
  res.tissue_mm2 = static_cast<double>(cv::countNonZero(tissue)) * ov_um * ov_um / 1e6;
  // 2. Tiles at the analysis resolution over the tissue.
  const stages::TilePlan plan = stages::plan_tiles(info, mpp0, st, tissue, ov_um);
  res.mpp = plan.mpp;
  if (plan.tiles.empty()) {
    res.not_evaluable = "no tissue found on the slide (nothing stained above the glass)";
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return res;
  }
  // 3. Stain vectors.
  const auto inv = find_stains(slide, plan, marker, st, glass.from_tissue, res);
  if (!inv) return inv.error();
  res.not_evaluable = stains_apart(res.stains);
  if (!res.not_evaluable.empty()) return res;
  // 4. Nuclei, tile by tile.
  const stages::StainLookup lookup =
      stages::stain_lookup(od_of, *inv, res.hematoxylin_read_as_dab, !res.stains.counterstain, marker == Marker::kHER2);
  if (auto ok = analyse_tiles(slide, plan, marker, st, lookup, res, progress, cancel); !ok) return ok.error();
  // 5. Cell kinds and classes, once every nucleus is measured, in a deterministic order whatever
  // the threads did; the counts and scores.
  std::sort(res.cells.begin(), res.cells.end(), [](const Cell& a, const Cell& b) { return a.y != b.y ? a.y < b.y : a.x < b.x; });
  stages::classify_cells(res.cells, st, marker);
  stages::tally(res, st);
  res.not_evaluable = not_evaluable(res, st);
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
  if (!cv::imwrite(png_path, bgr)) return Error(ErrorCode::kIo, "cannot be written", png_path);
  return true;
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
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Error(ErrorCode::kIo, std::string("cannot be written: ") + std::strerror(errno), path);
  const bool whole = std::fwrite(out.data(), 1, out.size(), f) == out.size();
  if (std::fclose(f) != 0 || !whole)
    return Error(ErrorCode::kIo, std::string("cannot be written: ") + std::strerror(errno), path);
  return true;
}

Result<std::unique_ptr<SlideReader>> open_plain_image(const std::string& path, double mpp) {
  if (mpp <= 0) return Error(ErrorCode::kInvalidArgument, "a plain image needs --mpp (microns per pixel)", path);
  cv::Mat img;
  try {
    // OpenCV checks the size a header claims before decoding (at most 2^30 px by default): a
    // plain image claiming 10^6 x 10^6 px is refused here, not allocated.
    img = cv::imread(path, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    return Error(ErrorCode::kUnsupported, "cannot be read as a plain image: " + e.msg, path);
  }
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
