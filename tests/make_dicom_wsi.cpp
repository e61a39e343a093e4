// Test fixture maker: copies a slide's level 0 (read with OpenSlide) into a DICOM VL Whole Slide
// Microscopy image, TILED_FULL, 512 x 512 uncompressed RGB frames - the same pixels in the other
// format, so `oncoquant ihc` can be checked to give the same counts through the DICOM reader.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <openslide.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_dicom_wsi SLIDE OUT.dcm\n");
    return 2;
  }
  openslide_t* os = openslide_open(argv[1]);
  if (!os || openslide_get_error(os)) return 1;
  int64_t w = 0, h = 0;
  openslide_get_level0_dimensions(os, &w, &h);
  const char* mpp_text = openslide_get_property_value(os, OPENSLIDE_PROPERTY_NAME_MPP_X);
  if (!mpp_text) return 1;
  const double mpp = std::atof(mpp_text);  // read before the handle (and its strings) go
  const int tile = 512;
  const int64_t tx = (w + tile - 1) / tile, ty = (h + tile - 1) / tile;
  std::vector<Uint8> pixels(static_cast<size_t>(tx * ty) * tile * tile * 3, 255);
  std::vector<uint32_t> argb(static_cast<size_t>(tile) * tile);
  for (int64_t j = 0; j < ty; ++j)
    for (int64_t i = 0; i < tx; ++i) {
      openslide_read_region(os, argb.data(), i * tile, j * tile, 0, tile, tile);
      Uint8* frame = &pixels[static_cast<size_t>(j * tx + i) * tile * tile * 3];
      for (size_t p = 0; p < argb.size(); ++p) {
        const uint32_t v = argb[p], white = 255 - (v >> 24);  // premultiplied, over white
        frame[3 * p] = static_cast<Uint8>(((v >> 16) & 0xff) + white);
        frame[3 * p + 1] = static_cast<Uint8>(((v >> 8) & 0xff) + white);
        frame[3 * p + 2] = static_cast<Uint8>((v & 0xff) + white);
      }
    }
  if (openslide_get_error(os)) return 1;
  openslide_close(os);

  DcmFileFormat out;
  DcmDataset* ds = out.getDataset();
  char uid[100];
  ds->putAndInsertString(DCM_SOPClassUID, UID_VLWholeSlideMicroscopyImageStorage);
  ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  ds->putAndInsertString(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
  ds->putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
  ds->putAndInsertString(DCM_Modality, "SM");
  ds->putAndInsertString(DCM_PatientID, "WSICOPY");
  ds->putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\VOLUME\\NONE");
  ds->putAndInsertString(DCM_DimensionOrganizationType, "TILED_FULL");
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 3);
  ds->putAndInsertString(DCM_PhotometricInterpretation, "RGB");
  ds->putAndInsertUint16(DCM_PlanarConfiguration, 0);
  ds->putAndInsertUint16(DCM_Rows, tile);
  ds->putAndInsertUint16(DCM_Columns, tile);
  ds->putAndInsertUint32(DCM_TotalPixelMatrixColumns, static_cast<Uint32>(w));
  ds->putAndInsertUint32(DCM_TotalPixelMatrixRows, static_cast<Uint32>(h));
  ds->putAndInsertUint16(DCM_BitsAllocated, 8);
  ds->putAndInsertUint16(DCM_BitsStored, 8);
  ds->putAndInsertUint16(DCM_HighBit, 7);
  ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
  ds->putAndInsertString(DCM_NumberOfFrames, std::to_string(tx * ty).c_str());
  // Pixel size in the shared functional groups (mm), as scanners write it.
  DcmItem* shared = nullptr;
  DcmItem* measures = nullptr;
  ds->findOrCreateSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0);
  shared->findOrCreateSequenceItem(DCM_PixelMeasuresSequence, measures, 0);
  char spacing[64];
  std::snprintf(spacing, sizeof spacing, "%.9g\\%.9g", mpp / 1000, mpp / 1000);
  measures->putAndInsertString(DCM_PixelSpacing, spacing);
  ds->putAndInsertUint8Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
  return out.saveFile(argv[2], EXS_LittleEndianExplicit).good() ? 0 : 1;
}
