// The CT segmentation's stages (lesion/src/ct_stages.h), each on an input whose answer is known in
// closed form: a linear ramp, a constant, blurred steps along one ray, a sphere of rays, shells.
#include "ct_stages.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace oq::lesion::ct {
namespace {

// A 1-D region (one row) holding f(x) sampled every `spacing` mm from x = 0.
Roi row(const std::function<double(double)>& f, double length_mm, double spacing) {
  Roi r;
  r.nx = static_cast<int>(length_mm / spacing) + 1;
  r.ny = r.nz = 1;
  for (int i = 0; i < r.nx; ++i) r.v.push_back(static_cast<float>(f(i * spacing)));
  return r;
}

// A blurred step from a to b at x0 (Gaussian edge of sigma mm).
double step(double x, double x0, double a, double b, double sigma) {
  return a + (b - a) * 0.5 * std::erfc(-(x - x0) / (sigma * std::sqrt(2.0)));
}

// Searches the row from x = 0 as a ray does (ramp and window as for an in-plane ray on 0.5 mm pixels).
std::optional<RayEdge> search_row(const Roi& r, double level, double tau, std::vector<double>* ripples_out = nullptr) {
  constexpr double kSpacing = 0.5, kStep = 0.125;
  RayProfile ray(r, {0, 0, 0}, {1 / kSpacing, 0, 0}, kStep, static_cast<size_t>(r.nx * kSpacing / kStep) + 8);
  EdgeSearch s;
  s.level = level;
  s.tau = tau;
  s.ramp_mm = 2.5 + 0.25;
  s.window_mm = s.ramp_mm + 4;
  s.reach_mm = 60;
  std::vector<double> ripples;
  auto e = find_edge(ray, s, ripples);
  if (ripples_out) *ripples_out = ripples;
  return e;
}

// A volume of f(x, y, z) (mm from its centre) on an isotropic grid of `spacing` mm, `n` voxels a side.
Volume volume_of(const std::function<double(double, double, double)>& f, size_t n, double spacing) {
  Grid g;
  g.size = {n, n, n};
  g.spacing = {spacing, spacing, spacing};
  const double c = -0.5 * static_cast<double>(n - 1) * spacing;
  g.origin = {c, c, c};
  Volume v(g, VoxelType::kFloat32);
  for (size_t k = 0; k < n; ++k)
    for (size_t j = 0; j < n; ++j)
      for (size_t i = 0; i < n; ++i) {
        const Vec3 p = g.to_lps(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k));
        v.set_value((k * n + j) * n + i, f(p[0], p[1], p[2]));
      }
  return v;
}

double radius_of(double x, double y, double z) {
  return std::sqrt(x * x + y * y + z * z);
}

// ---- Region and seed level ----

TEST(CtStageRegion, ClipsToTheSeriesAndSmoothingKeepsALinearRamp) {
  const Volume v = volume_of([](double x, double, double) { return 3 * x; }, 40, 1.0);
  const Roi r = region_around(v, {5, 20, 20}, 10);
  EXPECT_EQ(r.x0, 0);  // 5 - 10 clipped at the series' first column
  EXPECT_EQ(r.nx, 16);
  EXPECT_EQ(r.y0, 10);
  EXPECT_EQ(r.ny, 21);
  // A Gaussian keeps a linear function where its taps stay inside the region.
  EXPECT_NEAR(r.at(8, 10, 10), 3 * (8 - 19.5), 1e-3);
}

TEST(CtStageSeedLevel, TheMedianWithin2Point5MmAndANoiseFloorOf2Hu) {
  // 40 HU up to 3 mm right of the seed, bone beyond: the 2.5 mm neighbourhood does not reach it.
  const Volume v = volume_of([](double x, double, double) { return x < 3 ? 40 : 1000; }, 21, 1.0);
  Roi r;
  r.nx = r.ny = r.nz = 21;
  for (size_t o = 0; o < v.grid().voxel_count(); ++o) r.v.push_back(static_cast<float>(v.value(o)));
  const SeedLevel s = level_at(r, {10, 10, 10}, {1, 1, 1});
  EXPECT_DOUBLE_EQ(s.hu, 40);
  EXPECT_DOUBLE_EQ(s.noise, 2);
}

// ---- One ray's edge ----

TEST(CtStageEdge, ABlurredStepIsFoundAtHalfContrastWithItsWidth) {
  const Roi r = row([](double x) { return step(x, 20, 40, 100, 1.0); }, 40, 0.5);
  const auto e = search_row(r, 40, 12);
  ASSERT_TRUE(e.has_value());
  EXPECT_NEAR(e->radius, 20, 0.05);
  EXPECT_NEAR(e->contrast, 60, 1);
  EXPECT_TRUE(e->single_step);
  EXPECT_FALSE(e->past_ripple);
  EXPECT_NEAR(e->width_25_75, 1.349, 0.05);  // the 25-75 % width of a Gaussian edge: 1.349 sigma
}

TEST(CtStageEdge, ARippleThatComesBackDoesNotEndTheSearch) {
  // A 17 HU bump (more than the threshold, less than an edge's 20 HU) at 8 mm, the edge at 25 mm.
  const Roi r = row([](double x) { return step(x, 25, 40, 100, 1.0) + 17 * std::exp(-0.5 * (x - 8) * (x - 8)); }, 45, 0.5);
  std::vector<double> ripples;
  const auto e = search_row(r, 40, 12, &ripples);
  ASSERT_TRUE(e.has_value());
  EXPECT_NEAR(e->radius, 25, 0.05);
  EXPECT_TRUE(e->past_ripple);
  ASSERT_EQ(ripples.size(), 1u);
  EXPECT_NEAR(ripples[0], 17, 0.5);
}

TEST(CtStageEdge, AThinBrightLayerBeforeTheLesionsOwnLevelIsNotAnEdge) {
  // 1.5 mm of 120 HU (a vessel, a layer of other tissue) and then the lesion's level again.
  const Roi r = row([](double x) { return step(x, 10, 40, 120, 0.5) - step(x, 11.5, 0, 80, 0.5); }, 40, 0.5);
  const auto e = search_row(r, 40, 12);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->thin_layer);
  // Its extreme: the blurred peak, 80 erf(1.5 / sqrt 2) = 69 HU above the lesion at 10.75 mm (the
  // 0.5 mm samples read 65); its near side half-way up to that, just inside 10 mm.
  EXPECT_NEAR(e->contrast, 80 * std::erf(1.5 / std::sqrt(2.0)), 5);
  EXPECT_NEAR(e->radius, 9.9, 0.1);
}

TEST(CtStageEdge, PastADarkPatchOnlyAStepUpIsTheEdge) {
  // A necrotic patch (0 HU, 8-10 mm) in a 40 HU metastasis, lesion level again until 20 mm.
  auto patch = [](double x) { return -step(x, 8, 0, 40, 0.5) + step(x, 10, 0, 40, 0.5); };
  const Roi up = row([&](double x) { return step(x, 20, 40, 100, 0.8) + patch(x); }, 40, 0.5);
  const auto e = search_row(up, 40, 12);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->past_dark_patch);
  EXPECT_NEAR(e->radius, 20, 0.1);
  const Roi down = row([&](double x) { return step(x, 20, 40, -100, 0.8) + patch(x); }, 40, 0.5);
  EXPECT_FALSE(search_row(down, 40, 12).has_value());
}

TEST(CtStageThinFat, TheTwoStepModelCrossesHalfTheFirstStepAtTheEdgeAndRecoversIt) {
  // With a wide layer the model's first step is a plain Gaussian edge: half-contrast at x = 0.
  EXPECT_NEAR(two_step_crossing(40, -100, -850, 0.8, 12, -30), 0, 0.002);
  // A 1.2 mm fat layer blurred by 0.9 mm: the edge recovered from the profile the model draws,
  // sampled from 5 mm inside the lesion.
  const double sigma = 0.9, w = 1.2, step_mm = 0.1;
  std::vector<float> profile;
  for (double x = -5; x <= 10; x += step_mm)
    profile.push_back(static_cast<float>(step(x, 0, 40, -100, sigma) + step(x, w, 0, -750, sigma)));
  EXPECT_NEAR(edge_through_fat(profile, step_mm, 40, -100, -850, sigma), 5.0, 0.05);
}

TEST(CtStageRays, EveryRayFromTheCentreOfASphereMeetsItsEdge) {
  // A 10 mm hypo-attenuating sphere (40 HU) in liver (100 HU), 0.5 mm voxels partly filled at its
  // surface, no noise. The 1 mm smoothing puts the half-contrast of a sphere inside it by
  // sigma^2 / r = 0.1 mm.
  const Volume v = volume_of(
      [](double x, double y, double z) { return 40 + 60 * std::clamp((radius_of(x, y, z) - 9.75) / 0.5, 0.0, 1.0); }, 61, 0.5);
  const Roi roi = region_around(v, {30, 30, 30}, 20);
  const RayCast rays = cast_rays(roi, {30, 30, 30}, v.grid(), 40, 2, 60);
  EXPECT_DOUBLE_EQ(rays.valid_share(), 1.0);
  for (size_t i = 0; i < kRays; i += 11) {
    ASSERT_NEAR(rays.radius[i], 9.9, 0.1) << "ray " << i;
    ASSERT_NEAR(rays.contrast[i], 60, 2) << "ray " << i;
  }
  EXPECT_DOUBLE_EQ(rays.tau, 12);  // three noise SD, at least 12 HU
}

// ---- Leak repair ----

TEST(CtStageLeakRepair, RaysIntoAnAbuttingOrganAndUnseenRaysTakeTheSpheresRadius) {
  std::vector<double> radius(kRays, 10);
  std::vector<char> valid(kRays, 1), ripple(kRays, 0);
  size_t leaked = 0, unseen = 0;
  for (size_t i = 0; i < kRays; ++i) {
    const Vec3 d = direction(i);
    if (d[0] > 0.9) radius[i] = 30, ++leaked;                 // into an organ of the lesion's density
    if (d[2] > 0.95) valid[i] = 0, radius[i] = -1, ++unseen;  // no edge at all
  }
  const Outline o = repair_leaks(radius, valid, ripple);
  for (size_t i = 0; i < kRays; ++i) ASSERT_NEAR(o.radius[i], 10, 0.05) << "ray " << i;
  EXPECT_NEAR(o.median_radius, 10, 1e-9);
  EXPECT_NEAR(o.leak_fraction(), static_cast<double>(leaked + unseen) / kRays, 0.01);
}

// ---- The wall ----

// An outline of `r` mm on every ray.
Outline sphere_outline(double r) {
  Outline o;
  o.radius.assign(kRays, r);
  o.valid.assign(kRays, 1);
  o.fixed.assign(kRays, 0);
  o.median_radius = r;
  return o;
}

// The wall found around a sphere of radius `core` at the volume's centre (0.5 mm voxels).
std::optional<Wall> wall_of(const std::function<double(double)>& hu_at_radius, double core, double core_hu) {
  const Volume v = volume_of([&](double x, double y, double z) { return hu_at_radius(radius_of(x, y, z)); }, 81, 0.5);
  const Roi roi = region_around(v, {40, 40, 40}, 20);
  return wall_around(sphere_outline(core), roi, {40.0 - roi.x0, 40.0 - roi.y0, 40.0 - roi.z0}, v.grid(), core_hu, 12);
}

TEST(CtStageWall, ACalcifiedRimIsMeasuredToItsOuterEdge) {
  // A 40 HU core of 8 mm, a 2 mm rim of 260 HU, liver (60 HU) beyond.
  const auto w = wall_of([](double r) { return r < 8 ? 40 : r < 10 ? 260 : 60; }, 8, 40);
  ASSERT_TRUE(w.has_value());
  EXPECT_NEAR(w->outline.median_radius, 10, 0.2);
  EXPECT_GT(w->hu, 150);
  EXPECT_NEAR(w->beyond_hu, 60, 5);
  EXPECT_GT(w->closed_share, 0.95);
}

TEST(CtStageWall, TheViableRimAroundANecroticCentreIsMeasuredToItsOuterEdge) {
  // A fluid centre (5 HU) of 6 mm, a viable rim to 11 mm (70 HU), fat (-100 HU) beyond.
  const auto w = wall_of([](double r) { return r < 6 ? 5 : r < 11 ? 70 : -100; }, 6, 5);
  ASSERT_TRUE(w.has_value());
  EXPECT_NEAR(w->outline.median_radius, 11, 0.3);
  EXPECT_NEAR(w->hu, 70, 10);
}

TEST(CtStageWall, AViableRimBetweenNecrosisAndLiverIsMeasuredToItsOuterEdge) {
  // A necrotic liver metastasis: fluid (15 HU) within 6 mm, the viable rim (65 HU) to 11 mm, liver
  // (105 HU) beyond. The rim's level lies between the two: it holds for 3 mm, which a ramp does not.
  const auto w = wall_of([](double r) { return r < 6 ? 15 : r < 11 ? 65 : 105; }, 6, 15);
  ASSERT_TRUE(w.has_value());
  EXPECT_NEAR(w->outline.median_radius, 11, 0.3);
  EXPECT_NEAR(w->hu, 65, 10);
  EXPECT_NEAR(w->beyond_hu, 105, 5);
}

TEST(CtStageWall, NoWallAroundALesionInAnOrganInLungOrInFat) {
  // Liver all round (farther than the core is wide), lung beyond a nodule, fat around a node
  // with muscle beyond it: none is the lesion's wall.
  EXPECT_FALSE(wall_of([](double r) { return r < 8 ? 40 : 100; }, 8, 40).has_value());
  EXPECT_FALSE(wall_of([](double r) { return r < 8 ? 40 : -850; }, 8, 40).has_value());
  EXPECT_FALSE(wall_of([](double r) { return r < 8 ? 40 : r < 11 ? -100 : 50; }, 8, 40).has_value());
}

// ---- Blur and fill ----

TEST(CtStageBlur, ASpheresRadiusMovesOutByTheBlurVarianceOverTheRadius) {
  Grid g;
  g.spacing = {1, 1, 1};
  std::vector<double> radius(kRays, 10);
  correct_for_blur(radius, g);
  // Smoothing 1 mm, kernel 0.6 mm, a 1 mm box: variance 1 + 0.36 + 1/12 on each axis.
  const double var = kSmoothingMm * kSmoothingMm + kScannerBlurMm * kScannerBlurMm + 1.0 / 12;
  for (size_t i = 0; i < kRays; i += 37) EXPECT_NEAR(radius[i], 10 + var / 10, 0.005) << "ray " << i;
}

TEST(CtStageFill, ASphereOfRaysFillsItsVolumeAndItsCalipersAreItsDiameter) {
  const Volume v = volume_of([](double, double, double) { return 40; }, 41, 1.0);
  Roi roi;
  const auto f = fill_star(v, {0, 0, 0}, std::vector<double>(kRays, 10), roi);
  ASSERT_TRUE(f.has_value());
  EXPECT_NEAR(f->seg.volume_ml, 4.0 / 3 * kPi * 1000 / 1000, 0.05);
  EXPECT_NEAR(f->seg.long_axis.length_mm, 20, 0.3);
  EXPECT_NEAR(f->seg.short_axis.length_mm, 20, 0.3);
  EXPECT_NEAR(f->seg.max_3d.length_mm, 20, 0.1);
  EXPECT_NEAR(f->seg.mean_hu, 40, 1e-9);
  EXPECT_NEAR(f->centre[0], 0, 1e-9);
  EXPECT_FALSE(f->core_hu.has_value());  // no region to read it from
}

}  // namespace
}  // namespace oq::lesion::ct
