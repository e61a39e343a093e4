// The JSON an `ihc` run is handed besides the slide: built twice, fuzz_roi (a QuPath GeoJSON
// region) and fuzz_stains (stain vectors), each parsed strictly first as the command does.
#include <cstdint>
#include <string>

#include "oq/json_input.h"
#include "oq/wsi/inputs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto j = oq::parse_json_strictly(std::string(reinterpret_cast<const char*>(data), size), "input.json");
  if (!j) return 0;
#ifdef OQ_FUZZ_ROI
  (void)oq::wsi::roi_from_geojson(*j, "roi.geojson");
#else
  (void)oq::wsi::stains_from_json(*j, "stains.json");
#endif
  return 0;
}
