// SRs and SEGs as `info` lists them (internal to the DICOM loader).
#pragma once

#include <optional>
#include <string>

#include "oq/study.h"

namespace oq::dicom {

// What a structured report measures or a segmentation segments; nothing for other objects, or
// when the file cannot be read as one (it then stays among the unusable files, with its reason).
std::optional<DocumentInfo> describe_document(const std::string& path);

}  // namespace oq::dicom
