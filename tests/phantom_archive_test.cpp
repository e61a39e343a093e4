// The generated demo archive, checked with tools that share no code with the generator: dciodvfy
// for every DICOM object, OpenSlide for the slides, `oncoquant info/convert` for what a user sees,
// and ITK reading the images back to compare pixels with the ground truth written beside them.
#include <gtest/gtest.h>
#include <openslide.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "support.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kArchive = OQ_PHANTOM_ARCHIVE;

json load(const fs::path& p) {
  return oqtest::load_json(p);
}

json manifest() {
  return load(kArchive / "manifest.json");
}

std::string phantom_tool() {
  return std::string(OQ_BINARY_DIR) + "/bin/oq-phantom";
}

// Every series of the manifest with its truth file.
struct SeriesRef {
  std::string patient, modality, uid, path;
  fs::path truth;
};
std::vector<SeriesRef> all_series() {
  std::vector<SeriesRef> out;
  const json m = manifest();
  for (const auto& p : m["patients"]) {
    size_t tp = 0;
    for (const auto& t : p["time_points"]) {
      const fs::path truth_dir =
          kArchive / p["truth_path"].get<std::string>() / ("t" + std::to_string(tp) + "_" + t["date"].get<std::string>());
      out.push_back({p["patient_id"], "CT", t["ct"]["series_uid"], t["ct"]["path"], truth_dir / "ct.truth.json"});
      out.push_back({p["patient_id"], "PT", t["pet"]["series_uid"], t["pet"]["path"], truth_dir / "pet.truth.json"});
      if (t.contains("bone_scan")) {
        out.push_back(
            {p["patient_id"], "NM", t["bone_scan"]["series_uid"], t["bone_scan"]["path"], truth_dir / "bone_scan.truth.json"});
        out.push_back({p["patient_id"], "NM", t["bone_scan_secondary_capture"]["series_uid"],
                       t["bone_scan_secondary_capture"]["path"], truth_dir / "bone_scan.truth.json"});
      }
      ++tp;
    }
  }
  return out;
}

TEST(PhantomArchive, HasThreePatientsOnePerGroupWithTheRequiredStudies) {
  const json m = manifest();
  ASSERT_GE(m["patients"].size(), 3U);
  std::set<int> groups;
  bool bone = false, dicomdir = false;
  for (const auto& p : m["patients"]) {
    const json g = load(kArchive / p["truth_path"].get<std::string>() / "phenotype.truth.json");
    groups.insert(g["group"].get<int>());
    EXPECT_GE(p["time_points"].size(), 3U) << p["patient_id"];
    EXPECT_EQ(p["slides"].size(), 3U);
    for (const auto& t : p["time_points"]) bone = bone || t.contains("bone_scan");
    dicomdir = dicomdir || p.contains("dicomdir");
    EXPECT_FALSE(p["baseline_lesion_seeds"].empty());
  }
  EXPECT_EQ(groups, (std::set<int>{1, 2, 3}));
  EXPECT_TRUE(bone);
  EXPECT_TRUE(dicomdir);
  // The courses show a partial response, progression with a new lesion, and stable disease.
  std::set<std::string> seen;
  bool pd_by_new_lesion = false;
  for (const auto& p : m["patients"]) {
    const json recist = load(kArchive / p["truth_path"].get<std::string>() / "recist.truth.json");
    for (const auto& line : recist["lines"])
      for (const auto& f : line["followups"]) {
        seen.insert(f["overall_response"].get<std::string>());
        if (f["overall_response"] == "PD" && !f["new_lesions"].empty()) pd_by_new_lesion = true;
      }
  }
  EXPECT_TRUE(seen.count("PR") && seen.count("SD") && seen.count("PD"));
  EXPECT_TRUE(pd_by_new_lesion);
}

TEST(PhantomArchive, DciodvfyFindsNoErrorInAnyObject) {
  // Every DICOM file (and the DICOMDIR), two at a time; any "Error" line fails.
  const auto r =
      oqtest::shell("cd " + oqtest::quote(kArchive.string()) +
                    " && find archive -type f ! -name '*.svs' ! -name '*.tiff' -print0 | "
                    "xargs -0 -n 40 -P 2 sh -c 'for f; do dciodvfy \"$f\" 2>&1 | grep \"^Error\" | sed \"s|^|$f: |\"; done' _");
  EXPECT_EQ(r.out, "") << r.out.substr(0, 4000);
  const auto count = oqtest::shell("cd " + oqtest::quote(kArchive.string()) +
                                   " && find archive -type f ! -name '*.svs' ! -name '*.tiff' | wc -l");
  EXPECT_GT(std::stoi(count.out), 3000);
}

TEST(PhantomArchive, InfoListsEverySeriesWithItsModalityAndGeometry) {
  const auto r = oqtest::oncoquant("info --json --quiet " + oqtest::quote((kArchive / "archive").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json info = json::parse(r.out);
  std::map<std::string, json> by_uid;
  for (const auto& st : info["studies"])
    for (const auto& s : st["series"]) by_uid[s["uid"].get<std::string>()] = s;
  EXPECT_TRUE(info["unreadable"].empty()) << info["unreadable"].dump();
  for (const SeriesRef& ref : all_series()) {
    const json truth = load(ref.truth);
    // NM whole-body objects hold two views with their own orientation: the loader lists each.
    std::vector<json> found;
    for (const auto& [uid, s] : by_uid)
      if (uid == ref.uid || uid.rfind(ref.uid + "#", 0) == 0) found.push_back(s);
    ASSERT_FALSE(found.empty()) << ref.path;
    for (const json& s : found) {
      EXPECT_EQ(s["modality"], ref.modality) << ref.path;
      EXPECT_TRUE(s["loadable"].get<bool>()) << ref.path << " " << s.dump();
      if (ref.modality == "CT") {
        EXPECT_EQ(s["matrix"], json::array({512, 512, truth["grid"]["slices"]})) << ref.path;
        EXPECT_NEAR(s["spacing"][0].get<double>(), truth["grid"]["pixel_spacing_mm"].get<double>(), 1e-4);
        EXPECT_NEAR(s["spacing"][2].get<double>(), truth["grid"]["slice_spacing_mm"].get<double>(), 1e-3);
        EXPECT_NEAR(s["origin"][2].get<double>(), truth["grid"]["origin_mm"][2].get<double>(), 1e-3);
      } else if (ref.modality == "PT") {
        EXPECT_EQ(s["matrix"], json::array({144, 144, 225})) << ref.path;
        EXPECT_NEAR(s["spacing"][2].get<double>(), 4.0, 1e-6);
        // SUV from the headers, by oncoquant's SUV rules, equals the generator's factor.
        EXPECT_NEAR(s["pet"]["suv_bw_factor"].get<double>() / truth["suv_bw_factor"].get<double>(), 1.0, 1e-5) << ref.path;
      } else {
        EXPECT_EQ(s["matrix"][0], 256);
        EXPECT_EQ(s["matrix"][1], 1024);
      }
    }
  }
  EXPECT_EQ(info["slides"].size(), 9U);
  for (const auto& s : info["slides"]) EXPECT_TRUE(s.contains("mpp_x") && s["mpp_x"].is_number()) << s.dump();
}

TEST(PhantomArchive, DicomdirListsEveryFileOfTheMediaPatient) {
  const json m = manifest();
  for (const auto& p : m["patients"]) {
    if (!p.contains("dicomdir")) continue;
    const auto r =
        oqtest::oncoquant("info --json --quiet " + oqtest::quote((kArchive / p["dicomdir"].get<std::string>()).string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json info = json::parse(r.out);
    size_t instances = 0, expected = 0;
    for (const auto& st : info["studies"])
      for (const auto& s : st["series"]) instances += s["instances"].get<size_t>();
    for (const auto& t : p["time_points"]) expected += t["ct"]["instances"].get<size_t>() + t["pet"]["instances"].get<size_t>();
    EXPECT_EQ(instances, expected);
  }
}

TEST(PhantomArchive, SlidesOpenInOpenSlideWithLevelsAndMicronsPerPixel) {
  const json m = manifest();
  for (const auto& p : m["patients"])
    for (const auto& s : p["slides"]) {
      const fs::path path = kArchive / s["path"].get<std::string>();
      const auto r = oqtest::shell("openslide-show-properties " + oqtest::quote(path.string()));
      ASSERT_EQ(r.exit_code, 0) << path << r.err;
      EXPECT_NE(r.out.find("openslide.level-count: '3'"), std::string::npos) << path;
      // Aperio files state MPP; OpenSlide 3.4.1 reports a generic TIFF's resolution tags instead.
      const bool mpp = r.out.find("openslide.mpp-x: '0.499'") != std::string::npos ||
                       (r.out.find("tiff.ResolutionUnit: 'centimeter'") != std::string::npos &&
                        r.out.find("tiff.XResolution: '20000'") != std::string::npos);
      EXPECT_TRUE(mpp) << path << "\n" << r.out;
    }
}

// Mean of the voxels of one label, eroded by one voxel (6-neighbourhood) so partial-volume edges do not count.
double eroded_mean(const oqtest::VolumeData& image, const oqtest::VolumeData& labels, int label, size_t* count) {
  const size_t nx = labels.size[0], ny = labels.size[1], nz = labels.size[2];
  double sum = 0;
  size_t n = 0;
  const size_t plane = nx * ny;
  for (size_t z = 1; z + 1 < nz; ++z)
    for (size_t y = 1; y + 1 < ny; ++y)
      for (size_t x = 1; x + 1 < nx; ++x) {
        const size_t o = (z * ny + y) * nx + x;
        if (static_cast<int>(labels.voxels[o]) != label) continue;
        if (static_cast<int>(labels.voxels[o - 1]) != label || static_cast<int>(labels.voxels[o + 1]) != label ||
            static_cast<int>(labels.voxels[o - nx]) != label || static_cast<int>(labels.voxels[o + nx]) != label ||
            static_cast<int>(labels.voxels[o - plane]) != label || static_cast<int>(labels.voxels[o + plane]) != label)
          continue;
        sum += image.voxels[o];
        ++n;
      }
  *count = n;
  return n ? sum / static_cast<double>(n) : 0;
}

TEST(PhantomArchive, CtLesionTruthAgreesWithThePixels) {
  // For every lesion of every baseline CT: the CT numbers inside its label are the truth's HU, the
  // label's volume is the analytic volume, and the seed lies in the lesion.
  const fs::path dir = oqtest::scratch("phantom_ct");
  const json m = manifest();
  int lesions = 0, interiors = 0;
  for (const auto& p : m["patients"]) {
    const auto& t0 = p["time_points"][0];
    const fs::path out = dir / (p["patient_id"].get<std::string>() + ".nii.gz");
    const auto r =
        oqtest::oncoquant("convert --quiet " + oqtest::quote((kArchive / t0["ct"]["path"].get<std::string>()).string()) + " -o " +
                          oqtest::quote(out.string()));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const fs::path truth_dir = kArchive / p["truth_path"].get<std::string>() / ("t0_" + t0["date"].get<std::string>());
    const json truth = load(truth_dir / "ct.truth.json");
    const auto image = oqtest::read_volume(out.string());
    const auto labels = oqtest::read_volume((truth_dir / truth["label_map"].get<std::string>()).string());
    ASSERT_EQ(image.size, labels.size);
    for (int a = 0; a < 3; ++a) EXPECT_NEAR(image.origin[a], labels.origin[a], 1e-3);
    const double voxel_ml = image.spacing[0] * image.spacing[1] * image.spacing[2] / 1000;
    for (const auto& l : truth["lesions"]) {
      if (!l["present"].get<bool>()) continue;
      size_t n = 0;
      const double mean = eroded_mean(image, labels, l["label"].get<int>(), &n);
      if (n >= 5) {  // lesions a few voxels thick have no interior to average
        const double noise = truth["noise_hu_sd"].get<double>() / std::sqrt(static_cast<double>(n));
        EXPECT_NEAR(mean, l["hu"].get<double>(), 5 * noise + 3) << p["patient_id"] << " " << l["id"];
        ++interiors;
      }
      // Majority-vote voxels follow the analytic volume; quantisation weighs more on small lesions.
      const double label_ml = l["label_voxels"].get<double>() * voxel_ml, true_ml = l["volume_ml"].get<double>();
      EXPECT_NEAR(label_ml / true_ml, 1.0, true_ml >= 1 ? 0.12 : 0.3) << p["patient_id"] << " " << l["id"];
      // The seed's voxel carries the lesion's label.
      const auto& s = l["seed_mm"];
      const size_t ix = static_cast<size_t>(std::lround((s[0].get<double>() - labels.origin[0]) / labels.spacing[0]));
      const size_t iy = static_cast<size_t>(std::lround((s[1].get<double>() - labels.origin[1]) / labels.spacing[1]));
      const size_t iz = static_cast<size_t>(std::lround((s[2].get<double>() - labels.origin[2]) / labels.spacing[2]));
      EXPECT_EQ(static_cast<int>(labels.voxels[(iz * labels.size[1] + iy) * labels.size[0] + ix]), l["label"].get<int>())
          << l["id"];
      ++lesions;
    }
  }
  EXPECT_GE(lesions, 10);
  EXPECT_GE(interiors, 8);
}

TEST(PhantomArchive, PetLesionTruthAgreesWithTheSuvImage) {
  const fs::path dir = oqtest::scratch("phantom_pet");
  const json m = manifest();
  const auto& p = m["patients"][0];
  const auto& t0 = p["time_points"][0];
  const fs::path out = dir / "pet.nii.gz";
  const auto r =
      oqtest::oncoquant("convert --quiet " + oqtest::quote((kArchive / t0["pet"]["path"].get<std::string>()).string()) + " -o " +
                        oqtest::quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path truth_dir = kArchive / p["truth_path"].get<std::string>() / ("t0_" + t0["date"].get<std::string>());
  const json truth = load(truth_dir / "pet.truth.json");
  const auto suv = oqtest::read_volume(out.string());
  const auto labels = oqtest::read_volume((truth_dir / "pet_lesion_labels.nrrd").string());
  ASSERT_EQ(suv.size, labels.size);
  int checked = 0;
  for (const auto& l : truth["lesions"]) {
    if (!l["present"].get<bool>() || l["label_voxels"].get<int>() < 8) continue;
    double sum = 0, n = 0;
    for (size_t o = 0; o < suv.voxels.size(); ++o)
      if (static_cast<int>(labels.voxels[o]) == l["label"].get<int>()) {
        sum += suv.voxels[o];
        ++n;
      }
    // The noisy image's mean over the label is the noise-free mean within the noise.
    EXPECT_NEAR(sum / n / l["suv_mean_noise_free"].get<double>(), 1.0, 0.1) << l["id"];
    // Blur lowers the peak of a small lesion below its true uptake, never above it.
    EXPECT_LE(l["suv_max_noise_free"].get<double>(), l["suv_true"].get<double>() * 1.001) << l["id"];
    ++checked;
  }
  EXPECT_GE(checked, 3);
}

TEST(PhantomArchive, SlideCellClassesAgreeWithTheStainedPixels) {
  // At each listed tumour nucleus, unmix the RGB with the slide's stain vectors (Ruifrok &
  // Johnston) and class the DAB optical density at 0.2 / 0.4 / 0.6: it must give the listed class.
  const json m = manifest();
  const auto& p = m["patients"][0];
  const fs::path truth_dir = kArchive / p["truth_path"].get<std::string>() / "pathology";
  for (const auto& s : p["slides"]) {
    if (s["marker"] != "ER" && s["marker"] != "PR") continue;
    const json truth = load(truth_dir / (s["marker"].get<std::string>() + ".truth.json"));
    openslide_t* os = openslide_open((kArchive / s["path"].get<std::string>()).string().c_str());
    ASSERT_NE(os, nullptr);
    ASSERT_EQ(openslide_get_error(os), nullptr);
    const auto h = truth["stain_vectors"]["hematoxylin"].get<std::array<double, 3>>();
    const auto d = truth["stain_vectors"]["dab"].get<std::array<double, 3>>();
    const std::array<double, 3> res{h[1] * d[2] - h[2] * d[1], h[2] * d[0] - h[0] * d[2], h[0] * d[1] - h[1] * d[0]};
    // Inverse of the 3 x 3 stain matrix (rows h, d, residual) by Cramer's rule.
    const double stains[3][3] = {{h[0], h[1], h[2]}, {d[0], d[1], d[2]}, {res[0], res[1], res[2]}};
    auto det3 = [](const double a[3][3]) {
      return a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
             a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    };
    const double det = det3(stains);
    const auto glass = truth["glass_rgb"].get<std::array<double, 3>>();
    const double dab_strength = truth["stain_strength"]["dab"].get<double>();
    std::ifstream csv(truth_dir / truth["cells_file"].get<std::string>());
    std::string line;
    std::getline(csv, line);
    std::array<long, 4> listed{}, agree{};
    long tumour = 0;
    while (std::getline(csv, line)) {
      std::stringstream ls(line);
      std::string xs, ys, type, cls;
      std::getline(ls, xs, ',');
      std::getline(ls, ys, ',');
      std::getline(ls, type, ',');
      std::getline(ls, cls, ',');
      if (type != "tumour" || tumour++ % 7 != 0) continue;  // every 7th tumour cell
      const int64_t x = std::lround(std::stod(xs)), y = std::lround(std::stod(ys));
      uint32_t px[9];
      openslide_read_region(os, px, x - 1, y - 1, 0, 3, 3);
      double od[3] = {0, 0, 0};
      for (uint32_t v : px) {
        const double rgb[3] = {static_cast<double>((v >> 16) & 0xff), static_cast<double>((v >> 8) & 0xff),
                               static_cast<double>(v & 0xff)};
        for (int c = 0; c < 3; ++c) od[c] += -std::log10(std::max(1.0, rgb[c]) / glass[static_cast<size_t>(c)]) / 9;
      }
      // Solve od = ch*h + cd*d + cr*res for cd.
      double md[3][3];
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) md[r][c] = r == 1 ? od[c] : stains[r][c];
      const double dab = det3(md) / det / dab_strength;
      const int measured = dab < 0.2 ? 0 : dab < 0.4 ? 1 : dab < 0.6 ? 2 : 3;
      const int c = std::stoi(cls);
      ++listed[static_cast<size_t>(c)];
      if (measured == c) ++agree[static_cast<size_t>(c)];
    }
    openslide_close(os);
    long total = 0, ok = 0;
    for (size_t c = 0; c < 4; ++c) {
      total += listed[c];
      ok += agree[c];
    }
    ASSERT_GT(total, 300);
    std::printf("%s: %.1f %% of %ld sampled tumour nuclei unmix to their listed class\n", s["marker"].get<std::string>().c_str(),
                100.0 * static_cast<double>(ok) / static_cast<double>(total), total);
    EXPECT_GE(static_cast<double>(ok) / static_cast<double>(total), 0.95)
        << s["marker"] << " agree per class " << agree[0] << "/" << listed[0] << " " << agree[1] << "/" << listed[1] << " "
        << agree[2] << "/" << listed[2] << " " << agree[3] << "/" << listed[3];
    // The truth's counts are the listed cells.
    const auto& cells = truth["result"]["cells"];
    EXPECT_EQ(cells["total"].get<long>(), tumour);
  }
}

TEST(PhantomArchive, SameSeedGivesTheSameBytesAndAnotherSeedDoesNot) {
  // Regenerating one patient alone gives exactly the bytes it has in the full archive.
  const fs::path dir = oqtest::scratch("phantom_again");
  const auto r = oqtest::shell(phantom_tool() + " demo --quiet --no-previews --patients OQ-DEMO-002 --out " +
                               oqtest::quote((dir / "a").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto diff = oqtest::shell("diff -r " + oqtest::quote((kArchive / "archive/OQ-DEMO-002").string()) + " " +
                                  oqtest::quote((dir / "a/archive/OQ-DEMO-002").string()) + " && diff -r " +
                                  oqtest::quote((kArchive / "truth/OQ-DEMO-002").string()) + " " +
                                  oqtest::quote((dir / "a/truth/OQ-DEMO-002").string()));
  EXPECT_EQ(diff.exit_code, 0) << diff.out.substr(0, 2000);
  const auto other = oqtest::shell(phantom_tool() + " demo --quiet --no-previews --seed 7 --patients OQ-DEMO-002 --out " +
                                   oqtest::quote((dir / "b").string()));
  ASSERT_EQ(other.exit_code, 0) << other.err;
  const json a = load(dir / "a/truth/OQ-DEMO-002/t0_2026-02-02/ct.truth.json");
  const json b = load(dir / "b/truth/OQ-DEMO-002/t0_2026-02-02/ct.truth.json");
  EXPECT_NE(a["lesions"][0]["seed_mm"], b["lesions"][0]["seed_mm"]);
}

TEST(PhantomArchive, GeneratorRefusesAnExistingFolderAndBadArguments) {
  const fs::path dir = oqtest::scratch("phantom_refuse");
  auto r = oqtest::shell(phantom_tool() + " demo --out " + oqtest::quote(dir.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  r = oqtest::shell(phantom_tool() + " demo --out " + oqtest::quote((dir / "x").string()) + " --patients NOBODY");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("NOBODY"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "x"));
  r = oqtest::shell(phantom_tool() + " demo --seed abc --out " + oqtest::quote((dir / "y").string()));
  EXPECT_EQ(r.exit_code, 2);
}

TEST(PhantomArchive, InterruptedRunLeavesNothingUnderTheFinalName) {
  const fs::path dir = oqtest::scratch("phantom_kill");
  const auto r =
      oqtest::shell("(" + phantom_tool() + " demo --quiet --patients OQ-DEMO-001 --out " +
                    oqtest::quote((dir / "demo").string()) + " & pid=$!; sleep 2; kill -9 $pid; wait $pid) 2>/dev/null; true");
  EXPECT_FALSE(fs::exists(dir / "demo"));
  // The next run clears the abandoned partial folder and finishes.
  const auto again = oqtest::shell(phantom_tool() + " demo --quiet --no-previews --patients OQ-DEMO-002 --out " +
                                   oqtest::quote((dir / "demo").string()));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  size_t partials = 0;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".partial-") != std::string::npos) ++partials;
  EXPECT_EQ(partials, 0U);
}

}  // namespace

namespace {

TEST(PhantomLesionSet, SeriesAreValidAndTheirTruthMatchesTheLabels) {
  const fs::path dir = oqtest::scratch("lesion_set");
  const fs::path out = dir / "set";
  const auto r = oqtest::shell(phantom_tool() + " lesions --quiet --no-previews --count 2 --out " + oqtest::quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json m = load(out / "manifest.json");
  ASSERT_EQ(m["patients"].size(), 2U);
  for (const auto& p : m["patients"]) {
    const auto& t0 = p["time_points"][0];
    EXPECT_FALSE(t0.contains("pet"));
    const fs::path series = out / t0["ct"]["path"].get<std::string>();
    const auto v =
        oqtest::shell("for f in " + oqtest::quote(series.string()) + "/*.dcm; do dciodvfy \"$f\" 2>&1 | grep '^Error'; done");
    EXPECT_EQ(v.out, "");
    const fs::path nii = dir / (p["patient_id"].get<std::string>() + ".nii.gz");
    const auto c = oqtest::oncoquant("convert --quiet " + oqtest::quote(series.string()) + " -o " + oqtest::quote(nii.string()));
    ASSERT_EQ(c.exit_code, 0) << c.err;
    const fs::path truth_dir = out / p["truth_path"].get<std::string>() / ("t0_" + t0["date"].get<std::string>());
    const json truth = load(truth_dir / "ct.truth.json");
    const auto image = oqtest::read_volume(nii.string());
    const auto labels = oqtest::read_volume((truth_dir / "ct_lesion_labels.nrrd").string());
    ASSERT_EQ(image.size, labels.size);
    EXPECT_EQ(image.size[2], truth["grid"]["slices"].get<size_t>());
    EXPECT_NEAR(image.spacing[2], truth["grid"]["slice_thickness_mm"].get<double>(), 1e-3);
    // Each lesion's long axis endpoints lie on its truth plane, and its label holds its seed.
    for (const auto& l : truth["lesions"]) {
      const auto& a = l["long_axis"]["endpoints_mm"];
      EXPECT_NEAR(a[0][2].get<double>(), l["long_axis"]["z_mm"].get<double>(), 1e-6);
      const size_t k = l["long_axis"]["slice_index"].get<size_t>();
      EXPECT_NEAR(labels.origin[2] + static_cast<double>(k) * labels.spacing[2], l["long_axis"]["z_mm"].get<double>(), 1e-3);
      size_t in_plane = 0;
      for (size_t o = k * labels.size[0] * labels.size[1]; o < (k + 1) * labels.size[0] * labels.size[1]; ++o)
        if (static_cast<int>(labels.voxels[o]) == l["label"].get<int>()) ++in_plane;
      // The labelled area on that slice is about the area inside the caliper's ellipse bound.
      const double px_area = labels.spacing[0] * labels.spacing[1];
      const double ellipse =
          3.14159265 / 4 * l["long_axis"]["length_mm"].get<double>() * l["short_axis"]["length_mm"].get<double>();
      EXPECT_GT(static_cast<double>(in_plane) * px_area, 0.5 * ellipse) << l["id"];
      EXPECT_LT(static_cast<double>(in_plane) * px_area, 1.3 * ellipse) << l["id"];
    }
  }
}

}  // namespace

namespace {

// SUVpeak computed here, apart from lesion/: for every voxel of the mask, the mean of the voxels
// whose centres lie within the 1 ml sphere around it; the highest such mean.
double independent_peak(const oqtest::VolumeData& img, const oqtest::VolumeData& mask) {
  const double r = std::cbrt(3000.0 / (4 * 3.14159265358979));
  const long nx = static_cast<long>(img.size[0]), ny = static_cast<long>(img.size[1]), nz = static_cast<long>(img.size[2]);
  double best = 0;
  for (long z = 0; z < nz; ++z)
    for (long y = 0; y < ny; ++y)
      for (long x = 0; x < nx; ++x) {
        if (mask.voxels[static_cast<size_t>((z * ny + y) * nx + x)] < 0.5f) continue;
        double sum = 0;
        int n = 0;
        for (long dz = -3; dz <= 3; ++dz)
          for (long dy = -3; dy <= 3; ++dy)
            for (long dx = -3; dx <= 3; ++dx) {
              const double d = std::sqrt(std::pow(static_cast<double>(dx) * img.spacing[0], 2) +
                                         std::pow(static_cast<double>(dy) * img.spacing[1], 2) +
                                         std::pow(static_cast<double>(dz) * img.spacing[2], 2));
              const long X = x + dx, Y = y + dy, Z = z + dz;
              if (d > r || X < 0 || Y < 0 || Z < 0 || X >= nx || Y >= ny || Z >= nz) continue;
              sum += img.voxels[static_cast<size_t>((Z * ny + Y) * nx + X)];
              ++n;
            }
        best = std::max(best, sum / n);
      }
  return best;
}

TEST(PhantomPetSegment, SuvMaxIsAVoxelValueAndSuvPeakMatchesAnIndependentComputation) {
  const fs::path dir = oqtest::scratch("pet_segment");
  const json m = manifest();
  const auto& p = m["patients"][0];
  const auto& t0 = p["time_points"][0];
  const std::string series = (kArchive / t0["pet"]["path"].get<std::string>()).string();
  const auto conv =
      oqtest::oncoquant("convert --quiet " + oqtest::quote(series) + " -o " + oqtest::quote((dir / "suv.nii.gz").string()));
  ASSERT_EQ(conv.exit_code, 0) << conv.err;
  const auto suv = oqtest::read_volume((dir / "suv.nii.gz").string());
  const fs::path truth_dir = kArchive / p["truth_path"].get<std::string>() / ("t0_" + t0["date"].get<std::string>());
  const json truth = load(truth_dir / "pet.truth.json");
  const auto labels = oqtest::read_volume((truth_dir / "pet_lesion_labels.nrrd").string());
  int checked = 0;
  for (const auto& l : truth["lesions"]) {
    if (!l["present"].get<bool>() || l["label_voxels"].get<int>() < 8) continue;
    const fs::path mask_path = dir / (l["id"].get<std::string>() + ".nii.gz");
    const std::string seed = oqtest::point_arg(l["centre_mm"]);
    const auto r = oqtest::oncoquant("segment " + oqtest::quote(series) + " --json --seed " + seed + " --mask " +
                                     oqtest::quote(mask_path.string()));
    ASSERT_EQ(r.exit_code, 0) << l["id"] << ": " << r.err;
    const json j = json::parse(r.out);
    const auto mask = oqtest::read_volume(mask_path.string());
    double mask_max = 0, label_max = 0;
    for (size_t o = 0; o < suv.voxels.size(); ++o) {
      if (mask.voxels[o] > 0.5f) mask_max = std::max(mask_max, static_cast<double>(suv.voxels[o]));
      if (static_cast<int>(labels.voxels[o]) == l["label"].get<int>())
        label_max = std::max(label_max, static_cast<double>(suv.voxels[o]));
    }
    // SUVmax is exactly the hottest voxel of the lesion (as stored, float32).
    EXPECT_NEAR(j["suv_max"].get<double>(), mask_max, 1e-4 * mask_max) << l["id"];
    EXPECT_GE(j["suv_max"].get<double>(), label_max * (1 - 1e-4)) << l["id"];
    EXPECT_NEAR(j["suv_peak"].get<double>() / independent_peak(suv, mask), 1.0, 0.02) << l["id"];
    EXPECT_LE(j["suv_peak"].get<double>(), j["suv_max"].get<double>());
    EXPECT_NEAR(j["tlg"].get<double>(), j["suv_mean"].get<double>() * j["mtv_ml"].get<double>(),
                0.01 + 1e-3 * j["tlg"].get<double>());
    EXPECT_TRUE(j["sul_peak"].is_number());
    EXPECT_LT(j["sul_peak"].get<double>(), j["suv_peak"].get<double>());  // lean body mass < weight
    ++checked;
  }
  EXPECT_GE(checked, 4);
  // The bladder is not a lesion.
  const auto bladder = oqtest::oncoquant("segment " + oqtest::quote(series) + " --seed 0,-35,-400");
  EXPECT_EQ(bladder.exit_code, 1);
  EXPECT_NE(bladder.err.find("no lesion found"), std::string::npos) << bladder.err;
}

}  // namespace

namespace {

TEST(PhantomBoneScan, HotSpotsAreTheMetastasesAndTheBladderIsNotOne) {
  const json m = manifest();
  int scans = 0;
  for (const auto& p : m["patients"]) {
    size_t tp = 0;
    for (const auto& t : p["time_points"]) {
      const size_t this_tp = tp++;
      if (!t.contains("bone_scan")) continue;
      const fs::path truth_file = kArchive / p["truth_path"].get<std::string>() /
                                  ("t" + std::to_string(this_tp) + "_" + t["date"].get<std::string>()) / "bone_scan.truth.json";
      const json truth = load(truth_file);
      const auto r =
          oqtest::oncoquant("bonescan --json " + oqtest::quote((kArchive / t["bone_scan"]["path"].get<std::string>()).string()));
      ASSERT_EQ(r.exit_code, 0) << r.err;
      const json out = json::parse(r.out);
      std::vector<json> found;
      bool bladder = false;
      for (const auto& s : out["series"]) {
        for (const auto& h : s["hot_spots"]) found.push_back(h);
        for (const auto& v : s["views"])
          for (const auto& e : v["excluded"]) bladder = bladder || e.get<std::string>().find("bladder") != std::string::npos;
      }
      EXPECT_TRUE(bladder);
      auto distance = [](const json& a, const json& b) {
        return std::hypot(a["row"].get<double>() - b["row"].get<double>(), a["column"].get<double>() - b["column"].get<double>());
      };
      // Every metastasis is found in its view, as a hot spot of its own (two adjacent vertebrae,
      // ~14 px apart, join into one hot region on the anterior view and are split at their peaks).
      for (const auto& want : truth["hot_spots"]) {
        double best = 1e9;
        for (const auto& h : found)
          if (h["view"] == want["view"]) best = std::min(best, distance(h, want));
        EXPECT_LE(best, 3.0) << want.dump();
      }
      // And nothing else is called a hot spot: one per metastasis and view.
      EXPECT_EQ(found.size(), truth["hot_spots"].size()) << r.out;
      for (const auto& h : found) {
        double best = 1e9;
        for (const auto& want : truth["hot_spots"])
          if (h["view"] == want["view"]) best = std::min(best, distance(h, want));
        EXPECT_LE(best, 3.0) << "false hot spot " << h.dump();
      }
      EXPECT_GT(out["series"][0]["bone_involvement_index_pct"].get<double>(), 0);
      // Anterior and posterior are one scan, and each metastasis is one lesion seen on both views:
      // its two hot spots are the truth's two spots of that same metastasis.
      ASSERT_EQ(out["series"].size(), 1u) << r.out;
      const json& scan = out["series"][0];
      std::set<std::string> metastases;
      for (const auto& want : truth["hot_spots"]) metastases.insert(want["lesion"].get<std::string>());
      EXPECT_EQ(scan["lesion_count"].get<size_t>(), metastases.size()) << r.out;
      auto truth_lesion = [&](const json& h) {
        std::string id;
        double best = 1e9;
        for (const auto& want : truth["hot_spots"])
          if (h["view"] == want["view"] && distance(h, want) < best) {
            best = distance(h, want);
            id = want["lesion"];
          }
        return id;
      };
      for (const auto& l : scan["lesions"]) {
        ASSERT_FALSE(l["anterior"].is_null()) << l.dump();
        ASSERT_FALSE(l["posterior"].is_null()) << l.dump();
        EXPECT_EQ(truth_lesion(scan["hot_spots"][l["anterior"].get<size_t>()]),
                  truth_lesion(scan["hot_spots"][l["posterior"].get<size_t>()]));
      }
      EXPECT_NE(scan["pairing"].get<std::string>().find("(Image Orientation)"), std::string::npos);
      ++scans;
    }
  }
  EXPECT_EQ(scans, 2);
}

}  // namespace

namespace {

json first_present(const json& lesions) {
  for (const auto& l : lesions)
    if (l["present"].get<bool>()) return l;
  return json();
}

// Lean body mass / weight of a PET's patient: SULlbm over SUVbw at the same voxel, from two conversions.
double lbm_over_weight(const std::string& pet_dir, const fs::path& scratch) {
  const std::string suv = (scratch / "suv.nii.gz").string(), sul = (scratch / "sul.nii.gz").string();
  EXPECT_EQ(oqtest::oncoquant("convert --quiet " + oqtest::quote(pet_dir) + " -o " + oqtest::quote(suv)).exit_code, 0);
  EXPECT_EQ(oqtest::oncoquant("convert --quiet --units suvlbm " + oqtest::quote(pet_dir) + " -o " + oqtest::quote(sul)).exit_code,
            0);
  const auto a = oqtest::read_volume(suv), b = oqtest::read_volume(sul);
  size_t hot = 0;
  for (size_t o = 0; o < a.voxels.size(); ++o)
    if (a.voxels[o] > a.voxels[hot]) hot = o;
  return b.voxels[hot] / a.voxels[hot];
}

TEST(PhantomPetSegment, LiverReferenceIsFoundInTheLiver) {
  // The reference sphere's uptake, brought back from SUL to SUV, is the phantom's liver SUV.
  const fs::path dir = oqtest::scratch("liver_reference");
  const json m = manifest();
  int checked = 0;
  for (const auto& p : m["patients"]) {
    const auto& t0 = p["time_points"][0];
    const std::string series = (kArchive / t0["pet"]["path"].get<std::string>()).string();
    const fs::path truth_dir = kArchive / p["truth_path"].get<std::string>() / ("t0_" + t0["date"].get<std::string>());
    const json truth = load(truth_dir / "pet.truth.json");
    const json lesion = first_present(truth["lesions"]);
    const std::string seed = oqtest::point_arg(lesion["centre_mm"]);
    const auto r = oqtest::oncoquant("segment " + oqtest::quote(series) + " --json --seed " + seed);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    ASSERT_TRUE(j["liver_reference"].is_object()) << p["patient_id"];
    const double lbm_ratio = lbm_over_weight(series, dir);
    const double liver_suv = j["liver_reference"]["mean_sul"].get<double>() / lbm_ratio;
    EXPECT_NEAR(liver_suv, truth["organ_suv"]["liver"].get<double>(), 0.12 * truth["organ_suv"]["liver"].get<double>())
        << p["patient_id"];
    EXPECT_LT(j["liver_reference"]["centre_mm"][0].get<double>(), 0);  // the right lobe: patient's right is -x in LPS
    EXPECT_TRUE(j["percist_measurable"].is_boolean());
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

}  // namespace

namespace {

TEST(PhantomPetSegment, BloodPoolIsFoundInTheAortaWhenTheCtIsGiven) {
  const fs::path dir = oqtest::scratch("blood_pool");
  const json m = manifest();
  int checked = 0;
  for (const auto& p : m["patients"]) {
    const auto& t0 = p["time_points"][0];
    const fs::path pet_dir = kArchive / t0["pet"]["path"].get<std::string>();
    const std::string study = pet_dir.parent_path().string();  // the PET-CT study: CT and PET
    const fs::path truth_dir = kArchive / p["truth_path"].get<std::string>() / ("t0_" + t0["date"].get<std::string>());
    const json truth = load(truth_dir / "pet.truth.json");
    const json lesion = first_present(truth["lesions"]);
    const std::string seed = oqtest::point_arg(lesion["centre_mm"]);
    const auto r = oqtest::oncoquant("segment " + oqtest::quote(study) + " --json --series " +
                                     t0["pet"]["series_uid"].get<std::string>() + " --seed " + seed);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    ASSERT_TRUE(j["blood_pool_reference"].contains("mean_sul")) << j["blood_pool_reference"].dump();
    // Back from SUL to SUV.
    const double blood_suv = j["blood_pool_reference"]["mean_sul"].get<double>() / lbm_over_weight(pet_dir.string(), dir);
    EXPECT_NEAR(blood_suv, truth["organ_suv"]["blood_pool"].get<double>(), 0.15 * truth["organ_suv"]["blood_pool"].get<double>())
        << p["patient_id"];
    EXPECT_GT(j["blood_pool_reference"]["centre_mm"][0].get<double>(), 0);  // left of the midline
    ++checked;
  }
  EXPECT_EQ(checked, 3);
  // Without the CT the reason is given, not a guess.
  const auto& t0 = m["patients"][0]["time_points"][0];
  const json truth = load(kArchive / m["patients"][0]["truth_path"].get<std::string>() / ("t0_" + t0["date"].get<std::string>()) /
                          "pet.truth.json");
  const auto& c = truth["lesions"][0]["centre_mm"];
  const std::string seed = oqtest::point_arg(c);
  const auto r = oqtest::oncoquant("segment " + oqtest::quote((kArchive / t0["pet"]["path"].get<std::string>()).string()) +
                                   " --json --seed " + seed);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(json::parse(r.out)["blood_pool_reference"].contains("not_found"));
}

}  // namespace
