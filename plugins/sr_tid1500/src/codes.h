// The codes OncoQuant's SRs use: SNOMED CT and DICOM where the standard has one, else OncoQuant's
// own scheme "99OQ" (a private coding scheme designator, as PS3.16 section 8.2 allows) with a
// meaning a reader understands.
#pragma once

#include <optional>
#include <string>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmsr/dsrcodvl.h>

#include "oq/measurement.h"

namespace oq::sr {

inline constexpr const char* kOncoQuantScheme = "99OQ";

DSRCodedEntryValue finding_code();  // every measured lesion: SNOMED CT "Lesion"
// The SNOMED CT body structure of an organ as the store names it, when there is one.
std::optional<DSRCodedEntryValue> finding_site_of(const std::string& organ, bool nodal);
DSRCodedEntryValue status_code(MeasurementStatus status);
DSRCodedEntryValue method_code(MeasurementMethod method);
DSRCodedEntryValue response_code(const std::string& response);  // "PR", "iUPD", "NON-CR/NON-PD", ...

}  // namespace oq::sr
