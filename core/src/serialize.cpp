#include "oq/serialize.h"

#include <cmath>
#include <cstdio>

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

Json to_json(const TimePointReport& tp) {
  Json j;
  j["date"] = tp.date;
  j["time_point"] = tp.time_point_id;
  j["line"] = tp.line;
  j["study_uid"] = tp.study_uid;
  Json lesions = Json::array();
  for (const ReportedLesion& l : tp.lesions) {
    Json v = to_json(l.value);
    v["organ"] = l.organ;
    if (l.nodal) v["nodal"] = true;
    if (l.role) v["role"] = to_string(*l.role);
    v["has_mask"] = l.mask.has_value();
    lesions.push_back(v);
  }
  j["lesions"] = lesions;
  if (tp.responses) {
    const TimePointResponses& r = *tp.responses;
    j["sum_mm"] = json_value(r.sum_mm, Quantity::kLengthMm);
    j["change_from_baseline_pct"] = json_value(r.change_from_baseline_pct, Quantity::kPercent);
    j["change_from_nadir_pct"] = json_value(r.change_from_nadir_pct, Quantity::kPercent);
    j["target_response"] = r.target;
    j["non_target_response"] = r.non_target;
    j["new_lesions"] = r.new_lesions;
    j["overall_response"] = r.overall;
  }
  return j;
}

Json to_json(const LineReport& line) {
  Json j;
  j["line"] = line.number;
  j["start_date"] = line.start_date;
  j["regimen"] = line.regimen;
  j["criteria"] = line.criteria;
  j["baseline_date"] = line.baseline_date;
  j["baseline_sum_mm"] = json_value(line.baseline_sum_mm, Quantity::kLengthMm);
  j["best_overall_response"] = line.best_response.empty() ? Json(nullptr) : Json(line.best_response);
  j["progression_date"] = line.progression_date ? Json(*line.progression_date) : Json(nullptr);
  j["pfs_days"] = line.pfs_days ? Json(*line.pfs_days) : Json(nullptr);
  j["pfs_censored"] = line.pfs_censored;
  j["warnings"] = line.warnings;
  return j;
}

Json to_json(const PatientReport& report) {
  Json j;
  j["patient"] = report.patient_id;
  j["lines"] = Json::array();
  for (const LineReport& l : report.lines) j["lines"].push_back(to_json(l));
  j["time_points"] = Json::array();
  for (const TimePointReport& tp : report.time_points) j["time_points"].push_back(to_json(tp));
  return j;
}

namespace {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_number(std::optional<double> v, Quantity q) {
  if (!v || !std::isfinite(*v)) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals_of(q), report_value(*v, q));
  return buf;
}

}  // namespace

std::string to_csv(const PatientReport& report) {
  std::string out =
      "patient,line,date,time_point,lesion,tracking_uid,role,organ,status,long_axis_mm,short_axis_mm,volume_ml,mean_hu,"
      "suv_max,suv_peak,suv_mean,method,author,series_uid,sum_mm,change_from_baseline_pct,overall_response\r\n";
  for (const TimePointReport& tp : report.time_points)
    for (const ReportedLesion& l : tp.lesions) {
      const LesionMeasurement& v = l.value;
      const TimePointResponses* r = tp.responses ? &*tp.responses : nullptr;
      const std::vector<std::string> row{report.patient_id,
                                         std::to_string(tp.line),
                                         tp.date,
                                         tp.time_point_id,
                                         l.label,
                                         l.tracking_uid,
                                         l.role ? to_string(*l.role) : "",
                                         l.organ,
                                         to_string(v.status),
                                         csv_number(v.long_axis_mm, Quantity::kLengthMm),
                                         csv_number(v.short_axis_mm, Quantity::kLengthMm),
                                         csv_number(v.volume_ml, Quantity::kVolumeMl),
                                         csv_number(v.mean_hu, Quantity::kHu),
                                         csv_number(v.suv.suv_max, Quantity::kUptake),
                                         csv_number(v.suv.suv_peak, Quantity::kUptake),
                                         csv_number(v.suv.suv_mean, Quantity::kUptake),
                                         to_string(v.method),
                                         v.author,
                                         v.series_uid,
                                         r ? csv_number(r->sum_mm, Quantity::kLengthMm) : "",
                                         r ? csv_number(r->change_from_baseline_pct, Quantity::kPercent) : "",
                                         r ? r->overall : ""};
      for (std::size_t i = 0; i < row.size(); ++i) out += (i ? "," : "") + csv_field(row[i]);
      out += "\r\n";
    }
  return out;
}

std::string dump(const Json& j) {
  return j.dump(2, ' ', false, Json::error_handler_t::replace);
}

}  // namespace oq
