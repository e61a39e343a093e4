#include <gtest/gtest.h>
#include <oqtest/scratch_root.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "oq/plugin.h"
#include "oq/scan.h"

namespace fs = std::filesystem;

namespace {

fs::path fresh(const char* name) {
  return oqtest::fresh_scratch(name);
}

TEST(Registry, HoldsTheDicomLoaderTheSlideLoaderAndTheVolumeWriter) {
  ASSERT_NE(oq::find_plugin("dicom"), nullptr);
  EXPECT_EQ(oq::find_plugin("dicom")->kind, oq::PluginKind::kLoader);
  ASSERT_NE(oq::find_plugin("openslide"), nullptr);
  ASSERT_NE(oq::find_plugin("itk-volume"), nullptr);
  EXPECT_NE(oq::find_plugin("itk-volume")->exporter, nullptr);
  EXPECT_EQ(oq::find_plugin("no-such-plugin"), nullptr);
}

TEST(Scan, EveryFileIsCataloguedOrListedWithAReason) {
  const fs::path dir = fresh("mixed");
  fs::create_directories(dir / "nested" / "deeper");
  fs::copy_file(std::string(OQ_SHARED_DIR) + "/data/dicom/ct/pydicom_CT_small.dcm", dir / "nested" / "deeper" / "ct");
  std::ofstream(dir / "notes.txt") << "not an image";
  std::ofstream(dir / "empty.dcm").close();
  std::ofstream(dir / ".hidden.partial-1.nii.gz") << "ours, half written";
  const oq::Catalog c = oq::scan_inputs({dir.string(), (dir / "missing").string()});
  ASSERT_EQ(c.all_series().size(), 1u);
  EXPECT_EQ(c.all_series().front()->modality, "CT");
  EXPECT_EQ(c.studies.front().study_date.size(), 10u) << "ISO 8601 date";
  ASSERT_EQ(c.unreadable.size(), 3u);  // notes.txt, empty.dcm, the missing path; the hidden file is skipped
  for (const auto& u : c.unreadable) EXPECT_FALSE(u.reason.empty()) << u.path;
}

TEST(SelectSeries, NamesWhatIsMissingOrAmbiguous) {
  const fs::path dir = fresh("select");
  fs::copy_file(std::string(OQ_SHARED_DIR) + "/data/dicom/ct/pydicom_CT_small.dcm", dir / "a.dcm");
  fs::copy_file(std::string(OQ_SHARED_DIR) + "/data/dicom/ct/orthanc_SignedCT.dcm", dir / "b.dcm");
  const oq::Catalog c = oq::scan_inputs({dir.string()});
  auto none = oq::select_series(c, "1.2.3", dir.string());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), oq::ErrorCode::kNotFound);
  auto two = oq::select_series(c, "", dir.string());
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.error().message().find("2 series found"), std::string::npos);
  auto one = oq::select_series(c, c.all_series().back()->uid, dir.string());
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)->uid, c.all_series().back()->uid);
}

}  // namespace
