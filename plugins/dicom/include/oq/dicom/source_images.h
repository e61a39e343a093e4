// The images a report refers to: for each frame its SOP class and instance, and the plane it lies
// in, so that a caliper in patient coordinates becomes a SCOORD on the image (DICOM SR) and a mask
// slice becomes a SEG frame on the same plane.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/volume.h"

namespace oq::dicom {

struct SourceImage {
  std::string path, sop_class_uid, sop_instance_uid, series_uid, study_uid, frame_of_reference_uid, modality;
  int frame = 0;  // 1-based frame number in a multi-frame image; 0 for a single-frame image
  int rows = 0, columns = 0;
  Vec3 position{};                             // (0020,0032): centre of the first pixel, LPS mm
  Vec3 row_direction{};                        // (0020,0037) first triplet: along a row, as the column index grows
  Vec3 column_direction{};                     // second triplet: down a column, as the row index grows
  double row_spacing = 0, column_spacing = 0;  // (0028,0030): between rows, between columns
};

// Reads the headers of `files` (no pixel data). A file that is not an image with a plane
// (orientation, position, spacing) is an error naming it.
Result<std::vector<SourceImage>> read_source_images(const std::vector<std::string>& files);

// Where an LPS point falls on the image, as a SCOORD gives it: (column, row) with the top left
// corner of the first pixel at (0, 0) and its centre at (0.5, 0.5); and the way back.
std::array<double, 2> image_coordinates(const SourceImage& image, const Vec3& point);
Vec3 patient_point(const SourceImage& image, double column, double row);
// How far (mm) a point lies from the image's plane.
double distance_from_plane(const SourceImage& image, const Vec3& point);

}  // namespace oq::dicom
