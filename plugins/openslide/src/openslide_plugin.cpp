// Whole-slide images through OpenSlide (Aperio, Hamamatsu, Leica, MIRAX, Philips, Sakura,
// Ventana, generic tiled TIFF): catalogues slides for `oncoquant info` and reads their pixels
// for the IHC analysis (wsi/).
#include <openslide.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
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

// Pixels through OpenSlide. OpenSlide's errors are sticky: once one is set the handle is dead,
// so every read checks it and reports it with the file's name.
class OpenSlideReader final : public SlideReader {
 public:
  OpenSlideReader(openslide_t* os, SlideInfo info) : os_(os), info_(std::move(info)) {}
  ~OpenSlideReader() override { openslide_close(os_); }
  const SlideInfo& info() const override { return info_; }

  Result<RgbImage> read_region(int level, std::int64_t x0, std::int64_t y0, int width, int height) override {
    if (level < 0 || level >= static_cast<int>(info_.levels.size()) || width <= 0 || height <= 0)
      return Error(ErrorCode::kInvalidArgument, "no such slide region", info_.path);
    std::vector<std::uint32_t> argb(static_cast<size_t>(width) * static_cast<size_t>(height));
    openslide_read_region(os_, argb.data(), x0, y0, level, width, height);
    if (const char* err = openslide_get_error(os_))
      return Error(ErrorCode::kUnreadable, std::string("OpenSlide cannot read the slide: ") + err, info_.path);
    RgbImage img;
    img.width = width;
    img.height = height;
    img.rgb.resize(argb.size() * 3);
    for (size_t i = 0; i < argb.size(); ++i) {
      // Premultiplied ARGB over white.
      const std::uint32_t p = argb[i];
      const std::uint32_t a = p >> 24, white = 255 - a;
      img.rgb[3 * i] = static_cast<std::uint8_t>(((p >> 16) & 0xff) + white);
      img.rgb[3 * i + 1] = static_cast<std::uint8_t>(((p >> 8) & 0xff) + white);
      img.rgb[3 * i + 2] = static_cast<std::uint8_t>((p & 0xff) + white);
    }
    return img;
  }

 private:
  openslide_t* os_;
  SlideInfo info_;
};

Result<std::unique_ptr<SlideReader>> open_slide(const SlideInfo& slide) {
  openslide_t* os = openslide_open(slide.path.c_str());
  if (!os) return Error(ErrorCode::kUnreadable, "OpenSlide cannot open it (unsupported or corrupt slide)", slide.path);
  if (const char* err = openslide_get_error(os)) {
    const std::string msg = std::string("OpenSlide: ") + err;
    openslide_close(os);
    return Error(ErrorCode::kUnreadable, msg, slide.path);
  }
  return std::unique_ptr<SlideReader>(std::make_unique<OpenSlideReader>(os, slide));
}

const LoaderOps kOps{detect, catalog, nullptr, open_slide};

}  // namespace

}  // namespace oq::slide

extern const oq::PluginDescriptor oq_plugin_openslide;
const oq::PluginDescriptor oq_plugin_openslide{
    "openslide", oq::PluginKind::kLoader, "whole-slide images that OpenSlide 3.4 reads (SVS, NDPI, MRXS, SCN, tiled TIFF, ...)",
    50,          &oq::slide::kOps,        nullptr};
