// oncoquant track: carries baseline lesions into one or more follow-up CTs (registration +
// re-segmentation) and proposes their measurements with a confidence; on a follow-up PET,
// candidate new lesions. With --db the proposals go into the study store for review (issue 5).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>

#include "args.h"
#include "commands.h"
#include "oq/diagnostics.h"
#include "oq/lesion/edits.h"
#include "oq/lesion/pet_segment.h"
#include "oq/progress.h"
#include "oq/recist/case.h"
#include "oq/recist/percist.h"
#include "oq/recist/store.h"
#include "oq/recist/tracking.h"
#include "oq/scan.h"
#include "oq/serialize.h"

namespace oq::cli {
namespace {

const char* kTrackUsage =
    "usage: oncoquant track BASELINE FOLLOWUP [FOLLOWUP ...] --lesions LESIONS.json [--json]\n"
    "                       [--pet FOLLOWUP_PET] [--baseline-pet PET] [--baseline-series UID] [--followup-series UID]\n"
    "                       [--pet-series UID] [--rigid] [--db STORE [--patient ID] [--line N] [--author NAME]]\n"
    "  BASELINE and each FOLLOWUP hold one CT series (a series folder, or a study folder of a PET-CT).\n"
    "  LESIONS.json lists the baseline lesions: [{\"id\": \"T1\", \"seed_mm\": [x, y, z], \"nodal\": false}, ...]\n"
    "  (\"lesion_id\" is accepted for \"id\", so the demo manifest's baseline_lesion_seeds can be given as they are).\n"
    "  Each follow-up is registered to the baseline (rigid, then affine), each lesion is segmented on the\n"
    "  baseline, carried over and segmented again; its proposed measurement comes with a confidence (0-1) and\n"
    "  a note. A lesion not found is reported as not found (vanished or missed), for the reader to decide.\n"
    "  PET: a FOLLOWUP that also holds its PET (same Frame of Reference) is searched for new uptake: above\n"
    "  the PERCIST threshold (1.5 x liver + 2 SD, SUL), farther than 15 mm from every tracked lesion, under\n"
    "  50 ml, it is a candidate new lesion (SULpeak of a 1 ml sphere). A BASELINE holding its PET lets uptake\n"
    "  already there (kidneys, bowel, known disease) be left out. With the baseline's PET and the follow-ups'\n"
    "  PETs, PERCIST 1.0 is given as a second opinion: the hottest known lesion's SULpeak on each scan (at the\n"
    "  baseline seeds, then where tracking finds each lesion), the liver reference, CMR/PMR/SMD/PMD. Candidate\n"
    "  new uptake is left to the reader, so it does not make PMD here.\n"
    "  --pet, --baseline-pet  the PET series when it is elsewhere (--pet with a single FOLLOWUP only)\n"
    "  --rigid  stop after the rigid stage\n"
    "  --db STORE  record the proposals in the study store, each follow-up in one transaction: automatic\n"
    "          values, candidates as equivocal new lesions NEW-<date>-k, the time point pending review; a\n"
    "          value a reader already entered at that date is kept. The lesions must be the line's (import\n"
    "          its baseline first).\n"
    "  --patient ID  the store's patient (default: the CT's Patient ID)   --line N  (default: the latest)\n"
    "  --author NAME  for the audit log (default: $USER)\n";

Json point(const Vec3& p) {
  return oq::json_point(p);
}

// One time point's CT (HU), and its PET (SUL) when the same input holds it.
struct TimePointScans {
  std::string input;
  std::string patient_id, study_uid, study_date, series_uid;
  Volume ct;
  std::optional<Volume> pet;
  std::string pet_input;
  std::optional<double> pet_uptake_minutes;
};

const StudyInfo* study_of(const Catalog& catalog, const SeriesInfo* series) {
  for (const StudyInfo& st : catalog.studies)
    for (const SeriesInfo& s : st.series)
      if (&s == series) return &st;
  return nullptr;
}

// The one series of `modality` in `catalog` (or the one named by UID); nullptr with no error when
// `optional` and there is none.
Result<const SeriesInfo*> pick_series(const Catalog& catalog, const std::string& input, const std::string& uid,
                                      const std::string& modality, bool optional) {
  if (!uid.empty()) {
    auto s = select_series(catalog, uid, input);
    if (!s) return s.error();
    if ((*s)->modality != modality)
      return Error(ErrorCode::kInvalidArgument, "series " + (*s)->uid + " is " + (*s)->modality + ", not " + modality, input);
    return *s;
  }
  const SeriesInfo* chosen = nullptr;
  for (const SeriesInfo* s : catalog.all_series())
    if (s->modality == modality) {
      if (chosen)
        return Error(ErrorCode::kInvalidArgument, "holds several " + modality + " series: pick one with --*-series", input);
      chosen = s;
    }
  if (!chosen && !optional) return Error(ErrorCode::kNotFound, "no " + modality + " series", input);
  return chosen;
}

Result<Volume> load_as(const SeriesInfo& s, Units units) {
  LoadOptions load;
  load.units = units;
  return load_series(s, load);
}

// The PET of a time point, in SUL, with its uptake time; `from` is what the user gave for it.
Result<bool> attach_pet(TimePointScans& tp, const SeriesInfo& pet, const std::string& from) {
  auto v = load_as(pet, Units::kSULlbm);
  if (!v) return v.error();
  tp.pet = std::move(v.value());
  tp.pet_input = from;
  if (pet.pet) tp.pet_uptake_minutes = pet.pet->uptake_minutes;
  return true;
}

// BASELINE or FOLLOWUP: its CT, and the PET of the same PET-CT when the input holds one
// (or `pet_input` names one).
Result<TimePointScans> load_time_point(const std::string& input, const std::string& ct_uid, const std::string& pet_input,
                                       const std::string& pet_uid) {
  TimePointScans tp;
  tp.input = input;
  const Catalog catalog = scan_inputs({input});
  auto ct = pick_series(catalog, input, ct_uid, "CT", false);
  if (!ct) return ct.error();
  auto volume = load_as(**ct, Units::kHU);
  if (!volume) return volume.error();
  tp.ct = std::move(volume.value());
  tp.series_uid = (*ct)->uid;
  if (const StudyInfo* st = study_of(catalog, *ct)) {
    tp.patient_id = st->patient_id;
    tp.study_uid = st->study_uid;
    tp.study_date = st->study_date;
  }
  const SeriesInfo* pet = nullptr;
  if (!pet_input.empty()) {
    const Catalog pet_catalog = scan_inputs({pet_input});
    auto p = pick_series(pet_catalog, pet_input, pet_uid, "PT", false);
    if (!p) return p.error();
    if (auto attached = attach_pet(tp, **p, pet_input); !attached) return attached.error();
    return tp;
  }
  // A PET-CT study folder: its PET shares the CT's Frame of Reference.
  for (const SeriesInfo* s : catalog.all_series())
    if (s->modality == "PT" && !s->frame_of_reference_uid.empty() && s->frame_of_reference_uid == (*ct)->frame_of_reference_uid) {
      if (pet)
        return Error(ErrorCode::kInvalidArgument, "holds several PET series of the CT's PET-CT: pick one with --pet", input);
      pet = s;
    }
  if (pet) {
    if (auto attached = attach_pet(tp, *pet, input); !attached) return attached.error();
  }
  return tp;
}

Result<std::vector<recist::TrackInput>> read_lesions(const std::string& path) {
  std::vector<recist::TrackInput> inputs;
  try {
    auto parsed = read_json_file(path);
    if (!parsed) return parsed.error();
    const nlohmann::json& j = *parsed;
    if (!j.is_array()) return Error(ErrorCode::kInvalidArgument, "must be an array of lesions", path);
    for (const auto& l : j) {
      recist::TrackInput t;
      t.id = l.contains("id") ? l.at("id").get<std::string>() : l.at("lesion_id").get<std::string>();
      const auto& s = l.at("seed_mm");
      t.seed = {s.at(0).get<double>(), s.at(1).get<double>(), s.at(2).get<double>()};
      if (!std::all_of(t.seed.begin(), t.seed.end(), [](double v) { return std::abs(v) <= 1e4; }))
        return Error(ErrorCode::kInvalidArgument, "the seed of " + t.id + " lies more than 10 m from the origin", path);
      t.nodal = l.value("nodal", false);
      inputs.push_back(t);
    }
  } catch (const nlohmann::json::exception& e) {
    return Error(ErrorCode::kInvalidArgument, std::string("not a list of lesions with id and seed_mm (") + e.what() + ")", path);
  }
  return inputs;
}

// One follow-up's lesions and candidates, as JSON, and what the store is to hold of them.
struct FollowUpResult {
  nlohmann::ordered_json json;
  recist::FollowUpProposals proposals;
  std::vector<std::pair<std::string, Vec3>> lesion_positions;  // each known lesion on the follow-up (found, else mapped)
};

// PERCIST's view of one PET: the liver reference and the hottest known lesion's SULpeak
// (candidate new uptake is left to the reader). `where` are the known lesions on this scan;
// `peaks` gets each one's SULpeak.
Result<recist::PetScan> percist_scan(const TimePointScans& tp, const std::vector<std::pair<std::string, Vec3>>& where,
                                     nlohmann::ordered_json* peaks) {
  recist::PetScan scan;
  auto date = recist::parse_date(tp.study_date);
  if (!date) return Error(ErrorCode::kInvalidArgument, "no usable study date for PERCIST", tp.pet_input);
  scan.date = *date;
  auto liver = lesion::find_liver_reference(*tp.pet);
  if (!liver) return Error(liver.error().code(), liver.error().message(), tp.pet_input);
  scan.liver_mean = liver->mean;
  scan.liver_sd = liver->sd;
  if (tp.pet_uptake_minutes) scan.uptake_minutes = *tp.pet_uptake_minutes;
  *peaks = nlohmann::ordered_json::object();
  for (const auto& [id, p] : where) {
    auto s = lesion::segment_pet(*tp.pet, p);
    (*peaks)[id] = s ? nlohmann::ordered_json(report_value(s->suv_peak, Quantity::kUptake)) : nlohmann::ordered_json();
    if (s && (!scan.sul_peak || s->suv_peak > *scan.sul_peak)) scan.sul_peak = s->suv_peak;
  }
  return scan;
}

FollowUpResult track_follow_up(const TimePointScans& base, const TimePointScans& fu,
                               const std::vector<recist::TrackInput>& inputs, const recist::Registration& reg, bool affine) {
  FollowUpResult out;
  nlohmann::ordered_json& j = out.json;
  j["input"] = fu.input;
  j["study_date"] = fu.study_date;
  j["series_uid"] = fu.series_uid;
  nlohmann::ordered_json r;
  r["transform"] = affine ? "affine" : "rigid";
  r["matrix"] = reg.matrix;
  r["centre_mm"] = point(reg.centre);
  r["translation_mm"] = point(reg.translation);
  r["mutual_information"] = report_value(reg.final_metric, Quantity::kFraction);
  r["iterations"] = reg.iterations;
  r["seconds"] = report_value(reg.seconds, Quantity::kSeconds);
  j["registration"] = r;
  j["lesions"] = nlohmann::ordered_json::array();
  std::vector<Vec3> known;
  for (const auto& t : recist::track_lesions(base.ct, fu.ct, reg, inputs)) {
    nlohmann::ordered_json l;
    l["id"] = t.id;
    l["status"] = !t.baseline_found ? "not-measurable-at-baseline" : (t.found ? "found" : "not-found");
    l["nodal"] = t.nodal;
    if (t.baseline_found) {
      l["baseline_long_axis_mm"] = report_value(t.baseline.long_axis.length_mm, Quantity::kLengthMm);
      l["baseline_short_axis_mm"] = report_value(t.baseline.short_axis.length_mm, Quantity::kLengthMm);
      l["mapped_seed_mm"] = point(t.mapped_seed);
      known.push_back(t.mapped_seed);
      if (!t.found) out.lesion_positions.emplace_back(t.id, t.mapped_seed);
    }
    recist::LesionProposal proposal;
    proposal.label = t.id;
    proposal.found = t.found;
    if (t.found) {
      const auto& s = t.followup;
      l["found_at_mm"] = point(t.found_at);
      l["long_axis_mm"] = report_value(s.long_axis.length_mm, Quantity::kLengthMm);
      l["long_axis_endpoints_mm"] = nlohmann::ordered_json::array({point(s.long_axis.a), point(s.long_axis.b)});
      l["short_axis_mm"] = report_value(s.short_axis.length_mm, Quantity::kLengthMm);
      l["largest_short_axis_mm"] = report_value(s.largest_short_axis.length_mm, Quantity::kLengthMm);
      l["recist_diameter_mm"] =
          report_value(t.nodal ? s.largest_short_axis.length_mm : s.long_axis.length_mm, Quantity::kLengthMm);
      l["volume_ml"] = report_value(s.volume_ml, Quantity::kVolumeMl);
      l["mean_hu"] = report_value(s.mean_hu, Quantity::kHu);
      l["confidence"] = report_value(t.confidence, Quantity::kFraction);
      known.push_back({(s.long_axis.a[0] + s.long_axis.b[0]) / 2, (s.long_axis.a[1] + s.long_axis.b[1]) / 2,
                       (s.long_axis.a[2] + s.long_axis.b[2]) / 2});
      out.lesion_positions.emplace_back(t.id, known.back());
      // A node is followed by its short axis (RECIST 1.1), the largest over its slices.
      const lesion::Caliper& short_axis = t.nodal ? s.largest_short_axis : s.short_axis;
      proposal.long_axis_mm = s.long_axis.length_mm;
      proposal.short_axis_mm = short_axis.length_mm;
      proposal.volume_ml = s.volume_ml;
      proposal.long_axis = lesion::on_image(s.long_axis, fu.ct, s.axial_slice_index);
      proposal.short_axis = lesion::on_image(short_axis, fu.ct, t.nodal ? s.largest_short_axis_slice_index : s.axial_slice_index);
      proposal.mask = lesion::lesion_mask(s.mask, s.mask_offset);
    }
    l["note"] = t.note;
    j["lesions"].push_back(l);
    if (t.baseline_found) out.proposals.lesions.push_back(proposal);
  }
  if (fu.pet) {
    auto liver = lesion::find_liver_reference(*fu.pet);
    if (!liver) {
      j["pet_error"] = fu.pet_input + ": " + liver.error().describe();
      return out;
    }
    const double threshold = liver->measurability_threshold();
    nlohmann::ordered_json c = nlohmann::ordered_json::array();
    for (const auto& u : recist::find_new_uptake(*fu.pet, threshold, known, base.pet ? &*base.pet : nullptr, &reg)) {
      nlohmann::ordered_json e = {{"hottest_mm", point(u.hottest)},
                                  {"centre_mm", point(u.centre)},
                                  {"sul_max", report_value(u.sul_max, Quantity::kUptake)},
                                  {"sul_peak", report_value(u.sul_peak, Quantity::kUptake)},
                                  {"volume_ml", report_value(u.volume_ml, Quantity::kVolumeMl)}};
      if (u.baseline_sul_peak >= 0) e["baseline_sul_peak"] = report_value(u.baseline_sul_peak, Quantity::kUptake);
      recist::CandidateNewLesion cand;
      cand.location = u.hottest;
      out.proposals.candidates.push_back(cand);
      c.push_back(e);
    }
    j["pet_threshold_sul"] = report_value(threshold, Quantity::kUptake);
    j["candidate_new_lesions"] = c;
  }
  return out;
}

void print_follow_up(const nlohmann::ordered_json& f) {
  const auto& r = f["registration"];
  std::printf("follow-up %s (%s)\n  registration: %s, translation (%.1f, %.1f, %.1f) mm, %.1f s\n",
              f["study_date"].get<std::string>().c_str(), f["input"].get<std::string>().c_str(),
              r["transform"].get<std::string>().c_str(), r["translation_mm"][0].get<double>(),
              r["translation_mm"][1].get<double>(), r["translation_mm"][2].get<double>(), r["seconds"].get<double>());
  for (const auto& l : f["lesions"]) {
    std::printf("  %-6s %-28s", l["id"].get<std::string>().c_str(), l["status"].get<std::string>().c_str());
    if (l.contains("long_axis_mm"))
      std::printf(" LA %6.1f mm (baseline %6.1f)  confidence %.2f", l["long_axis_mm"].get<double>(),
                  l["baseline_long_axis_mm"].get<double>(), l["confidence"].get<double>());
    std::printf("  %s\n", l["note"].get<std::string>().c_str());
  }
  if (f.contains("pet_error")) std::printf("  PET not searched: %s\n", f["pet_error"].get<std::string>().c_str());
  if (f.contains("candidate_new_lesions"))
    for (const auto& c : f["candidate_new_lesions"])
      std::printf("  candidate new lesion at %s: SULpeak %.2f, %.2f ml\n", c["hottest_mm"].dump().c_str(),
                  c["sul_peak"].get<double>(), c["volume_ml"].get<double>());
  if (f.contains("store")) {
    const auto& s = f["store"];
    std::printf("  study store: %zu proposals recorded, %zu readers' values kept, %zu candidates\n", s["recorded"].size(),
                s["kept_readers_values"].size(), s["candidate_new_lesions"].size());
  }
}

}  // namespace

int cmd_track(int argc, char** argv) {
  Args args(argc, argv, 2,
            {"--lesions", "--pet", "--baseline-pet", "--baseline-series", "--followup-series", "--pet-series",
             "--baseline-pet-series", "--db", "--patient", "--line", "--author"},
            {"--json", "--help", "--quiet", "--rigid"});
  if (args.has("--help")) {
    std::fputs(kTrackUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kTrackUsage);
  const auto& positional = args.positional();
  if (positional.size() < 2) return usage_fail("track needs BASELINE and at least one FOLLOWUP", kTrackUsage);
  if (!args.has("--lesions")) return usage_fail("track needs --lesions LESIONS.json", kTrackUsage);
  const std::vector<std::string> followups(positional.begin() + 1, positional.end());
  if (followups.size() > 1 && (args.has("--pet") || args.has("--followup-series")))
    return usage_fail("--pet and --followup-series name one follow-up's series: give a single FOLLOWUP with them", kTrackUsage);
  if ((args.has("--patient") || args.has("--line") || args.has("--author")) && !args.has("--db"))
    return usage_fail("--patient, --line and --author are for the study store: give --db STORE", kTrackUsage);
  std::optional<int> line_number;
  if (args.has("--line")) {
    char* end = nullptr;
    const long n = std::strtol(args.get("--line").c_str(), &end, 10);
    if (*end != '\0' || n < 1) return usage_fail("--line needs a treatment line number (1, 2, ...)", kTrackUsage);
    line_number = static_cast<int>(n);
  }
  const bool quiet = args.has("--quiet") || args.has("--json");
  if (quiet) Progress::set_quiet(true);

  auto inputs = read_lesions(args.get("--lesions"));
  if (!inputs) return fail(inputs.error().describe());
  // The store first: one that cannot be opened is said before the scans are read.
  std::unique_ptr<recist::StudyStore> store;
  if (args.has("--db")) {
    auto opened = recist::open_sqlite_store(args.get("--db"));
    if (!opened) return fail(opened.error().describe());
    store = std::move(opened.value());
  }
  auto base = load_time_point(positional[0], args.get("--baseline-series"), args.get("--baseline-pet"),
                              args.get("--baseline-pet-series"));
  if (!base) return fail(base.error().describe());

  std::string patient;
  const recist::Actor who{args.has("--author") ? args.get("--author")
                                               : (std::getenv("USER") ? std::getenv("USER") : "oncoquant track")};
  if (store) {
    patient = args.has("--patient") ? args.get("--patient") : base->patient_id;
    if (patient.empty()) return fail(positional[0] + ": the CT has no Patient ID: name the store's patient with --patient");
    if (!line_number) {
      auto lines = store->treatment_lines(patient);
      if (!lines) return fail(args.get("--db") + ": " + lines.error().describe());
      if (lines->empty()) return fail(args.get("--db") + ": " + patient + " has no treatment line: import its baseline first");
      line_number = lines->back();
    }
  }

  // PERCIST (a second opinion beside RECIST) when the baseline has its PET: the hottest known
  // lesion's SULpeak at the baseline seeds, then where tracking finds each lesion.
  std::optional<recist::PetScan> percist_baseline;
  std::vector<recist::PetScan> percist_followups;
  nlohmann::ordered_json baseline_peaks;
  std::vector<nlohmann::ordered_json> followup_peaks;
  std::string percist_note;
  if (base->pet) {
    std::vector<std::pair<std::string, Vec3>> seeds;
    for (const auto& l : *inputs) seeds.emplace_back(l.id, l.seed);
    auto scan = percist_scan(*base, seeds, &baseline_peaks);
    if (scan)
      percist_baseline = *scan;
    else
      percist_note = "no PERCIST: " + scan.error().describe();
  }

  nlohmann::ordered_json out;
  out["baseline"] = {{"input", base->input}, {"study_date", base->study_date}, {"series_uid", base->series_uid}};
  out["followups"] = nlohmann::ordered_json::array();
  int failures = 0;
  for (size_t k = 0; k < followups.size(); ++k) {
    const std::string& input = followups[k];
    if (!quiet) std::fprintf(oq::diag(), "follow-up %zu/%zu %s: loading...\n", k + 1, followups.size(), input.c_str());
    auto fu = load_time_point(input, args.get("--followup-series"), args.get("--pet"), args.get("--pet-series"));
    if (!fu) {
      std::fprintf(oq::diag(), "error: %s\n", fu.error().describe().c_str());
      out["followups"].push_back({{"input", input}, {"error", fu.error().describe()}});
      ++failures;
      continue;
    }
    if (!base->patient_id.empty() && !fu->patient_id.empty() && base->patient_id != fu->patient_id) {
      const std::string e = input + ": patient " + fu->patient_id + ", but the baseline is patient " + base->patient_id;
      std::fprintf(oq::diag(), "error: %s\n", e.c_str());
      out["followups"].push_back({{"input", input}, {"error", e}});
      ++failures;
      continue;
    }
    recist::RegistrationOptions ro;
    ro.affine = !args.has("--rigid");
    if (!quiet) std::fprintf(oq::diag(), "follow-up %zu/%zu: registering to the baseline...\n", k + 1, followups.size());
    auto reg = recist::register_ct(base->ct, fu->ct, ro);
    if (!reg) {
      const std::string e = input + ": " + reg.error().describe();
      std::fprintf(oq::diag(), "error: %s\n", e.c_str());
      out["followups"].push_back({{"input", input}, {"error", e}});
      ++failures;
      continue;
    }
    FollowUpResult result = track_follow_up(*base, *fu, *inputs, *reg, ro.affine);
    if (percist_baseline && fu->pet) {
      nlohmann::ordered_json peaks;
      auto scan = percist_scan(*fu, result.lesion_positions, &peaks);
      if (scan) {
        percist_followups.push_back(*scan);
        followup_peaks.push_back(peaks);
      } else
        result.json["percist_error"] = scan.error().describe();
    }
    if (store) {
      auto date = recist::parse_date(fu->study_date);
      if (!date) {
        result.json["store_error"] = input + ": no usable study date for the store (" + date.error().message() + ")";
        ++failures;
      } else {
        result.proposals.date = *date;
        result.proposals.study_uid = fu->study_uid;
        result.proposals.series_uid = fu->series_uid;
        auto recorded = store->record_proposals(patient, *line_number, result.proposals, who);
        if (!recorded) {
          result.json["store_error"] = args.get("--db") + ": " + recorded.error().describe();
          ++failures;
        } else {
          result.json["store"] = {{"patient", patient},
                                  {"line", *line_number},
                                  {"recorded", recorded->recorded},
                                  {"kept_readers_values", recorded->kept_readers_values},
                                  {"candidate_new_lesions", recorded->candidate_labels}};
        }
      }
      if (result.json.contains("store_error"))
        std::fprintf(oq::diag(), "error: %s; nothing of this follow-up was recorded\n",
                     result.json["store_error"].get<std::string>().c_str());
    }
    if (!args.has("--json")) print_follow_up(result.json);
    out["followups"].push_back(std::move(result.json));
  }
  if (percist_baseline && !percist_followups.empty()) {
    auto assessed = recist::assess_percist(*percist_baseline, percist_followups);
    if (!assessed) {
      percist_note = "no PERCIST: " + assessed.error().describe();
    } else {
      nlohmann::ordered_json pj;
      pj["note"] =
          "second opinion: SULpeak of the hottest known lesion (candidate new uptake is for the reader to confirm, so it "
          "does not make PMD here)";
      pj["measurability_threshold_sul"] = report_value(assessed->measurability_threshold, Quantity::kUptake);
      pj["threshold_basis"] = assessed->threshold_basis;
      pj["baseline_measurable"] = assessed->baseline_measurable;
      pj["baseline"] = {{"date", base->study_date},
                        {"sul_peak", percist_baseline->sul_peak
                                         ? nlohmann::ordered_json(report_value(*percist_baseline->sul_peak, Quantity::kUptake))
                                         : nlohmann::ordered_json()},
                        {"liver_mean_sul", report_value(percist_baseline->liver_mean, Quantity::kUptake)},
                        {"liver_sd_sul", report_value(percist_baseline->liver_sd, Quantity::kUptake)},
                        {"lesion_sul_peaks", baseline_peaks}};
      pj["timepoints"] = nlohmann::ordered_json::array();
      for (size_t i = 0; i < assessed->timepoints.size(); ++i) {
        const auto& t = assessed->timepoints[i];
        const auto& s = percist_followups[i];
        nlohmann::ordered_json e;
        e["date"] = recist::format_date(t.date);
        e["response"] = recist::to_string(t.response);
        e["sul_peak"] =
            s.sul_peak ? nlohmann::ordered_json(report_value(*s.sul_peak, Quantity::kUptake)) : nlohmann::ordered_json();
        if (t.change_pct) e["change_pct"] = report_value(*t.change_pct, Quantity::kPercent);
        if (t.change_sul) e["change_sul"] = report_value(*t.change_sul, Quantity::kUptake);
        e["liver_mean_sul"] = report_value(s.liver_mean, Quantity::kUptake);
        e["lesion_sul_peaks"] = followup_peaks[i];
        e["comparable"] = t.comparable;
        if (!t.reason.empty()) e["reason"] = t.reason;
        pj["timepoints"].push_back(e);
      }
      pj["best_response"] = recist::to_string(assessed->best);
      out["percist"] = pj;
      if (!args.has("--json")) {
        std::printf("PERCIST (second opinion; hottest known lesion's SULpeak):\n  baseline %s  SULpeak %s\n",
                    base->study_date.c_str(), pj["baseline"]["sul_peak"].dump().c_str());
        for (const auto& e : pj["timepoints"])
          std::printf("  %s  SULpeak %-6s %-4s %s\n", e["date"].get<std::string>().c_str(), e["sul_peak"].dump().c_str(),
                      e["response"].get<std::string>().c_str(), e.value("reason", std::string()).c_str());
      }
    }
  }
  if (!percist_note.empty()) {
    out["percist_note"] = percist_note;
    if (!args.has("--json")) std::printf("%s\n", percist_note.c_str());
  }
  if (args.has("--json")) std::printf("%s\n", dump(out).c_str());
  return failures == 0 ? 0 : 1;
}

}  // namespace oq::cli
