#include "dicom_out.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcddirif.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdicdir.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrat.h>
#include <dcmtk/oflog/oflog.h>

#include <cstdio>
#include <stdexcept>

namespace oq::phantom {
namespace {

std::string num(double v, int decimals = 6) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  // DS values are at most 16 characters; trim trailing zeros to keep them short.
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s.size() > 16 ? s.substr(0, 16) : s;
}

void check(const OFCondition& c, const std::string& what) {
  if (c.bad()) throw std::runtime_error(what + ": " + c.text());
}

void put(DcmItem* item, const DcmTagKey& tag, const std::string& value) {
  check(item->putAndInsertString(tag, value.c_str()), "DICOM attribute");
}

void put_code(DcmItem* parent, const DcmTagKey& seq, const char* value, const char* scheme, const char* meaning) {
  DcmItem* item = nullptr;
  check(parent->findOrCreateSequenceItem(seq, item, 0), "code sequence");
  put(item, DCM_CodeValue, value);
  put(item, DCM_CodingSchemeDesignator, scheme);
  put(item, DCM_CodeMeaning, meaning);
}

// Patient, General Study, Patient Study, General Series, Frame of Reference, General Equipment,
// and the SOP Common module.
void put_common(DcmDataset* ds, const DicomContext& c, const char* sop_class, const std::string& sop_uid, const char* modality) {
  put(ds, DCM_SpecificCharacterSet, "ISO_IR 100");
  put(ds, DCM_SOPClassUID, sop_class);
  put(ds, DCM_SOPInstanceUID, sop_uid);
  put(ds, DCM_PatientName, c.patient_name);
  put(ds, DCM_PatientID, c.patient_id);
  put(ds, DCM_PatientBirthDate, c.birth_date);
  put(ds, DCM_PatientSex, c.sex);
  if (c.weight_kg > 0) put(ds, DCM_PatientWeight, num(c.weight_kg, 1));
  if (c.height_m > 0) put(ds, DCM_PatientSize, num(c.height_m, 2));
  put(ds, DCM_StudyInstanceUID, c.study_uid);
  put(ds, DCM_StudyDate, c.study_date);
  put(ds, DCM_StudyTime, c.study_time);
  put(ds, DCM_ReferringPhysicianName, "");
  put(ds, DCM_StudyID, c.study_id);
  put(ds, DCM_AccessionNumber, c.accession);
  put(ds, DCM_StudyDescription, c.study_description);
  put(ds, DCM_Modality, modality);
  put(ds, DCM_SeriesInstanceUID, c.series_uid);
  put(ds, DCM_SeriesNumber, std::to_string(c.series_number));
  put(ds, DCM_SeriesDescription, c.series_description);
  put(ds, DCM_SeriesDate, c.series_date);
  put(ds, DCM_SeriesTime, c.series_time);
  if (!c.body_part.empty()) put(ds, DCM_BodyPartExamined, c.body_part);
  put(ds, DCM_Manufacturer, c.manufacturer);
  put(ds, DCM_InstitutionName, c.institution);
  put(ds, DCM_StationName, c.station);
  put(ds, DCM_ManufacturerModelName, c.model);
  put(ds, DCM_SoftwareVersions, "1");
  put(ds, DCM_ContentDate, c.series_date);
  put(ds, DCM_ContentTime, c.series_time);
}

void put_plane(DcmDataset* ds, const PlaneGeometry& g, bool patient_position = true) {
  // PET and NM state the position with the Patient Orientation Code Sequence instead.
  if (patient_position) put(ds, DCM_PatientPosition, "HFS");
  put(ds, DCM_FrameOfReferenceUID, "");  // replaced by the caller
  put(ds, DCM_PositionReferenceIndicator, "");
  put(ds, DCM_ImagePositionPatient, num(g.x, 4) + "\\" + num(g.y, 4) + "\\" + num(g.z, 4));
  put(ds, DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
  put(ds, DCM_PixelSpacing, num(g.spacing_row, 6) + "\\" + num(g.spacing_col, 6));
  put(ds, DCM_SliceThickness, num(g.thickness, 4));
  put(ds, DCM_SliceLocation, num(g.z, 4));
}

void put_pixels16(DcmDataset* ds, int rows, int cols, bool is_signed, const void* data, size_t count) {
  put(ds, DCM_PhotometricInterpretation, "MONOCHROME2");
  check(ds->putAndInsertUint16(DCM_SamplesPerPixel, 1), "pixels");
  check(ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(rows)), "pixels");
  check(ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(cols)), "pixels");
  check(ds->putAndInsertUint16(DCM_BitsAllocated, 16), "pixels");
  check(ds->putAndInsertUint16(DCM_BitsStored, 16), "pixels");
  check(ds->putAndInsertUint16(DCM_HighBit, 15), "pixels");
  check(ds->putAndInsertUint16(DCM_PixelRepresentation, is_signed ? 1 : 0), "pixels");
  check(ds->putAndInsertUint16Array(DCM_PixelData, static_cast<const Uint16*>(data), count), "pixels");
}

void save(DcmFileFormat& ff, const std::string& path) {
  check(ff.saveFile(path.c_str(), EXS_LittleEndianExplicit), "writing " + path);
}

void put_patient_orientation_codes(DcmDataset* ds) {
  DcmItem* orient = nullptr;
  check(ds->findOrCreateSequenceItem(DCM_PatientOrientationCodeSequence, orient, 0), "orientation");
  put(orient, DCM_CodeValue, "102538003");
  put(orient, DCM_CodingSchemeDesignator, "SCT");
  put(orient, DCM_CodeMeaning, "recumbent");
  put_code(orient, DCM_PatientOrientationModifierCodeSequence, "40199007", "SCT", "supine");
  put_code(ds, DCM_PatientGantryRelationshipCodeSequence, "102540008", "SCT", "headfirst");
}

}  // namespace

void write_ct_image(const std::string& path, const DicomContext& ctx, const std::string& sop_uid, int instance,
                    const PlaneGeometry& g, const std::vector<std::int16_t>& stored, double kvp, double ma) {
  DcmFileFormat ff;
  DcmDataset* ds = ff.getDataset();
  put_common(ds, ctx, UID_CTImageStorage, sop_uid, "CT");
  put_plane(ds, g);
  put(ds, DCM_FrameOfReferenceUID, ctx.frame_of_reference_uid);
  put(ds, DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
  put(ds, DCM_InstanceNumber, std::to_string(instance));
  put(ds, DCM_AcquisitionNumber, "1");
  put(ds, DCM_AcquisitionDate, ctx.series_date);
  put(ds, DCM_AcquisitionTime, ctx.series_time);
  put(ds, DCM_KVP, num(kvp, 0));
  put(ds, DCM_XRayTubeCurrent, num(ma, 0));
  put(ds, DCM_ConvolutionKernel, "STANDARD");
  put(ds, DCM_ContrastBolusAgent, "IODINE 350");
  put(ds, DCM_ProtocolName, "CHEST ABDOMEN PELVIS PORTAL VENOUS");
  put(ds, DCM_RescaleIntercept, "-1024");
  put(ds, DCM_RescaleSlope, "1");
  put(ds, DCM_RescaleType, "HU");
  put(ds, DCM_WindowCenter, "40\\-600");
  put(ds, DCM_WindowWidth, "400\\1500");
  put(ds, DCM_WindowCenterWidthExplanation, "SOFT TISSUE\\LUNG");
  put_pixels16(ds, g.rows, g.columns, true, stored.data(), stored.size());
  save(ff, path);
}

void write_pet_image(const std::string& path, const DicomContext& ctx, const std::string& sop_uid, int instance,
                     const PlaneGeometry& g, const std::vector<std::int16_t>& stored, double rescale_slope,
                     const PetAcquisition& acq) {
  DcmFileFormat ff;
  DcmDataset* ds = ff.getDataset();
  put_common(ds, ctx, UID_PositronEmissionTomographyImageStorage, sop_uid, "PT");
  put_plane(ds, g, false);
  put(ds, DCM_FrameOfReferenceUID, ctx.frame_of_reference_uid);
  put(ds, DCM_ImageType, "ORIGINAL\\PRIMARY");
  put(ds, DCM_InstanceNumber, std::to_string(instance));
  put(ds, DCM_ImageIndex, std::to_string(instance));
  put(ds, DCM_AcquisitionDate, ctx.series_date);
  put(ds, DCM_AcquisitionTime, acq.acquisition_time);
  put(ds, DCM_ActualFrameDuration, std::to_string(acq.frame_duration_ms));
  put(ds, DCM_FrameReferenceTime, "0");
  // PET Series module.
  put(ds, DCM_Units, "BQML");
  put(ds, DCM_CountsSource, "EMISSION");
  put(ds, DCM_SeriesType, "WHOLE BODY\\IMAGE");
  put(ds, DCM_NumberOfSlices, std::to_string(acq.number_of_slices));
  put(ds, DCM_CorrectedImage, "DECY\\ATTN\\SCAT\\DTIM\\RAN\\NORM");
  put(ds, DCM_DecayCorrection, "START");
  put(ds, DCM_RandomsCorrectionMethod, "DLYD");
  put(ds, DCM_AttenuationCorrectionMethod, "CT-based");
  put(ds, DCM_ScatterCorrectionMethod, "Model-based");
  put(ds, DCM_ReconstructionMethod, "OSEM 3i21s");
  put(ds, DCM_CollimatorType, "NONE");
  put(ds, DCM_DecayFactor, num(acq.decay_factor, 5));
  put(ds, DCM_DoseCalibrationFactor, "1");
  put(ds, DCM_ProtocolName, "FDG WHOLE BODY");
  // PET Isotope module.
  DcmItem* rp = nullptr;
  check(ds->findOrCreateSequenceItem(DCM_RadiopharmaceuticalInformationSequence, rp, 0), "radiopharmaceutical");
  put(rp, DCM_Radiopharmaceutical, "Fluorodeoxyglucose");
  put(rp, DCM_RadiopharmaceuticalStartTime, acq.radiopharmaceutical_start_datetime.substr(8));
  put(rp, DCM_RadiopharmaceuticalStartDateTime, acq.radiopharmaceutical_start_datetime);
  put(rp, DCM_RadionuclideTotalDose, num(acq.injected_dose_bq, 0));
  put(rp, DCM_RadionuclideHalfLife, num(acq.half_life_s, 1));
  put(rp, DCM_RadionuclidePositronFraction, "0.9673");
  put_code(rp, DCM_RadionuclideCodeSequence, "77004003", "SCT", "^18^Fluorine");
  put_code(rp, DCM_RadiopharmaceuticalCodeSequence, "35321007", "SCT", "Fluorodeoxyglucose F^18^");
  put_patient_orientation_codes(ds);
  put(ds, DCM_RescaleIntercept, "0");
  put(ds, DCM_RescaleSlope, num(rescale_slope, 8));
  put(ds, DCM_LossyImageCompression, "00");
  put_pixels16(ds, g.rows, g.columns, true, stored.data(), stored.size());
  save(ff, path);
}

void write_nm_whole_body(const std::string& path, const DicomContext& ctx, const std::string& sop_uid, const PlanarViews& v) {
  DcmFileFormat ff;
  DcmDataset* ds = ff.getDataset();
  put_common(ds, ctx, UID_NuclearMedicineImageStorage, sop_uid, "NM");
  put(ds, DCM_FrameOfReferenceUID, ctx.frame_of_reference_uid);
  put(ds, DCM_PositionReferenceIndicator, "");
  put(ds, DCM_ImageType, "ORIGINAL\\PRIMARY\\WHOLE BODY\\EMISSION");
  put(ds, DCM_InstanceNumber, "1");
  put(ds, DCM_AcquisitionDate, ctx.series_date);
  put(ds, DCM_AcquisitionTime, ctx.series_time);
  put(ds, DCM_PixelSpacing, num(v.pixel_mm, 4) + "\\" + num(v.pixel_mm, 4));
  put(ds, DCM_NumberOfFrames, "2");
  // Whole Body images index frames by energy window and detector.
  {
    auto* fip = new DcmAttributeTag(DCM_FrameIncrementPointer);
    const Uint16 tags[4] = {0x0054, 0x0010, 0x0054, 0x0020};  // Energy Window Vector, Detector Vector
    check(fip->putUint16Array(tags, 2), "frame increment");
    check(ds->insert(fip, true), "frame increment");
  }
  const Uint16 windows[2] = {1, 1};
  check(ds->putAndInsertUint16Array(DCM_EnergyWindowVector, windows, 2), "energy window vector");
  check(ds->putAndInsertUint16(DCM_NumberOfEnergyWindows, 1), "energy windows");
  const Uint16 detectors[2] = {1, 2};
  check(ds->putAndInsertUint16Array(DCM_DetectorVector, detectors, 2), "detector vector");
  check(ds->putAndInsertUint16(DCM_NumberOfDetectors, 2), "detectors");
  const double length_mm = v.rows * v.pixel_mm;
  put(ds, DCM_ScanVelocity, num(v.scan_speed_cm_min, 1));
  put(ds, DCM_WholeBodyTechnique, "1PS\\2PS");
  put(ds, DCM_ScanLength, num(length_mm / 10, 0));
  put(ds, DCM_ActualFrameDuration, num(length_mm / 10 / v.scan_speed_cm_min * 60000, 0));
  put(ds, DCM_ProtocolName, "WHOLE BODY BONE");
  std::uint64_t total = 0;
  for (auto c : v.anterior) total += c;
  for (auto c : v.posterior) total += c;
  put(ds, DCM_CountsAccumulated, std::to_string(total));
  const char* views[2][2] = {{"399321004", "Anterior projection"}, {"399001007", "Posterior projection"}};
  for (int d = 0; d < 2; ++d) {
    DcmItem* det = nullptr;
    check(ds->findOrCreateSequenceItem(DCM_DetectorInformationSequence, det, d), "detector");
    put(det, DCM_CollimatorGridName, "LEHR");
    put(det, DCM_CollimatorType, "PARA");
    put(det, DCM_FieldOfViewShape, "RECTANGLE");
    put(det, DCM_FieldOfViewDimensions, "540\\400");
    put(det, DCM_ZoomFactor, "1\\1");
    put(det, DCM_ImagePositionPatient, "0\\0\\0");
    put(det, DCM_ImageOrientationPatient, d == 0 ? "1\\0\\0\\0\\0\\-1" : "-1\\0\\0\\0\\0\\-1");
    put_code(det, DCM_ViewCodeSequence, views[d][0], "SCT", views[d][1]);
  }
  DcmItem* win = nullptr;
  check(ds->findOrCreateSequenceItem(DCM_EnergyWindowInformationSequence, win, 0), "energy window");
  put(win, DCM_EnergyWindowName, "Tc99m");
  DcmItem* range = nullptr;
  check(win->findOrCreateSequenceItem(DCM_EnergyWindowRangeSequence, range, 0), "energy range");
  put(range, DCM_EnergyWindowLowerLimit, "126.45");
  put(range, DCM_EnergyWindowUpperLimit, "154.55");
  DcmItem* rp = nullptr;
  check(ds->findOrCreateSequenceItem(DCM_RadiopharmaceuticalInformationSequence, rp, 0), "radiopharmaceutical");
  put(rp, DCM_Radiopharmaceutical, "Tc-99m MDP");
  put(rp, DCM_RadiopharmaceuticalStartTime, v.injection_time);
  put(rp, DCM_RadionuclideTotalDose, num(v.dose_mbq, 0));
  put_code(rp, DCM_RadionuclideCodeSequence, "44588005", "SCT", "^99m^Technetium");
  put_patient_orientation_codes(ds);
  std::vector<std::uint16_t> frames(v.anterior);
  frames.insert(frames.end(), v.posterior.begin(), v.posterior.end());
  put_pixels16(ds, v.rows, v.columns, false, frames.data(), frames.size());
  save(ff, path);
}

void write_sc_view(const std::string& path, const DicomContext& ctx, const std::string& sop_uid, int instance, int rows,
                   int columns, double pixel_mm, const std::vector<std::uint16_t>& pixels, const std::string& view) {
  DcmFileFormat ff;
  DcmDataset* ds = ff.getDataset();
  put_common(ds, ctx, UID_SecondaryCaptureImageStorage, sop_uid, "NM");
  put(ds, DCM_ConversionType, "WSD");
  put(ds, DCM_ImageType, "DERIVED\\SECONDARY");
  put(ds, DCM_InstanceNumber, std::to_string(instance));
  put(ds, DCM_PatientOrientation, view == "anterior" ? "R\\F" : "L\\F");
  put(ds, DCM_ImageComments, "Whole body bone scan, " + view + " view");
  put(ds, DCM_NominalScannedPixelSpacing, num(pixel_mm, 4) + "\\" + num(pixel_mm, 4));
  put(ds, DCM_PixelSpacing, num(pixel_mm, 4) + "\\" + num(pixel_mm, 4));
  put_pixels16(ds, rows, columns, false, pixels.data(), pixels.size());
  save(ff, path);
}

void write_dicomdir(const std::string& root, const std::vector<std::string>& relative_files, const std::string& fileset_id,
                    const std::string& instance_uid) {
  OFLog::configure(OFLogger::WARN_LOG_LEVEL);  // DicomDirInterface reports every file at INFO
  DicomDirInterface dir;
  const std::string path = root + "/DICOMDIR";
  check(dir.createNewDicomDir(DicomDirInterface::AP_GeneralPurpose, path.c_str(), fileset_id.c_str()), "DICOMDIR");
  for (const std::string& f : relative_files) check(dir.addDicomFile(f.c_str(), root.c_str()), "DICOMDIR entry " + f);
  check(dir.writeDicomDir(), "writing DICOMDIR");
  // DCMTK gives the DICOMDIR a fresh random instance UID; replace it with one derived from the
  // file-set so the archive stays byte-for-byte reproducible.
  DcmDicomDir written(path.c_str());
  check(written.error(), "reading back DICOMDIR");
  check(written.getDirFileFormat().getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, instance_uid.c_str()),
        "DICOMDIR instance UID");
  check(written.write(), "rewriting DICOMDIR");
}

}  // namespace oq::phantom
