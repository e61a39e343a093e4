#include "pixel_reader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cstring>
#include <string>

#include "dicom_header.h"
#include "gdcm_decode.h"
#include "oq/isolation.h"

namespace oq::dicom {

namespace {

// The stored values of a dataset whose pixel data is (now) native, copied out: exactly `need` bytes.
Result<std::size_t> copy_native(DcmDataset& ds, int bits_allocated, std::size_t need, unsigned char* out) {
  const void* data = nullptr;
  unsigned long count = 0;
  OFCondition st;
  if (bits_allocated == 8) {
    const Uint8* p = nullptr;
    st = ds.findAndGetUint8Array(DCM_PixelData, p, &count);
    data = p;
  } else if (bits_allocated == 16) {
    const Uint16* p = nullptr;
    st = ds.findAndGetUint16Array(DCM_PixelData, p, &count);
    data = p;
    count *= 2;
  } else if (bits_allocated == 32) {
    const Uint32* p = nullptr;
    st = ds.findAndGetUint32Array(DCM_PixelData, p, &count);
    data = p;
    count *= 4;
  } else {
    return Error(ErrorCode::kUnsupported, "Bits Allocated " + std::to_string(bits_allocated) + " is not supported");
  }
  if (st.bad() || !data) return Error(ErrorCode::kUnreadable, std::string("cannot decode pixel data (") + st.text() + ")");
  if (count < need)
    return Error(ErrorCode::kUnreadable,
                 "pixel data holds " + std::to_string(count) + " bytes, " + std::to_string(need) + " expected (truncated?)");
  std::memcpy(out, data, need);
  return need;
}

// Which decoder served, kept in the byte after the pixels the decoding process returns.
constexpr unsigned char kByDcmtk = 1, kByGdcm = 2;

// What the decoding process needs to know of a file: where it is and how many bytes it holds.
struct DecodeRequest {
  std::size_t need = 0;
  int bits_allocated = 0;
  std::string path;

  Bytes encode() const {
    Bytes b(sizeof need + sizeof bits_allocated + path.size());
    std::memcpy(b.data(), &need, sizeof need);
    std::memcpy(b.data() + sizeof need, &bits_allocated, sizeof bits_allocated);
    std::memcpy(b.data() + sizeof need + sizeof bits_allocated, path.data(), path.size());
    return b;
  }
  static DecodeRequest decode(const Bytes& b) {
    DecodeRequest r;
    if (b.size() < sizeof r.need + sizeof r.bits_allocated) return r;
    std::memcpy(&r.need, b.data(), sizeof r.need);
    std::memcpy(&r.bits_allocated, b.data() + sizeof r.need, sizeof r.bits_allocated);
    r.path.assign(b.begin() + static_cast<std::ptrdiff_t>(sizeof r.need + sizeof r.bits_allocated), b.end());
    return r;
  }
};

// Runs in the decoding process (oq/isolation.h): a codec that aborts or crashes on a corrupt
// stream (GDCM's JPEG header parser asserts) then costs this file an error, not the whole run.
// DCMTK decodes what it has a codec for; JPEG 2000, which the free DCMTK cannot, goes to GDCM.
Result<Bytes> decompress(const Bytes& encoded) {
  const DecodeRequest req = DecodeRequest::decode(encoded);
  DcmFileFormat ff;
  OFCondition st = ff.loadFile(req.path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
  if (st.bad()) return Error(ErrorCode::kUnreadable, std::string("cannot read the file (") + st.text() + ")");
  DcmDataset& ds = *ff.getDataset();
  Bytes out(req.need + 1);
  st = ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (st.good() && ds.canWriteXfer(EXS_LittleEndianExplicit)) {
    auto n = copy_native(ds, req.bits_allocated, req.need, out.data());
    if (!n) return n.error();
    out.back() = kByDcmtk;
    return out;
  }
  auto g = gdcm_decode_pixels(req.path, req.need);
  if (!g) return g.error();
  std::memcpy(out.data(), g->data(), req.need);
  out.back() = kByGdcm;
  return out;
}

}  // namespace

struct PixelReader::Impl {
  std::string path;
  Bytes bytes;  // all frames, host byte order, uncompressed
  int bits_allocated = 0;
  const char* decoder = "dcmtk";
  IsolatedWorker decoding_process{decompress};  // started at the first compressed file

  Status load(const FrameRecord& r) {
    path.clear();
    bytes.clear();
    const std::size_t bytes_per = static_cast<std::size_t>((r.bits_allocated + 7) / 8);
    const std::size_t need = static_cast<std::size_t>(r.rows) * r.columns * r.number_of_frames * r.samples_per_pixel * bytes_per;
    if (DcmXfer(r.transfer_syntax.c_str()).isEncapsulated()) {
      DecodeRequest req{need, r.bits_allocated, r.path};
      auto decoded = decoding_process.call(r.path, req.encode(), need + 1);
      if (!decoded) return decoded.error();
      if (decoded->size() != need + 1) return Error(ErrorCode::kInternal, "the decoding process returned a short answer", r.path);
      decoder = decoded->back() == kByGdcm ? "gdcm" : "dcmtk";
      decoded->pop_back();
      bytes = std::move(*decoded);
    } else {
      DcmFileFormat ff;
      OFCondition st = ff.loadFile(r.path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
      if (st.bad()) return Error(ErrorCode::kUnreadable, std::string("cannot read the file (") + st.text() + ")", r.path);
      bytes.resize(need);
      auto n = copy_native(*ff.getDataset(), r.bits_allocated, need, bytes.data());
      if (!n) return n.error().about(r.path);
      decoder = "dcmtk";
    }
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
