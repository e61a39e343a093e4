// The stages of the IHC analysis (analyse_ihc in oq/wsi/analysis.h), one function each so that
// each can be tested on its own (wsi/test/ihc_stages_test.cpp). Internal to wsi/.
//
//   find_glass, tissue_of   the glass colour (I0) and the tissue, on the overview
//   plan_tiles              the analysis resolution and the tissue tiles
//   (stains: estimate_stains and tissue_dab in analysis.cpp)
//   unmix_tile              hematoxylin, DAB and the nucleus stain of a tile
//   find_nuclei             foreground, seeds, flooding and per-nucleus sums of a tile
//   cells_of_tile           the tile core's nuclei as cells
//   classify_cells, tally   cell kinds and DAB classes; the counts and scores
#pragma once

#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "oq/wsi/analysis.h"

namespace oq::wsi::stages {

using Vec = std::array<double, 3>;

// Optical density per channel and 8-bit value: -log10(I / I0), I clamped to at least 1, and
// unless `signed_od`, never negative (three logarithms per pixel would dominate the analysis time).
using OdTable = std::array<std::array<float, 256>, 3>;
OdTable od_table(const Vec& background, bool signed_od = false);

// ---- Glass and tissue (on the overview, RGB) ----

struct Glass {
  Vec background{255, 255, 255};  // I0
  std::string from;               // in the reader's words
  bool from_tissue = false;       // no glass in the image: I0 is its lightest tissue
};
// The median colour of the overview's brightest tenth (at least 200 per channel), pure white
// left out (where the file has no pixels), unless `given`.
Glass find_glass(const cv::Mat& overview, const std::optional<Vec>& given);

// Tissue: summed optical density above 0.15, closed and opened (CV_8U, 0/255).
cv::Mat tissue_of(const cv::Mat& overview, const OdTable& od_of);

// ---- Tiles ----

struct Tile {
  std::int64_t x0, y0;  // level-0 pixels of the tile's core
  int core_w, core_h;   // analysis pixels
};
struct TilePlan {
  int level = 0;                // read from this level
  double level_downsample = 1;  // its downsample
  double mpp = 0;               // of the pixels analysed
  double resample = 1;          // analysis px per level px
  double l0_per_px = 1;         // level-0 px per analysis px
  std::vector<Tile> tiles;      // those holding tissue
};
// Tiles of `settings.tile_px` at the analysis resolution over the slide, kept where the overview's
// `tissue` (at `overview_um` per px) has any.
TilePlan plan_tiles(const SlideInfo& info, double mpp0, const IhcSettings& settings, const cv::Mat& tissue, double overview_um);

// ---- One tile ----

// Per channel and 8-bit value, each stain's share of the optical density: unmixing a pixel is
// then six lookups and four additions.
struct StainLookup {
  std::array<std::array<float, 256>, 3> h_of{}, d_of{};
  bool dab_present = true;       // no DAB among the slide's stains (H&E): nothing is DAB
  bool membrane_marker = false;  // HER2: the nucleus stain is hematoxylin alone
};
StainLookup stain_lookup(const OdTable& od_of, const cv::Matx33d& inverse, double hematoxylin_read_as_dab, bool dab_present,
                         bool membrane_marker);

// The tile's images, reused from tile to tile by one thread (fresh ones for every tile cost a page
// fault per 4 KiB on first touch: a fifth of the analysis time on a virtual machine).
struct TileImages {
  cv::Mat hem, dab, nuc;  // CV_32F OD: hematoxylin, DAB, the nucleus stain
  cv::Mat smooth, quarter, local_bg, above_bg, fg;
  cv::Mat dist, dil, peaks, above, markers, sheet, gray8, img8;
  cv::Mat fg_parts;  // CV_32S: the foreground's connected parts
};

// hem, dab and nuc of an RGB tile (CV_8UC3).
void unmix_tile(const cv::Mat& rgb, const StainLookup& lookup, TileImages& im);

// Per nucleus (label 1..count-1 of im.markers): pixel count and sums for its centre, its second
// moments and its mean stains.
struct NucleusSums {
  int count = 0;  // labels, 0 included
  std::vector<double> area, sx, sy, sxx, syy, sxy, sh, sd;
};
// Foreground, seeds, the watershed and the sums, on im.hem/dab/nuc (unmix_tile first). `mpp` of
// the tile; `background_square` the local background's structuring element (at a quarter of the
// resolution).
NucleusSums find_nuclei(TileImages& im, double mpp, const cv::Mat& background_square, const IhcSettings& settings);

// Seeds closer than 0.8 x the sum of their inscribed radii are one nucleus (an elongated
// nucleus's distance ridge has a maximum near each end), and in a sheet two stain maxima are one
// unless the stain dips between them: relabels `markers` (seed labels 1..nseeds-1); returns the
// new count.
int merge_seeds(cv::Mat& markers, int nseeds, const cv::Mat& dist, const cv::Mat& sheet, const cv::Mat& above_bg, double mpp);

// The nuclei whose centre lies in the tile's core (the overlap belongs to the neighbours), of a
// nucleus's size and inside the ROI, as cells in level-0 pixels; `centres` receives their tile
// pixel centre and radius. (ox, oy): the level-0 pixel of the tile image's corner.
std::vector<Cell> cells_of_tile(const NucleusSums& n, const Tile& tile, std::int64_t ox, std::int64_t oy, const TilePlan& plan,
                                const IhcSettings& settings, std::vector<std::array<double, 3>>& centres);

// ---- Cells ----

// Kinds (tumour, lymphocyte, stroma, other) and, for tumour cells, the DAB class and (HER2) the
// membrane pattern.
void classify_cells(std::vector<Cell>& cells, const IhcSettings& settings, Marker marker);
// Counts by kind and class, and the marker's score.
void tally(IhcResult& result, const IhcSettings& settings);

bool inside(const std::vector<std::array<double, 2>>& polygon, double x, double y);

}  // namespace oq::wsi::stages
