// The real third-party DICOM in ../shared/data: every file is either loaded or refused with a
// reason, every CT converts, and the named acceptance cases hold.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "support.h"

namespace {

using namespace oqtest;
using nlohmann::json;

json info_json(const std::string& path) {
  const CliRun r = oncoquant("info --json --quiet " + quote(path));
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << path << ": " << r.err;
  return json::parse(r.out);
}

TEST(SharedDicom, EveryFileIsLoadedOrRefusedWithAReason) {
  const auto files = files_under(shared_dir() + "/data/dicom");
  ASSERT_GT(files.size(), 100u);
  const fs::path out_dir = scratch("every_file");
  std::size_t loaded = 0, refused = 0;
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    const json j = info_json(f.string());
    std::size_t series = 0;
    for (const auto& st : j["studies"])
      for (const auto& se : st["series"]) {
        ++series;
        if (!se["loadable"].get<bool>()) {
          EXPECT_FALSE(se["problem"].get<std::string>().empty());
        }
      }
    if (series == 0 && !j["documents"].empty()) {  // an SR or SEG: listed with what it holds
      ASSERT_EQ(j["documents"].size(), 1u) << j.dump();
      EXPECT_EQ(j["documents"][0]["path"], f.string());
      EXPECT_FALSE(j["documents"][0]["kind"].get<std::string>().empty());
    } else if (series == 0) {
      ASSERT_EQ(j["unreadable"].size(), 1u) << j.dump();
      EXPECT_EQ(j["unreadable"][0]["path"], f.string());
      EXPECT_GT(j["unreadable"][0]["reason"].get<std::string>().size(), 8u);
    }
    // And convert: a volume, or one clear error naming the file, and no output left behind.
    const fs::path out = out_dir / "v.nii.gz";
    fs::remove(out);
    const CliRun c = oncoquant("convert --quiet " + quote(f.string()) + " -o " + quote(out.string()));
    if (c.exit_code == 0) {
      EXPECT_TRUE(fs::exists(out));
      ++loaded;
    } else {
      EXPECT_EQ(c.exit_code, 1) << c.err;
      EXPECT_EQ(c.err.rfind("error: ", 0), 0u) << c.err;
      EXPECT_NE(c.err.find(f.string()), std::string::npos) << "the error must name the file: " << c.err;
      EXPECT_FALSE(fs::exists(out));
      ++refused;
    }
    EXPECT_TRUE(fs::is_empty(out_dir) || fs::exists(out)) << "no temporary files left";
  }
  EXPECT_GT(loaded, 40u);
  EXPECT_GT(refused, 20u);
}

TEST(SharedDicom, EveryCtSeriesConverts) {
  const std::string ct = shared_dir() + "/data/dicom/ct";
  const json j = info_json(ct);
  const fs::path out_dir = scratch("every_ct");
  std::size_t converted = 0;
  for (const auto& st : j["studies"])
    for (const auto& se : st["series"]) {
      const std::string uid = se["uid"];
      if (!se["loadable"].get<bool>()) {
        // The pydicom DICOMDIR samples keep 4 slices of a 165-slice series: refusing it is right.
        EXPECT_NE(se["problem"].get<std::string>().find("missing slice"), std::string::npos) << uid;
        const CliRun c =
            oncoquant("convert --quiet " + quote(ct) + " --series " + uid + " -o " + quote((out_dir / "x.nrrd").string()));
        EXPECT_EQ(c.exit_code, 1);
        EXPECT_NE(c.err.find("missing slice"), std::string::npos) << c.err;
        continue;
      }
      const fs::path out = out_dir / (std::to_string(converted) + ".nrrd");
      const CliRun c = oncoquant("convert --quiet " + quote(ct) + " --series " + uid + " -o " + quote(out.string()));
      ASSERT_EQ(c.exit_code, 0) << uid << ": " << c.err;
      const VolumeData v = read_volume(out.string());
      EXPECT_EQ(v.size[0], se["matrix"][0].get<std::size_t>());
      // Values are HU: nothing below -4096 (padding lies around -2000 to -4000) and the body above water.
      const auto [mn, mx] = std::minmax_element(v.voxels.begin(), v.voxels.end());
      EXPECT_GE(*mn, -4096.0f) << uid;
      EXPECT_GT(*mx, 0.0f) << uid;
      ++converted;
    }
  EXPECT_GE(converted, 9u);
}

TEST(SharedDicom, EgsnrcSeriesWithoutMetaHeaderLoadsAsTenSlicesFiveMillimetresApart) {
  const fs::path out = scratch("egs") / "egs.nii.gz";
  const CliRun c = oncoquant("convert --quiet " + quote(shared_dir() + "/data/dicom/ct/egsnrc_bone_phantom_series") + " -o " +
                             quote(out.string()));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const VolumeData v = read_volume(out.string());
  EXPECT_EQ(v.size[2], 10u);
  EXPECT_NEAR(v.spacing[2], 5.0, 1e-6);
  EXPECT_NEAR(v.spacing[0], 0.69, 1e-6);
  EXPECT_NEAR(v.origin[2], -4.5, 1e-6);  // the lowest slice comes first (slice_names.txt order)
}

TEST(SharedDicom, Nm1RleAndUncompressedDecodeToIdenticalPixels) {
  const fs::path dir = scratch("nm1");
  const std::string nm = shared_dir() + "/data/dicom/nm/";
  const CliRun a =
      oncoquant("convert --quiet " + quote(nm + "nema-wg04_NM1_RLE.dcm") + " -o " + quote((dir / "rle.mha").string()));
  const CliRun b = oncoquant("convert --quiet " + quote(nm + "nema-wg04_NM1_uncompressed_DERIVED.dcm") + " -o " +
                             quote((dir / "raw.mha").string()));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const VolumeData va = read_volume((dir / "rle.mha").string());
  const VolumeData vb = read_volume((dir / "raw.mha").string());
  EXPECT_EQ(va.size, (std::array<std::size_t, 3>{256, 1024, 1}));
  ASSERT_EQ(va.voxels, vb.voxels);
  EXPECT_GT(*std::max_element(va.voxels.begin(), va.voxels.end()), 100.0f) << "counts, not an empty image";
}

TEST(SharedDicom, NmIsKeptAsCountsAndPetReportsSuvAvailability) {
  const json nm = info_json(shared_dir() + "/data/dicom/nm/nema-wg04_NM1_RLE.dcm");
  EXPECT_EQ(nm["studies"][0]["series"][0]["modality"], "NM");
  const json pt = info_json(shared_dir() + "/data/dicom/pet/tcia-acrin-flt-breast_pt_1.dcm");
  const auto& pet = pt["studies"][0]["series"][0]["pet"];
  EXPECT_EQ(pet["units"], "BQML");
  EXPECT_TRUE(pet["suv_available"].get<bool>());
}

TEST(SharedDicom, MultiFrameEnhancedAndLegacyConvertedCtLoad) {
  const fs::path dir = scratch("mf");
  const CliRun a = oncoquant("convert --quiet " + quote(shared_dir() + "/data/dicom/ct/pydicom-data_eCT_Supplemental.dcm") +
                             " -o " + quote((dir / "e.nii.gz").string()));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(read_volume((dir / "e.nii.gz").string()).size[2], 2u);
  // The legacy converted object holds the same 3 slices as the classic files beside it.
  const std::string d = shared_dir() + "/data/dicom/ct/dcmqi_23x38x3/";
  const CliRun b =
      oncoquant("convert --quiet " + quote(d + "legacy_enhanced_mf.dcm") + " -o " + quote((dir / "l.nii.gz").string()));
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const json classic = info_json(d);
  std::string classic_uid;
  for (const auto& se : classic["studies"][0]["series"])
    if (se["instances"] == 3) classic_uid = se["uid"];
  const CliRun c =
      oncoquant("convert --quiet " + quote(d) + " --series " + classic_uid + " -o " + quote((dir / "c.nii.gz").string()));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const VolumeData l = read_volume((dir / "l.nii.gz").string());
  const VolumeData k = read_volume((dir / "c.nii.gz").string());
  EXPECT_EQ(l.size, k.size);
  EXPECT_EQ(l.voxels, k.voxels);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(l.origin[i], k.origin[i], 1e-4);
}

TEST(SharedDicom, DicomdirIsFollowed) {
  const fs::path dir = scratch("dicomdir");
  fs::create_directories(dir / "SUB");
  int i = 0;
  for (const auto& f : files_under(shared_dir() + "/data/dicom/ct/pydicom_dicomdir_CT5N_series"))
    fs::copy_file(f, dir / "SUB" / ("IM" + std::to_string(++i)));
  const CliRun mk = shell("cd " + quote(dir.string()) + " && dcmmkdir --recurse +I +id . SUB");
  ASSERT_EQ(mk.exit_code, 0) << mk.err;
  const json j = info_json((dir / "DICOMDIR").string());
  ASSERT_EQ(j["studies"].size(), 1u);
  EXPECT_EQ(j["studies"][0]["series"][0]["instances"], 5);
  EXPECT_TRUE(j["unreadable"].empty()) << j["unreadable"].dump();
}

TEST(SharedDicom, InfoListsSlidesWithLevelsAndMicronsPerPixel) {
  const json j = info_json(shared_dir() + "/data/wsi/CMU-1-Small-Region.svs");
  ASSERT_EQ(j["slides"].size(), 1u);
  EXPECT_EQ(j["slides"][0]["vendor"], "aperio");
  EXPECT_EQ(j["slides"][0]["width"], 2220);
  EXPECT_NEAR(j["slides"][0]["mpp_x"].get<double>(), 0.499, 1e-3);
}

}  // namespace

namespace {

using namespace oqtest;

TEST(NmImage, MultiFrameViewsAreIdentifiedAndKeptAsCounts) {
  const fs::path dir = scratch("nm_views");
  const fs::path nm = dir / "wb.dcm";
  const CliRun mk =
      shell(quote(std::string(OQ_BINARY_DIR) + "/bin/make_nm_views") + " " +
            quote(shared_dir() + "/data/dicom/nm/nema-wg04_NM1_uncompressed_DERIVED.dcm") + " " + quote(nm.string()));
  ASSERT_EQ(mk.exit_code, 0) << mk.err;
  const CliRun info = oncoquant("info --json --quiet " + quote(nm.string()));
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const auto j = nlohmann::json::parse(info.out);
  const auto& se = j["studies"][0]["series"][0];
  EXPECT_EQ(se["views"], nlohmann::json::array({"anterior", "posterior"}));
  const CliRun c = oncoquant("convert --quiet " + quote(nm.string()) + " -o " + quote((dir / "wb.nrrd").string()));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const CliRun c1 = oncoquant("convert --quiet " + quote(shared_dir() + "/data/dicom/nm/nema-wg04_NM1_uncompressed_DERIVED.dcm") +
                              " -o " + quote((dir / "sc.nrrd").string()));
  ASSERT_EQ(c1.exit_code, 0) << c1.err;
  const VolumeData v = read_volume((dir / "wb.nrrd").string());
  const VolumeData sc = read_volume((dir / "sc.nrrd").string());
  ASSERT_EQ(v.size[2], 2u);
  const std::size_t w = v.size[0], h = v.size[1];
  for (std::size_t y = 0; y < h; y += 37)
    for (std::size_t x = 0; x < w; x += 11) {
      EXPECT_EQ(v.voxels[y * w + x], sc.voxels[y * w + x]);                    // anterior: as acquired
      EXPECT_EQ(v.voxels[w * h + y * w + (w - 1 - x)], sc.voxels[y * w + x]);  // posterior: mirrored
    }
}

TEST(PetCt, PetIsPairedWithItsCtAndResampledOntoItsGrid) {
  const fs::path dir = scratch("petct");
  const fs::path pt = dir / "PT", ct = dir / "CT";
  fs::create_directories(pt);
  fs::create_directories(ct);
  for (const auto& f : files_under(shared_dir() + "/data/dicom/pet/ibsi-suv-dro/DRO_0_0/PT")) fs::copy_file(f, pt / f.filename());
  for (const auto& f : files_under(shared_dir() + "/data/dicom/ct/egsnrc_bone_phantom_series"))
    if (f.extension() == ".dcm") fs::copy_file(f, ct / f.filename());
  // Centre the reference object's activity (around x = y = 512 mm) on the CT's field of view.
  for (const auto& f : files_under(pt)) {
    const auto p = image_position(f);
    ASSERT_TRUE(set_image_position(f, {p[0] - 512, p[1] - 512, p[2]}));
  }
  const CliRun pet_info = oncoquant("info --json --quiet " + quote(pt.string()));
  const auto pj = nlohmann::json::parse(pet_info.out)["studies"][0];
  const std::string for_uid = pj["series"][0]["frame_of_reference_uid"];
  const std::string study_uid = pj["study_uid"];
  const std::string pet_uid = pj["series"][0]["uid"];
  // Make the CT part of the same PET-CT acquisition: same study, same Frame of Reference.
  const CliRun mod = shell("dcmodify -nb -q -m \"(0020,0052)=" + for_uid + "\" -m \"(0020,000d)=" + study_uid +
                           "\" -m \"(0010,0020)=DRO\" " + quote(ct.string()) + "/*.dcm");
  ASSERT_EQ(mod.exit_code, 0) << mod.err;
  const CliRun info = oncoquant("info --json --quiet " + quote(dir.string()));
  const auto j = nlohmann::json::parse(info.out);
  std::string ct_uid;
  for (const auto& st : j["studies"])
    for (const auto& se : st["series"]) {
      if (se["modality"] == "CT") ct_uid = se["uid"];
      if (se["modality"] == "PT") {
        EXPECT_EQ(se["paired_series"].size(), 1u) << se.dump();
      }
    }
  ASSERT_FALSE(ct_uid.empty());
  const fs::path out = dir / "pet_on_ct.nii.gz";
  const CliRun c = oncoquant("convert --quiet " + quote(dir.string()) + " --series " + pet_uid + " --resample-to " + ct_uid +
                             " -o " + quote(out.string()));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const VolumeData v = read_volume(out.string());
  const fs::path ct_out = dir / "ct.nii.gz", pet_out = dir / "pet.nii.gz";
  ASSERT_EQ(
      oncoquant("convert --quiet " + quote(dir.string()) + " --series " + ct_uid + " -o " + quote(ct_out.string())).exit_code, 0);
  ASSERT_EQ(
      oncoquant("convert --quiet " + quote(dir.string()) + " --series " + pet_uid + " -o " + quote(pet_out.string())).exit_code,
      0);
  const VolumeData ctv = read_volume(ct_out.string());
  const VolumeData petv = read_volume(pet_out.string());
  EXPECT_EQ(v.size, ctv.size);
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(v.origin[i], ctv.origin[i], 1e-4);
    EXPECT_NEAR(v.spacing[i], ctv.spacing[i], 1e-6);
  }
  // Interpolated SUV stays within the PET's own range and is not empty.
  const float pet_max = *std::max_element(petv.voxels.begin(), petv.voxels.end());
  const float pet_min = *std::min_element(petv.voxels.begin(), petv.voxels.end());
  const auto [mn, mx] = std::minmax_element(v.voxels.begin(), v.voxels.end());
  EXPECT_GE(*mn, std::min(0.0f, pet_min) - 1e-4f);
  EXPECT_LE(*mx, pet_max + 1e-4f);
  EXPECT_GT(*mx, 0.0f);

  // A CT of another Frame of Reference is not resampled blindly.
  const CliRun other = oncoquant("convert --quiet " + quote(dir.string()) + " --series " + pet_uid + " --resample-to " + ct_uid +
                                 "X -o " + quote((dir / "x.nii.gz").string()));
  EXPECT_EQ(other.exit_code, 1);
}

}  // namespace

namespace {

// A value as `info` prints it: name, derivation, the number as C's %g, unit.
std::string value_text(const json& v) {
  std::string out = v["name"].get<std::string>();
  if (v.contains("derivation")) out += " (" + v["derivation"].get<std::string>() + ")";
  char number[48];
  std::snprintf(number, sizeof number, " %g", v["value"].get<double>());
  return out + number + " " + v["unit"].get<std::string>();
}

const json* item_with_uid(const json& doc, const std::string& uid) {
  for (const json& i : doc["items"])
    if (i["tracking_uid"] == uid) return &i;
  return nullptr;
}

}  // namespace

// The TID 1500 SRs other tools wrote (dcmqi, highdicom): `info` lists every measurement group with
// its Tracking UID and every numeric value with its unit and derivation, as pydicom reads them.
TEST(SharedDicom, InfoListsThirdPartyMeasurementReportsAsPydicomReadsThem) {
  const std::string sr = shared_dir() + "/data/dicom/sr/";
  for (const std::string& file : {sr + "dcmqi_sr-example/sr_tid1500.dcm", sr + "highdicom_sr_document_tid1500.dcm",
                                  sr + "highdicom_sr_document_tid1500_multiple_groups.dcm"}) {
    SCOPED_TRACE(file);
    const json j = info_json(file);
    ASSERT_EQ(j["documents"].size(), 1u) << j.dump();
    const json& doc = j["documents"][0];
    EXPECT_NE(doc["kind"].get<std::string>().find("TID 1500"), std::string::npos);
    const CliRun py =
        shell("/usr/bin/python3 " + quote(std::string(OQ_SOURCE_DIR) + "/tests/tools/read_sr.py") + " " + quote(file));
    ASSERT_EQ(py.exit_code, 0) << py.err;
    const json truth = json::parse(py.out);
    EXPECT_EQ(doc["patient_id"], truth["patient_id"]);
    EXPECT_EQ(doc["study_uid"], truth["study_uid"]);
    ASSERT_EQ(doc["items"].size(), truth["groups"].size());
    std::size_t values = 0;
    for (const json& g : truth["groups"]) {
      const json* item = item_with_uid(doc, g["tracking_uid"]);
      ASSERT_NE(item, nullptr) << g.dump();
      for (const json& v : g["values"]) {
        if (v["value"].is_null()) continue;
        const std::string expected = value_text(v);
        bool found = false;
        for (const json& ours : (*item)["values"]) found = found || ours.get<std::string>().rfind(expected, 0) == 0;
        EXPECT_TRUE(found) << "missing '" << expected << "' in " << item->dump();
        ++values;
      }
    }
    EXPECT_GT(values, 0u);
  }
}

// Segmentations other tools wrote: each segment with its label and its frames, as pydicom reads them.
TEST(SharedDicom, InfoListsThirdPartySegmentationsAsPydicomReadsThem) {
  const std::string data = shared_dir() + "/data/dicom/";
  for (const std::string& file : {data + "seg/dcmqi_23x38x3_seg.dcm", data + "seg/dcmqi_liver_seg_on_ct-3slice.dcm",
                                  data + "seg/highdicom_seg_image_ct_binary.dcm", data + "sr/dcmqi_sr-example/seg.dcm"}) {
    SCOPED_TRACE(file);
    const json j = info_json(file);
    ASSERT_EQ(j["documents"].size(), 1u) << j.dump();
    const json& doc = j["documents"][0];
    EXPECT_EQ(doc["kind"], "DICOM SEG (BINARY)");
    const CliRun py =
        shell("/usr/bin/python3 " + quote(std::string(OQ_SOURCE_DIR) + "/tests/tools/read_seg.py") + " " + quote(file));
    ASSERT_EQ(py.exit_code, 0) << py.err;
    const json truth = json::parse(py.out);
    EXPECT_EQ(doc["referenced_series"], truth["referenced_series"]);
    ASSERT_EQ(doc["items"].size(), truth["segments"].size());
    for (std::size_t s = 0; s < doc["items"].size(); ++s) {
      const json& ours = doc["items"][s];
      const json& theirs = truth["segments"][s];
      EXPECT_EQ(ours["name"], theirs["label"]);
      const std::string frames = std::to_string(theirs["source_images"].size()) + " frame(s)";
      EXPECT_NE(std::find(ours["values"].begin(), ours["values"].end(), frames), ours["values"].end()) << ours.dump();
    }
  }
}

// Others' SEGs read back by OncoQuant (convert, onto the series they segment) as pydicom reads them,
// voxel for voxel; and a SEG whose frames lie on none of the series' slices is refused.
TEST(SharedDicom, ThirdPartySegmentationsReadBackVoxelForVoxelAsPydicomReadsThem) {
  const std::string data = shared_dir() + "/data/dicom/";
  const std::pair<std::string, std::string> cases[] = {{"seg/dcmqi_23x38x3_seg.dcm", "ct/dcmqi_23x38x3"},
                                                       {"seg/dcmqi_liver_seg_on_ct-3slice.dcm", "ct/dcmqi_ct-3slice"}};
  const fs::path dir = scratch("third_party_seg");
  for (const auto& [seg, images] : cases) {
    SCOPED_TRACE(seg);
    const fs::path out = dir / "mask.nii.gz";
    fs::remove(out);
    const CliRun r = oncoquant("convert --quiet " + quote(data + seg) + " --images " + quote(data + images) + " --segment 1 -o " +
                               quote(out.string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const CliRun py =
        shell("/usr/bin/python3 " + quote(std::string(OQ_SOURCE_DIR) + "/tests/tools/read_seg.py") + " " + quote(data + seg));
    ASSERT_EQ(py.exit_code, 0) << py.err;
    const Points theirs = seg_points(json::parse(py.out)["segments"][0]);
    EXPECT_GT(theirs.size(), 10u);
    EXPECT_EQ(differing(mask_points(read_volume(out.string())), theirs), 0u);
  }
  // The same images moved 50 mm to the left: the SEG's frames fit none of their slices.
  const fs::path moved = dir / "moved";
  fs::create_directories(moved);
  for (const fs::path& f : files_under(data + "ct/dcmqi_23x38x3")) {
    if (f.filename().string().rfind("IMG", 0) != 0) continue;
    fs::copy_file(f, moved / f.filename());
    auto p = image_position(moved / f.filename());
    p[0] += 50;
    ASSERT_TRUE(set_image_position(moved / f.filename(), p));
  }
  const fs::path out = dir / "misfit.nii.gz";
  const CliRun r = oncoquant("convert --quiet " + quote(data + "seg/dcmqi_23x38x3_seg.dcm") + " --images " +
                             quote(moved.string()) + " -o " + quote(out.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not fit the series"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("dcmqi_23x38x3_seg.dcm"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}
