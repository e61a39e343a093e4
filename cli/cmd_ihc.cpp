// oncoquant ihc: ER / PR / HER2 quantification on a whole-slide image or a plain image (issue 6).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "args.h"
#include "commands.h"
#include "oq/output.h"
#include "oq/plugin.h"
#include "oq/progress.h"
#include "oq/scan.h"
#include "oq/wsi/analysis.h"
#include "oq/wsi/inputs.h"

namespace oq::cli {
namespace {

const char* kIhcUsage =
    "usage: oncoquant ihc SLIDE --marker ER|PR|HER2 [--mpp UM] [--roi ROI.geojson] [--json]\n"
    "                     [--overlay OUT.png] [--detections OUT.geojson] [--threads N] [--stains STAINS.json]\n"
    "                     [--background R,G,B]\n"
    "  SLIDE: any slide OpenSlide opens, or a plain image (PNG, JPEG, TIFF) with --mpp. Tissue is found at\n"
    "  about 8 um/px, stain vectors are estimated on the slide (Macenko; reported), tiles at 0.5 um/px are\n"
    "  analysed in parallel: nuclei from the optical density, tumour cells told from lymphocytes (small, round)\n"
    "  and stroma (elongated), each tumour nucleus classed by its mean DAB OD (0.2 / 0.4 / 0.6 for 1+ / 2+ / 3+).\n"
    "  Prints percent positive, H-score, Allred and the category (positive, low-positive, negative).\n"
    "  HER2: each tumour cell's membrane, from its nucleus out to the bisectors with its neighbours: the share\n"
    "  of its perimeter stained (complete from 80 %, a pattern from 20 %) and the stained DAB OD (faint below\n"
    "  0.2, intense from 0.55) give its pattern; the percentages per pattern give the ASCO/CAP score and\n"
    "  HER2-low / ultralow (faint staining from 1 % of tumour cells: fewer is taken for misread cells).\n"
    "  The score is exact on the generated slides; the faint percentage is the least\n"
    "  certain figure (a stained neighbour's membrane touches an unstained cell).\n"
    "  --roi        a polygon (GeoJSON, QuPath's export; level-0 pixels) that restricts the count\n"
    "  --overlay    cells coloured by class over the slide (PNG)   --detections  cells as QuPath detections\n"
    "  --stains     the lab's stain vectors instead of an estimate: {\"hematoxylin\": [r, g, b], \"dab\": [r, g, b]},\n"
    "               or the JSON of an earlier run (its stain_vectors), e.g. of a control slide of the same\n"
    "               staining run. ER/PR DAB is only ever seen mixed with hematoxylin: it is placed from the\n"
    "               darkest nuclei (taken to hold 0.4 OD of hematoxylin per OD of DAB), or kept at the\n"
    "               reference when no nucleus is strongly stained (stain_vectors.dab_from says which).\n"
    "  --background the scanner's white (I0, e.g. 242,240,238) for an image with no glass in it, such as a tile\n"
    "               cut from inside the tissue: otherwise its brightest tenth is taken, and the JSON's\n"
    "               stain_vectors.background_from says when that is dimmer than glass\n"
    "  --experimental-her2  accepted for older scripts; HER2 no longer needs it\n"
    "  Interrupting (Ctrl-C, SIGTERM) stops the analysis between tiles; nothing is written.\n";

// The --stains and --roi files, read strictly and bounded (args.h), then understood by wsi.
Result<std::pair<std::array<double, 3>, std::array<double, 3>>> read_stains(const std::string& path) {
  auto parsed = read_json_file(path);
  if (!parsed) return parsed.error();
  auto given = wsi::stains_from_json(*parsed, path);
  if (!given) return given.error();
  return std::make_pair(given->hematoxylin, given->dab);
}

Result<std::vector<std::array<double, 2>>> read_roi(const std::string& path) {
  auto parsed = read_json_file(path);
  if (!parsed) return parsed.error();
  return wsi::roi_from_geojson(*parsed, path);
}

// The file outputs (a PNG overlay, GeoJSON detections), checked and reserved before the analysis,
// not after it: never an input of the run (the slide, the ROI, the stain vectors), never an existing
// file that is not a regular file, in a folder that exists. Both land together or neither does.
struct IhcOutputs {
  OutputSet set;
  std::string overlay, detections;  // temporary paths, empty when not asked for
};

// Returns the exit code of a refusal, or 0.
int reserve_outputs(const Args& args, IhcOutputs& outputs) {
  for (const auto& [flag, extension] : {std::pair<const char*, const char*>{"--overlay", ".png"}, {"--detections", ".geojson"}}) {
    if (!args.has(flag)) continue;
    const std::filesystem::path out = args.get(flag);
    if (out.extension() != extension && !(std::string(flag) == "--detections" && out.extension() == ".json"))
      return usage_fail(std::string(flag) + " writes a " + extension + " file, not '" + out.string() + "'", kIhcUsage);
    auto temp = outputs.set.add(out.string());
    if (!temp) return fail(temp.error().describe());
    (std::string(flag) == "--overlay" ? outputs.overlay : outputs.detections) = *temp;
  }
  return 0;
}

// Why a region of interest (level-0 pixels) leaves nothing to count: it lies wholly outside the
// slide. Empty when it overlaps it, or there is none.
std::string outside_slide(const std::vector<std::array<double, 2>>& roi, const SlideInfo& info) {
  if (roi.empty()) return "";
  double x0 = roi[0][0], x1 = x0, y0 = roi[0][1], y1 = y0;
  for (const auto& p : roi) {
    x0 = std::min(x0, p[0]), x1 = std::max(x1, p[0]), y0 = std::min(y0, p[1]), y1 = std::max(y1, p[1]);
  }
  if (x1 >= 0 && y1 >= 0 && x0 <= static_cast<double>(info.width) && y0 <= static_cast<double>(info.height)) return "";
  return "the region of interest lies outside the slide (" + std::to_string(info.width) + " x " + std::to_string(info.height) +
         " px at level 0)";
}

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");
extern "C" void on_interrupt(int) {
  g_interrupted.store(true);
}

}  // namespace

int cmd_ihc(int argc, char** argv) {
  Args args(argc, argv, 2, {"--marker", "--mpp", "--roi", "--overlay", "--detections", "--threads", "--stains", "--background"},
            {"--json", "--help", "--quiet", "--experimental-her2"});
  if (args.has("--help")) {
    std::fputs(kIhcUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kIhcUsage);
  if (args.positional().size() != 1) return usage_fail("ihc needs exactly one SLIDE", kIhcUsage);
  const std::string m = args.get("--marker");
  wsi::Marker marker;
  if (m == "ER")
    marker = wsi::Marker::kER;
  else if (m == "PR")
    marker = wsi::Marker::kPR;
  else if (m == "HER2")
    marker = wsi::Marker::kHER2;
  else
    return usage_fail("--marker must be ER, PR or HER2", kIhcUsage);
  std::optional<double> mpp;
  if (args.has("--mpp")) {
    // Coarser than 2 um/px a nucleus spans a few pixels and cannot be measured (and resampling such an
    // image to the analysis resolution only multiplies its pixels).
    mpp = parse_number(args.get("--mpp"), 0.05, 2);
    if (!mpp) return usage_fail("--mpp needs microns per pixel, 0.05-2 (e.g. 0.5), not '" + args.get("--mpp") + "'", kIhcUsage);
  }
  wsi::IhcSettings settings;
  if (args.has("--threads")) {
    const auto n = parse_integer(args.get("--threads"), 0, 256);
    if (!n) return usage_fail("--threads needs a count 0-256 (0: every core), not '" + args.get("--threads") + "'", kIhcUsage);
    settings.threads = static_cast<int>(*n);
  }
  IhcOutputs outputs{OutputSet({args.positional().front(), args.get("--roi"), args.get("--stains")}), {}, {}};
  if (const int rc = reserve_outputs(args, outputs); rc != 0) return rc;
  if (args.has("--stains")) {
    auto stains = read_stains(args.get("--stains"));
    if (!stains) return fail(stains.error().describe());
    settings.given_hematoxylin = stains->first;
    settings.given_dab = stains->second;
  }
  if (args.has("--background")) {
    const auto white = parse_numbers(args.get("--background"), 3, 50, 255);
    if (!white) return usage_fail("--background needs the glass's R,G,B (each 50-255), e.g. 242,240,238", kIhcUsage);
    settings.given_background = std::array<double, 3>{(*white)[0], (*white)[1], (*white)[2]};
  }
  if (args.has("--roi")) {
    auto roi = read_roi(args.get("--roi"));
    if (!roi) return fail(roi.error().describe());
    settings.roi = *roi;
  }
  const bool quiet = args.has("--quiet") || args.has("--json");
  if (quiet) Progress::set_quiet(true);

  const std::string path = args.positional().front();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return fail(path + ": no such file");
  // A slide a loader catalogues (OpenSlide formats); else a plain image.
  std::unique_ptr<SlideReader> slide;
  const Catalog catalog = scan_inputs({path});
  for (const SlideInfo& s : catalog.slides) {
    const PluginDescriptor* p = find_plugin(s.loader);
    if (!p || !p->loader || !p->loader->open_slide) continue;
    SlideInfo info = s;
    if (mpp) info.mpp_x = info.mpp_y = *mpp;
    auto r = p->loader->open_slide(info);
    if (!r) return fail(r.error().describe());
    slide = std::move(r.value());
    break;
  }
  if (!slide) {
    // Not a slide any loader opens. A file a loader recognised and could not read (a corrupt
    // slide) is refused; one no loader recognised may be a plain image, given its scale.
    const std::string why = catalog.unreadable.empty() ? "not a whole-slide image" : catalog.unreadable.front().reason;
    if (!catalog.unreadable.empty() && !catalog.unreadable.front().unclaimed) return fail(path + ": " + why);
    if (!mpp) return fail(path + ": " + why + " (a plain image needs --mpp, microns per pixel)");
    auto r = wsi::open_plain_image(path, *mpp);
    if (!r) return fail(path + ": " + why + "; " + r.error().message());
    slide = std::move(r.value());
  }
  if (const std::string why = outside_slide(settings.roi, slide->info()); !why.empty())
    return fail(args.get("--roi") + ": " + why);
  std::optional<Progress> bar;  // made on the first tile, when the number of tiles is known
  // Ctrl-C (or a batch scheduler's SIGTERM) stops the analysis between tiles: nothing is written.
  g_interrupted.store(false);
  struct sigaction on_signal {
  }, old_int{}, old_term{};
  on_signal.sa_handler = on_interrupt;
  sigemptyset(&on_signal.sa_mask);
  sigaction(SIGINT, &on_signal, &old_int);
  sigaction(SIGTERM, &on_signal, &old_term);
  auto res = wsi::analyse_ihc(
      *slide, marker, settings,
      [&](int, int total) {
        if (!bar) bar.emplace("ihc " + std::filesystem::path(path).filename().string(), static_cast<size_t>(total), " tiles");
        bar->advance();
      },
      &g_interrupted);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  if (bar) bar->finish();
  if (g_interrupted.load()) return fail(path + ": cancelled (interrupted); nothing written");
  if (!res) return fail(res.error().about(path).describe());
  const wsi::IhcResult& r = *res;
  if (!outputs.overlay.empty())
    if (auto w = wsi::write_overlay(*slide, r, outputs.overlay); !w)
      return fail(args.get("--overlay") + ": " + w.error().message());
  if (!outputs.detections.empty())
    if (auto w = wsi::write_detections(r, slide->info().mpp_x.value_or(r.mpp), outputs.detections); !w)
      return fail(args.get("--detections") + ": " + w.error().message());
  if (Status st = outputs.set.commit(); !st.ok()) return fail(st.error().describe());

  auto od = [](double v) { return report_value(v, Quantity::kOpticalDensity); };
  nlohmann::ordered_json j;
  j["slide"] = path;
  j["marker"] = wsi::to_string(marker);
  j["mpp"] = report_value(r.mpp, Quantity::kMicrometre);
  j["stain_vectors"] = {{"hematoxylin", {od(r.stains.hematoxylin[0]), od(r.stains.hematoxylin[1]), od(r.stains.hematoxylin[2])}},
                        {"dab", {od(r.stains.dab[0]), od(r.stains.dab[1]), od(r.stains.dab[2])}},
                        {"background_rgb", {r.stains.background[0], r.stains.background[1], r.stains.background[2]}},
                        {"background_from", r.stains.background_from},
                        {"estimated", r.stains.estimated},
                        {"dab_from_reference", r.stains.dab_from_reference},
                        {"dab_from", r.stains.dab_from},
                        {"note", r.stains.note}};
  j["region"] = {
      {"tissue_mm2", report_value(r.tissue_mm2, Quantity::kAreaMm2)},
      {"roi", r.roi_used},
      {"note", r.roi_used ? "cells inside the region of interest" : "all detected cells were counted (no region of interest)"}};
  j["cells"] = {{"total", r.tumour.total()},
                {"negative", r.tumour.negative},
                {"1+", r.tumour.weak},
                {"2+", r.tumour.moderate},
                {"3+", r.tumour.strong}};
  j["other_cells"] = {{"lymphocytes", r.lymphocytes}, {"stroma", r.stromal}, {"unclassified", r.other}};
  // No score from a slide that cannot give one: "no cells found" is not "negative".
  const bool evaluable = r.not_evaluable.empty();
  j["evaluable"] = evaluable;
  j["not_evaluable_reason"] = evaluable ? nlohmann::ordered_json() : nlohmann::ordered_json(r.not_evaluable);
  if (!evaluable) {
    for (const char* k : {"percent_positive", "h_score", "allred"}) j[k] = nullptr;
    j["category"] = "not evaluable";
    if (marker == wsi::Marker::kHER2) j["her2"] = nullptr;
  } else {
    j["percent_positive"] = report_value(r.score.percent_positive, Quantity::kPercent);
    j["h_score"] = report_value(r.score.h_score, Quantity::kScore);
    j["allred"] = {
        {"proportion", r.score.allred_proportion}, {"intensity", r.score.allred_intensity}, {"total", r.score.allred_total}};
    j["category"] = wsi::to_string(r.score.category);
  }
  if (evaluable && marker == wsi::Marker::kHER2) {
    auto p2 = [](double v) { return report_value(v, Quantity::kPercent); };
    j["her2"] = {{"score", wsi::to_string(r.her2.score)},
                 {"percent_no_staining", p2(r.her2.percent_none)},
                 {"percent_faint_incomplete", p2(r.her2.percent_faint_incomplete)},
                 {"percent_weak_moderate_complete", p2(r.her2.percent_weak_moderate_complete)},
                 {"percent_intense_complete", p2(r.her2.percent_intense_complete)},
                 {"percent_unusual", p2(r.her2.percent_unusual)},
                 {"category", wsi::to_string(r.her2.category)},
                 // What the membranes were measured against (see wsi/analysis.h).
                 {"tissue_dab_od", od(r.tissue_dab_od)},
                 {"hematoxylin_read_as_dab", report_value(r.hematoxylin_read_as_dab, Quantity::kFraction)},
                 {"warning", r.her2_warning.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.her2_warning)}};
  }
  j["settings"] = {{"nuclear_dab_thresholds", settings.nuclear_dab_thresholds},
                   {"membrane_od_stained_min", settings.membrane_stained_od},
                   {"membrane_od_faint_max", settings.membrane_faint_max},
                   {"membrane_od_intense_min", settings.membrane_intense_min},
                   {"membrane_complete_share", settings.membrane_complete},
                   {"lymphocyte_max_um2", settings.lymphocyte_max_um2},
                   {"stroma_min_aspect", settings.stroma_min_aspect}};
  j["megapixels"] = report_value(r.megapixels, Quantity::kMegapixels);
  j["seconds"] = report_value(r.seconds, Quantity::kSeconds);
  if (args.has("--json")) {
    std::printf("%s\n", dump(j).c_str());
  } else if (!evaluable) {
    std::printf("%s %s: NOT EVALUABLE: %s; no score, no category\n", path.c_str(), wsi::to_string(marker),
                r.not_evaluable.c_str());
  } else if (marker == wsi::Marker::kHER2) {
    std::printf("%s HER2: %zu tumour cells\n", path.c_str(), r.tumour.total());
  } else {
    std::printf(
        "%s %s: %zu tumour cells (%zu negative, %zu 1+, %zu 2+, %zu 3+), %.1f %% positive, H-score %.0f, Allred %d (%d + %d), "
        "%s\n",
        path.c_str(), wsi::to_string(marker), r.tumour.total(), r.tumour.negative, r.tumour.weak, r.tumour.moderate,
        r.tumour.strong, r.score.percent_positive, r.score.h_score, r.score.allred_total, r.score.allred_proportion,
        r.score.allred_intensity, wsi::to_string(r.score.category));
  }
  if (!args.has("--json")) {
    if (evaluable && marker == wsi::Marker::kHER2)
      std::printf(
          "  HER2 %s (%s): no staining %.1f %%, faint incomplete %.1f %%, weak-moderate complete %.1f %%, intense complete %.1f "
          "%%, unusual %.1f %%\n",
          wsi::to_string(r.her2.score), wsi::to_string(r.her2.category), r.her2.percent_none, r.her2.percent_faint_incomplete,
          r.her2.percent_weak_moderate_complete, r.her2.percent_intense_complete, r.her2.percent_unusual);
    if (evaluable && marker == wsi::Marker::kHER2)
      std::printf(
          "  membranes measured above the tissue's own DAB (%.3f OD), with %.3f OD of DAB per OD of hematoxylin taken "
          "out\n",
          r.tissue_dab_od, r.hematoxylin_read_as_dab);
    if (!r.her2_warning.empty()) std::printf("  WARNING: %s\n", r.her2_warning.c_str());
    std::printf("  also %zu lymphocytes, %zu stromal cells; stains %s; %.1f MP of tissue in %.1f s\n", r.lymphocytes, r.stromal,
                r.stains.note.c_str(), r.megapixels, r.seconds);
    if (r.stains.background_from.rfind("glass", 0) != 0)
      std::printf("  background (I0) %.0f,%.0f,%.0f: %s\n", r.stains.background[0], r.stains.background[1],
                  r.stains.background[2], r.stains.background_from.c_str());
  }
  return 0;
}

}  // namespace oq::cli
