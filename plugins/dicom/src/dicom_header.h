// Reads DICOM headers with DCMTK into FrameRecords (the adapter's edge: DCMTK types stay here).
#pragma once

#include <string>

#include "frame_record.h"
#include "oq/error.h"

namespace oq::dicom {

// Registers DCMTK's decoders (JPEG, JPEG-LS, RLE) once per process.
void register_codecs();

// Reads one file's header (pixel data is checked for presence and length, not decoded).
Result<FileHeader> read_header(const std::string& path);

// Human name of a SOP Class UID ("CT Image Storage").
std::string sop_class_name(const std::string& uid);
// Human name of a transfer syntax UID.
std::string transfer_syntax_name(const std::string& uid);

}  // namespace oq::dicom
