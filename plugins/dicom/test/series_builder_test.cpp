#include <gtest/gtest.h>

#include <cmath>

#include "series_builder.h"

namespace {

using oq::dicom::build_series;
using oq::dicom::FrameRecord;
using oq::dicom::Resampling;
using oq::dicom::StackKind;

// An axial CT slice at height z (LPS), 4 x 3 pixels of 0.5 x 0.7 mm.
FrameRecord axial(double z, const std::string& series = "1.2.3", int acquisition = 1) {
  FrameRecord r;
  r.path = "slice_" + std::to_string(z) + "_" + std::to_string(acquisition) + ".dcm";
  r.series_uid = series;
  r.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  r.modality = "CT";
  r.rows = 3;
  r.columns = 4;
  r.bits_allocated = 16;
  r.bits_stored = 12;
  r.position = std::array<double, 3>{-10, -20, z};
  r.orientation = std::array<double, 6>{1, 0, 0, 0, 1, 0};
  r.pixel_spacing = std::array<double, 2>{0.7, 0.5};
  r.acquisition_number = acquisition;
  return r;
}

TEST(SeriesBuilder, SortsAlongTheNormalAndTakesTheStepAsSpacing) {
  auto parts = build_series({axial(10), axial(0), axial(5), axial(15)});
  ASSERT_EQ(parts.size(), 1u);
  const auto& p = parts[0];
  ASSERT_TRUE(p.loadable) << p.problem;
  EXPECT_EQ(p.uid, "1.2.3");
  EXPECT_EQ(p.frames.front().position->at(2), 0);
  EXPECT_EQ(p.frames.back().position->at(2), 15);
  EXPECT_EQ(p.grid.size[0], 4u);  // columns
  EXPECT_EQ(p.grid.size[1], 3u);  // rows
  EXPECT_EQ(p.grid.size[2], 4u);
  EXPECT_DOUBLE_EQ(p.grid.spacing[0], 0.5);  // column spacing is the second Pixel Spacing value
  EXPECT_DOUBLE_EQ(p.grid.spacing[1], 0.7);
  EXPECT_DOUBLE_EQ(p.grid.spacing[2], 5);
  EXPECT_EQ(p.grid.origin[2], 0);
  EXPECT_EQ(p.resampling, Resampling::kNone);
}

TEST(SeriesBuilder, FeetFirstStacksStillSortByPositionAlongTheNormal) {
  // Normal of a coronal slice (row = L, column = -S... ) points along P; positions vary in y.
  std::vector<FrameRecord> fs;
  for (double y : {30.0, 10.0, 20.0}) {
    auto r = axial(0);
    r.orientation = std::array<double, 6>{1, 0, 0, 0, 0, -1};
    r.position = std::array<double, 3>{0, y, 0};
    r.path = std::to_string(y);
    fs.push_back(r);
  }
  auto parts = build_series(fs);
  ASSERT_EQ(parts.size(), 1u);
  // normal = row x col = (1,0,0) x (0,0,-1) = (0,1,0): increasing y.
  EXPECT_EQ(parts[0].frames.front().position->at(1), 10);
  EXPECT_DOUBLE_EQ(parts[0].grid.spacing[2], 10);
}

TEST(SeriesBuilder, MissingSliceIsRefusedNamingTheGap) {
  auto parts = build_series({axial(0), axial(5), axial(15), axial(20)});
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_FALSE(parts[0].loadable);
  EXPECT_NE(parts[0].problem.find("1 missing slice"), std::string::npos) << parts[0].problem;
  EXPECT_NE(parts[0].problem.find("gap 10.00 mm"), std::string::npos) << parts[0].problem;
}

TEST(SeriesBuilder, UnevenSpacingIsResampledWithAWarning) {
  auto parts = build_series({axial(0), axial(2.5), axial(5), axial(8.75), axial(12.5)});
  ASSERT_EQ(parts.size(), 1u);
  const auto& p = parts[0];
  ASSERT_TRUE(p.loadable) << p.problem;
  EXPECT_EQ(p.resampling, Resampling::kUnevenSpacing);
  EXPECT_DOUBLE_EQ(p.grid.spacing[2], 2.5);
  EXPECT_EQ(p.grid.size[2], 6u);  // 0 .. 12.5 in 2.5 mm steps
  ASSERT_FALSE(p.warnings.empty());
}

TEST(SeriesBuilder, GantryTiltIsDetectedAndShiftsRecorded) {
  std::vector<FrameRecord> fs;
  const double tilt = 15.0 * M_PI / 180.0;
  for (int k = 0; k < 5; ++k) {
    auto r = axial(5.0 * k);
    r.position = std::array<double, 3>{-10, -20 + 5.0 * k * std::tan(tilt), 5.0 * k};
    r.path = std::to_string(k);
    fs.push_back(r);
  }
  auto parts = build_series(fs);
  ASSERT_EQ(parts.size(), 1u);
  const auto& p = parts[0];
  ASSERT_TRUE(p.loadable) << p.problem;
  EXPECT_EQ(p.resampling, Resampling::kGantryTilt);
  EXPECT_NEAR(p.tilt_shift_mm[4][1], 20.0 * std::tan(tilt), 1e-9);
  EXPECT_NE(p.warnings.front().find("15.00 degrees"), std::string::npos) << p.warnings.front();
}

TEST(SeriesBuilder, SplitsSizesAndOrientationsIntoParts) {
  auto big = axial(10);
  big.rows = 5;
  auto sag = axial(20);
  sag.orientation = std::array<double, 6>{0, 1, 0, 0, 0, -1};
  auto parts = build_series({axial(0), axial(5), big, sag});
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].uid, "1.2.3#1");
  EXPECT_EQ(parts[0].frames.size(), 2u);
  EXPECT_EQ(parts[1].uid, "1.2.3#2");
  EXPECT_NE(parts[0].split_reason.find("split into 3 parts"), std::string::npos);
}

TEST(SeriesBuilder, RepeatedAcquisitionsAtTheSamePositionsAreSplit) {
  auto parts = build_series({axial(0, "1.2.3", 1), axial(5, "1.2.3", 1), axial(0, "1.2.3", 2), axial(5, "1.2.3", 2)});
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_TRUE(parts[0].loadable);
  EXPECT_TRUE(parts[1].loadable);
  EXPECT_NE(parts[1].split_reason.find("Acquisition Number 2"), std::string::npos);
}

TEST(SeriesBuilder, DuplicatePositionsThatCannotBeSeparatedAreRefused) {
  auto parts = build_series({axial(0), axial(5), axial(5)});
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_FALSE(parts[0].loadable);
  EXPECT_NE(parts[0].problem.find("same position"), std::string::npos);
}

TEST(SeriesBuilder, PlanarNmViewsStackInFrameOrder) {
  std::vector<FrameRecord> fs;
  for (int f : {1, 0}) {
    FrameRecord r;
    r.path = "wb.dcm";
    r.frame = f;
    r.series_uid = "9";
    r.modality = "NM";
    r.rows = 1024;
    r.columns = 256;
    r.pixel_spacing = std::array<double, 2>{2.26, 2.26};
    r.view = f == 0 ? "anterior" : "posterior";
    fs.push_back(r);
  }
  auto parts = build_series(fs);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].kind, StackKind::kPlanar);
  EXPECT_EQ(parts[0].frames[0].view, "anterior");
  EXPECT_EQ(parts[0].grid.size[2], 2u);
}

TEST(SeriesBuilder, SeparateSeriesStaySeparate) {
  auto parts = build_series({axial(0, "A"), axial(0, "B"), axial(5, "A")});
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0].uid, "A");
  EXPECT_EQ(parts[0].frames.size(), 2u);
  EXPECT_EQ(parts[1].uid, "B");
}

}  // namespace
