#include <gtest/gtest.h>

#include <cmath>

#include "oq/lesion/edits.h"

namespace oq::lesion {
namespace {

Grid grid() {
  Grid g;
  g.size = {64, 64, 10};
  g.spacing = {0.5, 0.5, 2.0};
  g.origin = {0, 0, 0};
  return g;
}

// An ellipse of semi-axes 10 x 5 mm on slices 3-6.
Volume ellipse_mask() {
  Volume v(grid(), VoxelType::kUInt8);
  for (size_t k = 3; k <= 6; ++k)
    for (size_t j = 0; j < 64; ++j)
      for (size_t i = 0; i < 64; ++i) {
        const double x = static_cast<double>(i) * 0.5 - 16, y = static_cast<double>(j) * 0.5 - 16;
        if (x * x / 100 + y * y / 25 <= 1) v.set_value((k * 64 + j) * 64 + i, 1);
      }
  return v;
}

CtSegmentation automatic() {
  CtSegmentation s;
  s.method = "test";
  s.axial_slice_index = 4;
  s.long_axis = {20, {6, 16, 8}, {26, 16, 8}};
  s.short_axis = {10, {16, 11, 8}, {16, 21, 8}};
  s.volume_ml = 2.5;
  return s;
}

TEST(Edits, MovingAnEndpointAddsAnEditedRecordAndKeepsTheAutomaticOne) {
  LesionMeasurements m(automatic(), grid(), "2026-11-23T10:00:00Z");
  auto r = m.move_endpoint(Axis::kLong, 1, {28, 16, 8}, "reader-7", "2026-11-23T10:05:00Z");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_DOUBLE_EQ(r->calipers.long_axis.length_mm, 22);
  EXPECT_EQ(r->method, MeasurementMethod::kEdited);
  EXPECT_EQ(r->who, "reader-7");
  EXPECT_EQ(m.history().size(), 2U);
  EXPECT_DOUBLE_EQ(m.automatic().calipers.long_axis.length_mm, 20);  // never overwritten
  EXPECT_EQ(m.automatic().method, MeasurementMethod::kAutomatic);
  EXPECT_DOUBLE_EQ(m.current().calipers.long_axis.length_mm, 22);
  EXPECT_NEAR(m.current().perpendicular_deviation_deg, 0, 1e-9);
  // A short axis dragged off the perpendicular is recorded with its deviation.
  auto s = m.move_endpoint(Axis::kShort, 0, {14, 11, 8}, "reader-7", "2026-11-23T10:06:00Z");
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->perpendicular_deviation_deg, std::atan2(2, 10) * 180 / 3.14159265358979, 1e-6);
}

TEST(Edits, ARevisionIsTheSuitesMeasurementForTheStoreAndReports) {
  LesionMeasurements m(automatic(), grid(), "t0");
  ASSERT_TRUE(m.move_endpoint(Axis::kLong, 1, {28, 16, 8}, "reader-7", "t1").ok());
  const LesionMeasurement v = m.current().as_measurement();
  EXPECT_EQ(v.method, MeasurementMethod::kEdited);
  EXPECT_EQ(v.author, "reader-7");
  EXPECT_EQ(v.recorded_at, "t1");
  ASSERT_TRUE(v.long_axis && v.short_axis);
  EXPECT_DOUBLE_EQ(*v.long_axis_mm, 22);
  EXPECT_DOUBLE_EQ(v.long_axis->length_mm(), 22);
  EXPECT_EQ(v.long_axis->b, (Vec3{28, 16, 8}));
  EXPECT_DOUBLE_EQ(*v.volume_ml, 2.5);
}

TEST(Edits, AMaskIsKeptAsTheBoxOfItsVoxelsPlacedInTheSeries) {
  Volume mask(grid(), VoxelType::kUInt8);
  const Grid& g = mask.grid();
  auto at = [&](std::size_t i, std::size_t j, std::size_t k) { return (k * g.size[1] + j) * g.size[0] + i; };
  mask.set_value(at(3, 5, 2), 1);
  mask.set_value(at(4, 6, 3), 1);
  const LesionMask m = lesion_mask(mask, {10, 20, 30});
  EXPECT_EQ(m.offset, (std::array<std::size_t, 3>{13, 25, 32}));
  EXPECT_EQ(m.size, (std::array<std::size_t, 3>{2, 2, 2}));
  EXPECT_EQ(m.inside, (std::vector<std::uint8_t>{1, 0, 0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(m.voxels_inside(), 2u);
  EXPECT_TRUE(lesion_mask(Volume(grid(), VoxelType::kUInt8)).inside.empty());
}

TEST(Edits, EndpointsStayOnTheCalipersSliceAndEditsNameTheReader) {
  LesionMeasurements m(automatic(), grid(), "t0");
  EXPECT_FALSE(m.move_endpoint(Axis::kLong, 0, {6, 16, 12}, "reader", "t1").ok());  // slice 6, not 4
  EXPECT_FALSE(m.move_endpoint(Axis::kLong, 0, {6, 16, 8}, "", "t1").ok());
  EXPECT_FALSE(m.move_endpoint(Axis::kLong, 2, {6, 16, 8}, "reader", "t1").ok());
  EXPECT_EQ(m.history().size(), 1U);
}

TEST(Edits, ReplacingTheContourMeasuresItAgain) {
  LesionMeasurements m(automatic(), grid(), "t0");
  auto r = m.replace_contour(ellipse_mask(), "reader", "t1");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_NEAR(r->calipers.long_axis.length_mm, 20, 0.5);
  EXPECT_NEAR(r->calipers.short_axis.length_mm, 10, 0.5);
  EXPECT_NEAR(r->calipers.volume_ml, 3.14159 * 10 * 5 * 4 * 2 / 1000, 0.03);
  EXPECT_EQ(m.history().size(), 2U);
  EXPECT_FALSE(m.replace_contour(Volume(grid(), VoxelType::kUInt8), "reader", "t2").ok());  // empty
}

}  // namespace
}  // namespace oq::lesion
