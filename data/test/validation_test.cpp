// The validation set's truth on shapes whose 50 % partial-volume outline is known in closed form.
#include <gtest/gtest.h>

#include <cmath>

#include "oq/validation/lesion_model.h"

namespace oq::validation {
namespace {

LesionShape sphere(double r) {
  LesionShape s;
  s.a = s.b = s.c = r;
  return s;
}

// Through a sphere's centre the triangular profile (FWHM T) holds half its weight within
// +-h when 2h/T - (h/T)^2 = 1/2, h = (1 - sqrt(1/2)) T: the outline's radius is sqrt(R^2 - h^2).
TEST(ValidationTruth, SphereThroughItsCentreLosesWhatTheSliceProfileTakes) {
  for (double t : {1.0, 5.0}) {
    const double h = (1 - std::sqrt(0.5)) * t;
    const SliceTruth s = truth_on_slice(sphere(10), 0, t, 0.1);
    EXPECT_NEAR(s.long_axis.length, 2 * std::sqrt(100 - h * h), 0.05) << "thickness " << t;
    EXPECT_NEAR(s.short_axis.length, 2 * std::sqrt(100 - h * h), 0.1) << "thickness " << t;
  }
}

// Off the centre, where the sphere's chord ends inside the profile, half of a symmetric profile
// lies below its centre: the outline is the sphere's section at the slice's own z.
TEST(ValidationTruth, SphereOffItsCentreIsItsSectionAtTheSlice) {
  const SliceTruth s = truth_on_slice(sphere(10), 8, 1, 0.1);
  EXPECT_NEAR(s.long_axis.length, 12, 0.05);
  EXPECT_NEAR(s.z, 8, 1e-12);
  EXPECT_EQ(truth_on_slice(sphere(10), 12, 1, 0.1).long_axis.length, 0) << "beyond the sphere and its profile";
}

TEST(ValidationTruth, TurnedEllipseAxesAndDirection) {
  LesionShape e;
  e.a = 15, e.b = 8, e.c = 10, e.yaw = 3.14159265358979 / 6;
  const SliceTruth s = truth_on_slice(e, 0, 0.5, 0.1);
  const double h = (1 - std::sqrt(0.5)) * 0.5, shrink = std::sqrt(1 - h * h / 100);
  EXPECT_NEAR(s.long_axis.length, 30 * shrink, 0.05);
  EXPECT_NEAR(s.short_axis.length, 16 * shrink, 0.1);
  const double angle = std::atan2(s.long_axis.b[1] - s.long_axis.a[1], s.long_axis.b[0] - s.long_axis.a[0]);
  EXPECT_NEAR(std::abs(std::sin(angle - e.yaw)), 0, 0.01) << "along the turned a axis";
}

TEST(ValidationTruth, ShapesStayWithinTheirBoundsAndHoldTheirCentre) {
  std::mt19937 rng(7);
  for (ShapeKind k : {ShapeKind::kEllipsoid, ShapeKind::kLobulated, ShapeKind::kIrregular}) {
    const LesionShape s = make_shape(k, {10, -20, 5}, 30, rng);
    EXPECT_TRUE(s.inside({10, -20, 5}));
    const auto box = s.bounds();
    // Sample the box's faces: nothing of the shape reaches them.
    for (double x = box[0][0]; x <= box[1][0]; x += 0.5)
      for (double y = box[0][1]; y <= box[1][1]; y += 0.5) {
        EXPECT_FALSE(s.inside({x, y, box[0][2] - 0.01}));
        EXPECT_FALSE(s.inside({x, y, box[1][2] + 0.01}));
      }
  }
}

TEST(ValidationTruth, SliceProfileIsTriangularWithTheThicknessAsFullWidthAtHalfMaximum) {
  EXPECT_DOUBLE_EQ(slice_profile(0, 2.5), 1);
  EXPECT_DOUBLE_EQ(slice_profile(1.25, 2.5), 0.5);
  EXPECT_DOUBLE_EQ(slice_profile(-2.5, 2.5), 0);
}

}  // namespace
}  // namespace oq::validation
