#include "oq/serialize.h"

#include <cmath>

namespace oq {

int decimals_of(Quantity q) {
  switch (q) {
    case Quantity::kLengthMm:
    case Quantity::kCoordinateMm:
    case Quantity::kPercent:
    case Quantity::kScore:
    case Quantity::kPixel:
    case Quantity::kCounts:
    case Quantity::kSeconds:
      return 2;
    case Quantity::kVolumeMl:
    case Quantity::kFraction:
    case Quantity::kOpticalDensity:
    case Quantity::kMicrometre:
    case Quantity::kAreaMm2:
      return 3;
    case Quantity::kHu:
    case Quantity::kMegapixels:
      return 1;
    case Quantity::kUptake:
      return 4;
  }
  return 3;
}

double report_value(double value, Quantity q) {
  static const double kPowers[] = {1, 10, 100, 1000, 10000};
  const double scale = kPowers[decimals_of(q)];
  const double r = std::round(value * scale) / scale;
  return r == 0 ? 0.0 : r;  // no "-0.0"
}

Json json_value(std::optional<double> value, Quantity q) {
  if (!value || !std::isfinite(*value)) return nullptr;
  return report_value(*value, q);
}

Json json_point(const Vec3& p) {
  return Json::array({report_value(p[0], Quantity::kCoordinateMm), report_value(p[1], Quantity::kCoordinateMm),
                      report_value(p[2], Quantity::kCoordinateMm)});
}

Json to_json(const Caliper& c) {
  Json j;
  j["length_mm"] = report_value(c.length_mm(), Quantity::kLengthMm);
  j["endpoints_mm"] = Json::array({json_point(c.a), json_point(c.b)});
  if (!c.sop_instance_uid.empty()) {
    j["sop_instance_uid"] = c.sop_instance_uid;
    if (c.frame > 0) j["frame"] = c.frame;
  }
  return j;
}

Json to_json(const SuvMetrics& s) {
  Json j;
  j["suv_max"] = json_value(s.suv_max, Quantity::kUptake);
  j["suv_peak"] = json_value(s.suv_peak, Quantity::kUptake);
  j["suv_mean"] = json_value(s.suv_mean, Quantity::kUptake);
  j["mtv_ml"] = json_value(s.mtv_ml, Quantity::kVolumeMl);
  j["tlg"] = json_value(s.tlg, Quantity::kUptake);
  j["sul_peak"] = json_value(s.sul_peak, Quantity::kUptake);
  return j;
}

Json to_json(const LesionMeasurement& m) {
  Json j;
  j["lesion"] = m.lesion_id;
  if (!m.tracking_uid.empty()) j["tracking_uid"] = m.tracking_uid;
  if (m.role) j["role"] = to_string(*m.role);
  j["status"] = to_string(m.status);
  j["long_axis_mm"] = json_value(m.long_axis_mm, Quantity::kLengthMm);
  j["short_axis_mm"] = json_value(m.short_axis_mm, Quantity::kLengthMm);
  if (m.long_axis) j["long_axis"] = to_json(*m.long_axis);
  if (m.short_axis) j["short_axis"] = to_json(*m.short_axis);
  if (m.volume_ml) j["volume_ml"] = json_value(m.volume_ml, Quantity::kVolumeMl);
  if (m.mean_hu) j["mean_hu"] = json_value(m.mean_hu, Quantity::kHu);
  if (m.suv.suv_max || m.suv.suv_peak || m.suv.suv_mean || m.suv.sul_peak) j["suv"] = to_json(m.suv);
  if (m.location) j["location_mm"] = json_point(*m.location);
  if (!m.fragments_mm.empty()) {
    Json f = Json::array();
    for (double d : m.fragments_mm) f.push_back(report_value(d, Quantity::kLengthMm));
    j["fragments_mm"] = f;
  }
  if (!m.merged_into.empty()) j["merged_into"] = m.merged_into;
  if (!m.unequivocal) j["unequivocal"] = false;  // a candidate new lesion no reader has confirmed
  if (!m.series_uid.empty()) j["series_uid"] = m.series_uid;
  if (!m.mask.empty()) j["mask"] = m.mask;
  j["method"] = to_string(m.method);
  if (!m.author.empty()) j["author"] = m.author;
  if (!m.recorded_at.empty()) j["recorded_at"] = m.recorded_at;
  return j;
}

std::string dump(const Json& j) {
  return j.dump(2, ' ', false, Json::error_handler_t::replace);
}

}  // namespace oq
