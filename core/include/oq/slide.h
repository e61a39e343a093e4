// Reading pixels of a whole-slide image, whatever the format: loaders that catalogue slides
// open a SlideReader (OpenSlide formats in plugins/openslide; plain images in wsi/).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "oq/error.h"
#include "oq/study.h"

namespace oq {

// 8-bit RGB, rows top to bottom, no padding.
struct RgbImage {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
};

class SlideReader {
 public:
  virtual ~SlideReader() = default;
  SlideReader() = default;
  SlideReader(const SlideReader&) = delete;
  SlideReader& operator=(const SlideReader&) = delete;

  // Levels, size and microns per pixel (when the file says).
  virtual const SlideInfo& info() const = 0;
  // A region of `level`, `width` x `height` level pixels, whose top-left corner is (x0, y0) in
  // level-0 pixels. Transparent areas are composited over white, as the glass would look.
  // Fails (naming the file) when the file cannot deliver the region.
  virtual Result<RgbImage> read_region(int level, std::int64_t x0, std::int64_t y0, int width, int height) = 0;
};

}  // namespace oq
