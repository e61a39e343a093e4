#include "oq/wsi/inputs.h"

#include <algorithm>
#include <cmath>

namespace oq::wsi {

namespace {

const nlohmann::json* member(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

bool is_type(const nlohmann::json& j, const char* type) {
  const nlohmann::json* t = member(j, "type");
  return t && t->is_string() && t->get<std::string>() == type;
}

}  // namespace

Result<std::vector<std::array<double, 2>>> roi_from_geojson(const nlohmann::json& j, const std::string& source) {
  const nlohmann::json* g = &j;
  if (is_type(*g, "FeatureCollection")) {
    const nlohmann::json* features = member(*g, "features");
    if (!features || !features->is_array() || features->empty())
      return Error(ErrorCode::kInvalidArgument, "the feature collection holds no feature", source);
    g = &(*features)[0];
  }
  if (is_type(*g, "Feature")) {
    g = member(*g, "geometry");
    if (!g) return Error(ErrorCode::kInvalidArgument, "the feature has no geometry", source);
  }
  if (!is_type(*g, "Polygon")) return Error(ErrorCode::kInvalidArgument, "the region must be a GeoJSON Polygon", source);
  const nlohmann::json* coords = member(*g, "coordinates");
  if (!coords || !coords->is_array() || coords->empty() || !(*coords)[0].is_array())
    return Error(ErrorCode::kInvalidArgument, "the polygon has no coordinates", source);
  std::vector<std::array<double, 2>> ring;
  for (const auto& p : (*coords)[0]) {
    if (!p.is_array() || p.size() < 2 || !p[0].is_number() || !p[1].is_number() || !std::isfinite(p[0].get<double>()) ||
        !std::isfinite(p[1].get<double>()))
      return Error(ErrorCode::kInvalidArgument, "a vertex of the polygon is not two finite numbers", source);
    ring.push_back({p[0].get<double>(), p[1].get<double>()});
  }
  if (ring.size() < 3) return Error(ErrorCode::kInvalidArgument, "the polygon needs at least 3 points", source);
  return ring;
}

Result<StainVectors> stains_from_json(const nlohmann::json& j, const std::string& source) {
  const nlohmann::json* held = member(j, "stain_vectors");
  const nlohmann::json& v = held ? *held : j;
  auto optical_density = [&](const char* name, std::array<double, 3>& out) -> std::string {
    const nlohmann::json* a = member(v, name);
    if (!a || !a->is_array() || a->size() != 3 ||
        !std::all_of(a->begin(), a->end(), [](const nlohmann::json& x) { return x.is_number(); }))
      return std::string(name) + " must be three numbers";
    out = {(*a)[0].get<double>(), (*a)[1].get<double>(), (*a)[2].get<double>()};
    if (!std::all_of(out.begin(), out.end(), [](double x) { return std::isfinite(x) && x >= 0; }) ||
        out[0] + out[1] + out[2] <= 0)
      return std::string(name) + " must be optical densities (non-negative, finite, not all zero)";
    return "";
  };
  StainVectors given;
  std::string why = optical_density("hematoxylin", given.hematoxylin);
  if (why.empty()) why = optical_density("dab", given.dab);
  if (why.empty()) why = stains_apart(given);
  if (!why.empty()) return Error(ErrorCode::kInvalidArgument, "not stain vectors: " + why, source);
  return given;
}

}  // namespace oq::wsi
