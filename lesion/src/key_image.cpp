#include "oq/lesion/key_image.h"

#include <algorithm>
#include <cmath>

namespace oq::lesion {

namespace {

constexpr double kWindowCentre = 40, kWindowWidth = 400;  // soft tissue

std::uint8_t windowed(double hu) {
  const double v = (hu - (kWindowCentre - kWindowWidth / 2)) / kWindowWidth * 255;
  return static_cast<std::uint8_t>(std::clamp(v, 0.0, 255.0));
}

}  // namespace

Result<KeyImage> key_image(const Volume& ct, const LesionMeasurement& m, const std::optional<LesionMask>& mask, int size) {
  if (!m.long_axis) return Error(ErrorCode::kInvalidArgument, "no long-axis caliper to show", m.lesion_id);
  const Grid& g = ct.grid();
  const Caliper& la = *m.long_axis;
  const Vec3 mid{(la.a[0] + la.b[0]) / 2, (la.a[1] + la.b[1]) / 2, (la.a[2] + la.b[2]) / 2};
  const Vec3 c = g.to_index(mid);
  const long k = std::lround(c[2]);
  if (k < 0 || k >= static_cast<long>(g.size[2]) || c[0] < 0 || c[1] < 0 || c[0] >= static_cast<double>(g.size[0]) ||
      c[1] >= static_cast<double>(g.size[1]))
    return Error(ErrorCode::kInvalidArgument, "its long axis lies outside the series", m.lesion_id);

  // A square field of view in mm centred on the long axis, sampled at `size` pixels by nearest voxel.
  // Picture coordinates put pixel x's centre at x + 0.5 (as cairo does); index coordinates put
  // voxel i's centre at i.
  const double fov = std::max(40.0, 3 * la.length_mm());
  KeyImage out;
  out.lesion = m.lesion_id;
  out.width = out.height = size;
  out.mm_per_pixel = fov / size;
  out.window = "soft tissue W400/L40";
  out.grey.assign(static_cast<std::size_t>(size) * static_cast<std::size_t>(size), 0);
  const bool has_mask = mask && mask->inside.size() == mask->size[0] * mask->size[1] * mask->size[2];
  if (has_mask) out.inside.assign(out.grey.size(), 0);
  const double step_i = out.mm_per_pixel / g.spacing[0], step_j = out.mm_per_pixel / g.spacing[1];
  const double i0 = c[0] - step_i * size / 2, j0 = c[1] - step_j * size / 2;
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      const long i = std::lround(i0 + (x + 0.5) * step_i), j = std::lround(j0 + (y + 0.5) * step_j);
      if (i < 0 || j < 0 || i >= static_cast<long>(g.size[0]) || j >= static_cast<long>(g.size[1])) continue;
      const auto ui = static_cast<std::size_t>(i), uj = static_cast<std::size_t>(j), uk = static_cast<std::size_t>(k);
      const std::size_t at = static_cast<std::size_t>(y) * static_cast<std::size_t>(size) + static_cast<std::size_t>(x);
      out.grey[at] = windowed(ct.value((uk * g.size[1] + uj) * g.size[0] + ui));
      if (has_mask && ui >= mask->offset[0] && uj >= mask->offset[1] && uk >= mask->offset[2] &&
          ui < mask->offset[0] + mask->size[0] && uj < mask->offset[1] + mask->size[1] && uk < mask->offset[2] + mask->size[2])
        out.inside[at] = mask->inside[((uk - mask->offset[2]) * mask->size[1] + (uj - mask->offset[1])) * mask->size[0] +
                                      (ui - mask->offset[0])];
    }
  // Calipers: index space to picture pixels.
  const auto to_picture = [&](const Vec3& p, double& x, double& y) {
    const Vec3 idx = g.to_index(p);
    x = (idx[0] - i0) / step_i;
    y = (idx[1] - j0) / step_j;
  };
  to_picture(la.a, out.long_axis[0], out.long_axis[1]);
  to_picture(la.b, out.long_axis[2], out.long_axis[3]);
  if (m.short_axis) {
    to_picture(m.short_axis->a, out.short_axis[0], out.short_axis[1]);
    to_picture(m.short_axis->b, out.short_axis[2], out.short_axis[3]);
    out.has_short_axis = true;
  }
  return out;
}

}  // namespace oq::lesion
