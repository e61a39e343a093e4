// Small helpers shared by the lesion/ sources (not part of the module's interface).
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "oq/volume.h"

namespace oq::lesion::detail {

// "(x, y, z)" in mm, one decimal, for messages.
inline std::string where(const Vec3& p) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "(%.1f, %.1f, %.1f)", p[0], p[1], p[2]);
  return buf;
}

// Median (upper median for even counts); 0 for no values.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<long>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

}  // namespace oq::lesion::detail
