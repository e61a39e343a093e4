// oncoquant track: carries baseline lesions into a follow-up CT (registration + re-segmentation)
// and proposes their measurements with a confidence; with --pet, candidate new lesions (issue 5).
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>

#include "args.h"
#include "commands.h"
#include "oq/lesion/pet_segment.h"
#include "oq/progress.h"
#include "oq/recist/tracking.h"
#include "oq/scan.h"

namespace oq::cli {
namespace {

const char* kTrackUsage =
    "usage: oncoquant track BASELINE FOLLOWUP --lesions LESIONS.json [--pet FOLLOWUP_PET [--baseline-pet PET]] [--json]\n"
    "                       [--baseline-series UID] [--followup-series UID] [--pet-series UID] [--rigid]\n"
    "  BASELINE and FOLLOWUP hold one CT series each (or pick with --*-series). LESIONS.json lists the\n"
    "  baseline lesions: [{\"id\": \"T1\", \"seed_mm\": [x, y, z], \"nodal\": false}, ...] (\"lesion_id\" is accepted\n"
    "  for \"id\", so the demo manifest's baseline_lesion_seeds can be given as they are).\n"
    "  The follow-up is registered to the baseline (rigid, then affine), each lesion is segmented on the\n"
    "  baseline, carried over and segmented again; its proposed measurement comes with a confidence (0-1) and\n"
    "  a note. A lesion not found is reported as not found (vanished or missed), for the reader to decide.\n"
    "  --pet   the follow-up PET (same patient): uptake above the PERCIST threshold (1.5 x liver + 2 SD, SUL)\n"
    "          farther than 15 mm from every tracked lesion is listed as a candidate new lesion (SULpeak of a\n"
    "          1 ml sphere, regions under 50 ml). The PET must share its CT's frame of reference (PET-CT).\n"
    "  --baseline-pet  the baseline PET: uptake already there (kidneys, bowel, known disease) is not new\n"
    "  --rigid  stop after the rigid stage\n";

nlohmann::json point(const Vec3& p) {
  return json_point(p, 2);
}

// The one series of `modality` in INPUT (or the one named by UID), in HU or SULlbm.
Result<Volume> load_single_series(const std::string& input, const std::string& uid, const std::string& modality) {
  const Catalog catalog = scan_inputs({input});
  const SeriesInfo* chosen = nullptr;
  if (!uid.empty()) {
    auto s = select_series(catalog, uid, input);
    if (!s) return s.error();
    chosen = *s;
  } else {
    for (const SeriesInfo* s : catalog.all_series())
      if (s->modality == modality) {
        if (chosen)
          return Error(ErrorCode::kInvalidArgument, "holds several " + modality + " series: pick one with --*-series", input);
        chosen = s;
      }
  }
  if (!chosen) return Error(ErrorCode::kNotFound, "no " + modality + " series", input);
  if (chosen->modality != modality)
    return Error(ErrorCode::kInvalidArgument, "series " + chosen->uid + " is " + chosen->modality + ", not " + modality, input);
  LoadOptions load;
  load.units = modality == "PT" ? Units::kSULlbm : Units::kHU;
  return load_series(*chosen, load);
}

}  // namespace

int cmd_track(int argc, char** argv) {
  Args args(
      argc, argv, 2,
      {"--lesions", "--pet", "--baseline-pet", "--baseline-series", "--followup-series", "--pet-series", "--baseline-pet-series"},
      {"--json", "--help", "--quiet", "--rigid"});
  if (args.has("--help")) {
    std::fputs(kTrackUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kTrackUsage);
  if (args.positional().size() != 2) return usage_fail("track needs BASELINE and FOLLOWUP", kTrackUsage);
  if (!args.has("--lesions")) return usage_fail("track needs --lesions LESIONS.json", kTrackUsage);
  if (args.has("--quiet") || args.has("--json")) Progress::set_quiet(true);

  const std::string lesions_path = args.get("--lesions");
  std::vector<recist::TrackInput> inputs;
  try {
    std::ifstream in(lesions_path);
    if (!in) return fail(lesions_path + ": cannot be read");
    const nlohmann::json j = nlohmann::json::parse(in);
    if (!j.is_array()) return fail(lesions_path + ": must be an array of lesions");
    for (const auto& l : j) {
      recist::TrackInput t;
      t.id = l.contains("id") ? l.at("id").get<std::string>() : l.at("lesion_id").get<std::string>();
      const auto& s = l.at("seed_mm");
      t.seed = {s.at(0).get<double>(), s.at(1).get<double>(), s.at(2).get<double>()};
      t.nodal = l.value("nodal", false);
      inputs.push_back(t);
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(lesions_path + ": not a list of lesions with id and seed_mm (" + e.what() + ")");
  }

  auto base = load_single_series(args.positional()[0], args.get("--baseline-series"), "CT");
  if (!base) return fail(base.error().describe());
  auto fu = load_single_series(args.positional()[1], args.get("--followup-series"), "CT");
  if (!fu) return fail(fu.error().describe());
  recist::RegistrationOptions ro;
  ro.affine = !args.has("--rigid");
  if (!args.has("--json")) std::fprintf(stderr, "registering the follow-up to the baseline...\n");
  auto reg = recist::register_ct(*base, *fu, ro);
  if (!reg) return fail(args.positional()[1] + ": " + reg.error().describe());
  const auto tracked = recist::track_lesions(*base, *fu, *reg, inputs);

  nlohmann::ordered_json out;
  nlohmann::ordered_json r;
  r["transform"] = ro.affine ? "affine" : "rigid";
  r["matrix"] = reg->matrix;
  r["centre_mm"] = point(reg->centre);
  r["translation_mm"] = point(reg->translation);
  r["mutual_information"] = std::round(reg->final_metric * 10000) / 10000;
  r["iterations"] = reg->iterations;
  r["seconds"] = std::round(reg->seconds * 100) / 100;
  out["registration"] = r;
  out["lesions"] = nlohmann::ordered_json::array();
  std::vector<Vec3> known;
  for (const auto& t : tracked) {
    nlohmann::ordered_json l;
    l["id"] = t.id;
    l["status"] = !t.baseline_found ? "not-measurable-at-baseline" : (t.found ? "found" : "not-found");
    l["nodal"] = t.nodal;
    if (t.baseline_found) {
      l["baseline_long_axis_mm"] = std::round(t.baseline.long_axis.length_mm * 100) / 100;
      l["baseline_short_axis_mm"] = std::round(t.baseline.short_axis.length_mm * 100) / 100;
      l["mapped_seed_mm"] = point(t.mapped_seed);
      known.push_back(t.mapped_seed);
    }
    if (t.found) {
      const auto& s = t.followup;
      l["found_at_mm"] = point(t.found_at);
      l["long_axis_mm"] = std::round(s.long_axis.length_mm * 100) / 100;
      l["long_axis_endpoints_mm"] = nlohmann::ordered_json::array({point(s.long_axis.a), point(s.long_axis.b)});
      l["short_axis_mm"] = std::round(s.short_axis.length_mm * 100) / 100;
      l["largest_short_axis_mm"] = std::round(s.largest_short_axis.length_mm * 100) / 100;
      l["recist_diameter_mm"] = std::round((t.nodal ? s.largest_short_axis.length_mm : s.long_axis.length_mm) * 100) / 100;
      l["volume_ml"] = std::round(s.volume_ml * 1000) / 1000;
      l["mean_hu"] = std::round(s.mean_hu * 10) / 10;
      l["confidence"] = std::round(t.confidence * 100) / 100;
      known.push_back({(s.long_axis.a[0] + s.long_axis.b[0]) / 2, (s.long_axis.a[1] + s.long_axis.b[1]) / 2,
                       (s.long_axis.a[2] + s.long_axis.b[2]) / 2});
    }
    l["note"] = t.note;
    out["lesions"].push_back(l);
  }
  if (args.has("--pet")) {
    auto pet = load_single_series(args.get("--pet"), args.get("--pet-series"), "PT");
    if (!pet) return fail(pet.error().describe());
    auto liver = lesion::find_liver_reference(*pet);
    if (!liver) return fail(args.get("--pet") + ": " + liver.error().describe());
    const double threshold = liver->measurability_threshold();
    std::optional<Volume> base_pet;
    if (args.has("--baseline-pet")) {
      auto bp = load_single_series(args.get("--baseline-pet"), args.get("--baseline-pet-series"), "PT");
      if (!bp) return fail(bp.error().describe());
      base_pet = std::move(bp.value());
    }
    nlohmann::ordered_json c = nlohmann::ordered_json::array();
    for (const auto& u : recist::find_new_uptake(*pet, threshold, known, base_pet ? &*base_pet : nullptr, &*reg)) {
      nlohmann::ordered_json e = {{"hottest_mm", point(u.hottest)},
                                  {"centre_mm", point(u.centre)},
                                  {"sul_max", std::round(u.sul_max * 100) / 100},
                                  {"sul_peak", std::round(u.sul_peak * 100) / 100},
                                  {"volume_ml", std::round(u.volume_ml * 100) / 100}};
      if (u.baseline_sul_peak >= 0) e["baseline_sul_peak"] = std::round(u.baseline_sul_peak * 100) / 100;
      c.push_back(e);
    }
    out["pet_threshold_sul"] = std::round(threshold * 100) / 100;
    out["candidate_new_lesions"] = c;
  }
  if (args.has("--json")) {
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("registration: %s, translation (%.1f, %.1f, %.1f) mm, %.1f s\n", ro.affine ? "affine" : "rigid",
                reg->translation[0], reg->translation[1], reg->translation[2], reg->seconds);
    for (const auto& l : out["lesions"]) {
      std::printf("%-6s %-28s", l["id"].get<std::string>().c_str(), l["status"].get<std::string>().c_str());
      if (l.contains("long_axis_mm"))
        std::printf(" LA %6.1f mm (baseline %6.1f)  confidence %.2f", l["long_axis_mm"].get<double>(),
                    l["baseline_long_axis_mm"].get<double>(), l["confidence"].get<double>());
      std::printf("  %s\n", l["note"].get<std::string>().c_str());
    }
    if (out.contains("candidate_new_lesions"))
      for (const auto& c : out["candidate_new_lesions"])
        std::printf("candidate new lesion at %s: SULpeak %.2f, %.2f ml\n", c["hottest_mm"].dump().c_str(),
                    c["sul_peak"].get<double>(), c["volume_ml"].get<double>());
  }
  return 0;
}

}  // namespace oq::cli
