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

struct SegmentInfo {
  int number = 0;
  std::string label, tracking_uid;
  std::size_t voxels = 0;  // of the segments read
};

// The segments read as one label map on the series grid (x fastest): each voxel the number of the
// segment it lies in, 0 outside; a voxel in several holds the highest number (`overlapping` counts
// them). One 16-bit volume whatever the number of segments, so a SEG of a hundred organs fits.
struct SegmentationOnGrid {
  std::vector<SegmentInfo> segments;  // every segment the SEG describes
  std::vector<std::uint16_t> labels;
  std::size_t overlapping = 0;
};

// `wanted`: one segment by number or label; empty: all of them. An unknown one is kNotFound, with
// the segments the SEG holds.
Result<SegmentationOnGrid> read_segmentation(const std::string& path, const Grid& series_grid, const std::string& wanted = "");

}  // namespace oq::dicom
