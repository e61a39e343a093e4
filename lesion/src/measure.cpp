#include "oq/lesion/measure.h"

#include <algorithm>
#include <cmath>

namespace oq::lesion {

std::vector<Segment2> contour(const std::vector<float>& f, int nx, int ny, double sx, double sy, float level) {
  std::vector<Segment2> out;
  auto at = [&](int i, int j) { return f[static_cast<size_t>(j) * static_cast<size_t>(nx) + static_cast<size_t>(i)] - level; };
  // Crossing point on the edge between two samples of opposite sign.
  auto cross = [](double va, double vb, Point2 pa, Point2 pb) {
    const double t = va / (va - vb);
    return Point2{pa[0] + t * (pb[0] - pa[0]), pa[1] + t * (pb[1] - pa[1])};
  };
  for (int j = 0; j + 1 < ny; ++j)
    for (int i = 0; i + 1 < nx; ++i) {
      const double v[4] = {at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)};
      const Point2 p[4] = {{i * sx, j * sy}, {(i + 1) * sx, j * sy}, {(i + 1) * sx, (j + 1) * sy}, {i * sx, (j + 1) * sy}};
      int code = 0;
      for (int c = 0; c < 4; ++c)
        if (v[c] >= 0) code |= 1 << c;
      if (code == 0 || code == 15) continue;
      std::vector<Point2> pts;
      for (int e = 0; e < 4; ++e) {
        const int a = e, b = (e + 1) % 4;
        if ((v[a] >= 0) != (v[b] >= 0)) pts.push_back(cross(v[a], v[b], p[a], p[b]));
      }
      if (pts.size() == 2) {
        out.push_back({pts[0], pts[1]});
      } else if (pts.size() == 4) {
        // Saddle: decide by the cell centre value.
        const double centre = (v[0] + v[1] + v[2] + v[3]) / 4;
        if ((centre >= 0) == (v[0] >= 0)) {
          out.push_back({pts[0], pts[1]});
          out.push_back({pts[2], pts[3]});
        } else {
          out.push_back({pts[3], pts[0]});
          out.push_back({pts[1], pts[2]});
        }
      }
    }
  return out;
}

SliceCalipers measure_outline(const std::vector<Segment2>& outline) {
  SliceCalipers m;
  if (outline.empty()) return m;
  std::vector<Point2> pts;
  pts.reserve(outline.size() * 2);
  for (const auto& s : outline) {
    pts.push_back(s.a);
    pts.push_back(s.b);
  }
  // Long axis: farthest pair of outline points (on the convex hull would do; the outline is small).
  double best = -1;
  size_t ia = 0, ib = 0;
  for (size_t i = 0; i < pts.size(); ++i)
    for (size_t j = i + 1; j < pts.size(); ++j) {
      const double dx = pts[i][0] - pts[j][0], dy = pts[i][1] - pts[j][1];
      const double d2 = dx * dx + dy * dy;
      if (d2 > best) {
        best = d2;
        ia = i;
        ib = j;
      }
    }
  const double length = std::sqrt(best);
  m.long_axis = {length, pts[ia], pts[ib]};
  if (length <= 0) return m;
  // Short axis: the widest crossing of the outline by a line perpendicular to the long axis.
  const double ux = (pts[ib][0] - pts[ia][0]) / length, uy = (pts[ib][1] - pts[ia][1]) / length;
  const double vx = -uy, vy = ux;
  auto along = [&](const Point2& p) { return (p[0] - pts[ia][0]) * ux + (p[1] - pts[ia][1]) * uy; };
  auto across = [&](const Point2& p) { return (p[0] - pts[ia][0]) * vx + (p[1] - pts[ia][1]) * vy; };
  const int steps = 400;
  double width = 0, at_t = 0, lo_w = 0, hi_w = 0;
  for (int k = 1; k < steps; ++k) {
    const double t = length * k / steps;
    double lo = 1e300, hi = -1e300;
    for (const auto& s : outline) {
      const double sa = along(s.a), sb = along(s.b);
      if ((sa - t) * (sb - t) > 0 || sa == sb) continue;
      const double f = (t - sa) / (sb - sa);
      const double w = across(s.a) + f * (across(s.b) - across(s.a));
      lo = std::min(lo, w);
      hi = std::max(hi, w);
    }
    if (hi > lo && hi - lo > width) {
      width = hi - lo;
      at_t = t;
      lo_w = lo;
      hi_w = hi;
    }
  }
  auto point = [&](double t, double w) { return Point2{pts[ia][0] + t * ux + w * vx, pts[ia][1] + t * uy + w * vy}; };
  m.short_axis = {width, point(at_t, lo_w), point(at_t, hi_w)};
  return m;
}

}  // namespace oq::lesion
