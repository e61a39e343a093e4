// oncoquant segment: the lesion under a click, with its RECIST calipers (cli.md).
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "args.h"
#include "commands.h"
#include "oq/lesion/ct_segment.h"
#include "oq/lesion/edits.h"
#include "oq/lesion/pet_segment.h"
#include "oq/output.h"
#include "oq/plugin.h"
#include "oq/progress.h"
#include "oq/recist/reader_measurement.h"
#include "oq/scan.h"
#include "oq/serialize.h"

namespace oq::cli {
namespace {

const char* kSegmentUsage =
    "usage: oncoquant segment INPUT (--seed X,Y,Z | --line X1,Y1,Z1,X2,Y2,Z2) [--series UID] [--mask OUT.nii.gz] [--json]\n"
    "  Segments the lesion under the seed point (DICOM patient coordinates, LPS mm) and measures it as\n"
    "  RECIST does: long axis on the axial slice where it is longest, short axis perpendicular to it,\n"
    "  volume, mean HU, largest 3D diameter.\n"
    "  --line      a diameter drawn by the reader; its midpoint is the seed and its length bounds the search\n"
    "  --mask      write the binary mask on the series grid (.nii.gz, .nrrd, .mha)\n"
    "  --json      one JSON document on stdout\n"
    "  --pet-threshold auto|41|50|adaptive   PET: 41 % or 50 % of SUVmax, or background + 50 % of the\n"
    "              contrast; auto (default) is 41 % unless that cut falls in the background uptake (liver,\n"
    "              marrow), then adaptive. The seed may come from the CT of the same PET-CT.\n"
    "  CT: long/short axis, volume, mean HU. PET (in SUVbw): SUVmax, SUVpeak (1 ml sphere), SUVmean, MTV, TLG,\n"
    "  and SULpeak for PERCIST.\n"
    "  --db STORE --lesion ID [--role target|non-target] [--patient ID] [--treatment-line N] [--organ NAME]\n"
    "  [--author NAME]  records the measurement, its calipers (with their images) and its mask in the study\n"
    "              store at the time point of the series' study date, beside what `track` and `store measure`\n"
    "              record. The lesion is created (with a new tracking UID) when the patient has none of that\n"
    "              name; the role is for the given treatment line, else the latest, else line 1 starting at\n"
    "              that date. Patient: the series' Patient ID unless given. Author: $USER unless given.\n";

// Patient coordinates beyond 10 m from the origin are no scanner's.
constexpr double kFarthestMm = 1e4;

Json point(const Vec3& p) {
  return oq::json_point(p);
}

// What `--db` asks for: the reader's click recorded in the study store (recist/reader_measurement.h).
class StoreRequest {
 public:
  // Checks the flags before any work; a usage error's text, or "".
  std::string parse(const Args& args) {
    db_ = args.get("--db");
    if (db_.empty()) {
      for (const char* f : {"--lesion", "--role", "--patient", "--treatment-line", "--organ", "--author"})
        if (args.has(f)) return std::string(f) + " is for the study store: give --db STORE";
      return "";
    }
    if (!args.has("--lesion")) return "--db needs --lesion ID (T1, N1, ... as readers call it in this patient)";
    const auto role = lesion_role_from(args.get("--role", "target"));
    if (!role || *role == LesionRole::kNew) return "--role must be target or non-target";
    click_.role = *role;
    if (args.has("--treatment-line")) {
      const auto line = parse_integer(args.get("--treatment-line"), 1, 99);
      if (!line) return "--treatment-line must be a whole number 1-99";
      click_.line_number = static_cast<int>(*line);
    }
    click_.lesion.label = args.get("--lesion");
    click_.lesion.organ = args.get("--organ", "unspecified");
    click_.lesion.nodal = args.has("--nodal");
    patient_ = args.get("--patient");
    const char* user = std::getenv("USER");
    who_.name = args.get("--author", user ? user : "oncoquant segment");
    return "";
  }
  bool wanted() const { return !db_.empty(); }

  // Records `value` and `mask`, measured on series `s` of `catalog`. Returns what the store holds.
  Result<Json> record(const Catalog& catalog, const SeriesInfo& s, LesionMeasurement value, LesionMask mask) {
    const StudyInfo* study = nullptr;
    for (const StudyInfo& st : catalog.studies)
      for (const SeriesInfo& x : st.series)
        if (&x == &s) study = &st;
    if (!study) return Error(ErrorCode::kInternal, "the series' study is not in the catalogue", s.uid);
    click_.pseudonym = patient_.empty() ? study->patient_id : patient_;
    if (click_.pseudonym.empty())
      return Error(ErrorCode::kInvalidArgument, "the series has no Patient ID: name the store's patient with --patient", s.uid);
    auto date = recist::parse_date(study->study_date);
    if (!date)
      return Error(ErrorCode::kInvalidArgument, "no usable study date for the store (" + date.error().message() + ")", s.uid);
    click_.date = *date;
    click_.study_uid = study->study_uid;
    click_.series_uid = value.series_uid = s.uid;
    click_.modality = s.modality;
    if (s.spacing[2] > 0) click_.slice_thickness_mm = s.spacing[2];
    value.lesion_id = click_.lesion.label;
    value.role = click_.role;
    value.author = who_.name;
    value.mask = "stored";
    click_.value = std::move(value);
    click_.mask = std::move(mask);
    auto store = recist::open_sqlite_store(db_);
    if (!store) return store.error();
    auto done = recist::record_reader_measurement(**store, click_, who_);
    if (!done) return done.error().about(db_);
    Json j = {{"db", db_},
              {"patient", click_.pseudonym},
              {"date", study->study_date},
              {"lesion", click_.lesion.label},
              {"role", to_string(click_.role)},
              {"treatment_line", done->line_number},
              {"measurement_id", done->measurement},
              {"lesion_created", done->lesion_created},
              {"treatment_line_created", done->line_created}};
    return j;
  }

 private:
  std::string db_, patient_;
  recist::ReaderMeasurement click_;
  recist::Actor who_;
};

// A CT segmentation as the store keeps it. A node is followed by its short axis (RECIST 1.1), the
// largest over its slices.
LesionMeasurement ct_measurement(const lesion::CtSegmentation& r, const Volume& ct, bool nodal) {
  const int short_slice = nodal ? r.largest_short_axis_slice_index : r.axial_slice_index;
  const lesion::Caliper& short_axis = nodal ? r.largest_short_axis : r.short_axis;
  LesionMeasurement m;
  m.long_axis_mm = r.long_axis.length_mm;
  m.short_axis_mm = short_axis.length_mm;
  m.long_axis = lesion::on_image(r.long_axis, ct, r.axial_slice_index);
  m.short_axis = lesion::on_image(short_axis, ct, short_slice);
  m.volume_ml = r.volume_ml;
  m.mean_hu = r.mean_hu;
  return m;
}

LesionMeasurement pet_measurement(const lesion::PetSegmentation& r, const Volume& suv, std::optional<double> sul_peak) {
  LesionMeasurement m;
  m.long_axis_mm = r.long_axis.length_mm;
  m.short_axis_mm = r.short_axis.length_mm;
  m.long_axis = lesion::on_image(r.long_axis, suv, r.axial_slice_index);
  m.short_axis = lesion::on_image(r.short_axis, suv, r.axial_slice_index);
  m.volume_ml = r.mtv_ml;
  m.suv = SuvMetrics{r.suv_max, r.suv_peak, r.suv_mean, r.mtv_ml, r.tlg, sul_peak};
  return m;
}

void print_stored(const Json& stored) {
  if (stored.is_null()) return;
  std::printf("recorded %s (%s, treatment line %d%s) for %s at %s in %s\n", stored["lesion"].get<std::string>().c_str(),
              stored["role"].get<std::string>().c_str(), stored["treatment_line"].get<int>(),
              stored["treatment_line_created"].get<bool>() ? ", started at this date" : "",
              stored["patient"].get<std::string>().c_str(), stored["date"].get<std::string>().c_str(),
              stored["db"].get<std::string>().c_str());
}

// The CT of the same PET-CT (same Frame of Reference), when INPUT holds it.
const SeriesInfo* paired_ct(const Catalog& catalog, const SeriesInfo& pet) {
  for (const SeriesInfo* other : catalog.all_series())
    if (other->modality == "CT" && other->loadable && !pet.frame_of_reference_uid.empty() &&
        other->frame_of_reference_uid == pet.frame_of_reference_uid)
      return other;
  return nullptr;
}

// The --mask output: checked before any work, written under its temporary name, then moved into place.
class MaskOutput {
 public:
  MaskOutput(std::string path, const std::string& input) : path_(std::move(path)), set_({input}) {}
  const std::string& path() const { return path_; }
  bool wanted() const { return !path_.empty(); }
  Status reserve(const PluginDescriptor* exporter) {
    exporter_ = exporter;
    auto temp = set_.add(path_);
    if (!temp) return temp.error();
    temp_ = *temp;
    return ok_status();
  }
  Status write(const Volume& mask) {
    if (!exporter_) return ok_status();
    if (Status st = exporter_->exporter->write_volume(mask, temp_); !st.ok())
      return Error(st.error().code(), st.error().message(), path_);
    return set_.commit();
  }

 private:
  std::string path_;
  OutputSet set_;
  const PluginDescriptor* exporter_ = nullptr;
  std::string temp_;
};

int segment_pet_series(const Args& args, const Catalog& catalog, const SeriesInfo& s, const Vec3& seed, MaskOutput& mask,
                       StoreRequest& store) {
  const std::string& mask_path = mask.path();
  lesion::PetSegmentOptions options;
  const std::string t = args.get("--pet-threshold", "auto");
  if (t == "auto")
    options.threshold = lesion::PetThreshold::kAuto;
  else if (t == "41")
    options.threshold = lesion::PetThreshold::kPercent41;
  else if (t == "50")
    options.threshold = lesion::PetThreshold::kPercent50;
  else if (t == "adaptive")
    options.threshold = lesion::PetThreshold::kAdaptive50;
  else
    return usage_fail("--pet-threshold must be auto, 41, 50 or adaptive", kSegmentUsage);
  LoadOptions load;
  load.units = Units::kSUVbw;
  auto suv = load_series(s, load);
  if (!suv.ok()) return fail(suv.error().describe());
  auto seg = lesion::segment_pet(*suv, seed, options);
  if (!seg.ok()) return fail(args.positional().front() + ": " + seg.error().describe());
  // SULpeak (PERCIST) on the lean-body-mass image, over the same lesion.
  std::optional<double> sul_peak;
  std::optional<lesion::LiverReference> liver;
  std::optional<lesion::BloodPoolReference> blood;
  std::string blood_reason = "the PET-CT's CT (same Frame of Reference) is not in INPUT";
  load.units = Units::kSULlbm;
  if (auto sul = load_series(s, load); sul.ok()) {
    sul_peak = lesion::peak_of_sphere(*sul, seg->mask);
    if (auto ref = lesion::find_liver_reference(*sul); ref.ok()) liver = *ref;
    if (const SeriesInfo* ct_series = paired_ct(catalog, s)) {
      LoadOptions hu;
      hu.units = Units::kHU;
      if (auto ct = load_series(*ct_series, hu); ct.ok()) {
        if (auto bp = lesion::find_blood_pool_reference(*sul, *ct); bp.ok())
          blood = *bp;
        else
          blood_reason = bp.error().message();
      }
    }
  } else {
    blood_reason = sul.error().message();
  }
  const auto& r = *seg;
  Json stored;
  if (store.wanted()) {
    auto recorded = store.record(catalog, s, pet_measurement(r, *suv, sul_peak), lesion::lesion_mask(r.mask));
    if (!recorded) return fail(recorded.error().describe());
    stored = std::move(*recorded);
  }
  if (Status st = mask.write(seg->mask); !st.ok()) return fail(st.error().describe());
  if (args.has("--json")) {
    Json j;
    j["series_uid"] = s.uid;
    j["seed_mm"] = point(seed);
    j["method"] = r.method;
    j["volume_ml"] = report_value(r.mtv_ml, Quantity::kVolumeMl);
    j["long_axis_mm"] = report_value(r.long_axis.length_mm, Quantity::kLengthMm);
    j["long_axis_endpoints_mm"] = Json::array({point(r.long_axis.a), point(r.long_axis.b)});
    j["short_axis_mm"] = report_value(r.short_axis.length_mm, Quantity::kLengthMm);
    j["short_axis_endpoints_mm"] = Json::array({point(r.short_axis.a), point(r.short_axis.b)});
    j["axial_slice_index"] = r.axial_slice_index;
    j["suv_max"] = report_value(r.suv_max, Quantity::kUptake);
    j["suv_max_mm"] = point(r.suv_max_at);
    j["suv_peak"] = report_value(r.suv_peak, Quantity::kUptake);
    j["suv_peak_mm"] = point(r.suv_peak_at);
    j["suv_mean"] = report_value(r.suv_mean, Quantity::kUptake);
    j["mtv_ml"] = report_value(r.mtv_ml, Quantity::kVolumeMl);
    j["tlg"] = report_value(r.tlg, Quantity::kUptake);
    j["sul_peak"] = json_value(sul_peak, Quantity::kUptake);
    if (liver) {
      j["liver_reference"] = {{"centre_mm", point(liver->centre)},
                              {"sphere_diameter_mm", 30},
                              {"mean_sul", report_value(liver->mean, Quantity::kUptake)},
                              {"sd_sul", report_value(liver->sd, Quantity::kUptake)},
                              {"measurability_threshold_sul", report_value(liver->measurability_threshold(), Quantity::kUptake)}};
      if (sul_peak) j["percist_measurable"] = *sul_peak >= liver->measurability_threshold();
    } else {
      j["liver_reference"] = nullptr;
    }
    // PERCIST's reference when the liver is abnormal: the descending aorta, found on the paired CT.
    if (blood)
      j["blood_pool_reference"] = {
          {"centre_mm", point(blood->centre)},
          {"cylinder_mm", {10, 20}},
          {"mean_sul", report_value(blood->mean, Quantity::kUptake)},
          {"sd_sul", report_value(blood->sd, Quantity::kUptake)},
          {"measurability_threshold_sul", report_value(blood->measurability_threshold(), Quantity::kUptake)}};
    else
      j["blood_pool_reference"] = {{"not_found", blood_reason}};
    j["background_suv"] = report_value(r.background, Quantity::kUptake);
    j["threshold_suv"] = report_value(r.threshold_value, Quantity::kUptake);
    if (!mask_path.empty()) j["mask"] = mask_path;
    if (!stored.is_null()) j["store"] = stored;
    std::printf("%s\n", dump(j).c_str());
  } else {
    std::printf("PET lesion at (%.1f, %.1f, %.1f) in series %s (%s)\n", seed[0], seed[1], seed[2], s.uid.c_str(),
                r.method.c_str());
    std::printf("  SUVmax %.2f, SUVpeak %.2f, SUVmean %.2f, MTV %.2f ml, TLG %.1f", r.suv_max, r.suv_peak, r.suv_mean, r.mtv_ml,
                r.tlg);
    if (sul_peak) std::printf(", SULpeak %.2f", *sul_peak);
    if (liver && sul_peak)
      std::printf("\n  liver reference SUL %.2f +- %.2f at (%.0f, %.0f, %.0f): PERCIST %s (threshold %.2f)", liver->mean,
                  liver->sd, liver->centre[0], liver->centre[1], liver->centre[2],
                  *sul_peak >= liver->measurability_threshold() ? "measurable" : "not measurable",
                  liver->measurability_threshold());
    if (blood)
      std::printf("\n  blood pool SUL %.2f +- %.2f in the descending aorta at (%.0f, %.0f, %.0f)", blood->mean, blood->sd,
                  blood->centre[0], blood->centre[1], blood->centre[2]);
    std::printf("\n  long axis %.1f mm, short axis %.1f mm (axial slice %d)\n", r.long_axis.length_mm, r.short_axis.length_mm,
                r.axial_slice_index);
    print_stored(stored);
  }
  return 0;
}

}  // namespace

int cmd_segment(int argc, char** argv) {
  Args args(argc, argv, 2,
            {"--seed", "--line", "--series", "--mask", "--pet-threshold", "--db", "--lesion", "--role", "--patient",
             "--treatment-line", "--organ", "--author"},
            {"--json", "--help", "--quiet", "--nodal"});
  if (args.has("--help")) {
    std::fputs(kSegmentUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kSegmentUsage);
  if (args.positional().size() != 1) return usage_fail("segment needs exactly one INPUT", kSegmentUsage);
  if (args.has("--seed") == args.has("--line"))
    return usage_fail("give either --seed X,Y,Z or --line X1,Y1,Z1,X2,Y2,Z2", kSegmentUsage);
  Vec3 seed{};
  lesion::CtSegmentOptions options;
  if (args.has("--seed")) {
    const auto nums = parse_numbers(args.get("--seed"), 3, -kFarthestMm, kFarthestMm);
    if (!nums) return usage_fail("--seed needs three numbers X,Y,Z in mm", kSegmentUsage);
    seed = {(*nums)[0], (*nums)[1], (*nums)[2]};
  } else {
    const auto line = parse_numbers(args.get("--line"), 6, -kFarthestMm, kFarthestMm);
    if (!line) return usage_fail("--line needs six numbers X1,Y1,Z1,X2,Y2,Z2 in mm", kSegmentUsage);
    const std::vector<double>& nums = *line;
    seed = {(nums[0] + nums[3]) / 2, (nums[1] + nums[4]) / 2, (nums[2] + nums[5]) / 2};
    const double len = std::sqrt((nums[3] - nums[0]) * (nums[3] - nums[0]) + (nums[4] - nums[1]) * (nums[4] - nums[1]) +
                                 (nums[5] - nums[2]) * (nums[5] - nums[2]));
    options.max_radius_mm = std::max(15.0, 0.75 * len + 10);
  }
  const std::string mask_path = args.get("--mask");
  const PluginDescriptor* exporter = mask_path.empty() ? nullptr : find_exporter(mask_path);
  if (!mask_path.empty()) {
    if (!exporter) return usage_fail("--mask must end in .nii.gz, .nii, .nrrd or .mha: " + mask_path, kSegmentUsage);
  }
  StoreRequest store;
  if (const std::string e = store.parse(args); !e.empty()) return usage_fail(e, kSegmentUsage);
  if (args.has("--quiet") || args.has("--json")) Progress::set_quiet(true);

  const std::string input = args.positional().front();
  MaskOutput mask(mask_path, input);
  if (exporter)
    if (Status st = mask.reserve(exporter); !st.ok()) return fail(st.error().describe());
  const Catalog catalog = scan_inputs({input});
  auto series = select_series(catalog, args.get("--series"), input);
  if (!series.ok()) return fail(series.error().describe());
  const SeriesInfo& s = **series;
  if (s.modality != "CT" && s.modality != "PT")
    return fail(input + ": series " + s.uid + " is " + s.modality + "; segment handles CT and PET");
  if (s.modality == "PT") return segment_pet_series(args, catalog, s, seed, mask, store);
  LoadOptions load;
  load.units = Units::kHU;
  auto volume = load_series(s, load);
  if (!volume.ok()) return fail(volume.error().describe());
  auto seg = lesion::segment_ct(*volume, seed, options);
  if (!seg.ok()) return fail(input + ": " + seg.error().describe());
  const auto& r = *seg;
  Json stored;
  if (store.wanted()) {
    auto recorded =
        store.record(catalog, s, ct_measurement(r, *volume, args.has("--nodal")), lesion::lesion_mask(r.mask, r.mask_offset));
    if (!recorded) return fail(recorded.error().describe());
    stored = std::move(*recorded);
  }
  if (Status st = mask.write(lesion::mask_on_series_grid(*seg, volume->grid())); !st.ok()) return fail(st.error().describe());

  auto mm = [](double v) { return report_value(v, Quantity::kLengthMm); };
  auto hu = [](double v) { return report_value(v, Quantity::kHu); };
  if (args.has("--json")) {
    Json j;
    j["series_uid"] = s.uid;
    j["seed_mm"] = point(seed);
    j["method"] = r.method;
    j["volume_ml"] = report_value(r.volume_ml, Quantity::kVolumeMl);
    j["long_axis_mm"] = mm(r.long_axis.length_mm);
    j["long_axis_endpoints_mm"] = Json::array({point(r.long_axis.a), point(r.long_axis.b)});
    j["short_axis_mm"] = mm(r.short_axis.length_mm);
    j["short_axis_endpoints_mm"] = Json::array({point(r.short_axis.a), point(r.short_axis.b)});
    j["axial_slice_index"] = r.axial_slice_index;
    j["largest_short_axis_mm"] = mm(r.largest_short_axis.length_mm);
    j["largest_short_axis_endpoints_mm"] = Json::array({point(r.largest_short_axis.a), point(r.largest_short_axis.b)});
    j["largest_short_axis_slice_index"] = r.largest_short_axis_slice_index;
    // The calipers as a report takes them: end points and the image each lies on.
    j["long_axis"] = to_json(lesion::on_image(r.long_axis, *volume, r.axial_slice_index));
    j["short_axis"] = to_json(lesion::on_image(r.short_axis, *volume, r.axial_slice_index));
    j["largest_short_axis"] = to_json(lesion::on_image(r.largest_short_axis, *volume, r.largest_short_axis_slice_index));
    j["mean_hu"] = hu(r.mean_hu);
    j["max_3d_diameter_mm"] = mm(r.max_3d.length_mm);
    j["lesion_hu_at_seed"] = hu(r.lesion_hu);
    j["background_hu"] = hu(r.background_hu);
    j["wall_hu"] = r.wall_hu ? Json(hu(*r.wall_hu)) : Json(nullptr);
    j["leak_fraction"] = report_value(r.leak_fraction, Quantity::kFraction);
    j["noise_hu"] = hu(r.noise_hu);
    const bool trusted = r.confidence == lesion::CtSegmentation::Confidence::kHigh;
    j["confidence"] = trusted ? "high" : "low";
    j["confidence_reason"] = trusted ? Json(nullptr) : Json(r.confidence_reason);
    if (!mask_path.empty()) j["mask"] = mask_path;
    if (!stored.is_null()) j["store"] = stored;
    std::printf("%s\n", dump(j).c_str());
  } else {
    std::printf("lesion at (%.1f, %.1f, %.1f) in series %s\n", seed[0], seed[1], seed[2], s.uid.c_str());
    std::printf("  long axis  %.1f mm, short axis %.1f mm (axial slice %d); largest short axis %.1f mm (slice %d)\n",
                r.long_axis.length_mm, r.short_axis.length_mm, r.axial_slice_index, r.largest_short_axis.length_mm,
                r.largest_short_axis_slice_index);
    std::printf("  volume %.2f ml, mean %.0f HU, largest 3D diameter %.1f mm\n", r.volume_ml, r.mean_hu, r.max_3d.length_mm);
    if (r.wall_hu)
      std::printf("  measured to the outer edge of its wall (%.0f HU around a %.0f HU core: a calcified or viable rim)\n",
                  *r.wall_hu, r.lesion_hu);
    if (r.confidence != lesion::CtSegmentation::Confidence::kHigh)
      std::printf("  LOW CONFIDENCE: %s\n", r.confidence_reason.c_str());
    if (!mask_path.empty()) std::printf("  mask: %s\n", mask_path.c_str());
    print_stored(stored);
  }
  return 0;
}

}  // namespace oq::cli
