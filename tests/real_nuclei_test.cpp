// Nucleus detection on real IHC tissue with every nucleus marked by an expert (EndoNuke: 12 ER/PR
// tiles of human endometrium, 200 x 200 px at 0.5 um/px; Naumov et al., Data 2022). A detection
// counts when its centre lies within 4 um of an annotated nucleus, each nucleus and each detection
// matched once (nearest pairs first). The truth is the expert's points, nothing our code made.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
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

// Per tile and over all twelve. The acceptance (issue 19) is recall and precision >= 0.85; the
// detector, tuned on the generator's well-separated nuclei, is far from it on crowded real tissue
// (recall about 0.3 when this test was written). Until it gets there this test holds the figures
// from falling (recall >= 0.25, precision >= 0.75 over the set) and prints them.
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
  EXPECT_GE(recall, 0.25);
  EXPECT_GE(precision, 0.75);
}

}  // namespace
