// DICOM writing for the phantoms (DCMTK, private to data/). Each function writes one complete
// object of its IOD with the modules a real scanner fills, so dciodvfy finds nothing to report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace oq::phantom {

struct DicomContext {
  // Patient
  std::string patient_id, patient_name, birth_date, sex = "F";
  double weight_kg = 0, height_m = 0;
  // Study
  std::string study_uid, study_date, study_time, study_id, accession, study_description;
  // Series
  std::string series_uid, frame_of_reference_uid, series_description, series_date, series_time, body_part;
  int series_number = 1;
  std::string manufacturer = "OncoQuant Phantom", model = "oq-phantom", station = "PHANTOM1";
  std::string institution = "OncoQuant Demo Hospital";
};

struct PlaneGeometry {
  int rows = 0, columns = 0;
  double spacing_row = 1, spacing_col = 1;  // mm between rows, between columns
  double x = 0, y = 0, z = 0;               // Image Position (Patient) of the first pixel
  double thickness = 1;
};

// CT Image Storage: stored values are HU + 1024 (Rescale Intercept -1024).
void write_ct_image(const std::string& path, const DicomContext& ctx, const std::string& sop_uid, int instance,
                    const PlaneGeometry& g, const std::vector<std::int16_t>& stored, double kvp, double ma);

struct PetAcquisition {
  std::string radiopharmaceutical_start_datetime;  // YYYYMMDDHHMMSS.ffffff
  double injected_dose_bq = 0;
  double half_life_s = 6586.2;
  std::string acquisition_time;  // HHMMSS of this slice's bed
  int number_of_slices = 0;
  int frame_duration_ms = 120000;
  double decay_factor = 1;
};
// PET Image Storage, Units BQML, decay corrected to the series start (DECY START).
void write_pet_image(const std::string& path, const DicomContext& ctx, const std::string& sop_uid, int instance,
                     const PlaneGeometry& g, const std::vector<std::int16_t>& stored, double rescale_slope,
                     const PetAcquisition& acq);

struct PlanarViews {
  int rows = 0, columns = 0;
  double pixel_mm = 2.4;
  std::vector<std::uint16_t> anterior, posterior;
  std::string injection_time;  // HHMMSS
  double dose_mbq = 740;
  double scan_speed_cm_min = 14;
};
// NM Image Storage, two frames (detector 1 anterior, detector 2 posterior) with their views.
void write_nm_whole_body(const std::string& path, const DicomContext& ctx, const std::string& sop_uid, const PlanarViews& v);
// Secondary Capture of one view, as older systems and screen captures store bone scans.
void write_sc_view(const std::string& path, const DicomContext& ctx, const std::string& sop_uid, int instance, int rows,
                   int columns, double pixel_mm, const std::vector<std::uint16_t>& pixels, const std::string& view);

// A DICOMDIR over the files below `root` (paths relative to it, media-conformant names).
void write_dicomdir(const std::string& root, const std::vector<std::string>& relative_files, const std::string& fileset_id,
                    const std::string& instance_uid);

}  // namespace oq::phantom
