// Registration and new-uptake detection on small synthetic volumes with known geometry.
#include <gtest/gtest.h>

#include <cmath>

#include "oq/recist/tracking.h"

namespace oq::recist {
namespace {

// A 2 mm-voxel CT of a body (ellipsoid of soft tissue with a "spine" and two "lungs") with a
// 14 mm lesion, everything moved by `shift` mm and rotated by `angle` rad about the z axis.
Volume phantom_ct(const Vec3& shift, double angle = 0, double lesion_radius = 7) {
  Grid g;
  g.size = {110, 90, 60};
  g.spacing = {2, 2, 2.5};
  g.origin = {-109, -89, -74};
  Volume v(g, VoxelType::kInt16);
  auto* d = v.data<int16_t>();
  const double ca = std::cos(angle), sa = std::sin(angle);
  for (size_t k = 0; k < g.size[2]; ++k)
    for (size_t j = 0; j < g.size[1]; ++j)
      for (size_t i = 0; i < g.size[0]; ++i) {
        const Vec3 p = g.to_lps(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k));
        // Back to the body's own frame: undo the shift, then the rotation.
        const double x0 = p[0] - shift[0], y0 = p[1] - shift[1], z = p[2] - shift[2];
        const double x = ca * x0 + sa * y0, y = -sa * x0 + ca * y0;
        auto in = [&](double cx, double cy, double cz, double rx, double ry, double rz) {
          const double a = (x - cx) / rx, b = (y - cy) / ry, c = (z - cz) / rz;
          return a * a + b * b + c * c <= 1;
        };
        int16_t hu = -1000;
        if (in(0, 0, 0, 90, 65, 200)) hu = 40;
        if (in(-40, -5, 10, 30, 40, 60) || in(40, -5, 10, 30, 40, 60)) hu = -850;
        if (in(0, 45, 0, 15, 12, 200)) hu = 700;
        if (in(-40, -10, 15, lesion_radius, lesion_radius, lesion_radius)) hu = 35;  // a nodule in the right lung
        if (in(30, 20, -30, 20, 15, 20)) hu = 120;                                   // an enhancing organ
        d[(k * g.size[1] + j) * g.size[0] + i] = hu;
      }
  v.set_units("HU");
  return v;
}

TEST(Registration, RecoversAKnownShiftAndRotation) {
  const Volume base = phantom_ct({0, 0, 0});
  const Vec3 shift{4.0, -3.0, 7.5};
  const Volume fu = phantom_ct(shift, 0.04);  // 2.3 degrees
  auto r = register_ct(base, fu);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  // A point in the body maps where the generator put it.
  for (const Vec3& p : {Vec3{-40, -10, 15}, Vec3{30, 20, -30}, Vec3{0, 45, 20}}) {
    const double ca = std::cos(0.04), sa = std::sin(0.04);
    const Vec3 want{ca * p[0] - sa * p[1] + shift[0], sa * p[0] + ca * p[1] + shift[1], p[2] + shift[2]};
    const Vec3 got = r->map(p);
    for (size_t a = 0; a < 3; ++a) EXPECT_NEAR(got[a], want[a], 1.0) << "axis " << a;
    const Vec3 back = r->unmap(got);
    for (size_t a = 0; a < 3; ++a) EXPECT_NEAR(back[a], p[a], 1e-9);
  }
}

TEST(Registration, RefusesAVolumeTooSmall) {
  Grid g;
  g.size = {4, 4, 4};
  Volume tiny(g, VoxelType::kInt16);
  EXPECT_FALSE(register_ct(tiny, tiny).ok());
}

TEST(Tracking, FindsTheShrunkenLesionAndReportsAVanishedOne) {
  const Volume base = phantom_ct({0, 0, 0});
  const Volume smaller = phantom_ct({3, 2, -5}, 0, 4.5);
  auto r = register_ct(base, smaller);
  ASSERT_TRUE(r.ok());
  auto t = track_lesions(base, smaller, *r, {{"T1", {-40, -10, 15}, false}});
  ASSERT_EQ(t.size(), 1u);
  ASSERT_TRUE(t[0].found) << t[0].note;
  EXPECT_NEAR(t[0].baseline.long_axis.length_mm, 14, 2.0);
  EXPECT_NEAR(t[0].followup.long_axis.length_mm, 9, 2.0);
  EXPECT_GT(t[0].confidence, 0.5);
  const Volume gone = phantom_ct({3, 2, -5}, 0, 0);
  auto r2 = register_ct(base, gone);
  ASSERT_TRUE(r2.ok());
  t = track_lesions(base, gone, *r2, {{"T1", {-40, -10, 15}, false}});
  EXPECT_FALSE(t[0].found);
  EXPECT_NE(t[0].note.find("vanished, or missed"), std::string::npos) << t[0].note;
}

Volume uptake(const std::vector<std::pair<Vec3, double>>& spots, double spot_radius = 10) {
  Grid g;
  g.size = {60, 60, 60};
  g.spacing = {4, 4, 4};
  g.origin = {-118, -118, -118};
  Volume v(g, VoxelType::kFloat32);
  auto* d = v.data<float>();
  for (size_t k = 0; k < 60; ++k)
    for (size_t j = 0; j < 60; ++j)
      for (size_t i = 0; i < 60; ++i) {
        const Vec3 p = g.to_lps(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k));
        float val = 1.0f;
        for (const auto& [c, sul] : spots) {
          const double r = std::hypot(p[0] - c[0], p[1] - c[1], p[2] - c[2]);
          if (r <= spot_radius) val = static_cast<float>(sul);
        }
        if (std::hypot(p[0] - 60, p[1], p[2] + 60) < 40) val = 20;  // a "bladder": too large to be a lesion
        d[(k * 60 + j) * 60 + i] = val;
      }
  d[(10 * 60 + 30) * 60 + 30] = 10;  // one hot voxel: noise, not a lesion
  return v;
}

TEST(NewUptake, CandidatesAreSmallHotAwayFromKnownLesionsAndNewSinceBaseline) {
  const Vec3 known{-50, 0, 0}, fresh{40, 40, 40}, old{-40, 50, -40};
  const Volume fu = uptake({{known, 6}, {fresh, 5}, {old, 5}, {{0, -60, 60}, 5}});
  // A single hot voxel (noise) does not reach a 1 ml SULpeak.
  auto c = find_new_uptake(fu, 3.0, {known});
  ASSERT_EQ(c.size(), 3u);  // fresh, old and the one at (0, -60, 60); not the known lesion nor the bladder
  const Volume base = uptake({{known, 6}, {old, 5}});
  Registration same;
  c = find_new_uptake(fu, 3.0, {known}, &base, &same);
  ASSERT_EQ(c.size(), 2u);  // "old" was there at baseline
  for (const auto& u : c) EXPECT_GT(std::hypot(u.hottest[0] - old[0], u.hottest[1] - old[1], u.hottest[2] - old[2]), 15);
  EXPECT_GE(c[0].sul_peak, 3.0);
  EXPECT_LT(c[0].baseline_sul_peak, 2.0);
}

}  // namespace
}  // namespace oq::recist
