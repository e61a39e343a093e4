// `oncoquant segment` on the generated lesion set, against the generator's ground truth: 3D Dice
// with the truth label map, long axis against the analytic calipers, short axis for nodes,
// repeatability when the seed moves, and refusals where there is no lesion.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "support.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kSet = OQ_LESION_SET;

json load(const fs::path& p) {
  return oqtest::load_json(p);
}

struct Case {
  std::string patient, id, kind, series;
  bool nodal = false, blastic = false;
  json truth;
  fs::path labels;
  double thickness = 0;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  const json m = load(kSet / "manifest.json");
  for (const auto& p : m["patients"]) {
    const auto& t0 = p["time_points"][0];
    const fs::path truth_dir = kSet / p["truth_path"].get<std::string>() / ("t0_" + t0["date"].get<std::string>());
    const json truth = load(truth_dir / "ct.truth.json");
    for (const auto& l : truth["lesions"]) {
      Case c;
      c.patient = p["patient_id"];
      c.id = l["id"];
      c.kind = l["kind"];
      c.series = (kSet / t0["ct"]["path"].get<std::string>()).string();
      c.nodal = l["nodal"];
      c.blastic = c.kind.find("blastic") != std::string::npos;
      c.truth = l;
      c.labels = truth_dir / truth["label_map"].get<std::string>();
      c.thickness = truth["grid"]["slice_thickness_mm"];
      out.push_back(c);
    }
  }
  return out;
}

double dice(const oqtest::VolumeData& truth, int label, const oqtest::VolumeData& mask) {
  size_t a = 0, b = 0, both = 0;
  for (size_t o = 0; o < truth.voxels.size(); ++o) {
    const bool t = static_cast<int>(truth.voxels[o]) == label, s = mask.voxels[o] > 0.5f;
    a += t;
    b += s;
    both += t && s;
  }
  return a + b > 0 ? 2.0 * static_cast<double>(both) / static_cast<double>(a + b) : 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

TEST(SegmentAccuracy, DiceAndDiametersOverTheLesionSet) {
  const fs::path dir = oqtest::scratch("segment_accuracy");
  std::vector<double> dices;
  int la_ok = 0, la_n = 0, sa_ok = 0, sa_n = 0;
  std::printf("%-11s %-3s %-38s %5s %7s %7s %6s %6s %6s\n", "series", "id", "kind", "slice", "LA true", "LA seg", "SA tr",
              "SA seg", "Dice");
  for (const Case& c : cases()) {
    const fs::path mask = dir / (c.patient + "_" + c.id + ".nii.gz");
    const auto r = oqtest::oncoquant("segment " + oqtest::quote(c.series) + " --json --seed " +
                                     oqtest::point_arg(c.truth["seed_mm"]) + " --mask " + oqtest::quote(mask.string()));
    if (c.blastic) {
      // Blastic bone metastases are never measurable (RECIST 1.1): refused, with the reason.
      EXPECT_EQ(r.exit_code, 1) << c.patient << " " << c.id;
      EXPECT_NE(r.err.find("bone"), std::string::npos) << r.err;
      continue;
    }
    ASSERT_EQ(r.exit_code, 0) << c.patient << " " << c.id << ": " << r.err;
    const json j = json::parse(r.out);
    const auto truth_labels = oqtest::read_volume(c.labels.string());
    const auto seg = oqtest::read_volume(mask.string());
    ASSERT_EQ(truth_labels.size, seg.size);
    const double d = dice(truth_labels, c.truth["label"].get<int>(), seg);
    const double la_true = c.truth["long_axis"]["length_mm"], la = j["long_axis_mm"];
    // Nodes are followed by their short axis, measured where it is largest.
    const double sa_true = c.truth[c.nodal ? "largest_short_axis" : "short_axis"]["length_mm"];
    const double sa = j[c.nodal ? "largest_short_axis_mm" : "short_axis_mm"];
    std::printf("%-11s %-3s %-38s %5.2f %7.2f %7.2f %6.2f %6.2f %6.3f\n", c.patient.c_str(), c.id.c_str(), c.kind.c_str(),
                c.thickness, la_true, la, sa_true, sa, d);
    if (la_true < 10) continue;  // the acceptance covers lesions of 10 mm and more
    dices.push_back(d);
    ++la_n;
    if (std::abs(la - la_true) <= std::max(1.0, 0.05 * la_true)) ++la_ok;
    if (c.nodal) {
      ++sa_n;
      if (std::abs(sa - sa_true) <= std::max(1.0, 0.05 * sa_true)) ++sa_ok;
    }
  }
  ASSERT_GE(la_n, 20);
  std::printf("lesions >= 10 mm: %d; median Dice %.3f; long axis within max(1 mm, 5%%): %d/%d; node short axis: %d/%d\n", la_n,
              median(dices), la_ok, la_n, sa_ok, sa_n);
  // Issue 4's acceptance: median Dice >= 0.90, long axis within max(1 mm, 5 %) for >= 95 % of the
  // lesions, node short axes likewise.
  EXPECT_GE(median(dices), 0.90);
  EXPECT_GE(static_cast<double>(la_ok) / la_n, 0.95);
  EXPECT_GE(static_cast<double>(sa_ok) / std::max(1, sa_n), 0.95);
}

// How far the lesion's label reaches above and below `seed` along z (to the centres of its last
// voxels in the seed's column), mm. The label maps are written on the series grid, axis-aligned.
std::pair<double, double> z_reach(const oqtest::VolumeData& labels, int label, const json& seed) {
  const auto index = [&](int a) {
    return static_cast<long>(
        std::lround((seed[a].get<double>() - labels.origin[static_cast<size_t>(a)]) /
                    (labels.spacing[static_cast<size_t>(a)] * labels.direction[static_cast<size_t>(4 * a)])));
  };
  const long i = index(0), j = index(1), k0 = index(2);
  auto at = [&](long k) {
    if (k < 0 || k >= static_cast<long>(labels.size[2])) return false;
    const size_t o = (static_cast<size_t>(k) * labels.size[1] + static_cast<size_t>(j)) * labels.size[0] + static_cast<size_t>(i);
    return static_cast<int>(labels.voxels[o]) == label;
  };
  long up = k0, down = k0;
  while (at(up + 1)) ++up;
  while (at(down - 1)) --down;
  const double dz = labels.spacing[2];
  return {static_cast<double>(up - k0) * dz, static_cast<double>(k0 - down) * dz};
}

TEST(SegmentAccuracy, MovingTheSeedInsideTheInnerHalfKeepsTheLongAxis) {
  // Two lesions of 15 mm or more from every series: every slice thickness and organ of the set.
  // The click moves to the edge of the inner half: half the semi-short-axis along x and y and the
  // diagonals, and half the lesion's reach along z above and below.
  int checked = 0, within_in_plane = 0, within = 0;
  std::map<std::string, int> per_series;
  for (const Case& c : cases()) {
    if (c.blastic || c.truth["long_axis"]["length_mm"].get<double>() < 15 || per_series[c.patient] >= 2) continue;
    ++per_series[c.patient];
    const json& seed = c.truth["seed_mm"];
    const double r = 0.25 * c.truth["short_axis"]["length_mm"].get<double>(), h = r / std::sqrt(2.0);
    const auto [up, down] = z_reach(oqtest::read_volume(c.labels.string()), c.truth["label"].get<int>(), seed);
    const std::vector<std::array<double, 3>> offsets = {{0, 0, 0},   {r, 0, 0},        {-r, 0, 0},         {0, r, 0},
                                                        {0, -r, 0},  {h, h, 0},        {-h, h, 0},         {h, -h, 0},
                                                        {-h, -h, 0}, {0, 0, 0.5 * up}, {0, 0, -0.5 * down}};
    std::vector<double> las;
    for (const auto& off : offsets) {
      const json moved =
          json::array({seed[0].get<double>() + off[0], seed[1].get<double>() + off[1], seed[2].get<double>() + off[2]});
      const auto out = oqtest::oncoquant("segment " + oqtest::quote(c.series) + " --json --seed " + oqtest::point_arg(moved));
      EXPECT_EQ(out.exit_code, 0) << c.patient << " " << c.id << " from " << moved.dump() << ": " << out.err;
      las.push_back(out.exit_code == 0 ? json::parse(out.out)["long_axis_mm"].get<double>() : 0.0);
    }
    const auto [lo, hi] = std::minmax_element(las.begin(), las.begin() + 9);  // in the axial plane
    const auto [zlo, zhi] = std::minmax_element(las.begin(), las.end());
    std::printf("%s %s: long axis %.2f - %.2f mm over 9 seeds in the plane, %.2f - %.2f with the 2 above and below\n",
                c.patient.c_str(), c.id.c_str(), *lo, *hi, *zlo, *zhi);
    // Acceptance: <= 1 mm for every lesion, wherever in the inner half the click is.
    EXPECT_LE(*hi - *lo, 1.5) << c.patient << " " << c.id;
    within_in_plane += *hi - *lo <= 1.0;
    within += *zhi - *zlo <= 1.0;
    ++checked;
  }
  std::printf("long axis within 1 mm over the seeds in the plane: %d/%d lesions; with those above and below: %d/%d\n",
              within_in_plane, checked, within, checked);
  EXPECT_GE(checked, 15);
  // Every lesion, the textured ones included (OQ-LES-008 L1, 45 mm on 3 mm slices, read 44.3 mm
  // from one diagonal click and 45.6-45.8 from the others before rays past its ripples joined
  // the shape on half the sphere).
  EXPECT_EQ(within_in_plane, checked);
  EXPECT_EQ(within, checked);
}

// Where each image of a series lies, as DCMTK's dcmdump reads the files (not our loader):
// SOP Instance UID -> Image Position and the normal of its Image Orientation.
std::map<std::string, std::pair<std::array<double, 3>, std::array<double, 3>>> image_planes(const std::string& series) {
  const auto dump = oqtest::shell("dcmdump +sd +r +P 0008,0018 +P 0020,0032 +P 0020,0037 " + oqtest::quote(series));
  std::map<std::string, std::pair<std::array<double, 3>, std::array<double, 3>>> out;
  std::istringstream in(dump.out);
  std::string line, uid;
  std::array<double, 3> position{};
  auto values = [](const std::string& l) {
    std::string v = l.substr(l.find('[') + 1);
    v = v.substr(0, v.find(']'));
    std::vector<double> d;
    std::istringstream vs(v);
    for (std::string t; std::getline(vs, t, '\\');) d.push_back(std::stod(t));
    return d;
  };
  while (std::getline(in, line)) {
    if (line.rfind("(0008,0018)", 0) == 0) uid = line.substr(line.find('[') + 1, line.find(']') - line.find('[') - 1);
    if (line.rfind("(0020,0032)", 0) == 0) {
      const auto p = values(line);
      position = {p[0], p[1], p[2]};
    }
    if (line.rfind("(0020,0037)", 0) == 0) {
      const auto o = values(line);
      const std::array<double, 3> n = {o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
      out[uid] = {position, n};
    }
  }
  return out;
}

// A DICOM SR references each caliper's image (SCOORD): the SOP Instance UID `segment` gives must
// be the image whose plane the caliper lies in.
TEST(SegmentAccuracy, EachCaliperNamesTheImageItLiesOn) {
  int checked = 0;
  for (const Case& c : cases()) {
    if (c.blastic || checked >= 4) continue;
    const auto out =
        oqtest::oncoquant("segment " + oqtest::quote(c.series) + " --json --seed " + oqtest::point_arg(c.truth["seed_mm"]));
    ASSERT_EQ(out.exit_code, 0) << out.err;
    const json j = json::parse(out.out);
    const auto planes = image_planes(c.series);
    for (const char* axis : {"long_axis", "short_axis", "largest_short_axis"}) {
      SCOPED_TRACE(c.patient + " " + c.id + " " + axis);
      const std::string uid = j[axis]["sop_instance_uid"];
      const auto it = planes.find(uid);
      ASSERT_NE(it, planes.end()) << uid << " is not an image of " << c.series;
      const auto& [position, normal] = it->second;
      for (const auto& end : j[axis]["endpoints_mm"]) {
        double distance = 0;
        for (int r = 0; r < 3; ++r) distance += (end[r].get<double>() - position[r]) * normal[r];
        EXPECT_NEAR(distance, 0, 0.02) << "the caliper end " << end.dump() << " is off the image's plane";
      }
      EXPECT_NEAR(j[axis]["length_mm"].get<double>(), j[std::string(axis) + "_mm"].get<double>(), 0.011);
    }
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(SegmentAccuracy, NoLesionWhereThereIsNone) {
  const Case c = cases().front();  // a chest series
  // Outside the body (air), in the lung, and inside the series but far outside the patient.
  for (const std::string seed : {"0,-200,100", "-90,10,120"}) {
    const auto r = oqtest::oncoquant("segment " + oqtest::quote(c.series) + " --seed " + seed);
    EXPECT_EQ(r.exit_code, 1) << seed;
    EXPECT_NE(r.err.find("error: "), std::string::npos);
    EXPECT_NE(r.err.find("no lesion found at"), std::string::npos) << r.err;
  }
  const auto outside = oqtest::oncoquant("segment " + oqtest::quote(c.series) + " --seed 0,0,5000");
  EXPECT_EQ(outside.exit_code, 1);
  EXPECT_NE(outside.err.find("outside the series"), std::string::npos) << outside.err;
  const auto usage = oqtest::oncoquant("segment " + oqtest::quote(c.series) + " --seed 1,2");
  EXPECT_EQ(usage.exit_code, 2);
}

TEST(SegmentAccuracy, ANormalOrganIsNotALesion) {
  // Clicks on homogeneous tissue of liver or spleen density (104-121 HU) in two abdomen series,
  // 35 mm or more from every lesion (found by sampling the series against its label map). Each
  // came back as a 'lesion' 106-139 mm long while only the median radius was checked; refused
  // now, with no mask written.
  const fs::path dir = oqtest::scratch("segment_normal_organ");
  const std::map<std::string, std::vector<std::string>> clicks = {{"OQ-LES-002", {"6.2,-47.3,9.2", "35.1,-19.3,20.4"}},
                                                                  {"OQ-LES-008", {"-75.1,-39.1,-65.9", "-90.3,13.5,-56.9"}}};
  int clicked = 0;
  for (const auto& [patient, seeds] : clicks) {
    std::string series;
    for (const Case& c : cases())
      if (c.patient == patient) series = c.series;
    ASSERT_FALSE(series.empty()) << patient;
    for (const std::string& seed : seeds) {
      const fs::path mask = dir / (patient + "_" + std::to_string(clicked) + ".nii.gz");
      const auto r =
          oqtest::oncoquant("segment " + oqtest::quote(series) + " --seed " + seed + " --mask " + oqtest::quote(mask.string()));
      EXPECT_EQ(r.exit_code, 1) << patient << " " << seed << ": " << r.out;
      EXPECT_NE(r.err.find("no lesion found at"), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("mm across (an organ, not a lesion?)"), std::string::npos) << r.err;
      EXPECT_FALSE(fs::exists(mask));
      ++clicked;
    }
  }
  EXPECT_EQ(clicked, 4);
}

}  // namespace

namespace {

TEST(SegmentAccuracy, ADrawnDiameterWorksAsTheSeed) {
  int checked = 0;
  for (const Case& c : cases()) {
    if (c.blastic || c.nodal || checked >= 4) continue;
    const json& e = c.truth["long_axis"]["endpoints_mm"];
    char line[200];
    std::snprintf(line, sizeof line, "%.3f,%.3f,%.3f,%.3f,%.3f,%.3f", e[0][0].get<double>(), e[0][1].get<double>(),
                  e[0][2].get<double>(), e[1][0].get<double>(), e[1][1].get<double>(), e[1][2].get<double>());
    const auto r = oqtest::oncoquant("segment " + oqtest::quote(c.series) + " --json --line " + line);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const double la = json::parse(r.out)["long_axis_mm"], truth = c.truth["long_axis"]["length_mm"];
    // The line only seeds and bounds the search; accuracy itself is measured from seeds above.
    EXPECT_NEAR(la, truth, std::max(2.0, 0.12 * truth)) << c.patient << " " << c.id;
    ++checked;
  }
  EXPECT_EQ(checked, 4);
  const auto bad = oqtest::oncoquant("segment " + oqtest::quote(cases().front().series) + " --line 1,2,3");
  EXPECT_EQ(bad.exit_code, 2);
}

}  // namespace

namespace {

TEST(SegmentBadInput, RefusalsNameTheInputAndLeaveNoMask) {
  const fs::path dir = oqtest::scratch("segment_bad_input");
  const Case c = cases().front();
  // No lesion under the seed: one error line, no mask written.
  const fs::path mask = dir / "never.nii.gz";
  auto r = oqtest::oncoquant("segment " + oqtest::quote(c.series) + " --seed 0,-200,100 --mask " + oqtest::quote(mask.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;  // after progress lines, which stderr also carries
  EXPECT_NE(r.err.find(c.series), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(mask));
  // A series with a truncated slice: refused naming a file of the series, no mask.
  const fs::path copy = dir / "series";
  fs::create_directories(copy);
  for (const auto& f : fs::directory_iterator(c.series)) fs::copy_file(f.path(), copy / f.path().filename());
  std::vector<fs::path> files = oqtest::files_under(copy);
  std::sort(files.begin(), files.end());
  fs::resize_file(files[files.size() / 2], fs::file_size(files[files.size() / 2]) / 2);
  r = oqtest::oncoquant("segment " + oqtest::quote(copy.string()) + " --seed " + oqtest::point_arg(c.truth["seed_mm"]) +
                        " --mask " + oqtest::quote(mask.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("error: "), std::string::npos);
  EXPECT_NE(r.err.find(copy.string()), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(mask));
  // Not an image series at all (a DICOM SR), and a bone scan asked of a CT.
  const std::string sr = std::string(OQ_SHARED_DIR) + "/data/dicom/sr";
  r = oqtest::oncoquant("segment " + oqtest::quote(sr) + " --seed 0,0,0 --mask " + oqtest::quote(mask.string()));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_FALSE(fs::exists(mask));
  r = oqtest::oncoquant("bonescan " + oqtest::quote(c.series));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no NM (bone scan) series"), std::string::npos) << r.err;
  // Nothing but the refused outputs' absence in the scratch folder: no temporary files left.
  for (const auto& f : fs::directory_iterator(dir)) EXPECT_EQ(f.path().filename().string().find(".oq-"), std::string::npos);
}

}  // namespace
