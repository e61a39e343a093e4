#include "wsi_reader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfcache.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>

#include "dicom_header.h"

namespace oq::dicom {

const char* const kWholeSlideReason = "a DICOM whole-slide microscopy image, not a radiology series (read by the slide tools)";

namespace {

namespace fs = std::filesystem;

// Large elements (the pixel data) stay on disk until a frame is asked for.
constexpr Uint32 kLazyElementBytes = 4096;

std::string text(DcmItem* item, const DcmTagKey& tag, unsigned long pos = 0) {
  OFString v;
  if (item && item->findAndGetOFString(tag, v, pos).good()) {
    std::string s = v.c_str();
    while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
    return s;
  }
  return {};
}

long integer(DcmItem* item, const DcmTagKey& tag) {
  Uint32 u = 0;
  if (item->findAndGetUint32(tag, u).good()) return static_cast<long>(u);
  Uint16 s = 0;
  if (item->findAndGetUint16(tag, s).good()) return s;
  Sint32 i = 0;
  if (item->findAndGetSint32(tag, i).good()) return i;
  const std::string t = text(item, tag);
  return t.empty() ? 0 : std::atol(t.c_str());
}

// One pyramid level: a VOLUME instance.
struct Level {
  std::string path, series_uid, flavour;  // flavour: the third value of Image Type (VOLUME, THUMBNAIL, LABEL, OVERVIEW)
  long cols = 0, rows = 0;                // total pixel matrix
  int tile_w = 0, tile_h = 0, tiles_x = 0, tiles_y = 0;
  std::vector<long> frame_of_tile;  // tiles_x * tiles_y, -1 where a sparse matrix has no tile
  int samples = 3;
  bool planar = false;
  std::optional<double> mpp;  // microns per pixel (columns)
};

// Reads a level's layout from its header (pixel data stays on disk).
Result<Level> read_level(const std::string& path) {
  DcmFileFormat ff;
  if (ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, kLazyElementBytes).bad())
    return Error(ErrorCode::kUnreadable, "DCMTK cannot parse it", path);
  DcmDataset* ds = ff.getDataset();
  Level l;
  l.path = path;
  l.series_uid = text(ds, DCM_SeriesInstanceUID);
  l.flavour = text(ds, DCM_ImageType, 2);
  l.cols = integer(ds, DCM_TotalPixelMatrixColumns);
  l.rows = integer(ds, DCM_TotalPixelMatrixRows);
  l.tile_w = static_cast<int>(integer(ds, DCM_Columns));
  l.tile_h = static_cast<int>(integer(ds, DCM_Rows));
  l.samples = static_cast<int>(integer(ds, DCM_SamplesPerPixel));
  l.planar = integer(ds, DCM_PlanarConfiguration) == 1;
  const long frames = std::max(1L, integer(ds, DCM_NumberOfFrames));
  if (l.cols <= 0 || l.rows <= 0 || l.tile_w <= 0 || l.tile_h <= 0)
    return Error(ErrorCode::kInvalidArgument, "no total pixel matrix or tile size", path);
  if (integer(ds, DCM_BitsAllocated) != 8 || (l.samples != 3 && l.samples != 1))
    return Error(ErrorCode::kUnsupported, "only 8-bit RGB or grey whole-slide images are read", path);
  // The tile map is allocated from the header: bounded before it is. 2^24 tiles is a 1 000 000 px
  // square slide in 256 px tiles; a header claiming more (found by fuzz_slide: 16 GB asked) is corrupt.
  const long long grid = ((l.cols + l.tile_w - 1) / l.tile_w) * ((l.rows + l.tile_h - 1) / l.tile_h);
  if (l.cols > (1LL << 31) || l.rows > (1LL << 31) || grid > (1LL << 24))
    return Error(ErrorCode::kUnreadable,
                 "a total pixel matrix of " + std::to_string(l.cols) + " x " + std::to_string(l.rows) + " in " +
                     std::to_string(l.tile_w) + " x " + std::to_string(l.tile_h) + " tiles is more than any slide holds",
                 path);
  l.tiles_x = static_cast<int>((l.cols + l.tile_w - 1) / l.tile_w);
  l.tiles_y = static_cast<int>((l.rows + l.tile_h - 1) / l.tile_h);
  l.frame_of_tile.assign(static_cast<size_t>(l.tiles_x) * static_cast<size_t>(l.tiles_y), -1);

  // Pixel size: the shared Pixel Measures (mm), else the imaged volume's width over its columns.
  DcmItem* shared = nullptr;
  DcmItem* measures = nullptr;
  if (ds->findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0).good() && shared &&
      shared->findAndGetSequenceItem(DCM_PixelMeasuresSequence, measures, 0).good() && measures) {
    Float64 spacing = 0;
    if (measures->findAndGetFloat64(DCM_PixelSpacing, spacing, 1).good() && spacing > 0) l.mpp = spacing * 1000;
  }
  if (!l.mpp) {
    Float32 width_mm = 0;
    if (ds->findAndGetFloat32(DCM_ImagedVolumeWidth, width_mm).good() && width_mm > 0)
      l.mpp = static_cast<double>(width_mm) * 1000 / static_cast<double>(l.cols);
  }

  const std::string organisation = text(ds, DCM_DimensionOrganizationType);
  if (organisation == "TILED_FULL" || organisation.empty()) {
    // Row by row, first focal plane and optical path first: the first tiles_x * tiles_y frames.
    const long n = std::min(frames, static_cast<long>(l.frame_of_tile.size()));
    if (n < static_cast<long>(l.frame_of_tile.size()))
      return Error(ErrorCode::kInvalidArgument,
                   std::to_string(frames) + " frames for a matrix of " + std::to_string(l.frame_of_tile.size()) + " tiles", path);
    for (long f = 0; f < n; ++f) l.frame_of_tile[static_cast<size_t>(f)] = f;
  } else {
    // TILED_SPARSE: each frame says where it lies (1-based pixel positions in the total matrix).
    DcmSequenceOfItems* per_frame = nullptr;
    if (ds->findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, per_frame).bad() || !per_frame)
      return Error(ErrorCode::kInvalidArgument, "a sparse tile matrix without per-frame positions", path);
    for (unsigned long f = 0; f < per_frame->card() && static_cast<long>(f) < frames; ++f) {
      DcmItem* position = nullptr;
      if (per_frame->getItem(f)->findAndGetSequenceItem(DCM_PlanePositionSlideSequence, position, 0).bad() || !position) continue;
      Sint32 col = 0, row = 0;
      position->findAndGetSint32(DCM_ColumnPositionInTotalImagePixelMatrix, col);
      position->findAndGetSint32(DCM_RowPositionInTotalImagePixelMatrix, row);
      const long tx = (col - 1) / l.tile_w, ty = (row - 1) / l.tile_h;
      if (col < 1 || row < 1 || tx >= l.tiles_x || ty >= l.tiles_y) continue;
      long& slot = l.frame_of_tile[static_cast<size_t>(ty * l.tiles_x + tx)];
      if (slot < 0) slot = static_cast<long>(f);  // the first focal plane seen
    }
  }
  return l;
}

// The pyramid among a series' instances: its VOLUME levels, largest first.
std::vector<Level> pyramid(std::vector<Level> instances) {
  std::vector<Level> out;
  for (auto& l : instances)
    if (l.flavour == "VOLUME") out.push_back(std::move(l));
  std::sort(out.begin(), out.end(), [](const Level& a, const Level& b) { return a.cols > b.cols; });
  // Two instances of one size (focal planes, optical paths, copies): the first.
  out.erase(std::unique(out.begin(), out.end(), [](const Level& a, const Level& b) { return a.cols == b.cols; }), out.end());
  return out;
}

SlideInfo describe(const std::vector<Level>& levels) {
  SlideInfo s;
  s.path = levels.front().path;
  s.loader = "dicom";
  s.vendor = "DICOM VL Whole Slide Microscopy";
  s.width = levels.front().cols;
  s.height = levels.front().rows;
  for (const Level& l : levels)
    s.levels.push_back({l.cols, l.rows, static_cast<double>(levels.front().cols) / static_cast<double>(l.cols)});
  if (levels.front().mpp) s.mpp_x = s.mpp_y = levels.front().mpp;
  return s;
}

class DicomSlideReader final : public SlideReader {
 public:
  DicomSlideReader(SlideInfo info, std::vector<Level> levels) : info_(std::move(info)), levels_(std::move(levels)) {
    files_.resize(levels_.size());
  }
  const SlideInfo& info() const override { return info_; }

  Result<RgbImage> read_region(int level, std::int64_t x0, std::int64_t y0, int width, int height) override {
    if (level < 0 || level >= static_cast<int>(levels_.size()) || width <= 0 || height <= 0)
      return Error(ErrorCode::kInvalidArgument, "no such slide region", info_.path);
    // DCMTK's datasets are not safe to share between threads: one reader at a time.
    std::lock_guard<std::mutex> lock(mutex_);
    const Level& l = levels_[static_cast<size_t>(level)];
    const double ds = info_.levels[static_cast<size_t>(level)].downsample;
    const auto lx0 = static_cast<long>(std::floor(static_cast<double>(x0) / ds)),
               ly0 = static_cast<long>(std::floor(static_cast<double>(y0) / ds));
    RgbImage img;
    img.width = width;
    img.height = height;
    img.rgb.assign(static_cast<size_t>(width) * static_cast<size_t>(height) * 3, 255);  // glass where there is no tile
    const long tx0 = std::max(0L, lx0 / l.tile_w), ty0 = std::max(0L, ly0 / l.tile_h);
    const long tx1 = std::min<long>(l.tiles_x - 1, (lx0 + width - 1) / l.tile_w),
               ty1 = std::min<long>(l.tiles_y - 1, (ly0 + height - 1) / l.tile_h);
    for (long ty = ty0; ty <= ty1; ++ty)
      for (long tx = tx0; tx <= tx1; ++tx) {
        const long frame = l.frame_of_tile[static_cast<size_t>(ty * l.tiles_x + tx)];
        if (frame < 0) continue;
        auto tile = decode(static_cast<size_t>(level), frame);
        if (!tile) return tile.error();
        const std::vector<std::uint8_t>& t = *tile;
        for (int y = 0; y < l.tile_h; ++y) {
          const long gy = ty * l.tile_h + y, oy = gy - ly0;
          if (oy < 0 || oy >= height || gy >= l.rows) continue;
          for (int x = 0; x < l.tile_w; ++x) {
            const long gx = tx * l.tile_w + x, ox = gx - lx0;
            if (ox < 0 || ox >= width || gx >= l.cols) continue;
            std::uint8_t* dst = &img.rgb[(static_cast<size_t>(oy) * static_cast<size_t>(width) + static_cast<size_t>(ox)) * 3];
            const size_t p = static_cast<size_t>(y) * static_cast<size_t>(l.tile_w) + static_cast<size_t>(x);
            const size_t plane = static_cast<size_t>(l.tile_w) * static_cast<size_t>(l.tile_h);
            for (int c = 0; c < 3; ++c) {
              const int sc = l.samples == 1 ? 0 : c;
              dst[c] = l.planar ? t[static_cast<size_t>(sc) * plane + p]
                                : t[p * static_cast<size_t>(l.samples) + static_cast<size_t>(sc)];
            }
          }
        }
      }
    return img;
  }

 private:
  // One frame's pixels, decompressed (DCMTK's codecs; YCbCr turned to RGB).
  Result<std::vector<std::uint8_t>> decode(size_t level, long frame) {
    const Level& l = levels_[level];
    auto& file = files_[level];
    if (!file) {
      file = std::make_unique<DcmFileFormat>();
      if (file->loadFile(l.path.c_str(), EXS_Unknown, EGL_noChange, kLazyElementBytes).bad()) {
        file.reset();
        return Error(ErrorCode::kUnreadable, "DCMTK cannot parse it", l.path);
      }
    }
    DcmDataset* ds = file->getDataset();
    DcmElement* pixels = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, pixels).bad() || !pixels)
      return Error(ErrorCode::kUnreadable, "no pixel data", l.path);
    Uint32 frame_bytes = 0;
    if (pixels->getUncompressedFrameSize(ds, frame_bytes).bad() || frame_bytes == 0)
      return Error(ErrorCode::kUnreadable, "cannot size its frames", l.path);
    std::vector<std::uint8_t> out(frame_bytes + (frame_bytes & 1));
    Uint32 start_fragment = 0;
    OFString colour;
    const OFCondition c = pixels->getUncompressedFrame(ds, static_cast<Uint32>(frame), start_fragment, out.data(),
                                                       static_cast<Uint32>(out.size()), colour, &cache_[level]);
    if (c.bad())
      return Error(ErrorCode::kUnreadable,
                   "cannot decode frame " + std::to_string(frame + 1) + " (" + std::string(c.text()) + ")", l.path);
    const std::string model = colour.c_str();
    const size_t expected = static_cast<size_t>(l.tile_w) * static_cast<size_t>(l.tile_h) * static_cast<size_t>(l.samples);
    if (out.size() < expected) return Error(ErrorCode::kUnreadable, "frame " + std::to_string(frame + 1) + " is short", l.path);
    if (l.samples == 3 && model.rfind("YBR_FULL", 0) == 0 && !l.planar) {
      for (size_t i = 0; i + 2 < expected; i += 3) {
        const double y = out[i], cb = out[i + 1] - 128.0, cr = out[i + 2] - 128.0;
        const auto clamp = [](double v) { return static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L)); };
        out[i] = clamp(y + 1.402 * cr);
        out[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
        out[i + 2] = clamp(y + 1.772 * cb);
      }
    }
    return out;
  }

  SlideInfo info_;
  std::vector<Level> levels_;
  std::vector<std::unique_ptr<DcmFileFormat>> files_;
  std::map<size_t, DcmFileCache> cache_;
  std::mutex mutex_;
};

}  // namespace

void catalog_slides(const std::vector<std::string>& files, Catalog& out) {
  // Group by series: one slide each.
  std::map<std::string, std::vector<Level>> by_series;
  for (const auto& path : files) {
    auto l = read_level(path);
    if (!l) {
      out.unreadable.push_back({path, l.error().message()});
      continue;
    }
    by_series[l->series_uid].push_back(std::move(l.value()));
  }
  for (auto& [uid, instances] : by_series) {
    std::vector<std::string> paths;
    for (const Level& l : instances) paths.push_back(l.path);
    const std::vector<Level> levels = pyramid(std::move(instances));
    if (levels.empty()) {
      for (const auto& p : paths)
        out.unreadable.push_back({p, "a whole-slide image's thumbnail, label or overview: its series has no VOLUME level here"});
      continue;
    }
    if (!levels.front().mpp) {
      for (const auto& p : paths) out.unreadable.push_back({p, "a whole-slide image without its pixel size"});
      continue;
    }
    out.slides.push_back(describe(levels));
  }
}

Result<std::unique_ptr<SlideReader>> open_dicom_slide(const SlideInfo& slide) {
  register_codecs();
  auto first = read_level(slide.path);
  if (!first) return first.error();
  // The other levels: the same series in the same folder.
  std::vector<Level> instances;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(slide.path).parent_path(), ec))
    if (entry.is_regular_file(ec))
      if (auto l = read_level(entry.path().string()); l && l->series_uid == first->series_uid)
        instances.push_back(std::move(l.value()));
  std::vector<Level> levels = pyramid(std::move(instances));
  if (levels.empty()) return Error(ErrorCode::kUnreadable, "no VOLUME level of its series", slide.path);
  SlideInfo info = describe(levels);
  if (slide.mpp_x) info.mpp_x = info.mpp_y = slide.mpp_x;  // a scale the user gave
  return std::unique_ptr<SlideReader>(std::make_unique<DicomSlideReader>(std::move(info), std::move(levels)));
}

}  // namespace oq::dicom
