// Readers' measurements made elsewhere, brought back into the study store: an SR that OncoQuant
// wrote and a reader then edited in OHIF (`store import-sr`). Each is matched to a lesion of the
// patient by its Tracking UID, else by lying on a lesion measured at that time point (OHIF gives
// an edited measurement a new Tracking UID); a changed value becomes an edited measurement by the
// reader (the automatic one stays, the audit log names who and what), an unchanged one is left as
// it is, and what matches nothing is listed, never dropped.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "oq/measurement.h"
#include "oq/recist/store.h"

namespace oq::recist {

struct ImportedMeasurement {
  std::string tracking_uid;  // as the SR has it
  std::string label;         // what the SR shows (OHIF's label), for the listing
  double long_axis_mm = 0;
  std::optional<double> short_axis_mm;
  std::optional<Caliper> long_axis, short_axis;  // in patient space, when the images were at hand
};

struct ImportOutcome {
  struct Match {
    std::string lesion, how;  // how: "tracking UID" or "location"
  };
  std::vector<Match> edited, unchanged;
  std::vector<std::string> unmatched;  // each with the reason
};

// Imports the measurements of one time point (`date`) in one transaction.
Result<ImportOutcome> import_reader_measurements(StudyStore& store, const std::string& pseudonym, int date,
                                                 const std::vector<ImportedMeasurement>& measurements, const Actor& who);

}  // namespace oq::recist
