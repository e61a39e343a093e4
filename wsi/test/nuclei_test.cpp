// The nucleus-detection stages for crowded tissue, each on an image whose answer is known by
// construction: Gaussian blobs laid on a grid, masks of given sizes.
#include "nuclei.h"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

namespace oq::wsi::nuclei {
namespace {

// Gaussian blobs of peak `height` and sigma `s` px at the given centres, on zero.
cv::Mat blobs(cv::Size size, const std::vector<cv::Point2d>& centres, double s, double height = 1.0) {
  cv::Mat m = cv::Mat::zeros(size, CV_32F);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      double v = 0;
      for (const auto& c : centres) v += height * std::exp(-((x - c.x) * (x - c.x) + (y - c.y) * (y - c.y)) / (2 * s * s));
      m.at<float>(y, x) = static_cast<float>(v);
    }
  return m;
}

TEST(NucleiStages, NucleusLevelIsATenthOfTheStrongNucleiNeverBelowHalfTheFloor) {
  cv::Mat a = cv::Mat::zeros(100, 100, CV_32F);
  a(cv::Rect(0, 0, 100, 10)).setTo(0.8f);  // a tenth of the pixels at 0.8: the 95th centile
  EXPECT_NEAR(nucleus_level(a, 0.06), 0.08, 1e-6);
  EXPECT_NEAR(nucleus_level(cv::Mat::zeros(100, 100, CV_32F), 0.06), 0.03, 1e-12) << "a blank tile keeps the floor";
}

TEST(NucleiStages, ASheetIsALargePartThatTheDistanceSeedsExplainPoorly) {
  cv::Mat fg = cv::Mat::zeros(200, 300, CV_8U), seeds = cv::Mat::zeros(200, 300, CV_8U);
  fg(cv::Rect(0, 0, 100, 100)).setTo(255);  // 10 000 px, one seed: a sheet
  seeds(cv::Rect(50, 50, 2, 2)).setTo(255);
  fg(cv::Rect(150, 0, 100, 100)).setTo(255);  // 10 000 px, a seed every 400 px: a nest of nuclei
  for (int y = 10; y < 100; y += 20)
    for (int x = 160; x < 250; x += 20) seeds(cv::Rect(x, y, 2, 2)).setTo(255);
  fg(cv::Rect(0, 150, 40, 40)).setTo(255);  // 1 600 px, no seed: too small to be a sheet
  const cv::Mat sheet = sheets_of(fg, seeds, 5000, 2000);
  EXPECT_EQ(sheet.at<std::uint8_t>(10, 10), 255);
  EXPECT_EQ(sheet.at<std::uint8_t>(10, 160), 0);
  EXPECT_EQ(sheet.at<std::uint8_t>(160, 10), 0);
}

TEST(NucleiStages, SheetSeedsFallOneInEachTouchingNucleus) {
  // A 4 x 3 grid of nuclei 6 um across, 7 um apart (touching), at 0.5 um/px.
  std::vector<cv::Point2d> centres;
  for (int j = 0; j < 3; ++j)
    for (int i = 0; i < 4; ++i) centres.push_back({30 + 14.0 * i, 30 + 14.0 * j});
  const cv::Mat stain = blobs({120, 100}, centres, 4.0);
  const cv::Mat sheet(stain.size(), CV_8U, cv::Scalar(255));
  cv::Mat peaks = cv::Mat::zeros(stain.size(), CV_8U);
  peaks.at<std::uint8_t>(5, 5) = 255;  // a distance seed in a gap: replaced
  seed_sheets(stain, sheet, 0.5, peaks);
  cv::Mat labels;
  const int n = cv::connectedComponents(peaks, labels, 8) - 1;
  EXPECT_EQ(n, 12);
  for (const auto& c : centres) EXPECT_EQ(peaks.at<std::uint8_t>(static_cast<int>(c.y), static_cast<int>(c.x)), 255);
}

TEST(NucleiStages, TwoMaximaAreOneNucleusUnlessTheStainDipsBetweenThem) {
  // Two touching nuclei: the valley between them is far deeper than 3 %.
  const cv::Mat two = blobs({80, 40}, {{25, 20}, {45, 20}}, 4.0);
  EXPECT_FALSE(same_blob(two, 25, 20, 45, 20));
  // One elongated nucleus with two shallow maxima (blobs 4 px apart, sigma 4: no dip).
  const cv::Mat one = blobs({80, 40}, {{38, 20}, {42, 20}}, 4.0);
  EXPECT_TRUE(same_blob(one, 38, 20, 42, 20));
}

TEST(NucleiStages, SheetPixelsGoToTheirNearestSeedWithTheirPeak) {
  cv::Mat seeds = cv::Mat::zeros(20, 40, CV_32S);
  seeds.at<int>(10, 5) = 1;
  seeds.at<int>(10, 30) = 2;
  cv::Mat markers = seeds.clone();
  const cv::Mat sheet(seeds.size(), CV_8U, cv::Scalar(255));
  cv::Mat stain = cv::Mat::zeros(seeds.size(), CV_32F);
  stain.at<float>(10, 5) = 0.7f;
  stain.at<float>(10, 30) = 0.4f;
  const std::vector<float> peak = give_sheets_to_nearest_seeds(seeds, sheet, stain, 3, markers);
  EXPECT_EQ(markers.at<int>(0, 0), 1);
  EXPECT_EQ(markers.at<int>(19, 17), 1);  // 12 px from seed 1, 13 from seed 2
  EXPECT_EQ(markers.at<int>(19, 18), 2);
  EXPECT_EQ(markers.at<int>(0, 39), 2);
  EXPECT_FLOAT_EQ(peak[1], 0.7f);
  EXPECT_FLOAT_EQ(peak[2], 0.4f);
}

}  // namespace
}  // namespace oq::wsi::nuclei
