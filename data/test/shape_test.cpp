// The generator's geometric truth against independent computations: closed-form ellipse and
// ellipsoid values, and voxel counting for lobulated shapes.
#include <gtest/gtest.h>

#include <cmath>

#include "oq/phantom/rng.h"
#include "oq/phantom/shape.h"

namespace oq::phantom {
namespace {

constexpr double kPi = 3.14159265358979323846;

TEST(Shape, EllipsoidAxialCalipersMatchTheClosedForm) {
  // Semi-axes 20 x 12 x 15 mm turned 30 degrees in-plane: on the plane 6 mm above the centre
  // the section is an ellipse with semi-axes scaled by sqrt(1 - (6/15)^2).
  const Blob b({10, -20, 5}, {20, 12, 15}, kPi / 6, 0, {});
  const AxialMeasurement m = b.measure_axial(5 + 6);
  const double k = std::sqrt(1 - (6.0 / 15) * (6.0 / 15));
  EXPECT_NEAR(m.long_axis.length_mm, 2 * 20 * k, 0.02);
  EXPECT_NEAR(m.short_axis.length_mm, 2 * 12 * k, 0.05);
  EXPECT_NEAR(m.area_mm2, kPi * 20 * k * 12 * k, 0.5);
  // The long axis lies along the turned major axis, through the centre.
  const double dx = m.long_axis.b.x - m.long_axis.a.x, dy = m.long_axis.b.y - m.long_axis.a.y;
  EXPECT_NEAR(std::abs(std::atan2(dy, dx)) == 0 ? 0 : std::fmod(std::atan2(dy, dx) + 2 * kPi, kPi), kPi / 6, 0.01);
  EXPECT_NEAR((m.long_axis.a.x + m.long_axis.b.x) / 2, 10, 0.05);
  EXPECT_NEAR((m.long_axis.a.y + m.long_axis.b.y) / 2, -20, 0.05);
  // Short axis perpendicular to the long axis.
  const double sx = m.short_axis.b.x - m.short_axis.a.x, sy = m.short_axis.b.y - m.short_axis.a.y;
  EXPECT_NEAR((dx * sx + dy * sy) / (m.long_axis.length_mm * m.short_axis.length_mm), 0, 1e-6);
}

TEST(Shape, PlaneOutsideTheLesionMeasuresNothing) {
  const Blob b({0, 0, 0}, {10, 10, 10}, 0, 0, {});
  EXPECT_EQ(b.measure_axial(10.5).long_axis.length_mm, 0);
}

TEST(Shape, EllipsoidVolumeAndDiameter) {
  const Blob b({0, 0, 0}, {20, 12, 15}, 0.4, 0.2, {});
  EXPECT_NEAR(b.volume_mm3(), 4.0 / 3 * kPi * 20 * 12 * 15, 1.0);
  EXPECT_NEAR(b.max_diameter_3d().length_mm, 40, 0.05);
}

TEST(Shape, LobulatedVolumeMatchesVoxelCounting) {
  const Blob b({3, -4, 7}, {14, 11, 12}, 0.7, 0.15, {{0.10, 4, 0.3}, {0.04, 7, 1.1}});
  // Count 0.25 mm voxels inside: an estimate that shares nothing with the integral.
  const double h = 0.25;
  long inside = 0;
  const double R = b.bounding_radius() + 1;
  for (double z = 7 - R; z <= 7 + R; z += h)
    for (double y = -4 - R; y <= -4 + R; y += h)
      for (double x = 3 - R; x <= 3 + R; x += h)
        if (b.contains({x, y, z})) ++inside;
  EXPECT_NEAR(b.volume_mm3(), static_cast<double>(inside) * h * h * h, 0.005 * b.volume_mm3());
}

TEST(Shape, LobulatedLongAxisIsTheFarthestPairOfBoundaryPoints) {
  // Brute force on a fine boundary grid, independent of the ray tracing used by the generator.
  const Blob b({0, 0, 0}, {15, 12, 13}, 0.3, 0, {{0.08, 3, 0.5}});
  const AxialMeasurement m = b.measure_axial(2.0);
  std::vector<std::array<double, 2>> edge;
  const double h = 0.05;
  for (double y = -20; y <= 20; y += h)
    for (double x = -20; x <= 20; x += h)
      if (b.contains({x, y, 2.0}) && (!b.contains({x + h, y, 2.0}) || !b.contains({x - h, y, 2.0}) ||
                                      !b.contains({x, y + h, 2.0}) || !b.contains({x, y - h, 2.0})))
        edge.push_back({x, y});
  double best = 0;
  for (size_t i = 0; i < edge.size(); i += 3)
    for (size_t j = i + 1; j < edge.size(); ++j)
      best = std::max(best, std::hypot(edge[i][0] - edge[j][0], edge[i][1] - edge[j][1]));
  EXPECT_NEAR(m.long_axis.length_mm, best, 0.15);
}

TEST(Shape, ScalingAndMovingKeepTheShape) {
  const Blob b({0, 0, 0}, {10, 8, 9}, 0.2, 0.1, {{0.05, 5, 0}});
  const Blob s = b.scaled(0.5).moved({5, 6, 7});
  EXPECT_NEAR(s.volume_mm3(), b.volume_mm3() / 8, 1e-6 * b.volume_mm3());
  EXPECT_NEAR(s.measure_axial(7).long_axis.length_mm, b.measure_axial(0).long_axis.length_mm / 2, 0.02);
}

TEST(Rng, SameSeedSameNumbersAndUsefulDistributions) {
  Rng a(42), b(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(), b.next());
  Rng r(7);
  double sum = 0, sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double v = r.normal();
    sum += v;
    sq += v * v;
  }
  EXPECT_NEAR(sum / n, 0, 0.01);
  EXPECT_NEAR(sq / n, 1, 0.01);
  double psum = 0;
  for (int i = 0; i < 20000; ++i) psum += r.poisson(4.0);
  EXPECT_NEAR(psum / 20000, 4.0, 0.05);
  EXPECT_NE(Rng::derive(1, "ct"), Rng::derive(1, "pet"));
}

}  // namespace
}  // namespace oq::phantom
