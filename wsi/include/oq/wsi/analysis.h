// Whole-slide IHC analysis (../shared/specs/ihc.md section 4): tissue at low resolution, stain
// vectors estimated per slide, tiles at about 0.5 um/px processed in parallel, nuclei from the
// optical density, tumour cells told from lymphocytes and stroma by size and shape, and each
// tumour nucleus classed by its mean DAB optical density.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/slide.h"
#include "oq/wsi/scoring.h"

namespace oq::wsi {

enum class Marker { kER, kPR, kHER2 };
const char* to_string(Marker m);

struct StainVectors {
  std::array<double, 3> hematoxylin{0.65, 0.70, 0.29}, dab{0.27, 0.57, 0.78};  // Ruifrok & Johnston, normalised on use
  std::array<double, 3> background{255, 255, 255};                             // glass RGB (I0)
  std::string background_from;  // where I0 came from: the glass, the user, or a dim brightest tenth
  // A third stain seen on the slide instead of DAB (eosin on H&E): unmixed as its own channel so
  // it is not read as DAB.
  std::optional<std::array<double, 3>> counterstain;
  bool estimated = false;
  // A nuclear stain's DAB is only seen mixed with hematoxylin: when the most DAB-rich pixels lie
  // nearer hematoxylin than the reference DAB and no nucleus is stained strongly enough to place
  // it, the reference (turned into the slide's plane) is used, and the slide cannot show a lab
  // whose DAB lies nearer hematoxylin than usual.
  bool dab_from_reference = false;
  // Where DAB came from: "slide" (seen pure, or the extreme beyond the reference), "darkest
  // nuclei" (a nuclear stain's strongest nuclei, see the note), "reference", or "given".
  std::string dab_from = "reference";
  std::string note;  // how they were found, or why the defaults were kept
};

struct IhcSettings {
  double analysis_mpp = 0.5;
  std::array<double, 3> nuclear_dab_thresholds{0.2, 0.4, 0.6};  // mean nuclear DAB OD for 1+ / 2+ / 3+
  double min_nucleus_um2 = 10, max_nucleus_um2 = 400;
  double lymphocyte_max_um2 = 42;  // small and round: a lymphocyte ...
  double lymphocyte_max_aspect = 1.7;
  double lymphocyte_darkness = 1.3;  // ... and this much darker in hematoxylin than tumour-sized nuclei
  double stroma_min_aspect = 2.2;    // elongated: a fibroblast
  int threads = 0;                   // 0 = every core
  int tile_px = 1024;                // at the analysis resolution, plus an overlap of 32 px
  // HER2 membrane (DAB OD above the tissue's own, IhcResult::tissue_dab_od): a direction counts
  // as stained from `membrane_stained_od`; a membrane is complete from `membrane_complete` of the
  // perimeter; faint below `membrane_faint_max`, intense from `membrane_intense_min` (absolute
  // 0.05 / 0.2 / 0.55 before, calibrated on slides whose stroma carries 0.015 OD of DAB). An
  // unusual pattern or intense staining in <= 10 % counts toward 2+ only from
  // `unusual_min_percent` of tumour cells (single misread cells are noise).
  double membrane_stained_od = 0.035, membrane_complete = 0.8, membrane_faint_max = 0.185, membrane_intense_min = 0.535;
  double unusual_min_percent = 1.0;
  std::vector<std::array<double, 2>> roi;  // polygon in level-0 pixels; empty = all tissue
  // The lab's stain vectors, when known (e.g. from a slide of the same staining run whose DAB is
  // seen pure, such as HER2): used instead of an estimate. A nuclear stain's DAB is never seen
  // pure, so its estimate only bounds how far DAB lies from hematoxylin.
  std::optional<std::array<double, 3>> given_hematoxylin, given_dab;
  // The scanner's white (I0, RGB) for an image without glass (a tile cut from tissue): otherwise
  // the median of the brightest tenth of the overview, which there is lightly stained tissue.
  std::optional<std::array<double, 3>> given_background;
  // Nuclei are stain above the local background (the opening over a square of this half-side).
  double nucleus_background_radius_um = 8;
  double nucleus_min_od_above_background = 0.06;
};

enum class CellKind { kTumour, kLymphocyte, kStroma, kOther };
const char* to_string(CellKind k);

struct Cell {
  double x = 0, y = 0;  // level-0 pixels
  double area_um2 = 0, aspect = 1;
  double hematoxylin_od = 0, dab_od = 0;
  CellKind kind = CellKind::kOther;
  int dab_class = 0;  // 0-3 for tumour nuclei
  // HER2: the membrane around the nucleus, out to the bisectors with the neighbouring cells.
  double membrane_completeness = 0;  // share of 48 directions whose peak DAB reaches the stained level
  double membrane_od = 0;            // median peak DAB OD of the stained directions, above the tissue's
  int membrane_pattern = 0;          // 0 none, 1 faint incomplete, 2 weak-moderate complete, 3 intense complete, 4 unusual
};

struct IhcResult {
  Marker marker = Marker::kER;
  double mpp = 0;  // of the pixels analysed
  StainVectors stains;
  double tissue_mm2 = 0;
  // HER2: the tissue's own DAB OD (stroma, cytoplasm), above which membranes are measured, and
  // the share of hematoxylin OD the unmixing read as DAB (taken out of the DAB channel): both
  // from the few tiles the stains are estimated on.
  double tissue_dab_od = 0, hematoxylin_read_as_dab = 0;
  std::string her2_warning;  // nuclei reading DAB beyond what the unmixing explains; empty if none
  bool roi_used = false;
  NuclearCounts tumour;  // by nuclear DAB class
  ReceptorScore score;
  MembraneCounts membranes;  // HER2: tumour cells by membrane pattern
  Her2Result her2;
  std::size_t lymphocytes = 0, stromal = 0, other = 0;
  std::vector<Cell> cells;
  // Why the slide gives no score (no tissue; no tumour nuclei in the tissue or the region of
  // interest; stains that cannot be told apart): then the counts are not a result and no phenotype
  // may be derived from them ("no cells found" is not "negative"). Empty when it could be scored.
  std::string not_evaluable;
  double megapixels = 0;  // of tissue tiles analysed
  double seconds = 0;
};

// Why hematoxylin and DAB cannot be unmixed (under 5 degrees apart, or not directions), or empty.
// A third stain instead of DAB (StainVectors::counterstain) is never too near.
std::string stains_apart(const StainVectors& stains);

// `progress(done, total)` after each tile; `cancel` stops the work early (an error is returned).
Result<IhcResult> analyse_ihc(SlideReader& slide, Marker marker, const IhcSettings& settings,
                              const std::function<void(int, int)>& progress = {}, const std::atomic<bool>* cancel = nullptr);

// Why a slide cannot be analysed for its size: empty, or the reason when at `mpp0` um/px it would
// be larger than any glass slide.
std::string larger_than_glass(const SlideInfo& info, double mpp0);

// The cells over the slide at about 1 um/px (at most 8192 px wide), coloured by class: negative
// blue, 1+ yellow, 2+ orange, 3+ red, lymphocytes green, stroma grey. PNG, written to `png_path`
// as given (the caller makes it atomic, oq::OutputSet).
Result<bool> write_overlay(SlideReader& slide, const IhcResult& result, const std::string& png_path);

// The cells as GeoJSON detections QuPath imports (a small polygon per nucleus with its class and
// measurements). Written to the path as given.
Result<bool> write_detections(const IhcResult& result, double mpp0, const std::string& geojson_path);

// A plain image (PNG, JPEG, TIFF that OpenSlide does not take) as a one-level slide at `mpp`.
Result<std::unique_ptr<SlideReader>> open_plain_image(const std::string& path, double mpp);

}  // namespace oq::wsi
