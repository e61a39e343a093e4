// Synthetic IHC whole-slide images with known cell counts (see slide.cpp).
#pragma once

#include <array>
#include <string>

#include "oq/phantom/patient.h"
#include "oq/phantom/truth.h"

namespace oq::phantom {

struct SlideTarget {
  std::string path;           // the slide file
  std::string relative_path;  // as listed in the truth and manifest
  std::string truth_dir, preview_dir;
  std::string stem;  // base name for truth files (ER, PR, HER2)
  bool svs = true;
  std::string slide_id;
  std::string date_us;  // MM/DD/YY as Aperio writes it
  // Also a JPEG tile cut from inside the tissue (no glass in it), as a lab exports a field of
  // view, with its own truth: empty = none.
  std::string tile_path, tile_relative_path;
};

struct SlideResult {
  Json truth;
  Json scores;
  Json tile_truth;  // when a tile was asked for
};

SlideResult generate_slide(const PlacedPatient& p, const SlidePlan& plan, const SlideTarget& out);

// Scores from tumour-cell counts per class, by ../shared/specs/ihc.md (the generator's own
// arithmetic, kept apart from wsi/).
Json ihc_scores(Marker marker, const std::array<long, 4>& tumour_counts);
// The study protocol's phenotype group from the three slides' scores.
Json phenotype_group(const Json& er, const Json& pr, const Json& her2);

}  // namespace oq::phantom
