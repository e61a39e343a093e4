// DICOM whole-slide images (VL Whole Slide Microscopy Image Storage), read with DCMTK since
// OpenSlide 3.4.1 cannot: one series is one slide, its VOLUME instances the pyramid's levels,
// each a matrix of tiles stored as frames (TILED_FULL, or TILED_SPARSE with frame positions).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "oq/plugin.h"

namespace oq::dicom {

// The reason read_header gives for a whole-slide instance (it is not a radiology series).
extern const char* const kWholeSlideReason;

// Catalogues whole-slide instances: a slide per series (in the folder of its files), or the
// files as unreadable with the reason (no VOLUME level, no pixel size, unsupported layout).
void catalog_slides(const std::vector<std::string>& files, Catalog& out);

// Opens a catalogued slide (its path is the level-0 instance; the other levels are found beside it).
Result<std::unique_ptr<SlideReader>> open_dicom_slide(const SlideInfo& slide);

}  // namespace oq::dicom
