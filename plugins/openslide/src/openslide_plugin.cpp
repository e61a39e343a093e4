// Whole-slide images through OpenSlide (Aperio, Hamamatsu, Leica, MIRAX, Philips, Sakura,
// Ventana, generic tiled TIFF). For now it catalogues slides for `oncoquant info`; analysis
// comes with the wsi module.
#include <openslide.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "oq/plugin.h"

namespace oq::slide {

namespace {

Detection detect(const FileProbe& probe) {
  const char* vendor = openslide_detect_vendor(probe.path.c_str());
  if (vendor) {
    // OpenSlide claims every TIFF as generic-tiff; a plain TIFF is not a slide, so be modest.
    if (std::string(vendor) == "generic-tiff") return {2, "OpenSlide recognises a generic tiled TIFF"};
    return {4, std::string("OpenSlide recognises vendor ") + vendor};
  }
  const std::string ext = std::filesystem::path(probe.path).extension().string();
  if (ext == ".svs" || ext == ".ndpi" || ext == ".scn" || ext == ".mrxs" || ext == ".vms" || ext == ".bif")
    return {1, "slide extension, but OpenSlide does not recognise the content"};
  return Detection::decline("OpenSlide does not recognise the file");
}

std::optional<double> property_double(openslide_t* os, const char* name) {
  const char* v = openslide_get_property_value(os, name);
  if (!v || !*v) return std::nullopt;
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  if (end == v || d <= 0) return std::nullopt;
  return d;
}

void catalog(const std::vector<std::string>& files, Catalog& out) {
  for (const auto& path : files) {
    openslide_t* os = openslide_open(path.c_str());
    if (!os) {
      out.unreadable.push_back({path, "OpenSlide cannot open it (unsupported or corrupt slide)"});
      continue;
    }
    if (const char* err = openslide_get_error(os)) {
      out.unreadable.push_back({path, std::string("OpenSlide: ") + err});
      openslide_close(os);
      continue;
    }
    SlideInfo s;
    s.path = path;
    s.loader = "openslide";
    const char* vendor = openslide_get_property_value(os, OPENSLIDE_PROPERTY_NAME_VENDOR);
    s.vendor = vendor ? vendor : "";
    openslide_get_level0_dimensions(os, &s.width, &s.height);
    const int32_t levels = openslide_get_level_count(os);
    for (int32_t l = 0; l < levels; ++l) {
      SlideLevel lv;
      openslide_get_level_dimensions(os, l, &lv.width, &lv.height);
      lv.downsample = openslide_get_level_downsample(os, l);
      s.levels.push_back(lv);
    }
    s.mpp_x = property_double(os, OPENSLIDE_PROPERTY_NAME_MPP_X);
    s.mpp_y = property_double(os, OPENSLIDE_PROPERTY_NAME_MPP_Y);
    if (!s.mpp_x || !s.mpp_y) {
      // OpenSlide 3.4.1 derives no MPP for generic TIFF but reports its resolution tags (pixels
      // per centimetre or inch); slide scanners writing generic TIFF put the resolution there.
      const char* unit = openslide_get_property_value(os, "tiff.ResolutionUnit");
      const double per = unit && std::string(unit) == "centimeter" ? 1e4 : unit && std::string(unit) == "inch" ? 25400.0 : 0;
      const auto rx = property_double(os, "tiff.XResolution"), ry = property_double(os, "tiff.YResolution");
      // Below 100 pixels per centimetre is a screen default (72 dpi), not a microscope.
      if (per > 0 && rx && ry && *rx * 1e4 / per > 100 && *ry * 1e4 / per > 100) {
        s.mpp_x = per / *rx;
        s.mpp_y = per / *ry;
      }
    }
    openslide_close(os);
    out.slides.push_back(std::move(s));
  }
}

const LoaderOps kOps{detect, catalog, nullptr};

}  // namespace

}  // namespace oq::slide

extern const oq::PluginDescriptor oq_plugin_openslide;
const oq::PluginDescriptor oq_plugin_openslide{
    "openslide", oq::PluginKind::kLoader, "whole-slide images that OpenSlide 3.4 reads (SVS, NDPI, MRXS, SCN, tiled TIFF, ...)",
    50,          &oq::slide::kOps,        nullptr};
