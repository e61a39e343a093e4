// The key image the report shows: the long axis' slice around the lesion, windowed, with the
// outline and calipers where the lesion is in the picture.
#include <gtest/gtest.h>

#include <cmath>

#include "oq/lesion/key_image.h"

namespace oq::lesion {
namespace {

TEST(KeyImage, TheLesionItsOutlineAndItsCalipersLandWhereTheyAreInThePicture) {
  Grid g;
  g.size = {100, 100, 5};
  Volume ct(g, VoxelType::kInt16);
  LesionMask mask;
  mask.offset = {40, 40, 2};
  mask.size = {21, 21, 1};
  mask.inside.assign(21 * 21, 0);
  for (std::size_t j = 0; j < 100; ++j)
    for (std::size_t i = 0; i < 100; ++i) {
      const bool in = std::hypot(double(i) - 50, double(j) - 50) <= 10;
      ct.set_value((2 * 100 + j) * 100 + i, in ? 100 : 0);
      if (in) mask.inside[(j - 40) * 21 + (i - 40)] = 1;
    }
  LesionMeasurement m;
  m.lesion_id = "T1";
  m.long_axis = Caliper{{40, 50, 2}, {60, 50, 2}, "", 0};
  m.short_axis = Caliper{{50, 40, 2}, {50, 60, 2}, "", 0};
  const auto k = key_image(ct, m, mask, 120);
  ASSERT_TRUE(k.ok()) << k.error().describe();
  EXPECT_DOUBLE_EQ(k->mm_per_pixel, 0.5);  // 3 x 20 mm over 120 pixels
  // The lesion is the picture's centre (pixel 60 holds u = 50.25: voxel 50): 100 HU in a W400/L40 window, the background 0 HU.
  EXPECT_EQ(k->grey[60 * 120 + 60], 165);
  EXPECT_EQ(k->grey[5 * 120 + 5], 102);
  EXPECT_EQ(k->inside[60 * 120 + 60], 1);
  EXPECT_EQ(k->inside[5 * 120 + 5], 0);
  // The long axis runs across the middle, 40 pixels (20 mm) long.
  EXPECT_NEAR(k->long_axis[0], 40, 1e-9);
  EXPECT_NEAR(k->long_axis[2], 80, 1e-9);
  EXPECT_NEAR(k->long_axis[1], 60, 1e-9);
  EXPECT_TRUE(k->has_short_axis);
  EXPECT_NEAR(k->short_axis[1], 40, 1e-9);
}

TEST(KeyImage, NoCaliperNoPicture) {
  Grid g;
  g.size = {10, 10, 1};
  Volume ct(g, VoxelType::kInt16);
  LesionMeasurement m;
  EXPECT_FALSE(key_image(ct, m, std::nullopt).ok());
  m.long_axis = Caliper{{500, 500, 0}, {510, 500, 0}, "", 0};
  EXPECT_FALSE(key_image(ct, m, std::nullopt).ok()) << "outside the series";
}

}  // namespace
}  // namespace oq::lesion
