// Decodes stored pixel values frame by frame. DCMTK decodes every transfer syntax it has a codec
// for (uncompressed, deflate, RLE, JPEG, JPEG-LS); JPEG 2000, which the free DCMTK cannot decode,
// goes through GDCM. Compressed data is decoded in a child process (a codec crash costs the file,
// not the run). The last file is kept decoded so multi-frame objects decode once.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "frame_record.h"
#include "oq/error.h"

namespace oq::dicom {

class PixelReader {
 public:
  PixelReader();
  ~PixelReader();
  PixelReader(const PixelReader&) = delete;
  PixelReader& operator=(const PixelReader&) = delete;

  // Stored values of one frame (rows x columns, row-major), masked to Bits Stored and
  // sign-extended when Pixel Representation says signed. No rescale applied.
  Status read_frame(const FrameRecord& record, std::vector<std::int32_t>& out);

  // Which decoder served the last file ("dcmtk" or "gdcm").
  const char* last_decoder() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oq::dicom
