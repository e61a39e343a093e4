#include "pixel_reader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstring>
#include <string>

#include "dicom_header.h"
#include "gdcm_decode.h"

namespace oq::dicom {

struct PixelReader::Impl {
  std::string path;
  std::vector<unsigned char> bytes;  // all frames, host byte order, uncompressed
  int bits_allocated = 0;
  const char* decoder = "dcmtk";

  Status load(const FrameRecord& r) {
    path.clear();
    bytes.clear();
    DcmFileFormat ff;
    OFCondition st = ff.loadFile(r.path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
    if (st.bad()) return Error(ErrorCode::kUnreadable, std::string("cannot read the file (") + st.text() + ")", r.path);
    DcmDataset* ds = ff.getDataset();
    const std::size_t bytes_per = static_cast<std::size_t>((r.bits_allocated + 7) / 8);
    const std::size_t need = static_cast<std::size_t>(r.rows) * r.columns * r.number_of_frames * r.samples_per_pixel * bytes_per;
    DcmXfer original(ds->getOriginalXfer());
    if (original.isEncapsulated()) {
      st = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
      if (st.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit)) {
        // No DCMTK codec (JPEG 2000 in the free toolkit): let GDCM decode it.
        auto g = gdcm_decode_pixels(r.path, need);
        if (!g.ok()) return g.error();
        bytes = std::move(*g);
        decoder = "gdcm";
        bits_allocated = r.bits_allocated;
        path = r.path;
        return ok_status();
      }
    }
    decoder = "dcmtk";
    const void* data = nullptr;
    unsigned long count = 0;
    if (r.bits_allocated == 8) {
      const Uint8* p = nullptr;
      st = ds->findAndGetUint8Array(DCM_PixelData, p, &count);
      data = p;
    } else if (r.bits_allocated == 16) {
      const Uint16* p = nullptr;
      st = ds->findAndGetUint16Array(DCM_PixelData, p, &count);
      data = p;
      count *= 2;
    } else if (r.bits_allocated == 32) {
      const Uint32* p = nullptr;
      st = ds->findAndGetUint32Array(DCM_PixelData, p, &count);
      data = p;
      count *= 4;
    } else {
      return Error(ErrorCode::kUnsupported, "Bits Allocated " + std::to_string(r.bits_allocated) + " is not supported", r.path);
    }
    if (st.bad() || !data)
      return Error(ErrorCode::kUnreadable, std::string("cannot decode pixel data (") + st.text() + ")", r.path);
    if (count < need)
      return Error(ErrorCode::kUnreadable,
                   "pixel data holds " + std::to_string(count) + " bytes, " + std::to_string(need) + " expected (truncated?)",
                   r.path);
    bytes.assign(static_cast<const unsigned char*>(data), static_cast<const unsigned char*>(data) + need);
    bits_allocated = r.bits_allocated;
    path = r.path;
    return ok_status();
  }
};

PixelReader::PixelReader() : impl_(std::make_unique<Impl>()) {
  register_codecs();
}
PixelReader::~PixelReader() = default;
const char* PixelReader::last_decoder() const {
  return impl_->decoder;
}

Status PixelReader::read_frame(const FrameRecord& r, std::vector<std::int32_t>& out) {
  if (r.samples_per_pixel != 1)
    return Error(ErrorCode::kUnsupported, "colour image (" + r.photometric + "): not a greyscale volume", r.path);
  if (impl_->path != r.path) {
    Status s = impl_->load(r);
    if (!s.ok()) return s;
  }
  const std::size_t n = static_cast<std::size_t>(r.rows) * static_cast<std::size_t>(r.columns);
  out.resize(n);
  const int stored = r.bits_stored > 0 ? r.bits_stored : r.bits_allocated;
  const bool is_signed = r.pixel_representation == 1;
  const std::uint32_t mask = stored >= 32 ? 0xffffffffu : ((1u << stored) - 1u);
  const std::uint32_t sign_bit = stored >= 32 ? 0x80000000u : (1u << (stored - 1));
  auto convert = [&](std::uint32_t raw) -> std::int32_t {
    std::uint32_t v = raw & mask;
    if (is_signed && (v & sign_bit)) return static_cast<std::int32_t>(v | ~mask);
    return static_cast<std::int32_t>(v);
  };
  const std::size_t offset = n * static_cast<std::size_t>(r.frame);
  switch (impl_->bits_allocated) {
    case 8: {
      const auto* p = impl_->bytes.data() + offset;
      for (std::size_t i = 0; i < n; ++i) out[i] = convert(p[i]);
      break;
    }
    case 16: {
      const auto* p = reinterpret_cast<const std::uint16_t*>(impl_->bytes.data()) + offset;
      for (std::size_t i = 0; i < n; ++i) out[i] = convert(p[i]);
      break;
    }
    default: {
      const auto* p = reinterpret_cast<const std::uint32_t*>(impl_->bytes.data()) + offset;
      for (std::size_t i = 0; i < n; ++i) out[i] = convert(p[i]);
      break;
    }
  }
  return ok_status();
}

}  // namespace oq::dicom
