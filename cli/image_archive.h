// The images behind a command's DICOM outputs and inputs (report, store import-sr): the series of
// a folder or DICOMDIR, each series' frames and planes read once.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "oq/dicom/source_images.h"
#include "oq/error.h"
#include "oq/study.h"

namespace oq::cli {

class ImageArchive {
 public:
  explicit ImageArchive(const std::string& folder);

  Result<Grid> grid(const std::string& series_uid) const;
  // The series' voxels (CT in HU); the last one loaded is kept for the next call.
  Result<const Volume*> volume(const std::string& series_uid);
  Result<const std::vector<dicom::SourceImage>*> frames(const std::string& series_uid);
  // The frame with this SOP Instance UID (and frame number, 0 for a single-frame image).
  Result<const dicom::SourceImage*> image(const std::string& sop_instance_uid, int frame = 0);

 private:
  const SeriesInfo* series(const std::string& uid) const;

  std::string folder_;
  Catalog catalog_;
  std::map<std::string, std::vector<dicom::SourceImage>> frames_;
  std::string volume_uid_;
  Volume volume_;
};

}  // namespace oq::cli
