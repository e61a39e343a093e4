// What the DICOM adapter learns from one file's header, per frame. A classic CT series gives one
// record per file; an Enhanced or Legacy Converted multi-frame object gives one record per frame.
// Plain data so that series assembly (series_builder) is testable without files.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "oq/pet/suv.h"

namespace oq::dicom {

struct FrameRecord {
  std::string path;
  int frame = 0;  // index within the file's pixel data

  std::string patient_id, study_uid, study_date, study_description;
  std::string series_uid, sop_instance_uid, series_description, modality, sop_class_uid, transfer_syntax;
  std::string frame_of_reference_uid, image_type;
  int series_number = 0, instance_number = 0, acquisition_number = 0;

  int rows = 0, columns = 0, number_of_frames = 1;
  int bits_allocated = 0, bits_stored = 0, pixel_representation = 0, samples_per_pixel = 1;
  std::string photometric;

  std::optional<std::array<double, 3>> position;       // Image Position (Patient)
  std::optional<std::array<double, 6>> orientation;    // Image Orientation (Patient)
  std::optional<std::array<double, 2>> pixel_spacing;  // row spacing, column spacing
  double slice_thickness = 0;
  double gantry_tilt = 0;

  double slope = 1, intercept = 0;

  // PET: the frame's own values; the series-level ones are in pet_series.
  pet::FrameHeader pet_frame;
  // NM planar views
  std::string view;  // "anterior", "posterior", "" when not stated
  int detector = 0;
};

// A file the adapter read: its frames, or why it cannot give images.
struct FileHeader {
  std::string path;
  std::vector<FrameRecord> frames;
  std::optional<pet::SeriesHeader> pet_series;  // PET only
  std::string not_image_reason;                 // set for SR, SEG, DICOMDIR, ... (frames empty)
  bool is_dicomdir = false;
  std::vector<std::string> dicomdir_files;  // files a DICOMDIR references
};

}  // namespace oq::dicom
