// Stages of nucleus detection that crowded real tissue needs (see nuclei.h).
#include "nuclei.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace oq::wsi::nuclei {

// Connected parts of the nucleus foreground larger than `min_px` pixels that the distance
// seeds explain poorly (more than `px_per_seed` pixels for each): sheets of crowded nuclei whose
// cytoplasm stands above the background too. A nest of touching nuclei on pale stroma is not one:
// its distance has a maximum in each nucleus.
cv::Mat sheets_of(const cv::Mat& fg, const cv::Mat& seeds, double min_px, double px_per_seed) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(fg, labels, stats, centroids, 8, CV_32S);
  std::vector<int> seed_px(static_cast<size_t>(n), 0);
  for (int y = 0; y < fg.rows; ++y)
    for (int x = 0; x < fg.cols; ++x)
      if (seeds.at<std::uint8_t>(y, x)) ++seed_px[static_cast<size_t>(labels.at<int>(y, x))];
  // Seeds are small plateaus: count them as blobs of about 4 pixels.
  std::vector<std::uint8_t> big(static_cast<size_t>(n), 0);
  bool any = false;
  for (int l = 1; l < n; ++l) {
    const double area = stats.at<int>(l, cv::CC_STAT_AREA), seeds_n = std::max(1.0, seed_px[static_cast<size_t>(l)] / 4.0);
    if (area > min_px && area / seeds_n > px_per_seed) big[static_cast<size_t>(l)] = 1, any = true;
  }
  cv::Mat out = cv::Mat::zeros(fg.size(), CV_8U);
  if (!any) return out;
  for (int y = 0; y < fg.rows; ++y)
    for (int x = 0; x < fg.cols; ++x)
      if (big[static_cast<size_t>(labels.at<int>(y, x))]) out.at<std::uint8_t>(y, x) = 255;
  return out;
}

// How far above its local background the stain must stand to be a nucleus: a tenth of the
// tile's strong nuclei (its 95th centile), never below half the settings' floor. A fixed level
// followed the scanner's contrast: on one Ki-67 tissue the Olympus scan (paler, lower contrast)
// lost a quarter of the nuclei the Hamamatsu scan kept.
double nucleus_level(const cv::Mat& above_bg, double floor_od) {
  std::vector<float> v(above_bg.begin<float>(), above_bg.end<float>());
  if (v.empty()) return floor_od;
  const auto at = v.begin() + static_cast<std::ptrdiff_t>(0.95 * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), at, v.end());
  return std::max(0.5 * floor_od, 0.1 * static_cast<double>(*at));
}

// Seeds in sheets: the maxima (3 um around) of the nucleus stain's Laplacian of Gaussian at the
// scale of a nucleus (sigma 2 um; real tumour nuclei are 5-7 um across), where it is positive.
// They replace the distance seeds there, which sit in the gaps of the sheet rather than in nuclei.
void seed_sheets(const cv::Mat& nucleus_stain, const cv::Mat& sheet, double mpp, cv::Mat& peaks) {
  const int k = std::max(3, static_cast<int>(std::lround(3.0 / mpp)) | 1);
  cv::Mat blob, lap, dil, maxima, positive, elsewhere;
  cv::GaussianBlur(nucleus_stain, blob, {}, 2.0 / mpp);
  cv::Laplacian(blob, lap, CV_32F);
  lap = -lap;
  cv::dilate(lap, dil, cv::getStructuringElement(cv::MORPH_ELLIPSE, {k, k}));
  cv::compare(lap, dil, maxima, cv::CMP_GE);
  cv::compare(lap, 0, positive, cv::CMP_GT);
  cv::bitwise_and(maxima, positive, maxima);
  cv::bitwise_and(maxima, sheet, maxima);
  cv::bitwise_not(sheet, elsewhere);
  cv::bitwise_and(peaks, elsewhere, peaks);
  cv::bitwise_or(peaks, maxima, peaks);
}

// In a sheet the watershed's flood runs through the flat cytoplasm and takes whole nuclei from
// their own seeds: there each pixel goes to its nearest seed instead. Returns each label's peak
// stain above background in the sheet, for the nucleus's half-maximum outline.
std::vector<float> give_sheets_to_nearest_seeds(const cv::Mat& seeds, const cv::Mat& sheet, const cv::Mat& above_bg, int nseeds,
                                                cv::Mat& markers) {
  std::vector<float> peak(static_cast<size_t>(nseeds), 0.0f);
  cv::Mat not_seed, nearest, d;
  cv::compare(seeds, 0, not_seed, cv::CMP_EQ);
  cv::distanceTransform(not_seed, d, nearest, cv::DIST_L2, 3, cv::DIST_LABEL_PIXEL);
  // DIST_LABEL_PIXEL numbers the seed pixels; those numbers mapped to the seeds' labels.
  std::vector<int> label_of(static_cast<size_t>(cv::countNonZero(seeds)) + 2, 0);
  for (int y = 0; y < seeds.rows; ++y)
    for (int x = 0; x < seeds.cols; ++x)
      if (const int l = seeds.at<int>(y, x); l > 0) {
        const auto idx = static_cast<size_t>(nearest.at<int>(y, x));
        if (idx < label_of.size()) label_of[idx] = l;
      }
  for (int y = 0; y < markers.rows; ++y)
    for (int x = 0; x < markers.cols; ++x) {
      if (!sheet.at<std::uint8_t>(y, x)) continue;
      const auto idx = static_cast<size_t>(nearest.at<int>(y, x));
      const int l = idx < label_of.size() ? label_of[idx] : 0;
      markers.at<int>(y, x) = l;
      if (l > 0 && l < nseeds) peak[static_cast<size_t>(l)] = std::max(peak[static_cast<size_t>(l)], above_bg.at<float>(y, x));
    }
  return peak;
}

// Whether two maxima of the stain (above its background) belong to one nucleus: the stain along
// the line between them dips by less than 3 % of the lower one (touching nuclei part at a valley).
bool same_blob(const cv::Mat& stain, double x0, double y0, double x1, double y1) {
  const double a = stain.at<float>(static_cast<int>(y0), static_cast<int>(x0)),
               b = stain.at<float>(static_cast<int>(y1), static_cast<int>(x1));
  const int steps = std::max(2, static_cast<int>(std::ceil(std::hypot(x1 - x0, y1 - y0))));
  double lowest = std::min(a, b);
  for (int i = 1; i < steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    lowest = std::min(lowest, static_cast<double>(stain.at<float>(static_cast<int>(std::lround(y0 + t * (y1 - y0))),
                                                                  static_cast<int>(std::lround(x0 + t * (x1 - x0))))));
  }
  return std::min(a, b) - lowest < 0.03 * std::min(a, b);
}

}  // namespace oq::wsi::nuclei
