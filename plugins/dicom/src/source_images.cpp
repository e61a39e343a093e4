#include "oq/dicom/source_images.h"

#include <cmath>

#include "dicom_header.h"

namespace oq::dicom {

namespace {

double dot(const Vec3& a, const Vec3& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

}  // namespace

Result<std::vector<SourceImage>> read_source_images(const std::vector<std::string>& files) {
  std::vector<SourceImage> out;
  for (const std::string& path : files) {
    auto header = read_header(path);
    if (!header) return header.error();
    if (header->frames.empty()) return Error(ErrorCode::kInvalidArgument, "not an image: " + header->not_image_reason, path);
    for (const FrameRecord& f : header->frames) {
      if (!f.position || !f.orientation || !f.pixel_spacing)
        return Error(ErrorCode::kInvalidArgument,
                     "the image gives no plane (Image Position, Image Orientation and Pixel Spacing are all needed to "
                     "place a measurement on it)",
                     path);
      SourceImage s;
      s.path = path;
      s.sop_class_uid = f.sop_class_uid;
      s.sop_instance_uid = f.sop_instance_uid;
      s.series_uid = f.series_uid;
      s.study_uid = f.study_uid;
      s.frame_of_reference_uid = f.frame_of_reference_uid;
      s.modality = f.modality;
      s.frame = f.number_of_frames > 1 ? f.frame + 1 : 0;
      s.rows = f.rows;
      s.columns = f.columns;
      s.position = *f.position;
      const auto& o = *f.orientation;
      s.row_direction = {o[0], o[1], o[2]};
      s.column_direction = {o[3], o[4], o[5]};
      s.row_spacing = (*f.pixel_spacing)[0];
      s.column_spacing = (*f.pixel_spacing)[1];
      out.push_back(s);
    }
  }
  return out;
}

std::array<double, 2> image_coordinates(const SourceImage& image, const Vec3& point) {
  const Vec3 d{point[0] - image.position[0], point[1] - image.position[1], point[2] - image.position[2]};
  return {dot(d, image.row_direction) / image.column_spacing + 0.5, dot(d, image.column_direction) / image.row_spacing + 0.5};
}

Vec3 patient_point(const SourceImage& image, double column, double row) {
  const double c = (column - 0.5) * image.column_spacing, r = (row - 0.5) * image.row_spacing;
  return {image.position[0] + c * image.row_direction[0] + r * image.column_direction[0],
          image.position[1] + c * image.row_direction[1] + r * image.column_direction[1],
          image.position[2] + c * image.row_direction[2] + r * image.column_direction[2]};
}

double distance_from_plane(const SourceImage& image, const Vec3& point) {
  const Vec3 n = cross(image.row_direction, image.column_direction);
  const Vec3 d{point[0] - image.position[0], point[1] - image.position[1], point[2] - image.position[2]};
  return std::fabs(dot(d, n));
}

}  // namespace oq::dicom
