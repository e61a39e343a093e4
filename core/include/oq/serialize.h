// One way numbers and measurements leave OncoQuant as JSON, with one rounding rule.
//
// Every command prints through this: a value is rounded to the decimals its quantity deserves
// (report_value) by dividing an integer by a power of ten, which gives the double nearest the
// decimal, so 0.018 ml prints as 0.018, never 0.018000000000000002.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "oq/measurement.h"
#include "oq/report.h"

namespace oq {

using Json = nlohmann::ordered_json;

enum class Quantity {
  kLengthMm,        // diameters, distances: 0.01 mm
  kCoordinateMm,    // LPS positions: 0.01 mm
  kVolumeMl,        // volumes, MTV: 0.001 ml
  kHu,              // CT numbers: 0.1 HU
  kUptake,          // SUV, SUL, TLG: 0.0001 (tests check SUVmax against the voxel maximum to 1e-4)
  kPercent,         // percentages (positive cells, change of a sum): 0.01 %
  kScore,           // H-score, ratios of counts: 0.01
  kFraction,        // fractions 0-1, similarity metrics: 0.001
  kOpticalDensity,  // stain optical densities and vectors: 0.001
  kMicrometre,      // slide resolution (um per pixel): 0.001 um
  kAreaMm2,         // tissue and hot-spot areas: 0.001 mm2
  kPixel,           // positions in an image: 0.01 px
  kCounts,          // scintigraphy counts per pixel: 0.01
  kMegapixels,      // work done: 0.1 MP
  kSeconds,         // durations: 0.01 s
};

int decimals_of(Quantity q);
double report_value(double value, Quantity q);

// A value, or null when there is none (or it is not finite: JSON has no NaN).
Json json_value(std::optional<double> value, Quantity q);
Json json_point(const Vec3& p);
Json to_json(const Caliper& c);
Json to_json(const SuvMetrics& s);
Json to_json(const LesionMeasurement& m);
Json to_json(const TimePointReport& tp);
Json to_json(const LineReport& line);
Json to_json(const PatientReport& report);

// The report as a table: one row per lesion per time point of a line (RFC 4180: comma separated,
// fields quoted when they hold a comma, quote or line break; a header row first).
std::string to_csv(const PatientReport& report);

// The printed form: indented, invalid UTF-8 (a DICOM text in another character set) replaced.
std::string dump(const Json& j);

}  // namespace oq
