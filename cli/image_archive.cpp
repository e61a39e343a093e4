#include "image_archive.h"

#include "oq/scan.h"

namespace oq::cli {

ImageArchive::ImageArchive(const std::string& folder) : folder_(folder), catalog_(scan_inputs({folder})) {}

const SeriesInfo* ImageArchive::series(const std::string& uid) const {
  for (const SeriesInfo* s : catalog_.all_series())
    if (s->uid == uid) return s;
  return nullptr;
}

Result<Grid> ImageArchive::grid(const std::string& series_uid) const {
  if (const SeriesInfo* s = series(series_uid)) return grid_of(*s);
  return Error(ErrorCode::kNotFound, "the images of this series are not under " + folder_, series_uid);
}

Result<const Volume*> ImageArchive::volume(const std::string& series_uid) {
  if (volume_uid_ == series_uid) return &volume_;
  const SeriesInfo* s = series(series_uid);
  if (!s) return Error(ErrorCode::kNotFound, "the images of this series are not under " + folder_, series_uid);
  auto v = load_series(*s, LoadOptions{});
  if (!v) return v.error();
  volume_ = std::move(*v);
  volume_uid_ = series_uid;
  return &volume_;
}

Result<const std::vector<dicom::SourceImage>*> ImageArchive::frames(const std::string& series_uid) {
  if (auto it = frames_.find(series_uid); it != frames_.end()) return &it->second;
  const SeriesInfo* s = series(series_uid);
  if (!s) return Error(ErrorCode::kNotFound, "the images of this series are not under " + folder_, series_uid);
  auto frames = dicom::read_source_images(s->files);
  if (!frames) return frames.error();
  return &(frames_[series_uid] = std::move(*frames));
}

Result<const dicom::SourceImage*> ImageArchive::image(const std::string& sop_instance_uid, int frame) {
  for (const SeriesInfo* s : catalog_.all_series()) {
    auto all = frames(s->uid);
    if (!all) continue;
    for (const dicom::SourceImage& i : **all)
      if (i.sop_instance_uid == sop_instance_uid && (i.frame == frame || (frame <= 1 && i.frame == 0))) return &i;
  }
  return Error(ErrorCode::kNotFound, "no image under " + folder_ + " has this SOP Instance UID", sop_instance_uid);
}

}  // namespace oq::cli
