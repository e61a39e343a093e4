#include <gtest/gtest.h>

#include <cmath>

#include "oq/lesion/measure.h"

namespace oq::lesion {
namespace {

// Samples of a signed field that is positive inside an ellipse (semi-axes a, b, turned by angle).
std::vector<float> ellipse_field(int n, double h, double cx, double cy, double a, double b, double angle) {
  std::vector<float> f(static_cast<size_t>(n * n));
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < n; ++i) {
      const double x = i * h - cx, y = j * h - cy;
      const double u = std::cos(angle) * x + std::sin(angle) * y, v = -std::sin(angle) * x + std::cos(angle) * y;
      f[static_cast<size_t>(j * n + i)] = static_cast<float>(1 - std::sqrt(u * u / (a * a) + v * v / (b * b)));
    }
  return f;
}

TEST(Measure, EllipseCalipersFromMarchingSquares) {
  const double h = 0.7;
  const auto f = ellipse_field(80, h, 28, 27, 15, 9, 0.5);
  const SliceCalipers c = measure_outline(contour(f, 80, 80, h, h, 0.0f));
  EXPECT_NEAR(c.long_axis.length_mm, 30, 0.1);
  EXPECT_NEAR(c.short_axis.length_mm, 18, 0.15);
  const double dx = c.long_axis.b[0] - c.long_axis.a[0], dy = c.long_axis.b[1] - c.long_axis.a[1];
  EXPECT_NEAR(std::abs(std::cos(std::atan2(dy, dx) - 0.5)), 1.0, 1e-3);  // along the major axis
}

TEST(Measure, EmptyOutlineMeasuresZero) {
  const std::vector<float> f(100, -1.0f);
  const SliceCalipers c = measure_outline(contour(f, 10, 10, 1, 1, 0.0f));
  EXPECT_EQ(c.long_axis.length_mm, 0);
  EXPECT_EQ(c.short_axis.length_mm, 0);
}

}  // namespace
}  // namespace oq::lesion
