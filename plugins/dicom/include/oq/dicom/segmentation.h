// Reading a DICOM SEG back onto the grid of the series it segments: each segment as a mask, each
// frame placed on the slice whose plane it lies on. Binary and fractional (thresholded at half)
// segmentations; a frame that lies on no slice of the series, or whose rows and columns are not the
// series', is an error naming the file and the frame.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/volume.h"

namespace oq::dicom {

struct SegmentVoxels {
  int number = 0;
  std::string label, tracking_uid;
  std::vector<std::uint8_t> inside;  // the series grid's voxels (x fastest), 1 inside
};

Result<std::vector<SegmentVoxels>> read_segmentation(const std::string& path, const Grid& series_grid);

}  // namespace oq::dicom
