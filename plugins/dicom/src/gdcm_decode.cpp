#include "gdcm_decode.h"

#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmTrace.h>

namespace oq::dicom {

Result<std::vector<unsigned char>> gdcm_decode_pixels(const std::string& path, std::size_t expected_bytes) {
  // GDCM prints its own diagnostics on stderr; we report one error line of our own instead.
  gdcm::Trace::SetError(false);
  gdcm::Trace::SetWarning(false);
  gdcm::Trace::SetDebug(false);
  gdcm::ImageReader reader;
  reader.SetFileName(path.c_str());
  if (!reader.Read()) return Error(ErrorCode::kUnreadable, "no decoder could read the compressed pixel data", path);
  const gdcm::Image& image = reader.GetImage();
  const unsigned long len = image.GetBufferLength();
  if (len < expected_bytes)
    return Error(ErrorCode::kUnreadable,
                 "decoded pixel data holds " + std::to_string(len) + " bytes, " + std::to_string(expected_bytes) + " expected",
                 path);
  std::vector<unsigned char> out(len);
  if (!image.GetBuffer(reinterpret_cast<char*>(out.data())))
    return Error(ErrorCode::kUnreadable,
                 "the compressed pixel data could not be decoded (" + std::string(image.GetTransferSyntax().GetString()) + ")",
                 path);
  out.resize(expected_bytes);
  return out;
}

}  // namespace oq::dicom
