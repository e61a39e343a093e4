// Test fixture maker: copies a slide's level 0 (read with OpenSlide) into a DICOM VL Whole Slide
// Microscopy image, TILED_FULL, 512 x 512 uncompressed RGB frames - the same pixels in the other
// format, so `oncoquant ihc` can be checked to give the same counts through the DICOM reader.
// With --huge N: the copy in the corner of an N x N slide (sparse tiles, and a coarser level), to
// check that memory follows the tiles analysed, not the slide's size.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <openslide.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

// One VOLUME instance of the series: TILED_FULL when `positions` is empty, else TILED_SPARSE with
// each frame's top-left pixel (0-based) given.
bool write_level(const std::string& path, const std::string& series, int index, long cols, long rows, int tile, double mpp,
                 int64_t tx, int64_t ty, std::vector<Uint8>& pixels, const std::vector<std::pair<long, long>>& positions) {
  DcmFileFormat out;
  DcmDataset* ds = out.getDataset();
  char uid[100];
  ds->putAndInsertString(DCM_SOPClassUID, UID_VLWholeSlideMicroscopyImageStorage);
  ds->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  ds->putAndInsertString(DCM_StudyInstanceUID, (series + ".1").c_str());
  ds->putAndInsertString(DCM_SeriesInstanceUID, series.c_str());
  ds->putAndInsertString(DCM_InstanceNumber, std::to_string(index + 1).c_str());
  ds->putAndInsertString(DCM_Modality, "SM");
  ds->putAndInsertString(DCM_PatientID, "WSICOPY");
  ds->putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\VOLUME\\NONE");
  ds->putAndInsertString(DCM_DimensionOrganizationType, positions.empty() ? "TILED_FULL" : "TILED_SPARSE");
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 3);
  ds->putAndInsertString(DCM_PhotometricInterpretation, "RGB");
  ds->putAndInsertUint16(DCM_PlanarConfiguration, 0);
  ds->putAndInsertUint16(DCM_Rows, tile);
  ds->putAndInsertUint16(DCM_Columns, tile);
  ds->putAndInsertUint32(DCM_TotalPixelMatrixColumns, static_cast<Uint32>(cols));
  ds->putAndInsertUint32(DCM_TotalPixelMatrixRows, static_cast<Uint32>(rows));
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
  for (size_t f = 0; f < positions.size(); ++f) {
    DcmItem* frame = nullptr;
    DcmItem* position = nullptr;
    ds->findOrCreateSequenceItem(DCM_PerFrameFunctionalGroupsSequence, frame, static_cast<long>(f));
    frame->findOrCreateSequenceItem(DCM_PlanePositionSlideSequence, position, 0);
    position->putAndInsertSint32(DCM_ColumnPositionInTotalImagePixelMatrix, static_cast<Sint32>(positions[f].first + 1));
    position->putAndInsertSint32(DCM_RowPositionInTotalImagePixelMatrix, static_cast<Sint32>(positions[f].second + 1));
  }
  ds->putAndInsertUint8Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
  return out.saveFile(path.c_str(), EXS_LittleEndianExplicit).good();
}

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 5 && std::string(argv[3]) == "--huge")) {
    std::fprintf(stderr, "usage: make_dicom_wsi SLIDE OUT.dcm | make_dicom_wsi SLIDE OUT_DIR --huge N\n");
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
  char uid[100];
  const std::string series = dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT);

  if (argc == 3) return write_level(argv[2], series, 0, w, h, tile, mpp, tx, ty, pixels, {}) ? 0 : 1;

  // A huge slide: the copy in the top-left corner of an N x N matrix stored sparsely (only the
  // copy's tiles), and a level 16 times coarser, as a scanner's pyramid would have.
  const long n = std::atol(argv[4]);
  std::vector<std::pair<long, long>> where;
  for (int64_t j = 0; j < ty; ++j)
    for (int64_t i = 0; i < tx; ++i) where.push_back({i * tile, j * tile});
  if (!write_level(std::string(argv[2]) + "/level0.dcm", series, 0, n, n, tile, mpp, tx, ty, pixels, where)) return 1;
  const int64_t sw = (w + 15) / 16, sh = (h + 15) / 16, stx = (sw + tile - 1) / tile, sty = (sh + tile - 1) / tile;
  std::vector<Uint8> small(static_cast<size_t>(stx * sty) * tile * tile * 3, 255);
  for (int64_t y = 0; y < sh; ++y)
    for (int64_t x = 0; x < sw; ++x)
      for (int c = 0; c < 3; ++c) {
        unsigned sum = 0, k = 0;
        for (int64_t yy = y * 16; yy < std::min<int64_t>(h, y * 16 + 16); ++yy)
          for (int64_t xx = x * 16; xx < std::min<int64_t>(w, x * 16 + 16); ++xx, ++k) {
            const int64_t fi = (yy / tile) * tx + xx / tile;
            sum += pixels[(static_cast<size_t>(fi) * tile * tile + static_cast<size_t>((yy % tile) * tile + xx % tile)) * 3 + c];
          }
        const int64_t fi = (y / tile) * stx + x / tile;
        small[(static_cast<size_t>(fi) * tile * tile + static_cast<size_t>((y % tile) * tile + x % tile)) * 3 + c] =
            static_cast<Uint8>(k ? sum / k : 255);
      }
  where.clear();
  for (int64_t j = 0; j < sty; ++j)
    for (int64_t i = 0; i < stx; ++i) where.push_back({i * tile, j * tile});
  return write_level(std::string(argv[2]) + "/level1.dcm", series, 1, (n + 15) / 16, (n + 15) / 16, tile, mpp * 16, stx, sty,
                     small, where)
             ? 0
             : 1;
}
