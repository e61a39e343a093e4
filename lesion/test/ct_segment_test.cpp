// Segmentation on volumes built here: an ellipsoid lesion of known size in liver-like tissue
// with CT noise, next to bone and air, and a blurred node in fat, checked against closed-form
// diameters and volume.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "oq/lesion/ct_segment.h"

namespace oq::lesion {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The mean of `hu_at` over voxel (i, j, k) in 3 x 3 x 5 sub-samples: partial volume like a scanner.
template <typename HuAt>
double partial_volume(const Grid& g, size_t i, size_t j, size_t k, const HuAt& hu_at) {
  double sum = 0;
  for (int sk = 0; sk < 5; ++sk)
    for (int sj = 0; sj < 3; ++sj)
      for (int si = 0; si < 3; ++si)
        sum += hu_at(g.to_lps(static_cast<double>(i) + (si - 1) / 3.0, static_cast<double>(j) + (sj - 1) / 3.0,
                              static_cast<double>(k) + (sk - 2) / 5.0));
  return sum / 45;
}

// 128 x 128 x 40 at 0.75 x 0.75 x 2.5 mm: liver (105 HU) with a hypodense ellipsoid (55 HU,
// semi-axes 12 x 8 x 9 mm at the origin, turned 30 degrees), a bone block and air, noise 15 HU.
Volume phantom(unsigned noise_seed) {
  Grid g;
  g.size = {128, 128, 40};
  g.spacing = {0.75, 0.75, 2.5};
  g.origin = {-47.625, -47.625, -48.75};
  Volume v(g, VoxelType::kInt16);
  std::mt19937 rng(noise_seed);
  std::normal_distribution<double> noise(0, 15);
  const double c = std::cos(kPi / 6), s = std::sin(kPi / 6);
  for (size_t k = 0; k < 40; ++k)
    for (size_t j = 0; j < 128; ++j)
      for (size_t i = 0; i < 128; ++i) {
        const double hu = partial_volume(g, i, j, k, [&](const Vec3& p) {
          const double u = c * p[0] + s * p[1], w = -s * p[0] + c * p[1];
          if (u * u / 144 + w * w / 64 + p[2] * p[2] / 81 <= 1) return 55.0;
          if (p[1] > 35) return -1000.0;  // air
          if (p[0] > 30) return 700.0;    // bone block
          return 105.0;
        });
        v.set_value((k * 128 + j) * 128 + i, std::round(hu + noise(rng)));
      }
  v.set_units("HU");
  return v;
}

TEST(CtSegment, EllipsoidDiametersAndVolume) {
  const Volume v = phantom(1);
  auto r = segment_ct(v, {1, -1, 0});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  // The slice through the centre (z = 0 is a slice centre: -48.75 + 19.5 * 2.5).
  EXPECT_NEAR(r->long_axis.length_mm, 24, 0.8);
  EXPECT_NEAR(r->short_axis.length_mm, 16, 0.8);
  EXPECT_NEAR(r->volume_ml, 4.0 / 3 * kPi * 12 * 8 * 9 / 1000, 0.4);
  EXPECT_NEAR(r->mean_hu, 55, 8);
  EXPECT_NEAR(r->lesion_hu, 55, 6);
  EXPECT_NEAR(r->background_hu, 105, 10);
  // The mask covers the lesion's box, not the series; on the series grid it holds the same voxels.
  EXPECT_LT(r->mask.grid().voxel_count() * 8, v.grid().voxel_count());
  const Volume full = mask_on_series_grid(*r, v.grid());
  size_t in_box = 0, in_full = 0;
  for (size_t o = 0; o < r->mask.grid().voxel_count(); ++o) in_box += r->mask.value(o) > 0;
  for (size_t o = 0; o < full.grid().voxel_count(); ++o) in_full += full.value(o) > 0;
  EXPECT_EQ(in_box, in_full);
  EXPECT_NEAR(static_cast<double>(in_full) * 0.75 * 0.75 * 2.5 / 1000, r->volume_ml, 1e-9);
  const Vec3 c = full.grid().to_lps(static_cast<double>(r->mask_offset[0]), static_cast<double>(r->mask_offset[1]),
                                    static_cast<double>(r->mask_offset[2]));
  for (size_t a = 0; a < 3; ++a) EXPECT_NEAR(c[a], r->mask.grid().origin[a], 1e-9);
}

// A 12 mm node (40 HU) in fat (-100 HU) as a scanner sees it: partial volume over 0.7 mm pixels
// and 2.5 mm slices, then a sharper kernel than segment_ct assumes (Gaussian, sigma 0.5 mm), light noise.
Volume blurred_node(double radius_mm) {
  Grid g;
  g.size = {72, 72, 24};
  g.spacing = {0.7, 0.7, 2.5};
  g.origin = {-24.85, -24.85, -28.75};
  const size_t nx = g.size[0], ny = g.size[1], nz = g.size[2];
  std::vector<double> hu(nx * ny * nz);
  for (size_t k = 0; k < nz; ++k)
    for (size_t j = 0; j < ny; ++j)
      for (size_t i = 0; i < nx; ++i) {
        int inside = 0;
        for (int sk = 0; sk < 9; ++sk)
          for (int sj = 0; sj < 5; ++sj)
            for (int si = 0; si < 5; ++si) {
              const Vec3 p = g.to_lps(static_cast<double>(i) + (si - 2) / 5.0, static_cast<double>(j) + (sj - 2) / 5.0,
                                      static_cast<double>(k) + (sk - 4) / 9.0);
              inside += p[0] * p[0] + p[1] * p[1] + p[2] * p[2] <= radius_mm * radius_mm;
            }
        hu[(k * ny + j) * nx + i] = -100 + 140 * inside / 225.0;
      }
  // In-plane Gaussian blur, x then y (edges clamped).
  const double sigma_px = 0.5 / 0.7;
  const int rad = 3;
  std::vector<double> w(2 * rad + 1);
  double sum = 0;
  for (int t = -rad; t <= rad; ++t) sum += w[static_cast<size_t>(t + rad)] = std::exp(-0.5 * t * t / (sigma_px * sigma_px));
  for (double& x : w) x /= sum;
  for (size_t pass = 0; pass < 2; ++pass) {
    std::vector<double> out(hu.size());
    for (size_t k = 0; k < nz; ++k)
      for (size_t j = 0; j < ny; ++j)
        for (size_t i = 0; i < nx; ++i) {
          double acc = 0;
          for (int t = -rad; t <= rad; ++t) {
            const long q = std::clamp(static_cast<long>(pass == 0 ? i : j) + t, 0L, static_cast<long>(nx) - 1);
            const size_t qi = pass == 0 ? static_cast<size_t>(q) : i, qj = pass == 0 ? j : static_cast<size_t>(q);
            acc += w[static_cast<size_t>(t + rad)] * hu[(k * ny + qj) * nx + qi];
          }
          out[(k * ny + j) * nx + i] = acc;
        }
    hu.swap(out);
  }
  Volume v(g, VoxelType::kInt16);
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 5);
  for (size_t o = 0; o < hu.size(); ++o) v.set_value(o, std::round(hu[o] + noise(rng)));
  v.set_units("HU");
  return v;
}

// A metastasis whose wall is another tissue than its centre, in tissue of `background_hu` (liver
// by default), 0.75 mm pixels and 2.5 mm slices with partial volume, noise 10 HU: the centre
// (`core_hu`) within `core_mm`, the wall (`wall_hu`) out to `outer_mm`.
Volume walled_lesion(double core_mm, double core_hu, double outer_mm, double wall_hu, double background_hu = 105) {
  Grid g;
  g.size = {96, 96, 24};
  g.spacing = {0.75, 0.75, 2.5};
  g.origin = {-35.625, -35.625, -28.75};
  Volume v(g, VoxelType::kInt16);
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 10);
  for (size_t k = 0; k < g.size[2]; ++k)
    for (size_t j = 0; j < g.size[1]; ++j)
      for (size_t i = 0; i < g.size[0]; ++i) {
        const double hu = partial_volume(g, i, j, k, [&](const Vec3& p) {
          const double r = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
          return r < core_mm ? core_hu : r < outer_mm ? wall_hu : background_hu;
        });
        v.set_value((k * g.size[1] + j) * g.size[0] + i, std::round(hu + noise(rng)));
      }
  v.set_units("HU");
  return v;
}

// A reader measures a necrotic or rim-calcified metastasis to its outside, not its centre.
TEST(CtSegment, ANecroticOrRimCalcifiedMetastasisIsMeasuredToItsOutside) {
  struct Case {
    const char* what;
    double core_hu, wall_hu;
  };
  for (const Case c : {Case{"necrotic centre, viable rim darker than liver", 15, 60}, Case{"calcified rim", 45, 300}}) {
    const Volume v = walled_lesion(c.wall_hu > 200 ? 11 : 7, c.core_hu, 13, c.wall_hu);
    auto r = segment_ct(v, {0.4, -0.3, 0});
    ASSERT_TRUE(r.ok()) << c.what << ": " << r.error().describe();
    EXPECT_NEAR(r->long_axis.length_mm, 26, 1.3) << c.what;
    ASSERT_TRUE(r->wall_hu.has_value()) << c.what;
    // A 2 mm rim never reaches its own level through the blur; a calcified one still reads as calcium.
    if (c.wall_hu > 200)
      EXPECT_GT(*r->wall_hu, 150) << c.what;
    else
      EXPECT_NEAR(*r->wall_hu, c.wall_hu, 0.3 * (c.wall_hu - c.core_hu)) << c.what;
    std::printf("%s: long axis %.2f mm (truth 26), wall %.0f HU\n", c.what, r->long_axis.length_mm, *r->wall_hu);
    EXPECT_NEAR(r->background_hu, 105, 10) << c.what;
    EXPECT_EQ(r->confidence, CtSegmentation::Confidence::kHigh) << c.what << ": " << r->confidence_reason;
  }
}

// A ring-enhancing lesion clicked on its necrotic centre (15 HU) in tissue of nearly its density
// (30 HU): no ray meets an edge, every ray meets the 2 mm ring (140 HU) with the centre's level
// past it. The ring is the lesion's wall: measured to its outside, not refused as normal tissue.
TEST(CtSegment, ARingEnhancingLesionClickedOnItsCentreIsMeasuredToTheRingsOutside) {
  const Volume v = walled_lesion(7, 15, 9, 140, 30);
  auto r = segment_ct(v, {0.4, -0.3, 0});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  // The truth on the slice (z 0 to 2.5 mm) is the 50 % partial-volume outline: 2 sqrt(9^2 - 1.25^2)
  // = 17.8 mm. The acceptance: within max(1 mm, 5 %). (A ring thinner than the blur reads a few
  // tenths long: its steepest fall lies a little out, pulled by the steep inner side.)
  std::printf("ring: long axis %.2f mm (truth 17.8), wall %.0f HU\n", r->long_axis.length_mm, r->wall_hu.value_or(0));
  EXPECT_NEAR(r->long_axis.length_mm, 17.8, 1.0);
  ASSERT_TRUE(r->wall_hu.has_value());
  EXPECT_GT(*r->wall_hu, 60);  // the 2 mm ring's blurred peak
  EXPECT_NEAR(r->background_hu, 30, 10);
}

// Blur takes a few tenths of a millimetre off each side of a small convex lesion; the calipers
// must give them back (a node's 10 mm short-axis threshold sits right there).
TEST(CtSegment, BlurredNodeMeasuresItsTrueDiameter) {
  for (const double radius : {5.0, 7.5}) {
    const Volume v = blurred_node(radius);
    auto r = segment_ct(v, {0.3, -0.2, 0});
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_NEAR(r->long_axis.length_mm, 2 * radius, 0.35) << radius;
    EXPECT_NEAR(r->short_axis.length_mm, 2 * radius, 0.35) << radius;
    EXPECT_NEAR(r->volume_ml, 4.0 / 3 * kPi * radius * radius * radius / 1000,
                0.1 * 4.0 / 3 * kPi * radius * radius * radius / 1000)
        << radius;
  }
}

TEST(CtSegment, SeedAnywhereInTheInnerHalfGivesTheSameLongAxis) {
  const Volume v = phantom(2);
  auto ref = segment_ct(v, {0, 0, 0});
  ASSERT_TRUE(ref.ok());
  for (const Vec3& seed : {Vec3{4, 2, 0}, Vec3{-4, -2, 0}, Vec3{1, -3, 2.5}, Vec3{-2, 2, -2.5}}) {
    auto r = segment_ct(v, seed);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_NEAR(r->long_axis.length_mm, ref->long_axis.length_mm, 1.0);
  }
}

// The confidence of an outline (assess_confidence) at its two boundaries: a quarter of the rays
// without an edge, and an edge within twice the noise.
TEST(CtSegment, ConfidenceIsLowWhenAQuarterOfTheOutlineIsUnseenOrTheEdgeIsWithinTwiceTheNoise) {
  CtSegmentation s;
  s.lesion_hu = 40;
  s.background_hu = 100;  // a 60 HU step
  s.noise_hu = 10;
  s.leak_fraction = 0.24;
  assess_confidence(s);
  EXPECT_EQ(s.confidence, CtSegmentation::Confidence::kHigh);
  EXPECT_TRUE(s.confidence_reason.empty());
  s.leak_fraction = 0.25;
  assess_confidence(s);
  EXPECT_EQ(s.confidence, CtSegmentation::Confidence::kLow);
  EXPECT_NE(s.confidence_reason.find("25 % of the outline was not seen"), std::string::npos) << s.confidence_reason;
  s.leak_fraction = 0;
  s.noise_hu = 30.5;  // the 60 HU step is just under two SD
  assess_confidence(s);
  EXPECT_EQ(s.confidence, CtSegmentation::Confidence::kLow);
  EXPECT_NE(s.confidence_reason.find("within twice the noise"), std::string::npos) << s.confidence_reason;
  s.noise_hu = 30;
  assess_confidence(s);
  EXPECT_EQ(s.confidence, CtSegmentation::Confidence::kHigh);
}

TEST(CtSegment, RefusesAirBoneAndNormalTissue) {
  const Volume v = phantom(3);
  auto air = segment_ct(v, {0, 40, 0});
  ASSERT_FALSE(air.ok());
  EXPECT_NE(air.error().message().find("no lesion found"), std::string::npos);
  EXPECT_NE(air.error().message().find("air"), std::string::npos);
  auto bone = segment_ct(v, {40, 0, 0});
  ASSERT_FALSE(bone.ok());
  EXPECT_NE(bone.error().message().find("bone"), std::string::npos);
  auto liver = segment_ct(v, {-30, -30, 0});
  ASSERT_FALSE(liver.ok());
  EXPECT_NE(liver.error().message().find("no lesion found"), std::string::npos) << liver.error().message();
  auto outside = segment_ct(v, {500, 0, 0});
  ASSERT_FALSE(outside.ok());
  EXPECT_EQ(outside.error().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace oq::lesion

#include "oq/lesion/pet_segment.h"

namespace oq::lesion {
namespace {

// A 20 mm sphere of SUV 8 in a warm background of SUV 3 (a hot liver), 4 mm voxels centred on it, no noise.
Volume pet_phantom() {
  Grid g;
  g.size = {40, 40, 30};
  g.spacing = {4, 4, 4};
  g.origin = {-80, -80, -60};
  Volume v(g, VoxelType::kFloat32);
  for (size_t k = 0; k < 30; ++k)
    for (size_t j = 0; j < 40; ++j)
      for (size_t i = 0; i < 40; ++i) {
        const Vec3 p = g.to_lps(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k));
        const double r = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
        v.set_value((k * 40 + j) * 40 + i, r <= 10 ? 8.0 : 3.0);
      }
  v.set_units("SUVbw");
  return v;
}

TEST(PetSegment, WarmBackgroundUsesTheAdaptiveThresholdAndMeasuresExactly) {
  const Volume v = pet_phantom();
  auto r = segment_pet(v, {3, -2, 1});
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->method, "pet-background-adaptive-50%");  // 41 % of 8 (3.3) is below 1.2 x the background 3
  EXPECT_DOUBLE_EQ(r->suv_max, 8.0);
  EXPECT_DOUBLE_EQ(r->suv_mean, 8.0);
  EXPECT_NEAR(r->background, 3.0, 1e-9);
  EXPECT_NEAR(r->threshold_value, 5.5, 1e-9);
  // Voxel centres within 10 mm at 4 mm spacing: count them independently.
  int n = 0;
  for (int k = -3; k <= 3; ++k)
    for (int j = -3; j <= 3; ++j)
      for (int i = -3; i <= 3; ++i)
        if (std::sqrt(16.0 * (i * i + j * j + k * k)) <= 10) ++n;
  EXPECT_NEAR(r->mtv_ml, n * 0.064, 1e-9);
  EXPECT_NEAR(r->tlg, 8.0 * n * 0.064, 1e-9);
  EXPECT_DOUBLE_EQ(r->suv_peak, 8.0);  // the 1 ml sphere (r 6.2 mm) around the centre is all lesion
  auto forced = segment_pet(v, {0, 0, 0}, {PetThreshold::kPercent41, 10, 60});
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->method, "pet-41%-suvmax");
  EXPECT_NEAR(forced->threshold_value, 0.41 * 8, 1e-9);
}

// A 60 x 24 x 24 mm tumour whose uptake rises from 5 at one end to 12 at the other, on a
// background of 1: clicked near the cold end, its hottest voxel lies some 50 mm from the click.
TEST(PetSegment, SuvMaxIsTheLesionMaximumWhereverTheClickFell) {
  Grid g;
  g.size = {50, 30, 30};
  g.spacing = {2, 2, 2};
  g.origin = {-49, -29, -29};
  Volume v(g, VoxelType::kFloat32);
  float truth_max = 0;  // as the float image stores it
  for (size_t k = 0; k < 30; ++k)
    for (size_t j = 0; j < 30; ++j)
      for (size_t i = 0; i < 50; ++i) {
        const Vec3 p = g.to_lps(static_cast<double>(i), static_cast<double>(j), static_cast<double>(k));
        const bool in = std::pow(p[0] / 30, 2) + std::pow(p[1] / 12, 2) + std::pow(p[2] / 12, 2) <= 1;
        const double value = in ? 5 + 7 * (p[0] + 30) / 60 : 1.0;
        v.set_value((k * 30 + j) * 50 + i, value);
        if (in) truth_max = std::max(truth_max, static_cast<float>(value));
      }
  v.set_units("SUVbw");
  for (PetThreshold t : {PetThreshold::kPercent41, PetThreshold::kPercent50, PetThreshold::kAdaptive50}) {
    auto r = segment_pet(v, {-24, 0, 0}, {t, 10, 80});
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_FLOAT_EQ(static_cast<float>(r->suv_max), truth_max);
    EXPECT_GT(r->suv_max_at[0], 20) << "the maximum sits at the hot end";
    // The threshold follows the lesion's maximum, not the click's neighbourhood.
    if (t == PetThreshold::kPercent50) {
      EXPECT_NEAR(r->threshold_value, 0.5 * truth_max, 1e-6);
    }
    // No voxel of the mask is hotter than SUVmax, and SUVpeak is found at the hot end too.
    const auto* m = r->mask.data<uint8_t>();
    for (size_t n = 0; n < g.voxel_count(); ++n) {
      if (m[n]) {
        EXPECT_LE(v.value(n), r->suv_max);
      }
    }
    EXPECT_GT(r->suv_peak_at[0], 10);
  }
}

TEST(PetSegment, NoUptakeNoLesion) {
  const Volume v = pet_phantom();
  auto r = segment_pet(v, {-60, -60, -40});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("no lesion found"), std::string::npos);
}

}  // namespace
}  // namespace oq::lesion
