// Bad input gets one clear error naming the file and the reason, exit code 1, no output file
// and no crash: corrupted copies of real files, and real series altered with DCMTK's dcmodify.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "support.h"

namespace {

using namespace oqtest;
using nlohmann::json;

void copy_dir(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& f : files_under(from))
    if (f.extension() == ".dcm") fs::copy_file(f, to / f.filename(), fs::copy_options::overwrite_existing);
}

void dcmodify(const std::string& args, const fs::path& target) {
  const CliRun r = shell("dcmodify -nb -q " + args + " " + quote(target.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// convert must fail cleanly: exit 1, "error:" naming `subject`, containing `reason`, no output.
void expect_refused(const std::string& input_args, const std::string& subject, const std::string& reason) {
  const fs::path out = scratch("refused") / "out.nii.gz";
  const CliRun r = oncoquant("convert --quiet " + input_args + " -o " + quote(out.string()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(subject), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(reason), std::string::npos) << "expected '" << reason << "' in: " << r.err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::is_empty(out.parent_path())) << "no partial output";
}

const char* kRealFiles[] = {"dicom/ct/orthanc_SignedCT.dcm",
                            "dicom/ct/nema-wg04_CT2_JLSN.dcm",
                            "dicom/nm/nema-wg04_NM1_RLE.dcm",
                            "dicom/pet/tcia-acrin-flt-breast_pt_1.dcm",
                            "dicom/ct/pydicom-data_eCT_Supplemental.dcm",
                            "dicom/ct/egsnrc_bone_phantom_series/1998052815582995.dcm"};

TEST(Corruption, TruncatedFilesAreRefusedNamingTheFile) {
  const fs::path dir = scratch("truncated");
  for (const char* rel : kRealFiles) {
    const fs::path src = shared_dir() + "/data/" + rel;
    const auto size = fs::file_size(src);
    for (double frac : {0.05, 0.5, 0.9, 0.999}) {
      const fs::path f = dir / ("t" + std::to_string(static_cast<int>(frac * 1000)) + "_" + src.filename().string());
      fs::copy_file(src, f, fs::copy_options::overwrite_existing);
      fs::resize_file(f, static_cast<std::uintmax_t>(static_cast<double>(size) * frac));
      SCOPED_TRACE(f.string());
      expect_refused(quote(f.string()), f.string(), "");
      const CliRun info = oncoquant("info --json --quiet " + quote(f.string()));
      ASSERT_EQ(info.exit_code, 1) << info.err;
      const json j = json::parse(info.out);
      ASSERT_EQ(j["unreadable"].size(), 1u);
      EXPECT_FALSE(j["unreadable"][0]["reason"].get<std::string>().empty());
    }
  }
}

TEST(Corruption, FlippedBytesNeverCrash) {
  const fs::path dir = scratch("flipped");
  std::mt19937 rng(20261123);
  for (const char* rel : kRealFiles) {
    const fs::path src = shared_dir() + "/data/" + rel;
    std::ifstream in(src, std::ios::binary);
    const std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (int trial = 0; trial < 12; ++trial) {
      std::string bytes = original;
      // Hit the header region hardest: that is where parsers break.
      const std::size_t limit = trial % 2 ? bytes.size() : std::min<std::size_t>(bytes.size(), 2048);
      for (int k = 0; k < 8; ++k) bytes[rng() % limit] ^= static_cast<char>(1 + rng() % 255);
      const fs::path f = dir / ("f" + std::to_string(trial) + "_" + src.filename().string());
      std::ofstream(f, std::ios::binary) << bytes;
      const fs::path out = dir / "out.nii.gz";
      const CliRun r = oncoquant("convert --quiet " + quote(f.string()) + " -o " + quote(out.string()));
      SCOPED_TRACE(f.string());
      ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << "exit " << r.exit_code << ": " << r.err;
      if (r.exit_code == 1) {
        EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
        EXPECT_NE(r.err.find(f.string()), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(out));
      }
      fs::remove(out);
    }
  }
}

TEST(Corruption, RandomBytesAndEmptyFilesNamedDcm) {
  const fs::path dir = scratch("random");
  std::mt19937 rng(7);
  std::string noise(70000, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  std::ofstream(dir / "noise.dcm", std::ios::binary) << noise;
  std::ofstream(dir / "empty.dcm").close();
  expect_refused(quote((dir / "noise.dcm").string()), (dir / "noise.dcm").string(), "not a");
  expect_refused(quote((dir / "empty.dcm").string()), (dir / "empty.dcm").string(), "empty file");
}

TEST(WrongObjects, StructuredReportAndSegmentationWhereImagesWereExpected) {
  const std::string sr = shared_dir() + "/data/dicom/sr/dcmqi_sr-example/sr_tid1500.dcm";
  expect_refused(quote(sr), sr, "Structured Report");
  const std::string seg = shared_dir() + "/data/dicom/seg/dcmqi_liver_seg_on_ct-3slice.dcm";
  expect_refused(quote(seg), seg, "SEG");
}

TEST(Geometry, MissingSliceIsRefused) {
  const fs::path dir = scratch("missing") / "series";
  copy_dir(shared_dir() + "/data/dicom/ct/egsnrc_bone_phantom_series", dir);
  fs::remove(dir / "1998052815592528.dcm");  // z = 20.5, in the middle
  expect_refused(quote(dir.string()), "1998052815591152.dcm", "1 missing slice");
}

TEST(Geometry, MixedSeriesIsSplitAndEachPartLoads) {
  const fs::path dir = scratch("mixed") / "series";
  copy_dir(shared_dir() + "/data/dicom/pet/ibsi-suv-dro/DRO_0_0/PT", dir);
  // A CT slice of another size carrying the same Series Instance UID.
  const fs::path intruder = dir / "intruder.dcm";
  fs::copy_file(shared_dir() + "/data/dicom/ct/pydicom_CT_small.dcm", intruder);
  const std::string series_uid = dicom_value(dir / "pet_dro_0_0_slice_000.dcm", "0020,000e");
  dcmodify("-m \"(0020,000e)=" + series_uid + "\"", intruder);
  const CliRun info = oncoquant("info --json --quiet " + quote(dir.string()));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const json j = json::parse(info.out);
  std::vector<std::string> parts;
  for (const auto& st : j["studies"])
    for (const auto& se : st["series"]) parts.push_back(se["uid"]);
  ASSERT_EQ(parts.size(), 2u) << j.dump(1);
  EXPECT_EQ(parts[0].rfind(series_uid + "#", 0), 0u);
  expect_refused(quote(dir.string()), dir.string(), "choose one with --series");
  expect_refused(quote(dir.string()) + " --series " + series_uid, dir.string(), "split into parts");
  for (const auto& p : parts) {
    const fs::path out = scratch("mixed_out") / "p.mha";
    const CliRun r = oncoquant("convert --quiet " + quote(dir.string()) + " --series '" + p + "' -o " + quote(out.string()));
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
}

TEST(Geometry, GantryTiltIsCorrectedByShiftingSlices) {
  const fs::path dir = scratch("tilt") / "series";
  copy_dir(shared_dir() + "/data/dicom/ct/egsnrc_bone_phantom_series", dir);
  const double tan_tilt = std::tan(12.0 * M_PI / 180.0);
  for (const auto& f : files_under(dir)) {
    const auto p = image_position(f);
    ASSERT_TRUE(set_image_position(f, {p[0], p[1] + (p[2] + 4.5) * tan_tilt, p[2]}));
  }
  const fs::path out = scratch("tilt_out") / "t.nii.gz";
  const CliRun r = oncoquant("convert " + quote(dir.string()) + " -o " + quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("gantry tilt of 12.00 degrees"), std::string::npos) << r.err;
  const fs::path ref = scratch("tilt_ref") / "r.nii.gz";
  ASSERT_EQ(oncoquant("convert --quiet " + quote(shared_dir() + "/data/dicom/ct/egsnrc_bone_phantom_series") + " -o " +
                      quote(ref.string()))
                .exit_code,
            0);
  const VolumeData t = read_volume(out.string());
  const VolumeData o = read_volume(ref.string());
  ASSERT_EQ(t.size, o.size);
  // The top slice's content must move by its shift (45 mm * tan 12 deg / 0.69 mm = 13.8 rows).
  auto centroid_row = [](const VolumeData& v, std::size_t k) {
    double sum = 0, w = 0;
    const std::size_t nx = v.size[0], ny = v.size[1];
    for (std::size_t y = 0; y < ny; ++y)
      for (std::size_t x = 0; x < nx; ++x) {
        const double val = v.voxels[k * nx * ny + y * nx + x] + 1024.0;
        if (val > 500) {
          sum += val * static_cast<double>(y);
          w += val;
        }
      }
    return sum / w;
  };
  const double expected = 45.0 * tan_tilt / 0.69;
  EXPECT_NEAR(centroid_row(t, 9) - centroid_row(o, 9), expected, 0.6);
  EXPECT_NEAR(centroid_row(t, 0) - centroid_row(o, 0), 0.0, 0.05);
}

class PetSeries : public ::testing::Test {
 protected:
  fs::path dir_;
  void SetUp() override {
    dir_ = scratch(::testing::UnitTest::GetInstance()->current_test_info()->name()) / "PT";
    copy_dir(shared_dir() + "/data/dicom/pet/ibsi-suv-dro/DRO_0_0/PT", dir_);
  }
  void modify_all(const std::string& args) {
    for (const auto& f : files_under(dir_)) dcmodify(args, f);
  }
};

TEST_F(PetSeries, InterceptIsRefusedUnlessForced) {
  dcmodify("-m \"(0028,1052)=5\"", dir_ / "pet_dro_0_0_slice_007.dcm");
  expect_refused(quote(dir_.string()), "pet_dro_0_0_slice_007.dcm", "Rescale Intercept");
  const fs::path out = scratch("intercept_forced") / "p.nii.gz";
  const CliRun r = oncoquant("convert --quiet --allow-pet-intercept " + quote(dir_.string()) + " -o " + quote(out.string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(PetSeries, WeightZeroMeansNoSuvButNativeUnitsLoad) {
  modify_all("-m \"(0010,1030)=0\"");
  expect_refused(quote(dir_.string()), "series", "Weight");
  const CliRun info = oncoquant("info --json --quiet " + quote(dir_.string()));
  const json j = json::parse(info.out);
  const auto& pet = j["studies"][0]["series"][0]["pet"];
  EXPECT_FALSE(pet["suv_available"].get<bool>());
  EXPECT_NE(pet["suv_unavailable_reason"].get<std::string>().find("Weight"), std::string::npos);
  const fs::path out = scratch("weight_native") / "p.nii.gz";
  EXPECT_EQ(oncoquant("convert --quiet --units native " + quote(dir_.string()) + " -o " + quote(out.string())).exit_code, 0);
}

TEST_F(PetSeries, UnitsThatCannotGiveSuvAreNamed) {
  modify_all("-m \"(0054,1001)=CPS\"");
  expect_refused(quote(dir_.string()), "series", "Units CPS cannot be converted to SUV");
}

TEST_F(PetSeries, NotDecayCorrectedImagesAreNotQuantitative) {
  modify_all("-m \"(0028,0051)=NORM\\\\ATTN\"");
  expect_refused(quote(dir_.string()), "series", "DECY");
}

TEST_F(PetSeries, HuIsRefusedForPetAndSuvForCt) {
  const fs::path out = scratch("units_mismatch") / "x.mha";
  const CliRun r = oncoquant("convert --quiet --units hu " + quote(dir_.string()) + " -o " + quote(out.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("HU applies to CT"), std::string::npos) << r.err;
}

TEST(Usage, BadFlagsAreUsageErrors) {
  EXPECT_EQ(oncoquant("convert").exit_code, 2);
  EXPECT_EQ(oncoquant("convert x -o y.txt").exit_code, 2);
  EXPECT_EQ(oncoquant("convert x -o y.mha --units kelvin").exit_code, 2);
  EXPECT_EQ(oncoquant("info --frobnicate x").exit_code, 2);
  EXPECT_EQ(oncoquant("nonsense").exit_code, 2);
  EXPECT_EQ(oncoquant("--help").exit_code, 0);
  EXPECT_EQ(oncoquant("convert --help").exit_code, 0);
  // Detached headers are refused: their data file could not be written atomically with them.
  const auto nhdr = oncoquant("convert x -o y.nhdr");
  EXPECT_EQ(nhdr.exit_code, 2);
  EXPECT_NE(nhdr.err.find(".nhdr"), std::string::npos) << nhdr.err;
  EXPECT_EQ(oncoquant("convert x -o y.mhd").exit_code, 2);
  EXPECT_EQ(oncoquant("segment --help").exit_code, 0);
  EXPECT_EQ(oncoquant("bonescan --help").exit_code, 0);
  EXPECT_EQ(oncoquant("segment x").exit_code, 2);
}

// A status the response engine does not know never reaches the store: a usage error naming the
// statuses it takes, and the store file is not even created. The report commands' wrong arguments
// are usage errors too.
TEST(Usage, AnUnknownMeasurementStatusOrReportArgumentIsAUsageErrorAndWritesNothing) {
  const fs::path dir = scratch("usage_store");
  const fs::path db = dir / "s.sqlite";
  const CliRun r = oncoquant("store measure --db " + quote(db.string()) +
                             " --patient P --lesion T1 --date 2026-01-12 --long-axis 20 --status gone");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--status must be measured, absent, too-small"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(db));
  EXPECT_EQ(oncoquant("report --db " + quote(db.string()) + " --patient P").exit_code, 2) << "no --out";
  EXPECT_EQ(oncoquant("report --db x --patient P --out y --line 0").exit_code, 2);
  EXPECT_EQ(oncoquant("report --db x --patient P --out y extra").exit_code, 2);
  EXPECT_EQ(oncoquant("store import-sr --db x --patient P").exit_code, 2) << "no SR";
  EXPECT_EQ(oncoquant("report --help").exit_code, 0);
}

// The worklist's store actions: a wrong line number, date, criteria or non-target status is a usage
// error naming the flag, and no store is created; a non-target on a line the store does not have is
// refused naming the store, and nothing of it is written.
TEST(Usage, StoreAddLineAndAddNonTargetRefuseWhatTheyCannotRecord) {
  const fs::path dir = scratch("usage_add_line");
  const fs::path db = dir / "s.sqlite";
  const std::string store = "store --db " + quote(db.string()) + " ";
  const std::vector<std::pair<std::string, std::string>> usage = {
      {"add-line --patient P --line 0 --start 2026-01-10", "--line"},
      {"add-line --patient P --line 1 --start 2026-02-30", "--start"},
      {"add-line --patient P --line 1 --start 2026-01-10 --criteria WHO", "--criteria"},
      {"add-line --patient P --start 2026-01-10", "needs"},
      {"add-non-target --patient P --line 1 --lesion B1 --date 2026-01-12 --status measured", "--status"},
      {"add-non-target --patient P --line 1 --lesion B1", "needs --date"}};
  for (const auto& [args, why] : usage) {
    const CliRun r = oncoquant(store + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_NE(r.err.find(why), std::string::npos) << args << ": " << r.err;
    EXPECT_FALSE(fs::exists(db)) << args;
  }
  ASSERT_EQ(oncoquant(store + "add-line --patient P --line 1 --start 2026-01-10 --regimen letrozole").exit_code, 0);
  const CliRun r = oncoquant(store + "add-non-target --patient P --line 2 --lesion B1 --date 2026-01-12");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(db.filename().string()), std::string::npos) << r.err;
  EXPECT_EQ(oncoquant(store + "history --patient P --lesion B1").exit_code, 1) << "B1 was not added";
  EXPECT_EQ(oncoquant(store + "add-non-target --patient P --line 1 --lesion B1 --date 2026-01-12 --organ bone").exit_code, 0);
  EXPECT_NE(oncoquant(store + "history --patient P --lesion B1").out.find("present"), std::string::npos);
}

}  // namespace
