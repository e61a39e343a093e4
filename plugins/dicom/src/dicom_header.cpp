#include "dicom_header.h"

#include "wsi_reader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dctag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace oq::dicom {

namespace {

// Whether the file being read declares Latin-1 (ISO_IR 100), the commonest Western character set.
// Set by read_header for the file it reads (one file per thread at a time).
thread_local bool t_latin1 = false;

// The most one image file may decode to: a whole-body CT series is about 1 GiB, a large
// multi-frame object a few; a file beyond this is refused before anything is allocated.
constexpr unsigned long long kMostDecodedBytes = 8ull << 30;
// A frame: the largest radiographs (43 x 43 cm detectors) take about 50 MiB.
constexpr unsigned long long kMostFrameBytes = 1ull << 30;

// DICOM text as UTF-8 for JSON and terminals: Latin-1 bytes become their code points; bytes of
// any other set that are not UTF-8 become U+FFFD; control characters (terminal escape codes in a
// Patient ID) become '?'. (nlohmann::json refused invalid UTF-8 and `info --json` aborted.)
std::string as_utf8(const std::string& raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c < 0x80) {
      out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
      ++i;
      continue;
    }
    if (t_latin1) {
      if (c < 0xa0) {
        out += '?';  // C1 controls
      } else {
        out += static_cast<char>(0xc0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3f));
      }
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence is kept as it is.
    const std::size_t len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    bool ok = len > 0 && i + len <= raw.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(raw[i + k]) & 0xc0) == 0x80;
    if (ok) {
      out.append(raw, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string get_string(DcmItem* item, const DcmTagKey& tag, bool search_into_sub = false) {
  if (!item) return {};
  OFString v;
  if (item->findAndGetOFStringArray(tag, v, search_into_sub).good()) return as_utf8(std::string(v.c_str(), v.length()));
  return {};
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  std::size_t b = 0;
  while (b < s.size() && s[b] == ' ') ++b;
  return s.substr(b);
}

std::optional<double> get_double(DcmItem* item, const DcmTagKey& tag, unsigned long pos = 0) {
  if (!item) return std::nullopt;
  Float64 v = 0;
  if (item->findAndGetFloat64(tag, v, pos).good() && std::isfinite(v)) return v;
  OFString s;
  if (item->findAndGetOFString(tag, s, pos).good() && !s.empty()) {
    try {
      return std::stod(s.c_str());
    } catch (...) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

int get_int(DcmItem* item, const DcmTagKey& tag, int fallback = 0) {
  if (!item) return fallback;
  Uint16 u = 0;
  if (item->findAndGetUint16(tag, u).good()) return u;
  Sint32 s = 0;
  if (item->findAndGetSint32(tag, s).good()) return s;
  auto d = get_double(item, tag);
  return d ? static_cast<int>(*d) : fallback;
}

template <std::size_t N>
std::optional<std::array<double, N>> get_vector(DcmItem* item, const DcmTagKey& tag) {
  if (!item) return std::nullopt;
  std::array<double, N> out{};
  for (std::size_t i = 0; i < N; ++i) {
    auto v = get_double(item, tag, i);
    if (!v) return std::nullopt;
    out[i] = *v;
  }
  return out;
}

// Why a frame's geometry or rescale cannot be used (empty when it can): values that are there but
// are no finite number, or no plausible one. Taken for missing they would give a NaN origin, an
// infinite voxel or an all-NaN volume (bad-input/README.md); they are refused, naming the tag.
std::string implausible(const FrameRecord& r) {
  auto text = [](const double* v, std::size_t n) {
    std::ostringstream s;
    for (std::size_t i = 0; i < n; ++i) s << (i ? "\\" : "") << v[i];
    return s.str();
  };
  auto finite = [](const double* v, std::size_t n) { return std::all_of(v, v + n, [](double x) { return std::isfinite(x); }); };
  if (const auto& ps = r.pixel_spacing) {
    // Between a whole-slide image's 0.1 um and a planar gamma camera's few mm; 100 mm is no pixel.
    if (!finite(ps->data(), 2) || (*ps)[0] <= 0 || (*ps)[1] <= 0 || (*ps)[0] > 100 || (*ps)[1] > 100)
      return "Pixel Spacing (0028,0030) " + text(ps->data(), 2) + " mm is not a pixel size (each above 0, at most 100 mm)";
  }
  if (const auto& o = r.orientation) {
    const double* v = o->data();
    const double row = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]),
                 col = std::sqrt(v[3] * v[3] + v[4] * v[4] + v[5] * v[5]);
    const double dot = v[0] * v[3] + v[1] * v[4] + v[2] * v[5];
    if (!finite(v, 6) || std::abs(row - 1) > 0.05 || std::abs(col - 1) > 0.05 || std::abs(dot) > 0.05)
      return "Image Orientation (Patient) (0020,0037) " + text(v, 6) + " is not two orthogonal unit vectors";
  }
  if (const auto& p = r.position)
    if (!finite(p->data(), 3) || std::any_of(p->begin(), p->end(), [](double x) { return std::abs(x) > 1e6; }))
      return "Image Position (Patient) (0020,0032) " + text(p->data(), 3) + " is not a position in mm";
  if (!std::isfinite(r.slope) || !std::isfinite(r.intercept))
    return "Rescale Slope / Intercept (0028,1053 / 1052) " + text(&r.slope, 1) + " / " + text(&r.intercept, 1) +
           " are not numbers: no pixel value can be read";
  if (!std::isfinite(r.slice_thickness) || r.slice_thickness < 0)
    return "Slice Thickness (0018,0050) " + text(&r.slice_thickness, 1) + " is not a thickness";
  return "";
}

// Why the Image Pixel module's small integers cannot be trusted (empty when they can): each must be
// one US value (2 bytes). A file whose Pixel Representation came as UL of 2 bytes made GDCM's
// decoder abort the whole process on an assertion (found by fuzz_dicom); it is refused first.
std::string malformed_pixel_module(DcmItem* ds) {
  static const std::pair<DcmTagKey, const char*> kTags[] = {{DCM_SamplesPerPixel, "Samples per Pixel (0028,0002)"},
                                                            {DCM_PlanarConfiguration, "Planar Configuration (0028,0006)"},
                                                            {DCM_Rows, "Rows (0028,0010)"},
                                                            {DCM_Columns, "Columns (0028,0011)"},
                                                            {DCM_BitsAllocated, "Bits Allocated (0028,0100)"},
                                                            {DCM_BitsStored, "Bits Stored (0028,0101)"},
                                                            {DCM_HighBit, "High Bit (0028,0102)"},
                                                            {DCM_PixelRepresentation, "Pixel Representation (0028,0103)"}};
  for (const auto& [tag, name] : kTags) {
    DcmElement* e = nullptr;
    if (ds->findAndGetElement(tag, e).bad() || !e) continue;
    if (e->getVR() != EVR_US || e->getLength() != 2)
      return std::string(name) + " is " + DcmVR(e->getVR()).getVRName() + " of " + std::to_string(e->getLength()) +
             " bytes, not one US value: the image header is corrupt";
  }
  return "";
}

DcmItem* seq_item(DcmItem* parent, const DcmTagKey& seq, unsigned long index = 0) {
  if (!parent) return nullptr;
  DcmItem* item = nullptr;
  if (parent->findAndGetSequenceItem(seq, item, static_cast<signed long>(index)).good()) return item;
  return nullptr;
}

// Functional-group lookup for multi-frame objects: the frame's own group, else the shared one.
DcmItem* functional_group(DcmDataset* ds, int frame, const DcmTagKey& macro) {
  if (DcmItem* per = seq_item(ds, DCM_PerFrameFunctionalGroupsSequence, static_cast<unsigned long>(frame)))
    if (DcmItem* m = seq_item(per, macro)) return m;
  if (DcmItem* shared = seq_item(ds, DCM_SharedFunctionalGroupsSequence))
    if (DcmItem* m = seq_item(shared, macro)) return m;
  return nullptr;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string view_name(DcmItem* view_code_item) {
  std::string meaning = lower(trim(get_string(view_code_item, DCM_CodeMeaning)));
  if (meaning.find("anterior") != std::string::npos) return "anterior";
  if (meaning.find("posterior") != std::string::npos) return "posterior";
  return meaning;
}

// Why an object is not an image series, or empty when it may be one. Modality catches SOP
// classes newer than this DCMTK's dictionary (e.g. Label Map Segmentation).
std::string non_image_reason(const std::string& sop, const std::string& modality) {
  if (sop == UID_VLWholeSlideMicroscopyImageStorage || modality == "SM") return kWholeSlideReason;
  if (sop == UID_SegmentationStorage || modality == "SEG") return "a DICOM SEG segmentation, not an image series";
  if (sop == UID_RTStructureSetStorage || modality == "RTSTRUCT") return "an RT Structure Set (contours), not an image series";
  if (sop == UID_RealWorldValueMappingStorage || modality == "RWV")
    return "a Real World Value Mapping object, not an image series";
  const char* sop_modality = dcmSOPClassUIDToModality(sop.c_str());
  const std::string m = sop_modality ? sop_modality : modality;
  if (m == "SR" || modality == "SR") return "a DICOM Structured Report (" + sop_class_name(sop) + "), not an image series";
  if (m == "KO" || m == "PR" || m == "REG" || m == "RTPLAN") return "a " + sop_class_name(sop) + " object, not an image series";
  return {};
}

}  // namespace

void register_codecs() {
  static std::once_flag once;
  std::call_once(once, [] {
    // DCMTK logs parser warnings on stderr by default; we report our own errors instead.
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DcmRLEDecoderRegistration::registerCodecs();
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
  });
}

std::string sop_class_name(const std::string& uid) {
  const char* name = dcmFindNameOfUID(uid.c_str(), nullptr);
  if (!name) return uid.empty() ? std::string("unknown SOP class") : uid;
  // DCMTK's keywords run words together ("ComprehensiveSRStorage"): space them for people.
  const std::string k = name;
  std::string out;
  for (std::size_t i = 0; i < k.size(); ++i) {
    const bool up = std::isupper(static_cast<unsigned char>(k[i])) != 0;
    if (i > 0 && up) {
      const bool prev_lower = std::islower(static_cast<unsigned char>(k[i - 1])) != 0;
      const bool next_lower = i + 1 < k.size() && std::islower(static_cast<unsigned char>(k[i + 1])) != 0;
      const bool prev_upper = std::isupper(static_cast<unsigned char>(k[i - 1])) != 0;
      if (prev_lower || (prev_upper && next_lower)) out += ' ';
    }
    out += k[i];
  }
  return out;
}

std::string transfer_syntax_name(const std::string& uid) {
  if (uid.empty()) return "Implicit VR Little Endian (no meta header)";
  DcmXfer x(uid.c_str());
  if (x.getXfer() == EXS_Unknown) return uid;
  return x.getXferName();
}

// How deeply a file nests sequences, read from its bytes before DCMTK parses it: DCMTK recurses
// once per level and 20 000 nested sequences overflowed the stack (SIGSEGV in `info`). Real objects
// nest a dozen levels (a structured report's content tree); past kDeepestNesting the file is
// refused. Walks the elements up to the pixel data (at most the first 64 MiB) with an explicit
// stack; a deflated data set is not walked (DCMTK inflates it itself).
constexpr int kDeepestNesting = 64;
std::optional<std::string> nested_too_deep(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  // A file that vanished since it was listed has no size: not walked here; the read that follows
  // names it (a throwing file_size ended the process).
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) return std::nullopt;
  std::vector<char> buf(static_cast<std::size_t>(std::min<std::uintmax_t>(size, 64u << 20)));
  in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
  const auto* b = reinterpret_cast<const unsigned char*>(buf.data());
  const std::size_t n = static_cast<std::size_t>(in.gcount());
  bool big = false, explicit_vr = true;
  std::size_t pos = 0;
  // Reads past the end give 0 (a truncated header then simply ends the walk): fuzz_slide found a
  // long-form meta element cut 2 bytes short read beyond the buffer.
  auto u16 = [&](std::size_t at, bool be) -> unsigned {
    if (at + 2 > n) return 0;
    return be ? (b[at] << 8 | b[at + 1]) : (b[at] | b[at + 1] << 8);
  };
  auto u32 = [&](std::size_t at, bool be) -> std::uint32_t {
    if (at + 4 > n) return 0;
    return be ? (std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 | std::uint32_t(b[at + 2]) << 8 | b[at + 3])
              : (std::uint32_t(b[at]) | std::uint32_t(b[at + 1]) << 8 | std::uint32_t(b[at + 2]) << 16 |
                 std::uint32_t(b[at + 3]) << 24);
  };
  // Explicit VRs whose length takes 4 bytes after 2 reserved ones (PS3.5 7.1.2).
  auto long_length = [&](std::size_t at) {
    if (at + 6 > n) return false;
    for (const char* vr : {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
      if (b[at + 4] == vr[0] && b[at + 5] == vr[1]) return true;
    return false;
  };
  if (n >= 132 && std::memcmp(b + 128, "DICM", 4) == 0) {
    // The meta group: explicit VR little endian; it names the data set's transfer syntax.
    pos = 132;
    std::string ts;
    while (pos + 8 <= n && u16(pos, false) == 0x0002) {
      const unsigned el = u16(pos + 2, false);
      const bool long_form = long_length(pos);
      const std::size_t head = long_form ? 12 : 8;
      const std::size_t len = long_form ? u32(pos + 8, false) : static_cast<std::size_t>(u16(pos + 6, false));
      if (el == 0x0010 && pos + head + len <= n) ts.assign(buf.data() + pos + head, len);
      pos += head + len;
    }
    while (!ts.empty() && (ts.back() == '\0' || ts.back() == ' ')) ts.pop_back();
    if (ts == "1.2.840.10008.1.2.1.99") return std::nullopt;  // deflated
    explicit_vr = ts != "1.2.840.10008.1.2";
    big = ts == "1.2.840.10008.1.2.2";
  } else if (n >= 6) {
    explicit_vr = std::isupper(b[4]) && std::isupper(b[5]);
  }
  constexpr std::uint32_t kUndefined = 0xffffffff;
  std::vector<std::size_t> ends;  // where each open sequence or item ends (SIZE_MAX: at its delimiter)
  while (pos + 8 <= n) {
    while (!ends.empty() && ends.back() != SIZE_MAX && pos >= ends.back()) ends.pop_back();
    if (static_cast<int>(ends.size()) > kDeepestNesting)
      return "sequences nested more than " + std::to_string(kDeepestNesting) + " levels deep (a damaged or hostile file)";
    const unsigned group = u16(pos, big), element = u16(pos + 2, big);
    if (group == 0xfffe) {  // items and delimiters: always implicit, little or big endian as the data set
      const std::uint32_t len = u32(pos + 4, big);
      pos += 8;
      if (element == 0xe000)
        ends.push_back(len == kUndefined ? SIZE_MAX : pos + len);
      else if (!ends.empty() && ends.back() == SIZE_MAX)
        ends.pop_back();  // an item or sequence delimiter
      continue;
    }
    if (group == 0x7fe0 && element == 0x0010 && ends.empty()) return std::nullopt;  // the pixel data: nothing nests after it
    bool sequence = false;
    std::uint32_t len = 0;
    std::size_t head = 8;
    if (explicit_vr) {
      const char vr[3] = {static_cast<char>(b[pos + 4]), static_cast<char>(b[pos + 5]), 0};
      const bool long_form = long_length(pos);
      if (long_form) {
        if (pos + 12 > n) break;
        len = u32(pos + 8, big);
        head = 12;
      } else {
        len = u16(pos + 6, big);
      }
      sequence = std::strcmp(vr, "SQ") == 0 || (len == kUndefined && std::strcmp(vr, "UN") == 0);
    } else {
      len = u32(pos + 4, big);
      sequence =
          len == kUndefined || DcmTag(DcmTagKey(static_cast<Uint16>(group), static_cast<Uint16>(element))).getEVR() == EVR_SQ;
    }
    pos += head;
    if (sequence) {
      ends.push_back(len == kUndefined ? SIZE_MAX : pos + len);  // its items are walked
    } else if (len == kUndefined) {
      return std::nullopt;  // encapsulated data outside the pixel data: leave it to DCMTK
    } else {
      pos += len;
    }
  }
  return std::nullopt;
}

Result<FileHeader> read_header(const std::string& path) {
  register_codecs();
  if (const auto deep = nested_too_deep(path)) return Error(ErrorCode::kUnreadable, *deep, path);
  FileHeader out;
  out.path = path;
  DcmFileFormat ff;
  // Large values (pixel data) are not loaded, but the whole file is parsed, so truncation shows.
  OFCondition st = ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
  if (st.bad()) return Error(ErrorCode::kUnreadable, std::string("not a readable DICOM file (") + st.text() + ")", path);
  DcmDataset* ds = ff.getDataset();
  DcmMetaInfo* meta = ff.getMetaInfo();
  {
    OFString charset;
    t_latin1 = ds->findAndGetOFStringArray(DCM_SpecificCharacterSet, charset).good() &&
               std::string(charset.c_str()).find("ISO_IR 100") != std::string::npos;
  }

  std::string sop = trim(get_string(ds, DCM_SOPClassUID));
  if (sop.empty()) sop = trim(get_string(meta, DCM_MediaStorageSOPClassUID));
  if (sop == UID_MediaStorageDirectoryStorage || !get_string(ds, DCM_DirectoryRecordSequence).empty() ||
      ds->tagExists(DCM_DirectoryRecordSequence)) {
    out.is_dicomdir = true;
    out.not_image_reason = "a DICOMDIR (index of the files beside it)";
    const std::filesystem::path base = std::filesystem::path(path).parent_path();
    DcmSequenceOfItems* records = nullptr;
    if (ds->findAndGetSequence(DCM_DirectoryRecordSequence, records).good() && records) {
      for (unsigned long i = 0; i < records->card(); ++i) {
        DcmItem* rec = records->getItem(i);
        OFString id;
        if (rec->findAndGetOFStringArray(DCM_ReferencedFileID, id).good() && !id.empty()) {
          std::string rel = id.c_str();
          for (auto& c : rel)
            if (c == '\\') c = '/';
          out.dicomdir_files.push_back((base / rel).string());
        }
      }
    }
    return out;
  }

  if (sop.empty() && !ds->tagExists(DCM_PixelData))
    return Error(ErrorCode::kUnreadable, "not a DICOM object: no SOP Class UID and no pixel data", path);
  if (std::string why = non_image_reason(sop, trim(get_string(ds, DCM_Modality))); !why.empty()) {
    out.not_image_reason = why;
    return out;
  }
  if (!ds->tagExists(DCM_PixelData)) {
    out.not_image_reason = sop_class_name(sop) + " without pixel data";
    return out;
  }

  FrameRecord base;
  base.path = path;
  base.sop_class_uid = sop;
  base.transfer_syntax = trim(get_string(meta, DCM_TransferSyntaxUID));
  if (base.transfer_syntax.empty()) {
    // Dataset without meta header: DCMTK detected the encoding while reading.
    DcmXfer x(ds->getOriginalXfer());
    base.transfer_syntax = x.getXferID();
  }
  base.patient_id = trim(get_string(ds, DCM_PatientID));
  base.study_uid = trim(get_string(ds, DCM_StudyInstanceUID));
  base.study_date = trim(get_string(ds, DCM_StudyDate));
  base.study_description = trim(get_string(ds, DCM_StudyDescription));
  base.series_uid = trim(get_string(ds, DCM_SeriesInstanceUID));
  base.sop_instance_uid = trim(get_string(ds, DCM_SOPInstanceUID));
  base.series_description = trim(get_string(ds, DCM_SeriesDescription));
  base.modality = trim(get_string(ds, DCM_Modality));
  base.frame_of_reference_uid = trim(get_string(ds, DCM_FrameOfReferenceUID));
  base.image_type = trim(get_string(ds, DCM_ImageType));
  base.series_number = get_int(ds, DCM_SeriesNumber);
  base.instance_number = get_int(ds, DCM_InstanceNumber);
  base.acquisition_number = get_int(ds, DCM_AcquisitionNumber);
  if (const std::string why = malformed_pixel_module(ds); !why.empty()) return Error(ErrorCode::kUnreadable, why, path);
  base.rows = get_int(ds, DCM_Rows);
  base.columns = get_int(ds, DCM_Columns);
  base.number_of_frames = std::max(1, get_int(ds, DCM_NumberOfFrames, 1));
  base.bits_allocated = get_int(ds, DCM_BitsAllocated);
  base.bits_stored = get_int(ds, DCM_BitsStored, base.bits_allocated);
  base.pixel_representation = get_int(ds, DCM_PixelRepresentation);
  base.samples_per_pixel = get_int(ds, DCM_SamplesPerPixel, 1);
  base.photometric = trim(get_string(ds, DCM_PhotometricInterpretation));
  base.position = get_vector<3>(ds, DCM_ImagePositionPatient);
  base.orientation = get_vector<6>(ds, DCM_ImageOrientationPatient);
  base.pixel_spacing = get_vector<2>(ds, DCM_PixelSpacing);
  if (!base.pixel_spacing) base.pixel_spacing = get_vector<2>(ds, DCM_ImagerPixelSpacing);
  base.slice_thickness = get_double(ds, DCM_SliceThickness).value_or(0);
  base.gantry_tilt = get_double(ds, DCM_GantryDetectorTilt).value_or(0);
  base.slope = get_double(ds, DCM_RescaleSlope).value_or(1);
  base.intercept = get_double(ds, DCM_RescaleIntercept).value_or(0);
  if (base.slope == 0) base.slope = 1;  // a zero slope is a writer's bug, never meant literally

  if (base.rows <= 0 || base.columns <= 0 || base.bits_allocated <= 0)
    return Error(ErrorCode::kUnreadable, "image without Rows, Columns or Bits Allocated", path);
  if (base.bits_allocated != 1 && base.bits_allocated != 8 && base.bits_allocated != 16 && base.bits_allocated != 32)
    return Error(ErrorCode::kUnreadable,
                 "Bits Allocated (0028,0100) is " + std::to_string(base.bits_allocated) + ": images hold 1, 8, 16 or 32", path);
  // What the pixel data would take decoded, checked against the file before anything is
  // allocated: a file claiming 2^31-1 frames or 65535 x 65535 pixels took 5-20 GB, then aborted.
  const unsigned long long decoded = static_cast<unsigned long long>(base.rows) * static_cast<unsigned long long>(base.columns) *
                                     static_cast<unsigned long long>(base.number_of_frames) *
                                     static_cast<unsigned long long>(std::max(1, base.samples_per_pixel)) *
                                     static_cast<unsigned long long>((base.bits_allocated + 7) / 8);
  if (decoded > kMostDecodedBytes || decoded / static_cast<unsigned long long>(base.number_of_frames) > kMostFrameBytes) {
    std::ostringstream m;
    m << base.columns << " x " << base.rows << " pixels x " << base.number_of_frames << " frames would decode to "
      << decoded / (1ull << 20) << " MiB, beyond what one image holds (" << kMostFrameBytes / (1ull << 20) << " MiB a frame, "
      << kMostDecodedBytes / (1ull << 30) << " GiB a file)";
    return Error(ErrorCode::kUnreadable, m.str(), path);
  }

  // Pixel data must be all there: a truncated file is refused here, not half-loaded later.
  {
    DcmElement* px = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, px).bad() || !px) return Error(ErrorCode::kUnreadable, "no pixel data", path);
    DcmXfer x(base.transfer_syntax.c_str());
    if (x.isEncapsulated()) {
      // Each frame starts a fragment of its own (PS3.5 A.4): more frames than fragments is a lie.
      DcmPixelSequence* seq = nullptr;
      const DcmRepresentationParameter* rep = nullptr;
      auto* pd = dynamic_cast<DcmPixelData*>(px);
      if (pd && pd->getEncapsulatedRepresentation(x.getXfer(), rep, seq).good() && seq) {
        const unsigned long fragments = seq->card() > 0 ? seq->card() - 1 : 0;  // the first item is the offset table
        if (static_cast<unsigned long>(base.number_of_frames) > fragments)
          return Error(ErrorCode::kUnreadable,
                       "Number of Frames (0028,0008) is " + std::to_string(base.number_of_frames) + " but the pixel data holds " +
                           std::to_string(fragments) + " fragment" + (fragments == 1 ? "" : "s"),
                       path);
      }
    } else {
      const unsigned long long need = static_cast<unsigned long long>(base.rows) * base.columns * base.number_of_frames *
                                      base.samples_per_pixel * ((base.bits_allocated + 7) / 8);
      const unsigned long long have = px->getLengthField();
      if (base.bits_allocated >= 8 && have < need) {
        std::ostringstream m;
        m << "pixel data has " << have << " bytes, " << need << " expected (truncated file?)";
        return Error(ErrorCode::kUnreadable, m.str(), path);
      }
    }
  }

  // PET series-level values (QIBA / specs/suv.md).
  if (base.modality == "PT") {
    pet::SeriesHeader ph;
    ph.manufacturer = trim(get_string(ds, DCM_Manufacturer));
    ph.units = trim(get_string(ds, DCM_Units));
    ph.suv_type = trim(get_string(ds, DCM_SUVType));
    ph.decay_correction = trim(get_string(ds, DCM_DecayCorrection));
    {
      std::string ci = get_string(ds, DCM_CorrectedImage);
      std::stringstream ss(ci);
      std::string code;
      while (std::getline(ss, code, '\\')) ph.corrected_image.push_back(trim(code));
    }
    ph.patient_sex = trim(get_string(ds, DCM_PatientSex));
    ph.weight_kg = get_double(ds, DCM_PatientWeight);
    ph.height_m = get_double(ds, DCM_PatientSize);
    ph.series_date = trim(get_string(ds, DCM_SeriesDate));
    ph.series_time = trim(get_string(ds, DCM_SeriesTime));
    if (DcmItem* rp = seq_item(ds, DCM_RadiopharmaceuticalInformationSequence)) {
      ph.total_dose = get_double(rp, DCM_RadionuclideTotalDose);
      ph.half_life_s = get_double(rp, DCM_RadionuclideHalfLife);
      ph.injection_time = trim(get_string(rp, DCM_RadiopharmaceuticalStartTime));
      ph.injection_datetime = trim(get_string(rp, DCM_RadiopharmaceuticalStartDateTime));
      if (DcmItem* nuc = seq_item(rp, DCM_RadionuclideCodeSequence)) ph.radionuclide = trim(get_string(nuc, DCM_CodeMeaning));
    }
    // GE private Post-Injection / Scan DateTime (0009,100D), creator "GEMS_PETD_01".
    {
      OFString creator;
      if (ds->findAndGetOFString(DcmTagKey(0x0009, 0x0010), creator).good() &&
          std::string(creator.c_str()).find("GEMS_PETD") == 0)
        ph.ge_scan_datetime = trim(get_string(ds, DcmTagKey(0x0009, 0x100d)));
    }
    out.pet_series = ph;
    base.pet_frame.acquisition_date = trim(get_string(ds, DCM_AcquisitionDate));
    base.pet_frame.acquisition_time = trim(get_string(ds, DCM_AcquisitionTime));
    base.pet_frame.acquisition_datetime = trim(get_string(ds, DCM_AcquisitionDateTime));
    // Philips private group 7053: SUV Scale Factor (1000) and Activity Concentration Scale Factor (1009).
    base.pet_frame.philips_suv_factor = get_double(ds, DcmTagKey(0x7053, 0x1000));
    base.pet_frame.philips_activity_factor = get_double(ds, DcmTagKey(0x7053, 0x1009));
    base.pet_frame.frame_duration_ms = get_double(ds, DCM_ActualFrameDuration);
    base.pet_frame.frame_reference_ms = get_double(ds, DCM_FrameReferenceTime);
  }

  const bool multiframe_fg =
      ds->tagExists(DCM_PerFrameFunctionalGroupsSequence) || ds->tagExists(DCM_SharedFunctionalGroupsSequence);
  for (int f = 0; f < base.number_of_frames; ++f) {
    FrameRecord r = base;
    r.frame = f;
    if (multiframe_fg) {
      if (DcmItem* pos = functional_group(ds, f, DCM_PlanePositionSequence))
        r.position = get_vector<3>(pos, DCM_ImagePositionPatient);
      if (DcmItem* ori = functional_group(ds, f, DCM_PlaneOrientationSequence))
        r.orientation = get_vector<6>(ori, DCM_ImageOrientationPatient);
      if (DcmItem* pm = functional_group(ds, f, DCM_PixelMeasuresSequence)) {
        if (auto ps = get_vector<2>(pm, DCM_PixelSpacing)) r.pixel_spacing = ps;
        if (auto th = get_double(pm, DCM_SliceThickness)) r.slice_thickness = *th;
      }
      if (DcmItem* pvt = functional_group(ds, f, DCM_PixelValueTransformationSequence)) {
        r.slope = get_double(pvt, DCM_RescaleSlope).value_or(r.slope);
        r.intercept = get_double(pvt, DCM_RescaleIntercept).value_or(r.intercept);
        if (r.slope == 0) r.slope = 1;
      }
      if (DcmItem* fc = functional_group(ds, f, DCM_FrameContentSequence)) {
        const std::string adt = trim(get_string(fc, DCM_FrameAcquisitionDateTime));
        if (!adt.empty()) r.pet_frame.acquisition_datetime = adt;
      }
    }
    if (base.modality == "NM") {
      // Planar NM: frames map to detectors (Detector Vector), each detector states its view.
      r.detector = static_cast<int>(get_double(ds, DCM_DetectorVector, static_cast<unsigned long>(f)).value_or(1));
      DcmItem* det = seq_item(ds, DCM_DetectorInformationSequence, static_cast<unsigned long>(std::max(0, r.detector - 1)));
      if (DcmItem* view = seq_item(det, DCM_ViewCodeSequence)) r.view = view_name(view);
      if (r.view.empty())
        if (DcmItem* view = seq_item(ds, DCM_ViewCodeSequence)) r.view = view_name(view);
      if (det) {
        if (auto p = get_vector<3>(det, DCM_ImagePositionPatient)) r.position = p;
        if (auto o = get_vector<6>(det, DCM_ImageOrientationPatient)) r.orientation = o;
      }
    }
    if (const std::string why = implausible(r); !why.empty()) return Error(ErrorCode::kUnreadable, why, path);
    out.frames.push_back(std::move(r));
  }
  return out;
}

}  // namespace oq::dicom
