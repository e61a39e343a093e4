// The IHC analysis's stages (wsi/src/ihc_stages.h), each on an image or cells whose answer is known
// by construction: glass and tissue of given colours, a slide of given size, pixels of one stain,
// disks of hematoxylin, seeds at given distances, cells of given size and stain.
#include "ihc_stages.h"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

namespace oq::wsi::stages {
namespace {

const cv::Vec3b kGlass{240, 238, 242}, kTissue{200, 150, 180};

// An overview whose left `tissue_share` is tissue, the rest glass, with a band of pure white
// (where a sparse file has no pixels) along the bottom.
cv::Mat overview_of(double tissue_share) {
  cv::Mat ov(100, 200, CV_8UC3, cv::Scalar(kGlass[0], kGlass[1], kGlass[2]));
  ov(cv::Rect(0, 0, static_cast<int>(200 * tissue_share), 100)).setTo(cv::Scalar(kTissue[0], kTissue[1], kTissue[2]));
  ov(cv::Rect(0, 90, 200, 10)).setTo(cv::Scalar(255, 255, 255));
  return ov;
}

TEST(IhcStageGlass, TheBrightestTenthIsGlassLeavingOutPureWhite) {
  const Glass g = find_glass(overview_of(0.7), std::nullopt);
  EXPECT_EQ(g.background, (Vec{240, 238, 242}));
  EXPECT_FALSE(g.from_tissue);
}

TEST(IhcStageGlass, WithoutGlassTheLightestTissueIsFlaggedAndAGivenWhiteWins) {
  const Glass g = find_glass(overview_of(1.0), std::nullopt);
  EXPECT_TRUE(g.from_tissue);
  EXPECT_EQ(g.background, (Vec{200, 200, 200}));  // each channel's median, at least 200
  EXPECT_NE(g.from.find("--background"), std::string::npos) << g.from;
  const Glass given = find_glass(overview_of(1.0), Vec{250, 250, 250});
  EXPECT_EQ(given.background, (Vec{250, 250, 250}));
  EXPECT_FALSE(given.from_tissue);
}

TEST(IhcStageTissue, StainedPixelsAreTissueGlassAndWhiteAreNot) {
  const cv::Mat t = tissue_of(overview_of(0.5), od_table({240, 238, 242}));
  EXPECT_GE(cv::countNonZero(t(cv::Rect(0, 0, 100, 90))), 100 * 90 - 1);  // the opening takes the corner pixel
  EXPECT_EQ(cv::countNonZero(t(cv::Rect(100, 0, 100, 100))), 0);
}

TEST(IhcStagePlan, TheFinestLevelIsResampledToTheAnalysisResolutionAndOnlyTissueTilesKept) {
  SlideInfo info;
  info.width = 8192;
  info.height = 4096;
  info.levels = {{8192, 4096, 1}, {2048, 1024, 4}};
  IhcSettings st;  // 0.5 um/px analysis, 1024 px tiles
  // Overview at 8 um/px (1024 x 512 px), tissue in its left quarter only.
  cv::Mat tissue = cv::Mat::zeros(128, 256, CV_8U);
  tissue(cv::Rect(0, 0, 64, 128)).setTo(255);
  const TilePlan plan = plan_tiles(info, 0.25, st, tissue, 8.0);
  EXPECT_EQ(plan.level, 0);  // level 1 is 1 um/px: coarser than 0.5 x 1.25
  EXPECT_DOUBLE_EQ(plan.mpp, 0.5);
  EXPECT_DOUBLE_EQ(plan.resample, 0.5);
  EXPECT_DOUBLE_EQ(plan.l0_per_px, 2);
  // 4096 x 2048 analysis px: 4 x 2 tiles, of which the left column holds the tissue.
  ASSERT_EQ(plan.tiles.size(), 2u);
  EXPECT_EQ(plan.tiles[0].x0, 0);
  EXPECT_EQ(plan.tiles[1].y0, 2048);
  EXPECT_EQ(plan.tiles[1].core_w, 1024);
}

// Unmixing with the reference stains (hematoxylin, DAB, their cross product).
StainLookup reference_lookup() {
  const StainVectors s;
  auto unit = [](std::array<double, 3> v) {
    const double n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    return std::array<double, 3>{v[0] / n, v[1] / n, v[2] / n};
  };
  const auto h = unit(s.hematoxylin), d = unit(s.dab);
  const auto r = unit({h[1] * d[2] - h[2] * d[1], h[2] * d[0] - h[0] * d[2], h[0] * d[1] - h[1] * d[0]});
  const cv::Matx33d m(h[0], h[1], h[2], d[0], d[1], d[2], r[0], r[1], r[2]);
  return stain_lookup(od_table({255, 255, 255}), m.inv(), 0, true, false);
}

// The RGB colour of `od_h` of hematoxylin and `od_d` of DAB over white glass.
cv::Vec3b stained(double od_h, double od_d) {
  const StainVectors s;
  cv::Vec3b px;
  const double nh = std::hypot(s.hematoxylin[0], s.hematoxylin[1], s.hematoxylin[2]),
               nd = std::hypot(s.dab[0], s.dab[1], s.dab[2]);
  for (int c = 0; c < 3; ++c) {
    const double od = od_h * s.hematoxylin[static_cast<size_t>(c)] / nh + od_d * s.dab[static_cast<size_t>(c)] / nd;
    px[c] = cv::saturate_cast<std::uint8_t>(255 * std::pow(10.0, -od));
  }
  return px;
}

TEST(IhcStageUnmix, EachStainGoesToItsChannelAndTheNucleusStainTakesDabUpToThreeTimesHematoxylin) {
  cv::Mat rgb(1, 3, CV_8UC3);
  rgb.at<cv::Vec3b>(0, 0) = stained(0.5, 0);    // a negative nucleus
  rgb.at<cv::Vec3b>(0, 1) = stained(0, 0.5);    // DAB alone (cytoplasm, membrane)
  rgb.at<cv::Vec3b>(0, 2) = stained(0.1, 0.6);  // a strongly positive nucleus
  TileImages im;
  unmix_tile(rgb, reference_lookup(), im);
  // 8-bit colours carry about 0.005 OD of rounding.
  EXPECT_NEAR(im.hem.at<float>(0, 0), 0.5, 0.02);
  EXPECT_NEAR(im.dab.at<float>(0, 0), 0, 0.02);
  EXPECT_NEAR(im.hem.at<float>(0, 1), 0, 0.02);
  EXPECT_NEAR(im.dab.at<float>(0, 1), 0.5, 0.02);
  EXPECT_NEAR(im.nuc.at<float>(0, 1), 0, 0.06);              // DAB without hematoxylin is not a nucleus
  EXPECT_NEAR(im.nuc.at<float>(0, 2), 0.1 + 3 * 0.1, 0.06);  // DAB counted up to 3x hematoxylin
}

// A 256 x 256 tile at 0.5 um/px: pale stroma with disks of hematoxylin (0.6 OD) of `radius_um`.
cv::Mat tile_with_nuclei(const std::vector<cv::Point>& centres, double radius_um) {
  cv::Mat rgb(256, 256, CV_8UC3);
  rgb.setTo(cv::Scalar(stained(0.05, 0.02)[0], stained(0.05, 0.02)[1], stained(0.05, 0.02)[2]));
  const cv::Vec3b nucleus = stained(0.6, 0);
  for (const cv::Point& c : centres)
    cv::circle(rgb, c, static_cast<int>(std::lround(radius_um / 0.5)), cv::Scalar(nucleus[0], nucleus[1], nucleus[2]),
               cv::FILLED);
  return rgb;
}

// The flood that reaches the background first climbs every other nucleus's rim: before its label
// was held to its own foreground part, that nucleus read hundreds of square microns and was dropped
// (one of these nine lost). (Two such nuclei touching, or less than about 1 um apart, are still
// read as one: their blurred foregrounds join into one broad ridge.)
TEST(IhcStageNuclei, EveryDiskIsOneNucleusOfItsArea) {
  std::vector<cv::Point> centres;
  for (int y = 40; y <= 200; y += 80)
    for (int x = 40; x <= 200; x += 80) centres.emplace_back(x, y);
  TileImages im;
  unmix_tile(tile_with_nuclei(centres, 4), reference_lookup(), im);
  const IhcSettings st;
  const int side = 2 * static_cast<int>(std::lround(st.nucleus_background_radius_um / 0.5 / 4)) + 1;
  const NucleusSums n = find_nuclei(im, 0.5, cv::getStructuringElement(cv::MORPH_RECT, {side, side}), st);
  int nuclei = 0;
  for (int l = 1; l < n.count; ++l) {
    const double um2 = n.area[static_cast<size_t>(l)] * 0.25;
    if (um2 < st.min_nucleus_um2) continue;
    ++nuclei;
    EXPECT_NEAR(um2, CV_PI * 16, 0.35 * CV_PI * 16) << "nucleus " << l;
    EXPECT_NEAR(n.sh[static_cast<size_t>(l)] / n.area[static_cast<size_t>(l)], 0.6, 0.15);
  }
  EXPECT_EQ(nuclei, static_cast<int>(centres.size()));
}

TEST(IhcStageSeeds, SeedsCloserThanTheirRadiiMergeFartherOnesStay) {
  cv::Mat markers = cv::Mat::zeros(100, 100, CV_32S), dist = cv::Mat::zeros(100, 100, CV_32F);
  const cv::Mat sheet = cv::Mat::zeros(100, 100, CV_8U), above = cv::Mat::zeros(100, 100, CV_32F);
  dist.setTo(6.0f);  // inscribed radius 6 px everywhere
  markers.at<int>(20, 20) = 1;
  markers.at<int>(20, 26) = 2;  // 6 px away: one elongated nucleus (less than 0.8 x 12)
  markers.at<int>(60, 20) = 3;
  markers.at<int>(60, 40) = 4;                                     // 20 px away: two nuclei
  EXPECT_EQ(merge_seeds(markers, 5, dist, sheet, above, 0.5), 4);  // three labels and the background
  EXPECT_EQ(markers.at<int>(20, 20), markers.at<int>(20, 26));
  EXPECT_NE(markers.at<int>(60, 20), markers.at<int>(60, 40));
}

TEST(IhcStageCells, OnlyTheCoresNucleiOfANucleusSizeBecomeCells) {
  NucleusSums n;
  n.count = 4;
  for (auto* v : {&n.area, &n.sx, &n.sy, &n.sxx, &n.syy, &n.sxy, &n.sh, &n.sd}) v->assign(4, 0);
  // A nucleus as a set of moments: `px` pixels centred at (x, y), variances vx, vy.
  auto put = [&](size_t l, double px, double x, double y, double vx, double vy) {
    n.area[l] = px;
    n.sx[l] = px * x;
    n.sy[l] = px * y;
    n.sxx[l] = px * (vx + x * x);
    n.syy[l] = px * (vy + y * y);
    n.sxy[l] = px * x * y;
    n.sh[l] = px * 0.5;
    n.sd[l] = px * 0.3;
  };
  put(1, 200, 100, 100, 16, 4);    // 50 um2, twice as long as wide, in the core
  put(2, 200, 10, 100, 9, 9);      // in the overlap (the tile image starts 32 px before the core)
  put(3, 2000, 150, 150, 90, 90);  // 500 um2: too large
  TilePlan plan;
  plan.mpp = 0.5;
  plan.l0_per_px = 2;
  const Tile t{64, 64, 1024, 1024};
  std::vector<std::array<double, 3>> centres;
  const std::vector<Cell> cells = cells_of_tile(n, t, 0, 0, plan, IhcSettings{}, centres);
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_DOUBLE_EQ(cells[0].x, 200);  // level-0 px
  EXPECT_DOUBLE_EQ(cells[0].area_um2, 50);
  EXPECT_NEAR(cells[0].aspect, 2, 1e-9);
  EXPECT_DOUBLE_EQ(cells[0].dab_od, 0.3);
  ASSERT_EQ(centres.size(), 1u);
}

Cell cell(double area, double aspect, double h, double dab) {
  Cell c;
  c.area_um2 = area;
  c.aspect = aspect;
  c.hematoxylin_od = h;
  c.dab_od = dab;
  return c;
}

TEST(IhcStageClasses, KindsAndDabClassesFollowSizeShapeDarknessAndStain) {
  const IhcSettings st;  // lymphocytes <= 42 um2, aspect <= 1.7, 1.3x darker; stroma from 2.2; 0.2/0.4/0.6
  std::vector<Cell> cells = {cell(60, 1.2, 0.4, 0.05), cell(60, 1.2, 0.4, 0.25), cell(60, 1.2, 0.4, 0.45),
                             cell(60, 1.2, 0.4, 0.7),  cell(30, 1.1, 0.6, 0.02), cell(50, 3.0, 0.4, 0.02),
                             cell(30, 1.1, 0.4, 0.02)};
  classify_cells(cells, st, Marker::kER);
  EXPECT_EQ(cells[0].kind, CellKind::kTumour);
  EXPECT_EQ(cells[0].dab_class, 0);
  EXPECT_EQ(cells[1].dab_class, 1);
  EXPECT_EQ(cells[2].dab_class, 2);
  EXPECT_EQ(cells[3].dab_class, 3);
  EXPECT_EQ(cells[4].kind, CellKind::kLymphocyte);  // small, round, 1.5x darker than tumour nuclei
  EXPECT_EQ(cells[5].kind, CellKind::kStroma);      // elongated
  EXPECT_EQ(cells[6].kind, CellKind::kTumour);      // small but not darker: not a lymphocyte
  IhcResult r;
  r.marker = Marker::kER;
  r.cells = cells;
  tally(r, st);
  EXPECT_EQ(r.tumour.negative, 2u);
  EXPECT_EQ(r.tumour.weak + r.tumour.moderate + r.tumour.strong, 3u);
  EXPECT_EQ(r.lymphocytes, 1u);
  EXPECT_EQ(r.stromal, 1u);
  EXPECT_NEAR(r.score.percent_positive, 60, 1e-9);
}

}  // namespace
}  // namespace oq::wsi::stages
