// Times register_ct (CTs block-averaged to 2 mm before ITK sees them) against the same ITK
// registration fed the full-resolution CTs with its own pyramid, on one CT pair.
// Prints: "ours_s itk_s ours_tx ours_ty ours_tz itk_tx itk_ty itk_tz ours_peak_mb".
#include <cstdio>

#include "oq/plugin.h"
#include "oq/progress.h"
#include "oq/recist/tracking.h"
#include "oq/scan.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: registration_bench BASELINE_CT FOLLOWUP_CT\n");
    return 2;
  }
  oq::Progress::set_quiet(true);
  oq::Volume v[2];
  for (int i = 0; i < 2; ++i) {
    const oq::Catalog c = oq::scan_inputs({argv[1 + i]});
    auto s = oq::select_series(c, "", argv[1 + i]);
    if (!s) return std::fprintf(stderr, "%s\n", s.error().describe().c_str()), 1;
    oq::LoadOptions lo;
    lo.units = oq::Units::kHU;
    auto vol = oq::load_series(**s, lo);
    if (!vol) return std::fprintf(stderr, "%s\n", vol.error().describe().c_str()), 1;
    v[i] = std::move(vol.value());
  }
  oq::recist::RegistrationOptions ours, itk;
  itk.block_average = false;
  auto a = oq::recist::register_ct(v[0], v[1], ours);
  auto b = oq::recist::register_ct(v[0], v[1], itk);
  if (!a || !b) return std::fprintf(stderr, "registration failed\n"), 1;
  std::printf("%.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f\n", a->seconds, b->seconds, a->translation[0], a->translation[1],
              a->translation[2], b->translation[0], b->translation[1], b->translation[2]);
  return 0;
}
