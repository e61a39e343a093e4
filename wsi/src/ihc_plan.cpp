// IHC analysis stages on the overview: glass, tissue, the tile plan (see ihc_stages.h).
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

#include "ihc_stages.h"

namespace oq::wsi::stages {

namespace {

// Below this gray level the brightest tenth of an image is not glass (slides' glass: CMU-1 246,
// the generated ones 236-246; the real IHC tile's lumen 226).
constexpr double kDimmestGlass = 224;

bool no_pixels(const cv::Vec3b& p) {
  return p[0] == 255 && p[1] == 255 && p[2] == 255;
}

// The gray level above which the brightest tenth of the image lies (pure white left out).
int brightest_tenth(const cv::Mat& rgb, const cv::Mat& gray) {
  std::array<std::uint64_t, 256> hist{};
  std::uint64_t total = 0;
  for (int y = 0; y < gray.rows; ++y) {
    const std::uint8_t* row = gray.ptr<std::uint8_t>(y);
    const cv::Vec3b* p = rgb.ptr<cv::Vec3b>(y);
    for (int x = 0; x < gray.cols; ++x)
      if (!no_pixels(p[x])) {
        ++hist[row[x]];
        ++total;
      }
  }
  int cut = 255;
  for (std::uint64_t above = 0; cut > 0; --cut) {
    above += hist[static_cast<size_t>(cut)];
    if (above >= total / 10) break;
  }
  return cut;
}

}  // namespace

OdTable od_table(const Vec& background, bool signed_od) {
  OdTable t{};
  for (size_t c = 0; c < 3; ++c)
    for (size_t v = 0; v < 256; ++v) {
      const double od = -std::log10(std::max(1.0, static_cast<double>(v)) / background[c]);
      t[c][v] = static_cast<float>(signed_od ? od : std::max(0.0, od));
    }
  return t;
}

// Pure white is not glass but where the file has no pixels (a sparse DICOM slide's missing tiles,
// transparent areas composited over white). Histograms, not copies: the overview of a large slide
// runs to hundreds of megapixels.
Glass find_glass(const cv::Mat& ov, const std::optional<Vec>& given) {
  cv::Mat gray;
  cv::cvtColor(ov, gray, cv::COLOR_RGB2GRAY);
  const int cut = brightest_tenth(ov, gray);
  std::array<std::array<std::uint64_t, 256>, 3> hist{};
  std::uint64_t bright = 0;
  for (int y = 0; y < ov.rows; ++y) {
    const std::uint8_t* g = gray.ptr<std::uint8_t>(y);
    const cv::Vec3b* p = ov.ptr<cv::Vec3b>(y);
    for (int x = 0; x < ov.cols; ++x)
      if (g[x] >= cut && !no_pixels(p[x])) {
        ++bright;
        for (int c = 0; c < 3; ++c) ++hist[static_cast<size_t>(c)][p[x][c]];
      }
  }
  Glass glass;
  for (size_t c = 0; c < 3; ++c) {
    int median = 255;
    for (std::uint64_t seen = 0, v = 0; v < 256; ++v) {
      seen += hist[c][v];
      if (seen * 2 > bright) {
        median = static_cast<int>(v);
        break;
      }
    }
    glass.background[c] = std::max(200, bright == 0 ? 255 : median);
  }
  // Scanners set glass to about 230-250; a brightest tenth dimmer than that is tissue (an image
  // cut from inside the tissue), and its OD is then read low by the tissue's own.
  const double gray_bg = 0.299 * glass.background[0] + 0.587 * glass.background[1] + 0.114 * glass.background[2];
  if (given) {
    glass.background = *given;
    glass.from = "given";
  } else if (gray_bg < kDimmestGlass) {
    glass.from_tissue = true;
    glass.from = "the brightest tenth of the image, dimmer than glass (gray " + std::to_string(std::lround(gray_bg)) +
                 "): no glass in the image? Give the scanner's white with --background";
  } else {
    glass.from = "glass (the brightest tenth of the overview)";
  }
  return glass;
}

cv::Mat tissue_of(const cv::Mat& ov, const OdTable& od_of) {
  cv::Mat tissue(ov.size(), CV_8U);
  for (int y = 0; y < ov.rows; ++y) {
    const cv::Vec3b* p = ov.ptr<cv::Vec3b>(y);
    std::uint8_t* t = tissue.ptr<std::uint8_t>(y);
    for (int x = 0; x < ov.cols; ++x) t[x] = od_of[0][p[x][0]] + od_of[1][p[x][1]] + od_of[2][p[x][2]] > 0.15f ? 255 : 0;
  }
  cv::morphologyEx(tissue, tissue, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_ELLIPSE, {5, 5}));
  cv::morphologyEx(tissue, tissue, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, {3, 3}));
  return tissue;
}

// The finest level no coarser than the analysis resolution (with a quarter's slack), resampled to
// it unless within a quarter.
TilePlan plan_tiles(const SlideInfo& info, double mpp0, const IhcSettings& st, const cv::Mat& tissue, double ov_um) {
  TilePlan plan;
  for (size_t l = 0; l < info.levels.size(); ++l)
    if (info.levels[l].downsample * mpp0 <= st.analysis_mpp * 1.25) plan.level = static_cast<int>(l);
  plan.level_downsample = info.levels[static_cast<size_t>(plan.level)].downsample;
  const double level_mpp = plan.level_downsample * mpp0;
  plan.resample = level_mpp / st.analysis_mpp;
  plan.mpp = plan.resample >= 0.8 && plan.resample <= 1.25 ? level_mpp : st.analysis_mpp;
  plan.l0_per_px = plan.mpp / mpp0;
  const auto w_px = static_cast<std::int64_t>(static_cast<double>(info.width) / plan.l0_per_px);
  const auto h_px = static_cast<std::int64_t>(static_cast<double>(info.height) / plan.l0_per_px);
  for (std::int64_t ty = 0; ty < h_px; ty += st.tile_px)
    for (std::int64_t tx = 0; tx < w_px; tx += st.tile_px) {
      const int cw = static_cast<int>(std::min<std::int64_t>(st.tile_px, w_px - tx));
      const int ch = static_cast<int>(std::min<std::int64_t>(st.tile_px, h_px - ty));
      // Tissue in this tile (overview pixels)?
      const double f = plan.mpp / ov_um;
      cv::Rect r(static_cast<int>(static_cast<double>(tx) * f), static_cast<int>(static_cast<double>(ty) * f),
                 std::max(1, static_cast<int>(cw * f)), std::max(1, static_cast<int>(ch * f)));
      r &= cv::Rect(0, 0, tissue.cols, tissue.rows);
      if (r.area() == 0 || cv::countNonZero(tissue(r)) == 0) continue;
      plan.tiles.push_back({static_cast<std::int64_t>(static_cast<double>(tx) * plan.l0_per_px),
                            static_cast<std::int64_t>(static_cast<double>(ty) * plan.l0_per_px), cw, ch});
    }
  return plan;
}

}  // namespace oq::wsi::stages
