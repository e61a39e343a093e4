// Test fixture maker: turns the real NM1 whole-body view into an NM Image Storage multi-frame
// object with two detectors, anterior (the original pixels) and posterior (mirrored left-right),
// each identified in the Detector Information Sequence's View Code Sequence.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_nm_views NM1.dcm OUT.dcm\n");
    return 2;
  }
  DcmRLEDecoderRegistration::registerCodecs();
  DcmFileFormat in;
  if (in.loadFile(argv[1]).bad()) return 1;
  DcmDataset* src = in.getDataset();
  src->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  Uint16 rows = 0, cols = 0;
  src->findAndGetUint16(DCM_Rows, rows);
  src->findAndGetUint16(DCM_Columns, cols);
  const Uint16* px = nullptr;
  unsigned long count = 0;
  if (src->findAndGetUint16Array(DCM_PixelData, px, &count).bad()) return 1;
  std::vector<Uint16> frames(2UL * rows * cols);
  for (unsigned y = 0; y < rows; ++y)
    for (unsigned x = 0; x < cols; ++x) {
      frames[y * cols + x] = px[y * cols + x];
      frames[rows * cols + y * cols + (cols - 1 - x)] = px[y * cols + x];
    }

  DcmFileFormat out;
  DcmDataset* ds = out.getDataset();
  char uid[100];
  ds->putAndInsertString(DCM_SOPClassUID, UID_NuclearMedicineImageStorage);
  ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  ds->putAndInsertString(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
  ds->putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
  ds->putAndInsertString(DCM_Modality, "NM");
  ds->putAndInsertString(DCM_PatientID, "NMVIEWS");
  ds->putAndInsertString(DCM_StudyDate, "20260101");
  ds->putAndInsertString(DCM_SeriesDescription, "Whole body bone, anterior and posterior");
  ds->putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\WHOLE BODY\\EMISSION");
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds->putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
  ds->putAndInsertUint16(DCM_Rows, rows);
  ds->putAndInsertUint16(DCM_Columns, cols);
  ds->putAndInsertUint16(DCM_BitsAllocated, 16);
  ds->putAndInsertUint16(DCM_BitsStored, 16);
  ds->putAndInsertUint16(DCM_HighBit, 15);
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  ds->putAndInsertString(DCM_PixelSpacing, "2.26\\2.26");
  ds->putAndInsertString(DCM_NumberOfFrames, "2");
  ds->putAndInsertTagKey(DCM_FrameIncrementPointer, DCM_DetectorVector);
  const Uint16 detectors[2] = {1, 2};
  ds->putAndInsertUint16Array(DCM_DetectorVector, detectors, 2);
  ds->putAndInsertUint16(DCM_NumberOfDetectors, 2);
  const char* views[2][2] = {{"R-10B1E", "anterior"}, {"R-10B1F", "posterior"}};  // SNOMED view codes
  for (int d = 0; d < 2; ++d) {
    DcmItem* det = nullptr;
    ds->findOrCreateSequenceItem(DCM_DetectorInformationSequence, det, d);
    DcmItem* view = nullptr;
    det->findOrCreateSequenceItem(DCM_ViewCodeSequence, view, 0);
    view->putAndInsertString(DCM_CodeValue, views[d][0]);
    view->putAndInsertString(DCM_CodingSchemeDesignator, "SRT");
    view->putAndInsertString(DCM_CodeMeaning, views[d][1]);
  }
  ds->putAndInsertUint16Array(DCM_PixelData, frames.data(), frames.size());
  return out.saveFile(argv[2], EXS_LittleEndianExplicit).good() ? 0 : 1;
}
