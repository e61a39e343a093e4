#include "dicom_header.h"

#include "wsi_reader.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <sstream>

namespace oq::dicom {

namespace {

std::string get_string(DcmItem* item, const DcmTagKey& tag, bool search_into_sub = false) {
  if (!item) return {};
  OFString v;
  if (item->findAndGetOFStringArray(tag, v, search_into_sub).good()) return v.c_str();
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

Result<FileHeader> read_header(const std::string& path) {
  register_codecs();
  FileHeader out;
  out.path = path;
  DcmFileFormat ff;
  // Large values (pixel data) are not loaded, but the whole file is parsed, so truncation shows.
  OFCondition st = ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 4096, ERM_autoDetect);
  if (st.bad()) return Error(ErrorCode::kUnreadable, std::string("not a readable DICOM file (") + st.text() + ")", path);
  DcmDataset* ds = ff.getDataset();
  DcmMetaInfo* meta = ff.getMetaInfo();

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

  // Pixel data must be all there: a truncated file is refused here, not half-loaded later.
  {
    DcmElement* px = nullptr;
    if (ds->findAndGetElement(DCM_PixelData, px).bad() || !px) return Error(ErrorCode::kUnreadable, "no pixel data", path);
    DcmXfer x(base.transfer_syntax.c_str());
    if (!x.isEncapsulated()) {
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
    out.frames.push_back(std::move(r));
  }
  return out;
}

}  // namespace oq::dicom
