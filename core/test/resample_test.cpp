#include <gtest/gtest.h>

#include "oq/resample.h"

namespace {

// A linear ramp along L is reproduced exactly by trilinear interpolation, whatever the grids.
TEST(Resample, LinearRampSurvivesAChangeOfGrid) {
  oq::Grid coarse;
  coarse.size = {20, 20, 10};
  coarse.spacing = {4, 4, 4};
  coarse.origin = {-40, -40, -20};
  oq::Volume pet(coarse, oq::VoxelType::kFloat32);
  std::size_t n = 0;
  for (std::size_t k = 0; k < 10; ++k)
    for (std::size_t j = 0; j < 20; ++j)
      for (std::size_t i = 0; i < 20; ++i) pet.set_value(n++, coarse.to_lps(double(i), double(j), double(k))[0] * 0.1 + 5);

  oq::Grid fine;
  fine.size = {30, 30, 12};
  fine.spacing = {0.9, 0.9, 2.5};
  fine.origin = {-13.3, -10, -12};
  const oq::Volume out = oq::resample_linear(pet, fine, -1);
  n = 0;
  for (std::size_t k = 0; k < fine.size[2]; ++k)
    for (std::size_t j = 0; j < fine.size[1]; ++j)
      for (std::size_t i = 0; i < fine.size[0]; ++i, ++n)
        EXPECT_NEAR(out.value(n), fine.to_lps(double(i), double(j), double(k))[0] * 0.1 + 5, 1e-4);
}

TEST(Resample, OutsideTheSourceGetsTheOutsideValue) {
  oq::Grid g;
  g.size = {2, 2, 2};
  oq::Volume v(g, oq::VoxelType::kInt16);
  oq::Grid far = g;
  far.origin = {100, 100, 100};
  const oq::Volume out = oq::resample_linear(v, far, -1000);
  EXPECT_EQ(out.value(0), -1000);
}

}  // namespace
