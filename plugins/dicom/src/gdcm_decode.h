// GDCM behind its own translation unit: used only for what DCMTK cannot decode (JPEG 2000).
#pragma once

#include <string>
#include <vector>

#include "oq/error.h"

namespace oq::dicom {

// All frames' stored values, uncompressed, host byte order; `expected_bytes` guards the size.
Result<std::vector<unsigned char>> gdcm_decode_pixels(const std::string& path, std::size_t expected_bytes);

}  // namespace oq::dicom
