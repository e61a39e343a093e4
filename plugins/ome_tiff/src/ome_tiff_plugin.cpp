// OME-TIFF whole-slide images, as QuPath and Bio-Formats write them: tiled TIFF whose first
// image description is OME-XML (microns per pixel from Pixels/PhysicalSizeX, Y), pyramid levels
// in SubIFDs when there are any. OpenSlide 3.4.1 does not read them, and libtiff's own JPEG path
// refuses the RGB tiles with 2x2 chroma subsampling that Bio-Formats writes, so each JPEG tile is
// decoded as its own stream (the file's JPEGTables, then the tile) by OpenCV's libjpeg.
#include <tiffio.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "oq/plugin.h"

namespace oq::slide {

namespace {

struct TiffCloser {
  void operator()(TIFF* t) const { TIFFClose(t); }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

// libtiff prints warnings and errors to stderr by default; ours say what went wrong instead.
TiffPtr open_quietly(const std::string& path) {
  TIFFSetWarningHandler(nullptr);
  TIFFSetErrorHandler(nullptr);
  return TiffPtr(TIFFOpen(path.c_str(), "rm"));
}

std::string description(TIFF* t) {
  char* d = nullptr;
  return TIFFGetField(t, TIFFTAG_IMAGEDESCRIPTION, &d) && d ? std::string(d) : std::string();
}

// A numeric attribute of the first <Pixels> element, in micrometres (OME's default unit); other
// length units are converted, unknown ones refused.
std::optional<double> physical_size_um(const std::string& xml, const std::string& axis) {
  const size_t pixels = xml.find("<Pixels");
  if (pixels == std::string::npos) return std::nullopt;
  const size_t end = xml.find('>', pixels);
  const std::string element = xml.substr(pixels, end == std::string::npos ? std::string::npos : end - pixels);
  auto attribute = [&](const std::string& name) -> std::optional<std::string> {
    const size_t at = element.find(" " + name + "=\"");
    if (at == std::string::npos) return std::nullopt;
    const size_t from = at + name.size() + 3, to = element.find('"', from);
    if (to == std::string::npos) return std::nullopt;
    return element.substr(from, to - from);
  };
  const auto size = attribute("PhysicalSize" + axis);
  if (!size) return std::nullopt;
  char* stop = nullptr;
  const double v = std::strtod(size->c_str(), &stop);
  if (stop == size->c_str() || !(v > 0) || v > 1e6) return std::nullopt;
  const std::string unit = attribute("PhysicalSize" + axis + "Unit").value_or("\xC2\xB5m");
  if (unit == "\xC2\xB5m" || unit == "um" || unit == "\xCE\xBCm") return v;
  if (unit == "nm") return v / 1000;
  if (unit == "mm") return v * 1000;
  return std::nullopt;
}

bool is_ome(TIFF* t) {
  return description(t).find("<OME") != std::string::npos;
}

Detection detect(const FileProbe& probe) {
  const std::string& h = probe.head;
  const bool tiff = h.size() >= 4 && (h.compare(0, 4, "II*\0", 4) == 0 || h.compare(0, 4, "MM\0*", 4) == 0 ||
                                      h.compare(0, 4, "II+\0", 4) == 0 || h.compare(0, 4, "MM\0+", 4) == 0);
  if (!tiff) return Detection::decline("not a TIFF");
  TiffPtr t = open_quietly(probe.path);
  std::uint32_t width = 0;
  if (!t || !TIFFGetField(t.get(), TIFFTAG_IMAGEWIDTH, &width) || width == 0)
    return Detection::decline("a TIFF whose first image cannot be read (truncated or corrupt)");
  if (!is_ome(t.get())) return Detection::decline("a TIFF without OME-XML in its description (or one cut short)");
  // Above OpenSlide's modest claim on generic TIFF: OpenSlide cannot read these tiles.
  return {5, "OME-TIFF (OME-XML image description)"};
}

struct Level {
  tdir_t directory = 0;
  toff_t subifd = 0;  // 0: a main IFD
  std::uint32_t width = 0, height = 0, tile_w = 0, tile_h = 0;
};

// The full-resolution image (IFD 0) and its reduced levels (SubIFDs), largest first.
Result<std::vector<Level>> levels_of(TIFF* t, const std::string& path) {
  std::vector<Level> out;
  auto read_level = [&](Level& lv) -> Status {
    if (!TIFFIsTiled(t)) return Error(ErrorCode::kUnsupported, "an OME-TIFF in strips, not tiles, is not supported", path);
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &lv.width);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &lv.height);
    TIFFGetField(t, TIFFTAG_TILEWIDTH, &lv.tile_w);
    TIFFGetField(t, TIFFTAG_TILELENGTH, &lv.tile_h);
    std::uint16_t spp = 0, bits = 0;
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bits);
    if (spp < 3 || bits != 8) return Error(ErrorCode::kUnsupported, "only 8-bit RGB OME-TIFF is supported (brightfield)", path);
    if (lv.width == 0 || lv.height == 0 || lv.tile_w == 0 || lv.tile_h == 0)
      return Error(ErrorCode::kUnreadable, "the image or tile size is zero", path);
    return Ok{};
  };
  Level base;
  if (!TIFFSetDirectory(t, 0)) return Error(ErrorCode::kUnreadable, "no first image", path);
  if (Status st = read_level(base); !st.ok()) return st.error();
  out.push_back(base);
  std::uint16_t n_sub = 0;
  toff_t* subs = nullptr;
  std::vector<toff_t> sub_offsets;
  if (TIFFGetField(t, TIFFTAG_SUBIFD, &n_sub, &subs) && subs) sub_offsets.assign(subs, subs + n_sub);
  for (toff_t off : sub_offsets) {
    if (!TIFFSetSubDirectory(t, off)) break;
    Level lv;
    lv.subifd = off;
    if (!read_level(lv).ok()) break;
    out.push_back(lv);
  }
  TIFFSetDirectory(t, 0);
  return out;
}

void catalog(const std::vector<std::string>& files, Catalog& out) {
  for (const auto& path : files) {
    TiffPtr t = open_quietly(path);
    if (!t) {
      out.unreadable.push_back({path, "libtiff cannot open it (corrupt TIFF)"});
      continue;
    }
    const std::string xml = description(t.get());
    auto levels = levels_of(t.get(), path);
    if (!levels) {
      out.unreadable.push_back({path, levels.error().message()});
      continue;
    }
    SlideInfo s;
    s.path = path;
    s.loader = "ome-tiff";
    s.vendor = "ome-tiff";
    s.width = (*levels)[0].width;
    s.height = (*levels)[0].height;
    for (const Level& lv : *levels) s.levels.push_back({lv.width, lv.height, static_cast<double>((*levels)[0].width) / lv.width});
    s.mpp_x = physical_size_um(xml, "X");
    s.mpp_y = physical_size_um(xml, "Y");
    out.slides.push_back(std::move(s));
  }
}

// Tiles are read raw under a lock (libtiff's handle is not thread-safe) and decoded outside it.
class OmeTiffReader final : public SlideReader {
 public:
  OmeTiffReader(TiffPtr t, std::vector<Level> levels, SlideInfo info)
      : tiff_(std::move(t)), levels_(std::move(levels)), info_(std::move(info)) {}
  const SlideInfo& info() const override { return info_; }

  Result<RgbImage> read_region(int level, std::int64_t x0, std::int64_t y0, int width, int height) override {
    if (level < 0 || level >= static_cast<int>(levels_.size()) || width <= 0 || height <= 0)
      return Error(ErrorCode::kInvalidArgument, "no such slide region", info_.path);
    const Level& lv = levels_[static_cast<size_t>(level)];
    const double down = info_.levels[static_cast<size_t>(level)].downsample;
    const std::int64_t lx = static_cast<std::int64_t>(static_cast<double>(x0) / down),
                       ly = static_cast<std::int64_t>(static_cast<double>(y0) / down);
    RgbImage img;
    img.width = width;
    img.height = height;
    img.rgb.assign(static_cast<size_t>(width) * static_cast<size_t>(height) * 3, 255);  // beyond the image: glass
    const std::int64_t tx0 = std::max<std::int64_t>(0, lx) / lv.tile_w, ty0 = std::max<std::int64_t>(0, ly) / lv.tile_h;
    const std::int64_t tx1 = std::min<std::int64_t>(lv.width - 1, lx + width - 1) / lv.tile_w,
                       ty1 = std::min<std::int64_t>(lv.height - 1, ly + height - 1) / lv.tile_h;
    for (std::int64_t ty = ty0; ty <= ty1; ++ty)
      for (std::int64_t tx = tx0; tx <= tx1; ++tx) {
        auto tile = decoded_tile(lv, static_cast<std::uint32_t>(tx), static_cast<std::uint32_t>(ty));
        if (!tile) return tile.error();
        const cv::Mat& m = *tile;
        for (int r = 0; r < m.rows; ++r) {
          const std::int64_t y = ty * lv.tile_h + r - ly;
          if (y < 0 || y >= height || ty * lv.tile_h + r >= lv.height) continue;
          for (int c = 0; c < m.cols; ++c) {
            const std::int64_t x = tx * lv.tile_w + c - lx;
            if (x < 0 || x >= width || tx * lv.tile_w + c >= lv.width) continue;
            const cv::Vec3b bgr = m.at<cv::Vec3b>(r, c);
            std::uint8_t* p = &img.rgb[(static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 3];
            p[0] = bgr[2], p[1] = bgr[1], p[2] = bgr[0];
          }
        }
      }
    return img;
  }

 private:
  Result<cv::Mat> decoded_tile(const Level& lv, std::uint32_t tx, std::uint32_t ty) {
    std::vector<unsigned char> stream;
    std::uint16_t compression = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      TIFF* t = tiff_.get();
      if (!(lv.subifd ? TIFFSetSubDirectory(t, lv.subifd) : TIFFSetDirectory(t, lv.directory)))
        return Error(ErrorCode::kUnreadable, "cannot select the image level", info_.path);
      TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &compression);
      const ttile_t index = TIFFComputeTile(t, tx * lv.tile_w, ty * lv.tile_h, 0, 0);
      if (compression != COMPRESSION_JPEG) {
        // Anything else libtiff decodes itself (LZW, deflate, none).
        cv::Mat rgb(static_cast<int>(lv.tile_h), static_cast<int>(lv.tile_w), CV_8UC3);
        if (TIFFReadEncodedTile(t, index, rgb.data, static_cast<tmsize_t>(rgb.total() * 3)) < 0)
          return Error(ErrorCode::kUnreadable, "a tile cannot be read (corrupt or truncated file)", info_.path);
        cv::Mat bgr;
        cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
        return bgr;
      }
      std::uint32_t table_size = 0;
      void* tables = nullptr;
      if (TIFFGetField(t, TIFFTAG_JPEGTABLES, &table_size, &tables) && tables && table_size > 4) {
        const auto* b = static_cast<const unsigned char*>(tables);
        stream.assign(b, b + table_size - 2);  // without its EOI
      }
      toff_t* counts = nullptr;
      if (!TIFFGetField(t, TIFFTAG_TILEBYTECOUNTS, &counts) || !counts || index >= TIFFNumberOfTiles(t))
        return Error(ErrorCode::kUnreadable, "the tile table is missing (corrupt file)", info_.path);
      const auto raw_size = static_cast<tmsize_t>(counts[index]);
      if (raw_size <= 0 || raw_size > (64 << 20))
        return Error(ErrorCode::kUnreadable, "a tile has no data (truncated file)", info_.path);
      std::vector<unsigned char> raw(static_cast<size_t>(raw_size));
      if (TIFFReadRawTile(t, index, raw.data(), raw_size) != raw_size)
        return Error(ErrorCode::kUnreadable, "a tile cannot be read (truncated file)", info_.path);
      // The tile's own stream begins with SOI; after the tables it is dropped.
      const size_t skip = stream.empty() ? 0 : 2;
      stream.insert(stream.end(), raw.begin() + static_cast<long>(skip), raw.end());
    }
    cv::Mat bgr = cv::imdecode(stream, cv::IMREAD_COLOR);
    if (bgr.empty()) return Error(ErrorCode::kUnreadable, "a JPEG tile cannot be decoded (corrupt file)", info_.path);
    return bgr;
  }

  TiffPtr tiff_;
  std::vector<Level> levels_;
  SlideInfo info_;
  std::mutex mutex_;
};

Result<std::unique_ptr<SlideReader>> open_slide(const SlideInfo& slide) {
  TiffPtr t = open_quietly(slide.path);
  if (!t) return Error(ErrorCode::kUnreadable, "libtiff cannot open it (corrupt TIFF)", slide.path);
  auto levels = levels_of(t.get(), slide.path);
  if (!levels) return levels.error();
  return std::unique_ptr<SlideReader>(std::make_unique<OmeTiffReader>(std::move(t), std::move(*levels), slide));
}

const LoaderOps kOps{detect, catalog, nullptr, open_slide};

}  // namespace

}  // namespace oq::slide

extern const oq::PluginDescriptor oq_plugin_ome_tiff;
const oq::PluginDescriptor oq_plugin_ome_tiff{
    "ome-tiff", oq::PluginKind::kLoader, "OME-TIFF slides as QuPath and Bio-Formats write them (JPEG tiles, OME-XML)",
    55,         &oq::slide::kOps,        nullptr};
