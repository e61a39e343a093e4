// oncoquant bonescan: hot spots on whole-body bone scan views (issue 4).
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

#include "args.h"
#include "commands.h"
#include "oq/lesion/bone_scan.h"
#include "oq/plugin.h"
#include "oq/progress.h"
#include "oq/scan.h"

namespace oq::cli {
namespace {

const char* kBoneScanUsage =
    "usage: oncoquant bonescan INPUT [--series UID] [--json]\n"
    "  Finds hot spots on whole-body bone scan views (NM or Secondary Capture; anterior and posterior), each\n"
    "  with its position (row, column), area and peak uptake relative to the surrounding normal bone. The\n"
    "  bladder is recognised and left out. Also an exploratory bone-involvement index (hot area as a\n"
    "  percentage of skeleton area; not a validated bone scan index). Every NM series of INPUT unless --series.\n";

double r2(double v) {
  return std::round(v * 100) / 100;
}

}  // namespace

int cmd_bonescan(int argc, char** argv) {
  Args args(argc, argv, 2, {"--series"}, {"--json", "--help", "--quiet"});
  if (args.has("--help")) {
    std::fputs(kBoneScanUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kBoneScanUsage);
  if (args.positional().size() != 1) return usage_fail("bonescan needs exactly one INPUT", kBoneScanUsage);
  if (args.has("--quiet") || args.has("--json")) Progress::set_quiet(true);
  const std::string input = args.positional().front();
  const Catalog catalog = scan_inputs({input});
  std::vector<const SeriesInfo*> chosen;
  if (args.has("--series")) {
    auto s = select_series(catalog, args.get("--series"), input);
    if (!s.ok()) return fail(s.error().describe());
    chosen.push_back(*s);
  } else {
    for (const SeriesInfo* s : catalog.all_series())
      if (s->modality == "NM") chosen.push_back(s);
  }
  if (chosen.empty()) return fail(input + ": no NM (bone scan) series found");
  nlohmann::json all = nlohmann::json::array();
  for (const SeriesInfo* s : chosen) {
    auto volume = load_series(*s, LoadOptions{});
    if (!volume.ok()) return fail(volume.error().describe());
    auto r = lesion::detect_hot_spots(*volume, s->views);
    if (!r.ok()) return fail(s->files.front() + ": " + r.error().describe());
    nlohmann::json j;
    j["series_uid"] = s->uid;
    j["description"] = s->description;
    j["views"] = nlohmann::json::array();
    for (const auto& v : r->views)
      j["views"].push_back({{"view", v.view},
                            {"normal_bone_counts", r2(v.normal_bone_counts)},
                            {"skeleton_area_mm2", std::round(v.skeleton_area_mm2)},
                            {"hot_area_mm2", std::round(v.hot_area_mm2)},
                            {"excluded", v.excluded}});
    j["hot_spots"] = nlohmann::json::array();
    for (const auto& h : r->hot_spots)
      j["hot_spots"].push_back({{"view", h.view},
                                {"row", r2(h.row)},
                                {"column", r2(h.column)},
                                {"area_mm2", std::round(h.area_mm2)},
                                {"peak_ratio", r2(h.peak_ratio)}});
    j["hot_spot_count"] = r->hot_spots.size();
    j["bone_involvement_index_pct"] = r2(r->bone_involvement_index_pct);
    j["bone_involvement_index_note"] = "exploratory: hot-spot area / skeleton area, not a validated bone scan index";
    all.push_back(j);
    if (!args.has("--json")) {
      std::printf("series %s \"%s\": %zu hot spot%s, bone involvement %.2f %% (exploratory)\n", s->uid.c_str(),
                  s->description.c_str(), r->hot_spots.size(), r->hot_spots.size() == 1 ? "" : "s",
                  r->bone_involvement_index_pct);
      for (const auto& h : r->hot_spots)
        std::printf("  %-10s row %6.1f col %6.1f  %6.0f mm2  %.1fx normal bone\n", h.view.c_str(), h.row, h.column, h.area_mm2,
                    h.peak_ratio);
      for (const auto& v : r->views)
        for (const auto& e : v.excluded) std::printf("  %-10s not a hot spot: %s\n", v.view.c_str(), e.c_str());
    }
  }
  if (args.has("--json")) std::printf("%s\n", nlohmann::json{{"series", all}}.dump(2).c_str());
  return 0;
}

}  // namespace oq::cli
