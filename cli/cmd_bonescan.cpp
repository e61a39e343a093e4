// oncoquant bonescan: hot spots on whole-body bone scan views (issue 4).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

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
    "  percentage of skeleton area; not a validated bone scan index). Every NM series of INPUT unless --series.\n"
    "  The anterior and posterior views of one scan are read together: a metastasis seen on both is one\n"
    "  lesion (same row, and the same column once the posterior view is mirrored back when it is stored as\n"
    "  seen from behind - as the files' Image Orientation says, else as acquired), so the lesion count does\n"
    "  not count it twice.\n";

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
  // The views of one scan may come as parts of one series (anterior and posterior face opposite
  // ways, so they load as separate parts): they are read together.
  std::vector<std::vector<const SeriesInfo*>> scans;
  for (const SeriesInfo* s : chosen) {
    const std::string base = s->uid.substr(0, s->uid.find('#'));
    auto same = std::find_if(scans.begin(), scans.end(),
                             [&](const auto& scan) { return scan.front()->uid.substr(0, scan.front()->uid.find('#')) == base; });
    if (same == scans.end())
      scans.push_back({s});
    else
      same->push_back(s);
  }
  nlohmann::json all = nlohmann::json::array();
  for (const auto& parts : scans) {
    std::vector<lesion::HotSpot> spots;
    std::vector<lesion::BoneScanView> views;
    double index_sum = 0;
    // Whether each view's columns run towards the patient's left (+1) or right (-1); 0 unknown.
    std::map<std::string, int> column_side;
    double columns = 0, pixel_mm = 1;
    for (const SeriesInfo* s : parts) {
      auto volume = load_series(*s, LoadOptions{});
      if (!volume.ok()) return fail(volume.error().describe());
      auto r = lesion::detect_hot_spots(*volume, s->views);
      if (!r.ok()) return fail(s->files.front() + ": " + r.error().describe());
      spots.insert(spots.end(), r->hot_spots.begin(), r->hot_spots.end());
      for (const auto& v : r->views) {
        views.push_back(v);
        column_side[v.view] = s->patient_orientation_known ? (s->direction[0] >= 0 ? 1 : -1) : 0;
      }
      index_sum += r->bone_involvement_index_pct * static_cast<double>(r->views.size());
      columns = static_cast<double>(s->matrix[0]);
      pixel_mm = s->spacing[0];
    }
    lesion::ViewGeometry geometry;
    geometry.columns = columns;
    geometry.pixel_mm = pixel_mm;
    std::string pairing;
    if (column_side.count("anterior") && column_side.count("posterior")) {
      const int a = column_side["anterior"], p = column_side["posterior"];
      if (a != 0 && p != 0) {
        geometry.posterior_mirrored = a != p;
        pairing = geometry.posterior_mirrored ? "posterior view stored as seen from behind (Image Orientation): columns mirrored"
                                              : "posterior view stored turned to the anterior's orientation (Image Orientation)";
      } else {
        geometry.posterior_mirrored = true;
        pairing = "posterior view taken as stored as seen from behind (the files give no Image Orientation): columns mirrored";
      }
    }
    const std::vector<lesion::BoneScanLesion> lesions = lesion::pair_views(spots, geometry);

    nlohmann::json j;
    j["series_uid"] = parts.front()->uid.substr(0, parts.front()->uid.find('#'));
    j["description"] = parts.front()->description;
    if (parts.size() > 1) {
      j["parts"] = nlohmann::json::array();
      for (const SeriesInfo* s : parts) j["parts"].push_back(s->uid);
    }
    j["views"] = nlohmann::json::array();
    for (const auto& v : views)
      j["views"].push_back({{"view", v.view},
                            {"normal_bone_counts", report_value(v.normal_bone_counts, Quantity::kCounts)},
                            {"skeleton_area_mm2", report_value(v.skeleton_area_mm2, Quantity::kAreaMm2)},
                            {"hot_area_mm2", report_value(v.hot_area_mm2, Quantity::kAreaMm2)},
                            {"excluded", v.excluded}});
    j["hot_spots"] = nlohmann::json::array();
    for (const auto& h : spots)
      j["hot_spots"].push_back({{"view", h.view},
                                {"row", report_value(h.row, Quantity::kPixel)},
                                {"column", report_value(h.column, Quantity::kPixel)},
                                {"area_mm2", report_value(h.area_mm2, Quantity::kAreaMm2)},
                                {"peak_ratio", report_value(h.peak_ratio, Quantity::kScore)}});
    j["hot_spot_count"] = spots.size();
    if (!pairing.empty()) {
      j["lesions"] = nlohmann::json::array();
      for (const auto& l : lesions) {
        nlohmann::json e = nlohmann::json::object();
        e["anterior"] = l.anterior >= 0 ? nlohmann::json(l.anterior) : nlohmann::json();
        e["posterior"] = l.posterior >= 0 ? nlohmann::json(l.posterior) : nlohmann::json();
        j["lesions"].push_back(e);
      }
      j["lesion_count"] = lesions.size();
      j["pairing"] = pairing;
    }
    const double index = views.empty() ? 0 : index_sum / static_cast<double>(views.size());
    j["bone_involvement_index_pct"] = report_value(index, Quantity::kPercent);
    j["bone_involvement_index_note"] = "exploratory: hot-spot area / skeleton area, not a validated bone scan index";
    all.push_back(j);
    if (!args.has("--json")) {
      std::printf("series %s \"%s\": %zu hot spot%s", j["series_uid"].get<std::string>().c_str(),
                  parts.front()->description.c_str(), spots.size(), spots.size() == 1 ? "" : "s");
      if (!pairing.empty()) std::printf(", %zu lesion%s", lesions.size(), lesions.size() == 1 ? "" : "s");
      std::printf(", bone involvement %.2f %% (exploratory)\n", index);
      for (size_t i = 0; i < spots.size(); ++i) {
        const auto& h = spots[i];
        std::printf("  %-10s row %6.1f col %6.1f  %6.0f mm2  %.1fx normal bone", h.view.c_str(), h.row, h.column, h.area_mm2,
                    h.peak_ratio);
        for (size_t k = 0; k < lesions.size() && !pairing.empty(); ++k)
          if (lesions[k].anterior == static_cast<int>(i) || lesions[k].posterior == static_cast<int>(i))
            std::printf("  lesion %zu%s", k + 1, lesions[k].anterior >= 0 && lesions[k].posterior >= 0 ? " (both views)" : "");
        std::printf("\n");
      }
      for (const auto& v : views)
        for (const auto& e : v.excluded) std::printf("  %-10s not a hot spot: %s\n", v.view.c_str(), e.c_str());
      if (!pairing.empty()) std::printf("  pairing: %s\n", pairing.c_str());
    }
  }
  if (args.has("--json")) std::printf("%s\n", dump(Json{{"series", all}}).c_str());
  return 0;
}

}  // namespace oq::cli
