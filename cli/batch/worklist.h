// The batch worklist: what a trial's imaging core hands the data manager besides the images. Per
// patient, the treatment lines (start date, regimen, criteria), the baseline lesions a reader chose
// (a seed point each, role, organ) and the biopsy slides with their marker. Read from the demo
// archive's manifest.json form or from a CSV (one row per line, lesion or slide); both are
// documented in the README.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/volume.h"

namespace oq::cli::batch {

struct WorklistLine {
  int number = 1;
  std::string start_date;  // ISO 8601
  std::string regimen;
  std::string criteria = "RECIST1.1";  // or iRECIST
  // Which scan of the patient (0 = the first by date) is the line's baseline; unset: the last scan
  // on or before the start date, else the first after it.
  std::optional<int> baseline_scan;
};

struct WorklistLesion {
  std::string id;               // T1, N1, ... as the readers call it
  std::string role = "target";  // target or non-target
  std::string organ = "unspecified";
  bool nodal = false;
  Vec3 seed_mm{0, 0, 0};   // LPS
  std::string series_uid;  // the baseline CT it was chosen on, when given
};

struct WorklistSlide {
  std::string marker;  // ER, PR or HER2
  std::string path;    // absolute, or relative to the worklist's folder
};

struct WorklistPatient {
  std::string id;
  std::vector<WorklistLine> lines;
  std::vector<WorklistLesion> lesions;  // line 1's baseline
  std::vector<WorklistSlide> slides;
};

struct Worklist {
  std::string source;  // the file read
  std::vector<WorklistPatient> patients;
  const WorklistPatient* find(const std::string& id) const;
};

// Reads a worklist by its extension: .json (manifest form) or .csv. Errors name the file and the
// entry (patient, row) that is wrong; nothing is guessed.
Result<Worklist> read_worklist(const std::string& path);

Result<Worklist> worklist_from_manifest_text(const std::string& text, const std::string& source);
Result<Worklist> worklist_from_csv_text(const std::string& text, const std::string& source);

}  // namespace oq::cli::batch
