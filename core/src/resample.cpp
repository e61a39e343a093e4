#include "oq/resample.h"

#include <cmath>

namespace oq {

Volume resample_linear(const Volume& src, const Grid& target, double outside) {
  Volume out(target, VoxelType::kFloat32);
  out.set_units(src.units());
  const Grid& sg = src.grid();
  const auto nx = static_cast<long>(sg.size[0]), ny = static_cast<long>(sg.size[1]), nz = static_cast<long>(sg.size[2]);
  float* dst = out.data<float>();
  // Continuous source index is affine in the target index: i_s = base + i*dx + j*dy + k*dz.
  const Vec3 base = sg.to_index(target.to_lps(0, 0, 0));
  const Vec3 o = base;
  Vec3 step[3];
  for (int a = 0; a < 3; ++a) {
    const Vec3 p = sg.to_index(target.to_lps(a == 0, a == 1, a == 2));
    step[a] = {p[0] - o[0], p[1] - o[1], p[2] - o[2]};
  }
  auto at = [&](long x, long y, long z) { return src.value(static_cast<std::size_t>((z * ny + y) * nx + x)); };
  std::size_t n = 0;
  for (std::size_t k = 0; k < target.size[2]; ++k)
    for (std::size_t j = 0; j < target.size[1]; ++j)
      for (std::size_t i = 0; i < target.size[0]; ++i, ++n) {
        double c[3];
        for (int a = 0; a < 3; ++a)
          c[a] = o[a] + static_cast<double>(i) * step[0][a] + static_cast<double>(j) * step[1][a] +
                 static_cast<double>(k) * step[2][a];
        // A single-slice source is treated as a slab one voxel thick.
        long x0 = static_cast<long>(std::floor(c[0])), y0 = static_cast<long>(std::floor(c[1])),
             z0 = static_cast<long>(std::floor(c[2]));
        const double tx = c[0] - static_cast<double>(x0), ty = c[1] - static_cast<double>(y0),
                     tz = c[2] - static_cast<double>(z0);
        if (c[0] < -0.5 || c[1] < -0.5 || c[2] < -0.5 || c[0] > static_cast<double>(nx) - 0.5 ||
            c[1] > static_cast<double>(ny) - 0.5 || c[2] > static_cast<double>(nz) - 0.5) {
          dst[n] = static_cast<float>(outside);
          continue;
        }
        auto clampi = [](long v, long hi) { return v < 0 ? 0 : (v > hi ? hi : v); };
        const long x1 = clampi(x0 + 1, nx - 1), y1 = clampi(y0 + 1, ny - 1), z1 = clampi(z0 + 1, nz - 1);
        x0 = clampi(x0, nx - 1);
        y0 = clampi(y0, ny - 1);
        z0 = clampi(z0, nz - 1);
        const double c00 = at(x0, y0, z0) * (1 - tx) + at(x1, y0, z0) * tx;
        const double c10 = at(x0, y1, z0) * (1 - tx) + at(x1, y1, z0) * tx;
        const double c01 = at(x0, y0, z1) * (1 - tx) + at(x1, y0, z1) * tx;
        const double c11 = at(x0, y1, z1) * (1 - tx) + at(x1, y1, z1) * tx;
        dst[n] = static_cast<float>((c00 * (1 - ty) + c10 * ty) * (1 - tz) + (c01 * (1 - ty) + c11 * ty) * tz);
      }
  return out;
}

}  // namespace oq
