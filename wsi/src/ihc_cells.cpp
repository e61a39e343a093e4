// IHC analysis stages over the slide's cells: kinds, classes, counts (see ihc_stages.h).
#include <algorithm>

#include "ihc_stages.h"

namespace oq::wsi::stages {

namespace {

// The hematoxylin OD of the slide's tumour-sized nuclei (large enough, round, without nuclear
// DAB): the reference lymphocytes are darker than. 0 when there are none.
double tumour_sized_hematoxylin(const std::vector<Cell>& cells, const IhcSettings& st) {
  std::vector<double> h;
  for (const Cell& c : cells)
    if (c.area_um2 > st.lymphocyte_max_um2 && c.aspect < st.stroma_min_aspect && c.dab_od < st.nuclear_dab_thresholds[0])
      h.push_back(c.hematoxylin_od);
  if (h.empty()) return 0;
  std::nth_element(h.begin(), h.begin() + static_cast<long>(h.size() / 2), h.end());
  return h[h.size() / 2];
}

// The membrane pattern (ihc.md section 3): 0 none, 1 faint incomplete, 2 weak-moderate complete,
// 3 intense complete, 4 unusual.
int membrane_pattern(const Cell& c, const IhcSettings& st) {
  const bool complete = c.membrane_completeness >= st.membrane_complete;
  if (c.membrane_completeness < 0.2) return 0;
  if (c.membrane_od < st.membrane_faint_max) return complete ? 2 : 1;  // faint but complete reads as weak complete
  if (c.membrane_od < st.membrane_intense_min) return complete ? 2 : 4;
  return complete ? 3 : 4;
}

}  // namespace

// Lymphocytes: small, round, darker in hematoxylin than the slide's tumour-sized nuclei
// (hyperchromatic) and without nuclear DAB (they do not express ER or PR). Fibroblasts:
// elongated. Tumour: the rest of tumour size.
void classify_cells(std::vector<Cell>& cells, const IhcSettings& st, Marker marker) {
  const double h_ref = tumour_sized_hematoxylin(cells, st);
  for (Cell& c : cells) {
    const bool small_round = c.area_um2 <= 1.5 * st.lymphocyte_max_um2 && c.aspect <= st.lymphocyte_max_aspect;
    const bool dark = h_ref > 0 ? c.hematoxylin_od >= st.lymphocyte_darkness * h_ref : c.area_um2 <= st.lymphocyte_max_um2;
    if (c.aspect >= st.stroma_min_aspect)
      c.kind = CellKind::kStroma;
    else if (small_round && dark && c.dab_od < st.nuclear_dab_thresholds[0])
      c.kind = CellKind::kLymphocyte;
    else if (c.area_um2 > st.lymphocyte_max_um2 || c.dab_od >= st.nuclear_dab_thresholds[0] || !dark)
      c.kind = CellKind::kTumour;
    else
      c.kind = CellKind::kOther;
    if (c.kind != CellKind::kTumour) continue;
    c.dab_class = 0;
    for (int q = 0; q < 3; ++q)
      if (c.dab_od >= st.nuclear_dab_thresholds[static_cast<size_t>(q)]) c.dab_class = q + 1;
    if (marker == Marker::kHER2) {
      c.membrane_pattern = membrane_pattern(c, st);
      c.dab_class = c.membrane_pattern == 4 ? 2 : c.membrane_pattern;  // for the overlay colours
    }
  }
}

void tally(IhcResult& res, const IhcSettings& st) {
  for (const Cell& c : res.cells) switch (c.kind) {
      case CellKind::kTumour:
        (c.dab_class == 0   ? res.tumour.negative
         : c.dab_class == 1 ? res.tumour.weak
         : c.dab_class == 2 ? res.tumour.moderate
                            : res.tumour.strong)++;
        break;
      case CellKind::kLymphocyte:
        ++res.lymphocytes;
        break;
      case CellKind::kStroma:
        ++res.stromal;
        break;
      case CellKind::kOther:
        ++res.other;
        break;
    }
  res.score = score_receptor(res.tumour);
  if (res.marker != Marker::kHER2) return;
  for (const Cell& c : res.cells)
    if (c.kind == CellKind::kTumour) switch (c.membrane_pattern) {
        case 0:
          ++res.membranes.none;
          break;
        case 1:
          ++res.membranes.faint_incomplete;
          break;
        case 2:
          ++res.membranes.weak_moderate_complete;
          break;
        case 3:
          ++res.membranes.intense_complete;
          break;
        default:
          ++res.membranes.unusual;
          break;
      }
  res.her2 = score_her2(res.membranes, st.unusual_min_percent);
}

bool inside(const std::vector<std::array<double, 2>>& poly, double x, double y) {
  bool in = false;
  for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    const auto& a = poly[i];
    const auto& b = poly[j];
    if ((a[1] > y) != (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]) in = !in;
  }
  return in;
}

}  // namespace oq::wsi::stages
