// The generated objects of one time point: CT, PET and bone scan series, each written as DICOM
// with its ground truth next to it (in the truth folder), and small preview pictures.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dicom_out.h"
#include "oq/phantom/patient.h"
#include "oq/phantom/truth.h"

namespace oq::phantom {

// Where a series goes: DICOM files in `dir`, named for a PACS export (IM-0001-0001.dcm) or for
// media (IM000001, no extension, as a DICOMDIR requires).
struct SeriesTarget {
  std::string dir;
  bool media_names = false;
  std::string truth_dir;    // truth JSON and label maps
  std::string preview_dir;  // PNG pictures; empty for none
  std::string file_name(int series, int instance) const;
};

// Files written, relative to the series dir.
struct SeriesResult {
  std::vector<std::string> files;
  Json truth;
  std::vector<LesionTruth> lesion_truth;  // CT only: every lesion of the patient on this scan's planes
};

SeriesResult generate_ct(const PlacedPatient& p, size_t tp, const DicomContext& ctx, const SeriesTarget& out);

struct PetTiming {
  std::string injection_datetime;  // YYYYMMDDHHMMSS
  std::string series_time;         // HHMMSS
  double injected_dose_bq = 0;
  double uptake_s = 0;  // injection to series start
};
PetTiming pet_timing(const PlacedPatient& p, size_t tp);
SeriesResult generate_pet(const PlacedPatient& p, size_t tp, const DicomContext& ctx, const PetTiming& timing,
                          const SeriesTarget& out);

// Whole-body bone scan: one NM multi-frame object (anterior and posterior) in `out`, and the two
// views again as Secondary Capture in `sc_out` with `sc_ctx`.
SeriesResult generate_bone_scan(const PlacedPatient& p, size_t tp, const DicomContext& ctx, const SeriesTarget& out,
                                const DicomContext& sc_ctx, const SeriesTarget& sc_out);

// Writes a label volume as gzip-compressed NRRD (LPS, identity directions).
void write_label_nrrd(const std::string& path, const std::vector<std::uint8_t>& labels, int nx, int ny, int nz, double sx,
                      double sy, double sz, double ox, double oy, double oz);

// Writes a JSON document (2-space indent, trailing newline).
void write_json(const std::string& path, const Json& j);

}  // namespace oq::phantom
