// Lesion geometry with known truth. A lesion is a lobulated ellipsoid: an ellipsoid (semi-axes
// a, b, c, turned by `yaw` about the patient's head-foot axis and tilted by `pitch`) whose radius
// is modulated by a few smooth lobes. Every truth value (RECIST diameters with endpoints, volume,
// 3D diameter) is computed here from that analytic surface at high resolution, never from voxels.
#pragma once

#include <array>
#include <cmath>
#include <vector>

namespace oq::phantom {

struct Vec3 {
  double x = 0, y = 0, z = 0;
};
inline Vec3 operator+(Vec3 a, Vec3 b) {
  return {a.x + b.x, a.y + b.y, a.z + b.z};
}
inline Vec3 operator-(Vec3 a, Vec3 b) {
  return {a.x - b.x, a.y - b.y, a.z - b.z};
}
inline Vec3 operator*(double s, Vec3 a) {
  return {s * a.x, s * a.y, s * a.z};
}
inline double dot(Vec3 a, Vec3 b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
inline double norm(Vec3 a) {
  return std::sqrt(dot(a, a));
}

struct Lobe {
  double amplitude = 0;  // relative radius change, |sum of amplitudes| <= 0.3 keeps the shape star-shaped
  int order = 2;         // number of lobes around the axial circumference
  double phase = 0;      // radians
};

// One caliper measurement: its length and the two endpoints (LPS mm).
struct Caliper {
  double length_mm = 0;
  Vec3 a, b;
};

// What a radiologist measures on one axial plane.
struct AxialMeasurement {
  double z_mm = 0;
  Caliper long_axis;
  Caliper short_axis;  // longest diameter perpendicular to the long axis
  double area_mm2 = 0;
};

class Blob {
 public:
  Blob() = default;
  Blob(Vec3 centre, Vec3 semi_axes, double yaw_rad, double pitch_rad, std::vector<Lobe> lobes);

  bool contains(Vec3 p) const;
  // A copy grown or shrunk about its centre (a lesion's course over time).
  Blob scaled(double factor) const;
  Blob moved(Vec3 offset) const;

  Vec3 centre() const { return centre_; }
  Vec3 semi_axes() const { return semi_; }
  // Half-size of an axis-aligned box that surely holds the blob.
  double bounding_radius() const;

  // Outline of the cross-section with the axial plane z, as boundary points (empty if the plane
  // misses the blob). Points come from the outermost surface crossing on `rays` rays.
  std::vector<std::array<double, 2>> axial_outline(double z, int rays = 720) const;
  // The RECIST calipers on the axial plane z (length 0 when the plane misses it).
  AxialMeasurement measure_axial(double z) const;
  // Volume in mm3, by integrating r^3/3 over the sphere of directions.
  double volume_mm3() const;
  // Largest distance between two surface points.
  Caliper max_diameter_3d() const;
  // Surface point in the direction (theta from the local z axis, phi around it).
  Vec3 surface_point(double theta, double phi) const;

 private:
  // Radius modulation in the blob's own scaled frame.
  double lobe_factor(double phi, double sin2_theta) const;
  Vec3 to_local(Vec3 p) const;
  Vec3 to_world(Vec3 local) const;

  Vec3 centre_;
  Vec3 semi_{1, 1, 1};
  double yaw_ = 0, pitch_ = 0;
  std::vector<Lobe> lobes_;
};

// RECIST calipers of a 2D outline (points in mm, closed polygon). Exposed for tests.
AxialMeasurement measure_outline(const std::vector<std::array<double, 2>>& outline, double z);

}  // namespace oq::phantom
