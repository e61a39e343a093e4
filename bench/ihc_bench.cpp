// IHC analysis throughput (megapixels of tissue per second at 0.5 um/px) beside OpenSlide's raw
// read throughput of the slide's level-0 tiles (1024 px, as the analysis reads them), same run.
// Prints: "read_mp read_s analysed_mp analysis_s threads".
#include <chrono>
#include <cstdio>
#include <string>

#include "oq/plugin.h"
#include "oq/progress.h"
#include "oq/scan.h"
#include "oq/wsi/analysis.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: ihc_bench SLIDE ER|PR|HER2\n");
    return 2;
  }
  oq::Progress::set_quiet(true);
  const oq::Catalog c = oq::scan_inputs({argv[1]});
  if (c.slides.empty()) return std::fprintf(stderr, "%s: not a slide\n", argv[1]), 1;
  const oq::PluginDescriptor* p = oq::find_plugin(c.slides.front().loader);
  auto slide = p->loader->open_slide(c.slides.front());
  if (!slide) return std::fprintf(stderr, "%s\n", slide.error().describe().c_str()), 1;
  const oq::SlideInfo& info = (*slide)->info();
  auto t0 = std::chrono::steady_clock::now();
  double read_mp = 0;
  for (std::int64_t y = 0; y < info.height; y += 1024)
    for (std::int64_t x = 0; x < info.width; x += 1024) {
      const int w = static_cast<int>(std::min<std::int64_t>(1024, info.width - x));
      const int h = static_cast<int>(std::min<std::int64_t>(1024, info.height - y));
      if (!(*slide)->read_region(0, x, y, w, h)) return 1;
      read_mp += static_cast<double>(w) * h / 1e6;
    }
  const double read_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  oq::wsi::IhcSettings st;
  const std::string marker = argv[2];
  auto r = oq::wsi::analyse_ihc(**slide,
                                marker == "HER2" ? oq::wsi::Marker::kHER2
                                : marker == "PR" ? oq::wsi::Marker::kPR
                                                 : oq::wsi::Marker::kER,
                                st);
  if (!r) return std::fprintf(stderr, "%s\n", r.error().describe().c_str()), 1;
  std::printf("%.1f %.3f %.1f %.3f\n", read_mp, read_s, r->megapixels, r->seconds);
  return 0;
}
