#include "oq/recist/case_json.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "oq/json_input.h"
#include "oq/serialize.h"

namespace oq::recist {
namespace {

constexpr double kLongestMm = 1000;

using nlohmann::json;

// "path.key", the JSON path of a member.
std::string member(const std::string& path, const std::string& key) {
  std::string out = path;
  out += '.';
  out += key;
  return out;
}

// Collects every problem with the input, each with its JSON path, instead of stopping at the first.
class Reader {
 public:
  std::vector<std::string> problems;

  void problem(const std::string& path, const std::string& what) { problems.push_back(path + ": " + what); }

  bool object(const json& j, const std::string& path, const std::set<std::string>& allowed,
              const std::set<std::string>& required) {
    if (!j.is_object()) {
      problem(path, "must be an object");
      return false;
    }
    for (const auto& [key, value] : j.items()) {
      (void)value;
      if (!allowed.count(key)) problem(member(path, key), "unknown key");
    }
    bool ok = true;
    for (const std::string& key : required)
      if (!j.contains(key)) {
        problem(member(path, key), "is required");
        ok = false;
      }
    return ok;
  }

  // Lengths (keys ending in _mm) are at most a metre: no lesion or slice is larger.
  std::optional<double> number(const json& j, const std::string& key, const std::string& path, double minimum = 0) {
    if (!j.contains(key)) return std::nullopt;
    const json& v = j.at(key);
    if (!v.is_number() || !std::isfinite(v.get<double>())) {
      problem(path + "." + key, "must be a number");
      return std::nullopt;
    }
    if (v.get<double>() < minimum) {
      problem(path + "." + key, "must be >= " + std::to_string(static_cast<int>(minimum)));
      return std::nullopt;
    }
    if (key.size() > 3 && key.compare(key.size() - 3, 3, "_mm") == 0 && v.get<double>() > kLongestMm) {
      problem(path + "." + key, "must be <= " + std::to_string(static_cast<int>(kLongestMm)) + " mm");
      return std::nullopt;
    }
    return v.get<double>();
  }

  std::optional<int> integer(const json& j, const std::string& key, const std::string& path) {
    if (!j.contains(key)) return std::nullopt;
    const json& v = j.at(key);
    if (!v.is_number_integer() || v.get<long long>() < 0) {
      problem(path + "." + key, "must be a non-negative integer");
      return std::nullopt;
    }
    return static_cast<int>(v.get<long long>());
  }

  std::optional<bool> boolean(const json& j, const std::string& key, const std::string& path) {
    if (!j.contains(key)) return std::nullopt;
    if (!j.at(key).is_boolean()) {
      problem(path + "." + key, "must be true or false");
      return std::nullopt;
    }
    return j.at(key).get<bool>();
  }

  std::optional<std::string> text(const json& j, const std::string& key, const std::string& path, bool non_empty = false) {
    if (!j.contains(key)) return std::nullopt;
    if (!j.at(key).is_string() || (non_empty && j.at(key).get<std::string>().empty())) {
      problem(path + "." + key, non_empty ? "must be a non-empty string" : "must be a string");
      return std::nullopt;
    }
    return j.at(key).get<std::string>();
  }

  template <typename E>
  std::optional<E> choice(const json& j, const std::string& key, const std::string& path,
                          const std::vector<std::pair<const char*, E>>& options) {
    const auto t = text(j, key, path);
    if (!t) return std::nullopt;
    std::string names;
    for (const auto& [name, value] : options) {
      if (*t == name) return value;
      names += std::string(names.empty() ? "" : ", ") + name;
    }
    problem(path + "." + key, "'" + *t + "' is not one of " + names);
    return std::nullopt;
  }

  std::optional<int> date(const json& j, const std::string& key, const std::string& path) {
    const auto t = text(j, key, path);
    if (!t) return std::nullopt;
    Result<int> d = parse_date(*t);
    if (!d) {
      problem(path + "." + key, d.error().message());
      return std::nullopt;
    }
    return d.value();
  }
};

const json kEmptyObject = json::object();

const std::vector<std::pair<const char*, LesionStatus>> kLesionStatus = {
    {"absent", LesionStatus::kAbsent},
    {"present", LesionStatus::kPresent},
    {"increased", LesionStatus::kIncreased},
    {"unequivocal-progression", LesionStatus::kUnequivocalProgression},
    {"not-evaluated", LesionStatus::kNotEvaluated}};

}  // namespace

Result<Case> parse_case(const std::string& json_text, const std::string& source) {
  auto parsed = parse_json_strictly(json_text, source);
  if (!parsed) return parsed.error();
  const json j = std::move(parsed.value());
  Reader r;
  Case c;
  if (r.object(j, "$", {"criteria", "treatment_start", "confirmation", "sd_min_interval_days", "baseline", "followups"},
               {"criteria", "baseline", "followups"})) {
    if (auto v = r.choice<Criteria>(j, "criteria", "$", {{"RECIST1.1", Criteria::kRecist11}, {"iRECIST", Criteria::kIrecist}}))
      c.criteria = *v;
    c.treatment_start = r.date(j, "treatment_start", "$");
    if (j.contains("confirmation") && r.object(j["confirmation"], "$.confirmation", {"required", "min_interval_days"}, {})) {
      c.confirmation_required = r.boolean(j["confirmation"], "required", "$.confirmation").value_or(false);
      c.confirmation_interval_days = r.integer(j["confirmation"], "min_interval_days", "$.confirmation").value_or(28);
    }
    c.sd_min_interval_days = r.integer(j, "sd_min_interval_days", "$").value_or(42);

    const json& b = j["baseline"];
    if (r.object(b, "$.baseline", {"date", "modality", "slice_thickness_mm", "lesions"}, {"date", "lesions"})) {
      c.baseline_date = r.date(b, "date", "$.baseline").value_or(0);
      if (auto m = r.choice<Modality>(b, "modality", "$.baseline",
                                      {{"CT", Modality::kCt},
                                       {"MR", Modality::kMr},
                                       {"XR", Modality::kXr},
                                       {"PT", Modality::kPt},
                                       {"clinical", Modality::kClinical}}))
        c.modality = *m;
      if (auto t = r.number(b, "slice_thickness_mm", "$.baseline")) {
        if (*t <= 0)
          r.problem("$.baseline.slice_thickness_mm", "must be > 0");
        else
          c.slice_thickness_mm = *t;
      }
      if (!b["lesions"].is_array()) r.problem("$.baseline.lesions", "must be an array");
      for (size_t i = 0; b["lesions"].is_array() && i < b["lesions"].size(); ++i) {
        const json& l = b["lesions"][i];
        const std::string path = "$.baseline.lesions[" + std::to_string(i) + "]";
        if (!r.object(l, path, {"id", "organ", "kind", "nodal", "long_axis_mm", "short_axis_mm", "bone", "previously_irradiated"},
                      {"id", "organ", "kind"}))
          continue;
        BaselineLesion bl;
        bl.id = r.text(l, "id", path, true).value_or("");
        bl.organ = r.text(l, "organ", path).value_or("");
        bl.target = r.choice<bool>(l, "kind", path, {{"target", true}, {"non-target", false}}).value_or(false);
        bl.nodal = r.boolean(l, "nodal", path).value_or(false);
        bl.long_axis_mm = r.number(l, "long_axis_mm", path);
        bl.short_axis_mm = r.number(l, "short_axis_mm", path);
        bl.bone = r.choice<BoneLesion>(
                       l, "bone", path,
                       {{"lytic", BoneLesion::kLytic}, {"mixed", BoneLesion::kMixed}, {"blastic", BoneLesion::kBlastic}})
                      .value_or(BoneLesion::kNone);
        bl.previously_irradiated = r.boolean(l, "previously_irradiated", path).value_or(false);
        c.lesions.push_back(bl);
      }
    }

    if (!j["followups"].is_array()) r.problem("$.followups", "must be an array");
    for (size_t i = 0; j["followups"].is_array() && i < j["followups"].size(); ++i) {
      const json& f = j["followups"][i];
      const std::string path = "$.followups[" + std::to_string(i) + "]";
      if (!r.object(f, path, {"date", "targets", "non_targets", "new_lesions"}, {"date", "targets"})) continue;
      FollowUp fu;
      fu.date = r.date(f, "date", path).value_or(0);
      if (!f.at("targets").is_object()) r.problem(path + ".targets", "must be an object keyed by target id");
      const json& targets = f.at("targets").is_object() ? f.at("targets") : kEmptyObject;
      for (const auto& [id, m] : targets.items()) {
        const std::string mp = member(path + ".targets", id);
        if (!r.object(m, mp, {"long_axis_mm", "short_axis_mm", "fragments_mm", "merged_into", "status"}, {})) continue;
        TargetMeasurement tm;
        tm.long_axis_mm = r.number(m, "long_axis_mm", mp);
        tm.short_axis_mm = r.number(m, "short_axis_mm", mp);
        if (m.contains("fragments_mm")) {
          if (!m["fragments_mm"].is_array()) r.problem(mp + ".fragments_mm", "must be an array of numbers");
          for (const json& v : m["fragments_mm"].is_array() ? m["fragments_mm"] : json::array()) {
            if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() <= kLongestMm))
              r.problem(mp + ".fragments_mm", "must hold numbers 0-1000 (mm)");
            else
              tm.fragments_mm.push_back(v.get<double>());
          }
        }
        tm.merged_into = r.text(m, "merged_into", mp).value_or("");
        tm.status = r.choice<TargetStatus>(m, "status", mp,
                                           {{"measured", TargetStatus::kMeasured},
                                            {"absent", TargetStatus::kAbsent},
                                            {"too-small", TargetStatus::kTooSmall},
                                            {"not-evaluated", TargetStatus::kNotEvaluated}})
                        .value_or(TargetStatus::kMeasured);
        fu.targets[id] = tm;
      }
      if (f.contains("non_targets")) {
        if (!f["non_targets"].is_object()) r.problem(path + ".non_targets", "must be an object keyed by non-target id");
        const json& non_targets = f.at("non_targets").is_object() ? f.at("non_targets") : kEmptyObject;
        for (const auto& [id, v] : non_targets.items()) {
          json holder = json::object();
          holder["status"] = v;
          if (auto st = r.choice<LesionStatus>(holder, "status", member(path + ".non_targets", id), kLesionStatus))
            fu.non_targets[id] = *st;
        }
      }
      if (f.contains("new_lesions")) {
        if (!f["new_lesions"].is_array()) r.problem(path + ".new_lesions", "must be an array");
        for (size_t q = 0; f["new_lesions"].is_array() && q < f["new_lesions"].size(); ++q) {
          const json& n = f["new_lesions"][q];
          const std::string np = path + ".new_lesions[" + std::to_string(q) + "]";
          if (!r.object(n, np, {"id", "organ", "nodal", "unequivocal", "kind", "long_axis_mm", "short_axis_mm", "status"},
                        {"id", "organ"}))
            continue;
          NewLesion nl;
          nl.id = r.text(n, "id", np, true).value_or("");
          nl.organ = r.text(n, "organ", np).value_or("");
          nl.nodal = r.boolean(n, "nodal", np).value_or(false);
          nl.unequivocal = r.boolean(n, "unequivocal", np).value_or(true);
          nl.kind = r.choice<NewLesionKind>(
                         n, "kind", np, {{"new-target", NewLesionKind::kTarget}, {"new-non-target", NewLesionKind::kNonTarget}})
                        .value_or(NewLesionKind::kUnspecified);
          nl.long_axis_mm = r.number(n, "long_axis_mm", np);
          nl.short_axis_mm = r.number(n, "short_axis_mm", np);
          nl.status = r.choice<LesionStatus>(n, "status", np, kLesionStatus).value_or(LesionStatus::kPresent);
          fu.new_lesions.push_back(nl);
        }
      }
      c.followups.push_back(fu);
    }
  }
  if (!r.problems.empty()) {
    std::string msg = "does not follow recist-case.schema.json:";
    for (const std::string& p : r.problems) msg += "\n  " + p;
    return Error(ErrorCode::kInvalidArgument, msg, source);
  }
  return c;
}

std::string to_json(const Assessment& a) {
  using ojson = nlohmann::ordered_json;  // keys in the schema's order, for people reading it
  ojson out;
  out["criteria"] = a.criteria == Criteria::kIrecist ? "iRECIST" : "RECIST1.1";
  out["baseline_sum_mm"] = report_value(a.baseline_sum_mm, Quantity::kLengthMm);
  out["warnings"] = a.warnings;
  ojson tps = ojson::array();
  for (const TimePointResult& t : a.timepoints) {
    ojson tp;
    tp["date"] = format_date(t.date);
    tp["sum_mm"] = json_value(t.sum_mm, Quantity::kLengthMm);
    tp["nadir_mm"] = report_value(t.nadir_mm, Quantity::kLengthMm);
    tp["change_from_baseline_pct"] = json_value(t.change_from_baseline_pct, Quantity::kPercent);
    tp["change_from_nadir_pct"] = json_value(t.change_from_nadir_pct, Quantity::kPercent);
    tp["target_response"] = to_string(t.target_response);
    tp["non_target_response"] = to_string(t.non_target_response);
    tp["new_lesions"] = to_string(t.new_lesions);
    if (a.criteria == Criteria::kIrecist)
      tp["new_lesion_target_sum_mm"] = json_value(t.new_lesion_target_sum_mm, Quantity::kLengthMm);
    tp["overall_response"] = to_string(t.overall_response);
    tps.push_back(tp);
  }
  out["timepoints"] = tps;
  out["best_overall_response"] = to_string(a.best_overall_response);
  out["progression_date"] = a.progression_date ? ojson(format_date(*a.progression_date)) : ojson(nullptr);
  out["pfs_days"] = a.pfs_days ? ojson(*a.pfs_days) : ojson(nullptr);
  out["pfs_censored"] = a.pfs_censored;
  out["response_date"] = a.response_date ? ojson(format_date(*a.response_date)) : ojson(nullptr);
  out["duration_of_response_days"] = a.duration_of_response_days ? ojson(*a.duration_of_response_days) : ojson(nullptr);
  return dump(out);
}

}  // namespace oq::recist
