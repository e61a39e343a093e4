// What `info`, `convert` and `ihc` do with one file of an archive: catalogue it, load every series
// (native units and, for PET, SUVbw: the SUV header reading), open every slide and read a tile at
// its finest and coarsest level. Built twice: fuzz_dicom (a .dcm file) and fuzz_slide, whose first
// byte picks the extension (.tif, .svs, .ome.tif, .dcm) so OpenSlide, OME-TIFF and DICOM WSI each
// see their own. Any crash, leak or undefined behaviour is a finding; errors are the expected answer.
#include <algorithm>
#include <cstdint>

#include "input_file.h"
#include "oq/plugin.h"
#include "oq/scan.h"

namespace {

void read_corners(oq::SlideReader& slide) {
  const oq::SlideInfo& info = slide.info();
  for (const int level : {0, static_cast<int>(info.levels.size()) - 1}) {
    if (level < 0) continue;
    (void)slide.read_region(level, 0, 0, 64, 64);
    const auto& lv = info.levels[static_cast<std::size_t>(level)];
    (void)slide.read_region(level, std::max<std::int64_t>(0, lv.width - 32), std::max<std::int64_t>(0, lv.height - 32), 64, 64);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
#ifdef OQ_FUZZ_SLIDE
  if (size == 0) return 0;
  static const char* const kExtensions[] = {".tif", ".svs", ".ome.tif", ".dcm"};
  const std::string path = oqfuzz::write_input(data + 1, size - 1, kExtensions[data[0] % 4]);
#else
  const std::string path = oqfuzz::write_input(data, size, ".dcm");
#endif
  const oq::Catalog catalog = oq::scan_inputs({path});
  for (const oq::SeriesInfo* s : catalog.all_series()) {
    oq::LoadOptions options;
    (void)oq::load_series(*s, options);
    if (s->modality == "PT") {
      options.units = oq::Units::kSUVbw;
      (void)oq::load_series(*s, options);
    }
  }
  for (const oq::SlideInfo& s : catalog.slides) {
    const oq::PluginDescriptor* p = oq::find_plugin(s.loader);
    if (!p || !p->loader || !p->loader->open_slide) continue;
    oq::SlideInfo info = s;
    if (!info.mpp_x) info.mpp_x = info.mpp_y = 0.5;
    auto slide = p->loader->open_slide(info);
    if (slide) read_corners(**slide);
  }
  return 0;
}
