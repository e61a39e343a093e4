// What a pathologist hands `ihc` besides the slide, already parsed as JSON (oq/json_input.h):
// a region of interest drawn in QuPath (GeoJSON) and stain vectors (from a file or an earlier result).
// Every shape of JSON is answered with a value or an error naming `source`, never an exception.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/wsi/analysis.h"

namespace oq::wsi {

// The polygon's outer ring in level-0 pixels, from a Feature, a FeatureCollection (its first
// feature) or a bare Polygon: at least 3 finite vertices.
Result<std::vector<std::array<double, 2>>> roi_from_geojson(const nlohmann::json& j, const std::string& source);

// {"hematoxylin": [r, g, b], "dab": [r, g, b]} as optical densities, or an `ihc --json` result
// holding them under "stain_vectors". Refused when the two cannot be told apart (stains_apart).
Result<StainVectors> stains_from_json(const nlohmann::json& j, const std::string& source);

}  // namespace oq::wsi
