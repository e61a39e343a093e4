#include <gtest/gtest.h>

#include <cmath>

#include "oq/volume.h"

namespace {

TEST(Grid, IndexToLpsFollowsDirectionColumnsAndSpacing) {
  oq::Grid g;
  g.size = {10, 20, 5};
  g.spacing = {0.5, 0.7, 2.5};
  g.origin = {-100, 50, 10};
  // Rows run along -L... a coronal-like orientation: row dir = (1,0,0), column dir = (0,0,-1), normal = (0,1,0)
  g.direction = {1, 0, 0, 0, 0, 1, 0, -1, 0};
  const oq::Vec3 p = g.to_lps(2, 3, 4);
  EXPECT_DOUBLE_EQ(p[0], -100 + 2 * 0.5);
  EXPECT_DOUBLE_EQ(p[1], 50 + 4 * 2.5);
  EXPECT_DOUBLE_EQ(p[2], 10 - 3 * 0.7);
  const oq::Vec3 back = g.to_index(p);
  EXPECT_NEAR(back[0], 2, 1e-12);
  EXPECT_NEAR(back[1], 3, 1e-12);
  EXPECT_NEAR(back[2], 4, 1e-12);
}

TEST(Volume, StoresValuesInItsVoxelType) {
  oq::Grid g;
  g.size = {2, 2, 2};
  oq::Volume hu(g, oq::VoxelType::kInt16);
  EXPECT_EQ(hu.byte_size(), 8u * 2u);
  hu.set_value(3, -1024);
  EXPECT_EQ(hu.value(3), -1024);
  oq::Volume suv(g, oq::VoxelType::kFloat32);
  suv.set_value(7, 2.25);
  EXPECT_FLOAT_EQ(static_cast<float>(suv.value(7)), 2.25f);
  EXPECT_EQ(suv.value(0), 0.0);  // voxels start at zero
}

}  // namespace
