// DICOM whole-slide images (../shared/data/wsi): catalogued as slides with their pixel size, and
// their regions equal to the frames DCMTK's own dcm2pnm / dcmj2pnm write, tile by tile.
#include <gtest/gtest.h>
#include <oqtest/scratch_root.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "oq/plugin.h"
#include "wsi_reader.h"

namespace {

namespace fs = std::filesystem;

const std::string kData = std::string(OQ_SHARED_DIR) + "/data/wsi/";

// A binary PPM (P6) as written by dcm2pnm.
struct Ppm {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;
};

Ppm read_ppm(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string magic;
  int maxval = 0;
  Ppm p;
  in >> magic >> p.width >> p.height >> maxval;
  in.get();
  p.rgb.resize(static_cast<size_t>(p.width) * static_cast<size_t>(p.height) * 3);
  in.read(reinterpret_cast<char*>(p.rgb.data()), static_cast<std::streamsize>(p.rgb.size()));
  return p;
}

// Frame `frame` (1-based) of a file, decoded by DCMTK's command-line tool into `out`.
bool dcmtk_frame(const std::string& tool, const std::string& file, int frame, const fs::path& out) {
  const std::string cmd = tool + " --frame " + std::to_string(frame) + " --write-raw-pnm '" + file + "' '" + out.string() + "'";
  return std::system(cmd.c_str()) == 0;
}

fs::path scratch() {
  return oqtest::scratch_root();
}

TEST(DicomSlide, TiledFullFramesAreLaidOutRowByRow) {
  const std::string file = kData + "highdicom_sm_image.dcm";
  oq::Catalog catalog;
  oq::dicom::catalog_slides({file}, catalog);
  ASSERT_EQ(catalog.slides.size(), 1u);
  const oq::SlideInfo& s = catalog.slides.front();
  EXPECT_EQ(s.width, 50);
  EXPECT_EQ(s.height, 50);
  ASSERT_TRUE(s.mpp_x.has_value());
  EXPECT_NEAR(*s.mpp_x, 0.499, 1e-6);
  auto reader = oq::dicom::open_dicom_slide(s);
  ASSERT_TRUE(reader.ok()) << reader.error().describe();
  // A region straddling tiles, from (3, 7), against the 10 x 10 frames dcm2pnm decodes.
  auto region = (*reader)->read_region(0, 3, 7, 40, 30);
  ASSERT_TRUE(region.ok()) << region.error().describe();
  const fs::path dir = scratch();
  int compared = 0;
  for (int frame = 1; frame <= 25; ++frame) {
    const fs::path ppm = dir / ("f" + std::to_string(frame) + ".ppm");
    ASSERT_TRUE(dcmtk_frame("dcm2pnm", file, frame, ppm));
    const Ppm tile = read_ppm(ppm);
    ASSERT_EQ(tile.width, 10);
    const int tx = (frame - 1) % 5, ty = (frame - 1) / 5;
    for (int y = 0; y < 10; ++y)
      for (int x = 0; x < 10; ++x) {
        const int rx = tx * 10 + x - 3, ry = ty * 10 + y - 7;
        if (rx < 0 || ry < 0 || rx >= 40 || ry >= 30) continue;
        for (int c = 0; c < 3; ++c)
          ASSERT_EQ(region->rgb[(static_cast<size_t>(ry) * 40 + static_cast<size_t>(rx)) * 3 + static_cast<size_t>(c)],
                    tile.rgb[(static_cast<size_t>(y) * 10 + static_cast<size_t>(x)) * 3 + static_cast<size_t>(c)])
              << "frame " << frame << " pixel " << x << "," << y;
        ++compared;
      }
  }
  EXPECT_EQ(compared, 40 * 30);
  // Beyond the matrix is glass.
  auto outside = (*reader)->read_region(0, 45, 45, 10, 10);
  ASSERT_TRUE(outside.ok());
  EXPECT_EQ(outside->rgb[static_cast<size_t>(9 * 10 + 9) * 3], 255);
  fs::remove_all(dir);
}

TEST(DicomSlide, JpegTileLargerThanTheMatrixAndItsThumbnail) {
  // boxes_0: one 64 x 64 JPEG tile holding a 16 x 16 matrix; boxes_1: the series' thumbnail.
  oq::Catalog catalog;
  oq::dicom::catalog_slides({kData + "openslide-python_boxes_0.dcm", kData + "openslide-python_boxes_1.dcm"}, catalog);
  ASSERT_EQ(catalog.slides.size(), 1u);
  EXPECT_EQ(catalog.slides.front().path, kData + "openslide-python_boxes_0.dcm");
  EXPECT_EQ(catalog.slides.front().levels.size(), 1u);  // the thumbnail is not a level
  auto reader = oq::dicom::open_dicom_slide(catalog.slides.front());
  ASSERT_TRUE(reader.ok()) << reader.error().describe();
  auto region = (*reader)->read_region(0, 0, 0, 16, 16);
  ASSERT_TRUE(region.ok()) << region.error().describe();
  const fs::path dir = scratch();
  ASSERT_TRUE(dcmtk_frame("dcmj2pnm", kData + "openslide-python_boxes_0.dcm", 1, dir / "b.ppm"));
  const Ppm tile = read_ppm(dir / "b.ppm");
  ASSERT_EQ(tile.width, 64);
  int worst = 0;
  for (int y = 0; y < 16; ++y)
    for (int x = 0; x < 16; ++x)
      for (int c = 0; c < 3; ++c)
        worst = std::max(
            worst,
            std::abs(
                static_cast<int>(
                    region->rgb[(static_cast<size_t>(y) * 16 + static_cast<size_t>(x)) * 3 + static_cast<size_t>(c)]) -
                static_cast<int>(tile.rgb[(static_cast<size_t>(y) * 64 + static_cast<size_t>(x)) * 3 + static_cast<size_t>(c)])));
  // Both decode with libjpeg; colour conversion may round differently by a unit.
  EXPECT_LE(worst, 2);
  fs::remove_all(dir);
}

TEST(DicomSlide, AThumbnailAloneIsNotASlide) {
  oq::Catalog catalog;
  oq::dicom::catalog_slides({kData + "openslide-python_boxes_1.dcm"}, catalog);
  EXPECT_TRUE(catalog.slides.empty());
  ASSERT_EQ(catalog.unreadable.size(), 1u);
  EXPECT_NE(catalog.unreadable.front().reason.find("no VOLUME level"), std::string::npos);
}

}  // namespace
