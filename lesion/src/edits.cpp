#include "oq/lesion/edits.h"

#include <algorithm>
#include <cmath>

#include "oq/lesion/measure.h"

namespace oq::lesion {
namespace {

double length(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

double deviation_deg(const Caliper& l, const Caliper& s) {
  const Vec3 u{l.b[0] - l.a[0], l.b[1] - l.a[1], l.b[2] - l.a[2]}, v{s.b[0] - s.a[0], s.b[1] - s.a[1], s.b[2] - s.a[2]};
  const double nu = std::sqrt(u[0] * u[0] + u[1] * u[1] + u[2] * u[2]), nv = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  if (nu <= 0 || nv <= 0) return 0;
  const double c = std::abs(u[0] * v[0] + u[1] * v[1] + u[2] * v[2]) / (nu * nv);
  return std::asin(std::min(1.0, c)) * 180 / 3.14159265358979323846;
}

}  // namespace

LesionMask lesion_mask(const Volume& mask, const std::array<std::size_t, 3>& offset) {
  const Grid& g = mask.grid();
  std::array<std::size_t, 3> lo{g.size[0], g.size[1], g.size[2]}, hi{0, 0, 0};
  for (std::size_t k = 0; k < g.size[2]; ++k)
    for (std::size_t j = 0; j < g.size[1]; ++j)
      for (std::size_t i = 0; i < g.size[0]; ++i)
        if (mask.value((k * g.size[1] + j) * g.size[0] + i) != 0) {
          const std::array<std::size_t, 3> p{i, j, k};
          for (std::size_t a = 0; a < 3; ++a) lo[a] = std::min(lo[a], p[a]), hi[a] = std::max(hi[a], p[a] + 1);
        }
  LesionMask out;
  if (lo[0] >= hi[0]) return out;
  for (std::size_t a = 0; a < 3; ++a) {
    out.offset[a] = offset[a] + lo[a];
    out.size[a] = hi[a] - lo[a];
  }
  out.inside.reserve(out.size[0] * out.size[1] * out.size[2]);
  for (std::size_t k = lo[2]; k < hi[2]; ++k)
    for (std::size_t j = lo[1]; j < hi[1]; ++j)
      for (std::size_t i = lo[0]; i < hi[0]; ++i)
        out.inside.push_back(mask.value((k * g.size[1] + j) * g.size[0] + i) != 0 ? 1 : 0);
  return out;
}

oq::Caliper on_image(const Caliper& c, const Volume& series, int slice) {
  oq::Caliper out{c.a, c.b, "", 0};
  const auto& sources = series.slice_sources();
  if (slice >= 0 && static_cast<std::size_t>(slice) < sources.size()) {
    out.sop_instance_uid = sources[static_cast<std::size_t>(slice)].sop_instance_uid;
    out.frame = sources[static_cast<std::size_t>(slice)].frame;
  }
  return out;
}

LesionMeasurement CaliperRevision::as_measurement() const {
  LesionMeasurement m;
  m.long_axis_mm = calipers.long_axis.length_mm;
  m.short_axis_mm = calipers.short_axis.length_mm;
  m.long_axis = oq::Caliper{calipers.long_axis.a, calipers.long_axis.b, "", 0};
  m.short_axis = oq::Caliper{calipers.short_axis.a, calipers.short_axis.b, "", 0};
  m.volume_ml = calipers.volume_ml;
  m.method = method;
  m.author = who;
  m.recorded_at = when;
  return m;
}

AxialCalipers measure_mask(const Volume& mask) {
  const Grid& g = mask.grid();
  AxialCalipers out;
  int lo[3] = {static_cast<int>(g.size[0]), static_cast<int>(g.size[1]), static_cast<int>(g.size[2])}, hi[3] = {-1, -1, -1};
  size_t count = 0;
  for (size_t k = 0; k < g.size[2]; ++k)
    for (size_t j = 0; j < g.size[1]; ++j)
      for (size_t i = 0; i < g.size[0]; ++i)
        if (mask.value((k * g.size[1] + j) * g.size[0] + i) != 0) {
          ++count;
          const int p[3] = {static_cast<int>(i), static_cast<int>(j), static_cast<int>(k)};
          for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], p[a]), hi[a] = std::max(hi[a], p[a]);
        }
  out.volume_ml = static_cast<double>(count) * g.spacing[0] * g.spacing[1] * g.spacing[2] / 1000.0;
  if (count == 0) return out;
  // One voxel of empty margin all round, so the outline closes.
  const int nx = hi[0] - lo[0] + 3, ny = hi[1] - lo[1] + 3;
  for (int k = lo[2]; k <= hi[2]; ++k) {
    std::vector<float> field(static_cast<size_t>(nx) * static_cast<size_t>(ny), 0.0f);
    for (int j = 1; j + 1 < ny; ++j)
      for (int i = 1; i + 1 < nx; ++i)
        if (mask.value((static_cast<size_t>(k) * g.size[1] + static_cast<size_t>(lo[1] - 1 + j)) * g.size[0] +
                       static_cast<size_t>(lo[0] - 1 + i)) != 0)
          field[static_cast<size_t>(j) * static_cast<size_t>(nx) + static_cast<size_t>(i)] = 1.0f;
    const SliceCalipers c = measure_outline(contour(field, nx, ny, g.spacing[0], g.spacing[1], 0.5f));
    if (c.long_axis.length_mm <= out.long_axis.length_mm) continue;
    auto to_lps = [&](const Point2& q) { return g.to_lps(lo[0] - 1 + q[0] / g.spacing[0], lo[1] - 1 + q[1] / g.spacing[1], k); };
    out.slice = k;
    out.long_axis = {c.long_axis.length_mm, to_lps(c.long_axis.a), to_lps(c.long_axis.b)};
    out.short_axis = {c.short_axis.length_mm, to_lps(c.short_axis.a), to_lps(c.short_axis.b)};
  }
  return out;
}

LesionMeasurements::LesionMeasurements(const CtSegmentation& automatic, const Grid& grid, std::string when) : grid_(grid) {
  CaliperRevision r;
  r.method = MeasurementMethod::kAutomatic;
  r.who = "oncoquant";
  r.when = std::move(when);
  r.what = "automatic segmentation (" + automatic.method + ")";
  r.calipers.slice = automatic.axial_slice_index;
  r.calipers.long_axis = automatic.long_axis;
  r.calipers.short_axis = automatic.short_axis;
  r.calipers.volume_ml = automatic.volume_ml;
  r.perpendicular_deviation_deg = deviation_deg(automatic.long_axis, automatic.short_axis);
  records_.push_back(r);
}

Result<CaliperRevision> LesionMeasurements::move_endpoint(Axis axis, int endpoint, const Vec3& to, const std::string& who,
                                                          const std::string& when) {
  if (endpoint != 0 && endpoint != 1) return Error(ErrorCode::kInvalidArgument, "a caliper has endpoints 0 and 1");
  if (who.empty()) return Error(ErrorCode::kInvalidArgument, "an edit must name who made it");
  CaliperRevision r = current();
  // RECIST calipers lie in one axial plane: the moved end must stay on the caliper's slice.
  const double slice_of_point = grid_.to_index(to)[2];
  if (std::abs(slice_of_point - r.calipers.slice) > 0.5)
    return Error(ErrorCode::kInvalidArgument, "the moved endpoint is on slice " + std::to_string(std::lround(slice_of_point)) +
                                                  ", not on the caliper's axial slice " + std::to_string(r.calipers.slice));
  Caliper& c = axis == Axis::kLong ? r.calipers.long_axis : r.calipers.short_axis;
  (endpoint == 0 ? c.a : c.b) = to;
  c.length_mm = length(c.a, c.b);
  r.method = MeasurementMethod::kEdited;
  r.who = who;
  r.when = when;
  r.what = std::string(axis == Axis::kLong ? "long" : "short") + " axis endpoint " + std::to_string(endpoint + 1) + " moved";
  r.perpendicular_deviation_deg = deviation_deg(r.calipers.long_axis, r.calipers.short_axis);
  records_.push_back(r);
  return r;
}

Result<CaliperRevision> LesionMeasurements::replace_contour(const Volume& mask, const std::string& who, const std::string& when) {
  if (who.empty()) return Error(ErrorCode::kInvalidArgument, "an edit must name who made it");
  const Grid& g = mask.grid();
  if (g.size != grid_.size) return Error(ErrorCode::kInvalidArgument, "the new contour is not on the series grid");
  const AxialCalipers c = measure_mask(mask);
  if (c.volume_ml <= 0) return Error(ErrorCode::kInvalidArgument, "the new contour is empty");
  CaliperRevision r;
  r.method = MeasurementMethod::kEdited;
  r.who = who;
  r.when = when;
  r.what = "contour replaced";
  r.calipers = c;
  r.perpendicular_deviation_deg = deviation_deg(c.long_axis, c.short_axis);
  records_.push_back(r);
  return r;
}

}  // namespace oq::lesion
