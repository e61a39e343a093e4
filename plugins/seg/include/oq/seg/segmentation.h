// DICOM SEG (binary segmentation) of a time point's lesions: one segment per lesion whose mask the
// study store holds, labelled with the lesion's name and Tracking UID, each frame on the plane of the
// source image it was segmented on (Derivation Image, Plane Position), so that viewers overlay it
// on the series and the SR's volumes can refer to it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "oq/dicom/source_images.h"
#include "oq/error.h"
#include "oq/report.h"
#include "oq/volume.h"

namespace oq::seg {

struct SegmentationWritten {
  std::string sop_instance_uid, series_uid;
  std::map<std::string, int> segment_of;  // lesion label -> segment number
};

// Writes the masks of the lesions of `tp` measured on `series_uid` (its grid `grid`, its frames
// `images`) to `path`. Every mask slice must lie on one of the images, with the same rows and
// columns; otherwise nothing is written and the error says which lesion does not fit. kNotFound
// when no lesion of the time point has a mask on that series.
Result<SegmentationWritten> write_segmentation(const TimePointReport& tp, const std::string& series_uid, const Grid& grid,
                                               const std::vector<dicom::SourceImage>& images, const std::string& software_version,
                                               const std::string& path);

}  // namespace oq::seg
