// What an archive holds, as the suite catalogues it: patients' studies with their series,
// whole-slide images, and every file that could not be used with the reason.
// Plain data, no library types: every command and exporter reads these.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oq/volume.h"

namespace oq {

// PET quantification as far as the headers allow it.
struct PetQuantInfo {
  std::string units;             // (0054,1001): BQML, GML, CNTS, ...
  std::string decay_correction;  // (0054,1102): START, ADMIN, NONE
  bool suv_bw_available = false;
  std::string suv_bw_reason;  // why not, when not available
  bool sul_lbm_available = false;
  std::string sul_lbm_reason;
  double suv_bw_factor = 0;              // SUVbw per rescaled unit (first frame; per-frame factors may differ)
  std::string radionuclide;              // e.g. "F-18 (half-life 6586.2 s)"
  std::optional<double> uptake_minutes;  // injection to the scan (decay reference), when the header says
};

struct SeriesInfo {
  std::string uid;  // Series Instance UID; "UID#n" for the n-th part of a series that had to be split
  std::string description;
  std::string modality;   // CT, PT, NM, ...
  std::string sop_class;  // human name of the SOP class
  int number = 0;
  std::string frame_of_reference_uid;
  std::string loader;                                          // the plugin that catalogued it
  std::size_t instances = 0;                                   // files
  std::size_t frames = 0;                                      // slices or frames in the volume
  std::array<std::size_t, 3> matrix{0, 0, 0};                  // columns, rows, slices
  std::array<double, 3> spacing{0, 0, 0};                      // mm: column step, row step, slice step
  std::array<double, 3> origin{0, 0, 0};                       // LPS mm of the first voxel
  std::array<double, 9> direction{1, 0, 0, 0, 1, 0, 0, 0, 1};  // as Grid::direction
  std::vector<std::string> transfer_syntaxes;
  bool loadable = true;
  std::string problem;                // why not loadable
  std::vector<std::string> warnings;  // loadable, but the reader should know (e.g. resampled)
  std::optional<PetQuantInfo> pet;
  std::vector<std::string> views;  // NM planar views: "anterior", "posterior", ...
  // False when the files give no Image Orientation (Patient): the grid's direction is then assumed,
  // and which way a planar view's columns run in the patient is not known.
  bool patient_orientation_known = true;
  // Series of other modalities in the same Frame of Reference (PET <-> CT of one PET-CT).
  std::vector<std::string> paired_series;
  std::vector<std::string> files;  // the files holding it
};

struct StudyInfo {
  std::string patient_id;  // pseudonymous in study archives; names are never printed
  std::string study_uid;
  std::string study_date;  // ISO 8601
  std::string description;
  std::vector<SeriesInfo> series;
};

struct SlideLevel {
  std::int64_t width = 0, height = 0;
  double downsample = 1;
};

struct SlideInfo {
  std::string path;
  std::string vendor;
  std::string loader;
  std::int64_t width = 0, height = 0;
  std::optional<double> mpp_x, mpp_y;  // microns per pixel, when the file says
  std::vector<SlideLevel> levels;
};

struct Unreadable {
  std::string path;
  std::string reason;
  bool unclaimed = false;  // no loader recognised the file (as opposed to one that did and failed)
};

// A DICOM object that is about images rather than an image: a structured report (what it measures)
// or a segmentation (its segments), with the series it refers to.
struct DocumentItem {
  std::string name;                 // a measurement group's label or tracking identifier; a segment's label
  std::string tracking_uid;         // the lesion's Tracking UID, when given
  std::vector<std::string> values;  // "Long Axis 37.36 mm (on image 1.2.3)", "12 frames", ...
};
struct DocumentInfo {
  std::string path;
  std::string kind;  // "SR TID 1500 Measurement Report", "SEG (BINARY)", ...
  std::string patient_id, study_uid, series_uid, description;
  std::vector<std::string> referenced_series;
  std::vector<DocumentItem> items;
};

struct Catalog {
  std::vector<StudyInfo> studies;
  std::vector<SlideInfo> slides;
  std::vector<DocumentInfo> documents;  // SRs and SEGs
  std::vector<Unreadable> unreadable;

  // Adds a series under its study, creating the study entry on first sight.
  void add_series(const StudyInfo& study_header, SeriesInfo series);
  std::vector<const SeriesInfo*> all_series() const;
  // Links series that share a Frame of Reference UID across modalities (PET-CT pairs).
  void pair_by_frame_of_reference();
};

// The voxel grid a catalogued series loads onto.
Grid grid_of(const SeriesInfo& s);

}  // namespace oq
