#include "oq/measurement.h"

#include <cmath>

namespace oq {

std::size_t LesionMask::voxels_inside() const {
  std::size_t n = 0;
  for (const std::uint8_t v : inside) n += v != 0;
  return n;
}

double Caliper::length_mm() const {
  return std::sqrt((b[0] - a[0]) * (b[0] - a[0]) + (b[1] - a[1]) * (b[1] - a[1]) + (b[2] - a[2]) * (b[2] - a[2]));
}

const char* to_string(LesionRole role) {
  switch (role) {
    case LesionRole::kTarget:
      return "target";
    case LesionRole::kNonTarget:
      return "non-target";
    case LesionRole::kNew:
      return "new";
  }
  return "new";
}

const char* to_string(MeasurementStatus status) {
  switch (status) {
    case MeasurementStatus::kMeasured:
      return "measured";
    case MeasurementStatus::kAbsent:
      return "absent";
    case MeasurementStatus::kTooSmall:
      return "too-small";
    case MeasurementStatus::kNotEvaluated:
      return "not-evaluated";
    case MeasurementStatus::kPresent:
      return "present";
    case MeasurementStatus::kIncreased:
      return "increased";
    case MeasurementStatus::kUnequivocalProgression:
      return "unequivocal-progression";
  }
  return "not-evaluated";
}

const char* to_string(MeasurementMethod method) {
  switch (method) {
    case MeasurementMethod::kAutomatic:
      return "automatic";
    case MeasurementMethod::kEdited:
      return "edited";
    case MeasurementMethod::kManual:
      return "manual";
  }
  return "manual";
}

namespace {

// The enum value whose name is `name`, trying each in turn (the lists are short).
template <typename Enum, int Count>
std::optional<Enum> enum_from(const std::string& name) {
  for (int i = 0; i < Count; ++i)
    if (name == to_string(static_cast<Enum>(i))) return static_cast<Enum>(i);
  return std::nullopt;
}

}  // namespace

std::optional<LesionRole> lesion_role_from(const std::string& name) {
  return enum_from<LesionRole, 3>(name);
}
std::optional<MeasurementStatus> measurement_status_from(const std::string& name) {
  return enum_from<MeasurementStatus, 7>(name);
}
std::optional<MeasurementMethod> measurement_method_from(const std::string& name) {
  return enum_from<MeasurementMethod, 3>(name);
}

}  // namespace oq
