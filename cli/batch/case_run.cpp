#include "case_run.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "child_process.h"
#include "oq/json_input.h"

namespace oq::cli::batch {
namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string seed_text(const Vec3& p) {
  return number_text(p[0]) + "," + number_text(p[1]) + "," + number_text(p[2]);
}

Status write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Error(ErrorCode::kIo, "cannot write", path);
  return ok_status();
}

// A step's JSON answer, or null when it gave none.
Json read_answer(const std::string& path) {
  auto text = read_small_file(path);
  if (!text) return nullptr;
  auto j = parse_json_strictly(*text, path);
  return j ? Json::parse(j->dump()) : Json(nullptr);
}

// The step as a data manager would type it, for the case's log (and to replay it by hand).
std::string command_line(const std::vector<std::string>& args) {
  std::string out = "oncoquant";
  for (const std::string& a : args) {
    const bool plain =
        !a.empty() &&
        a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./,:=+") == std::string::npos;
    if (plain) {
      out += " " + a;
      continue;
    }
    out += " '";
    for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += "'";
  }
  return out;
}

class CaseRunner {
 public:
  CaseRunner(const CasePlan& plan, std::string dir, const CaseOptions& options)
      : plan_(plan), dir_(std::move(dir)), options_(options), db_(dir_ + "/study.sqlite"), log_(dir_ + "/log.txt") {
    outcome_.patient = plan.patient;
    outcome_.notes = plan.notes;
  }

  CaseOutcome run() {
    fs::create_directories(dir_ + "/steps");
    for (const PlannedLine& line : plan_.lines) open_line(line);
    std::vector<WorklistLesion> lesions = plan_.lesions;
    std::vector<PlannedLine> lines = plan_.lines;
    for (PlannedLine& line : lines) {
      if (line.not_assessed.empty() && line.lesions_from_previous_line) lesions = carried(lesions, line);
      if (lesions.empty() && line.not_assessed.empty()) line.not_assessed = "no lesion to carry from the line before";
      if (line.not_assessed.empty() && !baseline_read(line, lesions))
        line.not_assessed = "the baseline read failed (see the case's problems)";
      if (line.not_assessed.empty())
        for (int s : line.follow_ups) track(line, plan_.scans[static_cast<std::size_t>(s)]);
    }
    // Assessed when every value is in: a line's last follow-up is the next line's baseline, re-read
    // there, and the summary must say what the reports (written from the same store) say.
    for (const PlannedLine& line : lines) assess(line);
    pathology();
    reports();
    settle();
    return outcome_;
  }

 private:
  // Runs one step; its answer lands in steps/<answer>.json when `answer` is given. A failure is one
  // of the case's problems unless the caller has a way around it (`problem` false).
  bool step(const std::string& name, std::vector<std::string> args, const std::string& answer = "", bool problem = true) {
    ChildStep s;
    s.args = std::move(args);
    s.log_path = log_;
    s.time_limit_s = options_.step_time_limit_s;
    if (!answer.empty()) s.stdout_path = dir_ + "/steps/" + answer + ".json";
    append_log("== " + name + "\n$ " + command_line(s.args));
    const auto started = std::chrono::steady_clock::now();
    auto r = run_child(s);
    StepRecord rec;
    rec.name = name;
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    rec.ok = r && r->ok();
    if (!rec.ok) rec.error = r ? r->last_error : r.error().describe();
    if (!rec.ok && problem) outcome_.problems.push_back(name + ": " + rec.error);
    outcome_.steps.push_back(rec);
    return rec.ok;
  }

  void append_log(const std::string& line) { std::ofstream(log_, std::ios::app) << line << "\n"; }

  void open_line(const PlannedLine& line) {
    if (!line.not_assessed.empty()) return;
    step("open line " + std::to_string(line.line.number),
         {"store", "add-line", "--db", db_, "--patient", plan_.patient, "--line", std::to_string(line.line.number), "--start",
          line.line.start_date, "--regimen", line.line.regimen, "--criteria", line.line.criteria, "--author", options_.author});
  }

  // The baseline read a reader would make from the worklist: a click on each lesion's seed.
  bool baseline_read(const PlannedLine& line, const std::vector<WorklistLesion>& lesions) {
    const PlannedScan& base = plan_.scans[static_cast<std::size_t>(line.baseline)];
    int measured_targets = 0, targets = 0;
    Json tracked = Json::array();
    for (const WorklistLesion& l : lesions) {
      std::vector<std::string> args = {"segment",
                                       base.ct_folder,
                                       "--series",
                                       base.ct_uid,
                                       "--seed",
                                       seed_text(l.seed_mm),
                                       "--db",
                                       db_,
                                       "--patient",
                                       plan_.patient,
                                       "--lesion",
                                       l.id,
                                       "--role",
                                       l.role,
                                       "--organ",
                                       l.organ,
                                       "--treatment-line",
                                       std::to_string(line.line.number),
                                       "--author",
                                       options_.author,
                                       "--json"};
      if (l.nodal) args.push_back("--nodal");
      if (l.role == "target") ++targets;
      const std::string n = std::to_string(line.line.number);
      if (step("segment " + l.id + " (line " + n + ")", args, "segment_" + l.id + "_line" + n, l.role == "target")) {
        if (l.role == "target") ++measured_targets;
        tracked.push_back(Json{{"id", l.id}, {"seed_mm", {l.seed_mm[0], l.seed_mm[1], l.seed_mm[2]}}, {"nodal", l.nodal}});
      } else if (l.role == "non-target") {
        note_non_target(line, base, l);
      }
    }
    lesions_json_ = dir_ + "/lesions_line" + std::to_string(line.line.number) + ".json";
    write_file(lesions_json_, tracked.dump(1));
    if (targets > 0 && measured_targets == 0) {
      outcome_.problems.push_back("line " + std::to_string(line.line.number) + ": no baseline target could be measured");
      return false;
    }
    return !tracked.empty();
  }

  // A non-target the segmentation cannot outline (a blastic bone lesion: no soft tissue) is noted as
  // present, as a reader notes it, and is not tracked: its follow-up status is the reader's call.
  void note_non_target(const PlannedLine& line, const PlannedScan& base, const WorklistLesion& l) {
    std::vector<std::string> args = {"store",     "add-non-target",
                                     "--db",      db_,
                                     "--patient", plan_.patient,
                                     "--line",    std::to_string(line.line.number),
                                     "--lesion",  l.id,
                                     "--date",    base.date,
                                     "--organ",   l.organ,
                                     "--status",  "present",
                                     "--author",  options_.author};
    if (l.nodal) args.push_back("--nodal");
    if (step("note non-target " + l.id, args))
      outcome_.notes.push_back("line " + std::to_string(line.line.number) + ": non-target " + l.id +
                               " could not be outlined; noted as present, its follow-ups are left to the reader");
  }

  // The lesions of the line before, where tracking found them on this line's baseline scan.
  std::vector<WorklistLesion> carried(const std::vector<WorklistLesion>& before, const PlannedLine& line) {
    const std::string date = plan_.scans[static_cast<std::size_t>(line.baseline)].date;
    const auto it = track_answers_.find(date);
    std::vector<WorklistLesion> out;
    if (it == track_answers_.end()) {
      outcome_.notes.push_back("line " + std::to_string(line.line.number) + ": its baseline " + date +
                               " was not tracked in the line before, so no lesion could be carried");
      return out;
    }
    for (const Json& f : it->second.value("followups", Json::array()))
      for (const Json& found : f.value("lesions", Json::array())) {
        if (found.value("status", "") != "found" || !found.contains("found_at_mm")) continue;
        for (const WorklistLesion& l : before)
          if (l.id == found.value("id", "")) {
            WorklistLesion moved = l;
            const auto p = found["found_at_mm"].get<std::vector<double>>();
            moved.seed_mm = {p.at(0), p.at(1), p.at(2)};
            moved.series_uid = plan_.scans[static_cast<std::size_t>(line.baseline)].ct_uid;
            out.push_back(moved);
          }
      }
    return out;
  }

  void track(const PlannedLine& line, const PlannedScan& fu) {
    const PlannedScan& base = plan_.scans[static_cast<std::size_t>(line.baseline)];
    std::vector<std::string> args = {"track",
                                     base.ct_folder,
                                     fu.ct_folder,
                                     "--baseline-series",
                                     base.ct_uid,
                                     "--followup-series",
                                     fu.ct_uid,
                                     "--lesions",
                                     lesions_json_,
                                     "--db",
                                     db_,
                                     "--patient",
                                     plan_.patient,
                                     "--line",
                                     std::to_string(line.line.number),
                                     "--author",
                                     options_.author,
                                     "--json"};
    if (!fu.pet_uid.empty()) args.insert(args.end(), {"--pet", fu.pet_folder, "--pet-series", fu.pet_uid});
    if (!base.pet_uid.empty())
      args.insert(args.end(), {"--baseline-pet", base.pet_folder, "--baseline-pet-series", base.pet_uid});
    const std::string answer = "track_line" + std::to_string(line.line.number) + "_" + fu.date;
    if (step("track " + fu.date, args, answer)) track_answers_[fu.date] = read_answer(dir_ + "/steps/" + answer + ".json");
  }

  void assess(const PlannedLine& line) {
    LineOutcome out;
    out.number = line.line.number;
    out.regimen = line.line.regimen;
    out.criteria = line.line.criteria;
    out.start_date = line.line.start_date;
    out.not_assessed = line.not_assessed;
    const std::string name = "line" + std::to_string(line.line.number);
    if (out.not_assessed.empty() &&
        !step("assess line " + std::to_string(line.line.number),
              {"recist", "assess", "--db", db_, "--patient", plan_.patient, "--line", std::to_string(line.line.number)},
              "recist_" + name))
      out.not_assessed = "the assessment failed (see the case log)";
    if (out.not_assessed.empty()) read_assessment(read_answer(dir_ + "/steps/recist_" + name + ".json"), out);
    outcome_.lines.push_back(out);
  }

  static void read_assessment(const Json& j, LineOutcome& out) {
    if (!j.is_object()) {
      out.not_assessed = "the assessment gave no answer";
      return;
    }
    out.best_response = j.value("best_overall_response", "");
    if (j.contains("pfs_days") && j["pfs_days"].is_number_integer()) out.pfs_days = j["pfs_days"].get<int>();
    out.pfs_censored = j.value("pfs_censored", true);
    if (j.contains("progression_date") && j["progression_date"].is_string())
      out.progression_date = j["progression_date"].get<std::string>();
    if (j.contains("baseline_sum_mm") && j["baseline_sum_mm"].is_number())
      out.baseline_sum_mm = j["baseline_sum_mm"].get<double>();
    for (const Json& tp : j.value("timepoints", Json::array())) {
      out.responses.push_back(
          TimePointOutcome{tp.value("date", ""), tp.value("overall_response", ""), tp.value("new_lesions", "")});
      const auto c = tp.find("change_from_baseline_pct");
      if (c != tp.end() && c->is_number() && (!out.best_change_pct || c->get<double>() < *out.best_change_pct))
        out.best_change_pct = c->get<double>();
    }
    out.time_points = static_cast<int>(out.responses.size());
    for (const Json& w : j.value("warnings", Json::array()))
      if (w.is_string() && w.get<std::string>().find("not yet reviewed") != std::string::npos) ++out.pending_review;
  }

  void pathology() {
    std::vector<std::string> results;
    for (const char* marker : {"ER", "PR", "HER2"}) {
      const auto it = plan_.slides.find(marker);
      if (it == plan_.slides.end()) continue;
      const std::string json = dir_ + "/steps/ihc_" + marker + ".json";
      if (step(std::string("ihc ") + marker,
               {"ihc", it->second, "--marker", marker, "--json", "--overlay", dir_ + "/steps/ihc_" + marker + "_overlay.png"},
               std::string("ihc_") + marker))
        results.push_back(json);
    }
    ihc_results_ = results;
    if (results.size() != 3) {
      if (!plan_.slides.empty() || plan_.from_worklist)
        outcome_.notes.push_back("phenotype group: needs ER, PR and HER2 results (" + std::to_string(results.size()) + " of 3)");
      return;
    }
    if (!step("phenotype", {"phenotype", "--er", results[0], "--pr", results[1], "--her2", results[2], "--json"}, "phenotype"))
      return;
    const Json p = read_answer(dir_ + "/steps/phenotype.json");
    if (p.contains("group") && p["group"].is_number_integer()) outcome_.group = p["group"].get<int>();
    outcome_.group_label = p.value("label", "");
    auto pct = [&](const std::string& m) {
      const Json r = read_answer(dir_ + "/steps/ihc_" + m + ".json");
      return r.contains("percent_positive") && r["percent_positive"].is_number()
                 ? number_text(r["percent_positive"].get<double>())
                 : std::string();
    };
    outcome_.er = pct("ER");
    outcome_.pr = pct("PR");
    const Json h = read_answer(dir_ + "/steps/ihc_HER2.json");
    if (h.contains("her2") && h["her2"].is_object()) outcome_.her2 = h["her2"].value("score", "");
  }

  void reports() {
    bool any_line = false;
    for (const LineOutcome& l : outcome_.lines) any_line = any_line || l.not_assessed.empty();
    if (!any_line) return;
    std::vector<std::string> args = {
        "report", "--db", db_, "--patient", plan_.patient, "--out", dir_ + "/reports", "--author", options_.author, "--quiet"};
    if (!plan_.images_folder.empty()) args.insert(args.end(), {"--images", plan_.images_folder});
    if (!ihc_results_.empty()) {
      std::string list;
      for (const std::string& f : ihc_results_) list += (list.empty() ? "" : ",") + f;
      args.insert(args.end(), {"--ihc", list});
    }
    step("report", args);
  }

  // complete: every step ran; partial: some failed, the rest stands; failed: the worklist expected
  // results and none could be had; not-assessed: a patient the worklist does not name (nothing asked).
  void settle() {
    bool usable = outcome_.group.has_value();
    for (const LineOutcome& l : outcome_.lines) usable = usable || l.not_assessed.empty();
    if (!usable && !plan_.from_worklist && plan_.slides.empty()) {
      outcome_.status = "not-assessed";
      outcome_.notes.push_back("not in the worklist: no treatment line or baseline lesions to assess");
      return;
    }
    if (!usable && outcome_.problems.empty())
      outcome_.problems.push_back(plan_.scans.empty() ? "no CT of this patient was found in the input"
                                                      : "nothing could be assessed");
    outcome_.status = outcome_.problems.empty() ? "complete" : usable ? "partial" : "failed";
  }

  const CasePlan& plan_;
  std::string dir_;
  CaseOptions options_;
  std::string db_, log_, lesions_json_;
  std::vector<std::string> ihc_results_;
  std::map<std::string, Json> track_answers_;  // follow-up date -> what tracking found there
  CaseOutcome outcome_;
};

Json optional_number(const std::optional<double>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json to_json(const CaseOutcome& c) {
  Json lines = Json::array();
  for (const LineOutcome& l : c.lines) {
    Json responses = Json::array();
    for (const TimePointOutcome& r : l.responses)
      responses.push_back(Json{{"date", r.date}, {"overall_response", r.overall_response}, {"new_lesions", r.new_lesions}});
    lines.push_back(Json{{"line", l.number},
                         {"regimen", l.regimen},
                         {"criteria", l.criteria},
                         {"start_date", l.start_date},
                         {"not_assessed", l.not_assessed.empty() ? Json(nullptr) : Json(l.not_assessed)},
                         {"best_overall_response", l.best_response},
                         {"pfs_days", l.pfs_days ? Json(*l.pfs_days) : Json(nullptr)},
                         {"pfs_censored", l.pfs_censored},
                         {"progression_date", l.progression_date ? Json(*l.progression_date) : Json(nullptr)},
                         {"baseline_sum_mm", optional_number(l.baseline_sum_mm)},
                         {"best_change_from_baseline_pct", optional_number(l.best_change_pct)},
                         {"time_points", l.time_points},
                         {"pending_review", l.pending_review},
                         {"responses", responses}});
  }
  Json steps = Json::array();
  for (const StepRecord& s : c.steps)
    steps.push_back(
        Json{{"step", s.name}, {"ok", s.ok}, {"error", s.ok ? Json(nullptr) : Json(s.error)}, {"seconds", s.seconds}});
  return Json{{"patient", c.patient},
              {"status", c.status},
              {"problems", c.problems},
              {"notes", c.notes},
              {"phenotype",
               {{"group", c.group ? Json(*c.group) : Json(nullptr)},
                {"label", c.group_label},
                {"er_percent_positive", c.er},
                {"pr_percent_positive", c.pr},
                {"her2_score", c.her2}}},
              {"lines", lines},
              {"steps", steps}};
}

}  // namespace

CaseOutcome run_case(const CasePlan& plan, const std::string& work_dir, const CaseOptions& options) {
  CaseOutcome outcome = CaseRunner(plan, work_dir, options).run();
  write_file(work_dir + "/case.json", to_json(outcome).dump(1) + "\n");
  return outcome;
}

Result<CaseOutcome> read_case_outcome(const std::string& path) {
  auto text = read_small_file(path);
  if (!text) return text.error();
  auto parsed = parse_json_strictly(*text, path);
  if (!parsed) return parsed.error();
  const Json j = Json::parse(parsed->dump());
  CaseOutcome c;
  try {
    c.patient = j.at("patient").get<std::string>();
    c.status = j.at("status").get<std::string>();
    c.problems = j.at("problems").get<std::vector<std::string>>();
    c.notes = j.at("notes").get<std::vector<std::string>>();
    const Json& p = j.at("phenotype");
    if (p.at("group").is_number_integer()) c.group = p["group"].get<int>();
    c.group_label = p.at("label").get<std::string>();
    c.er = p.at("er_percent_positive").get<std::string>();
    c.pr = p.at("pr_percent_positive").get<std::string>();
    c.her2 = p.at("her2_score").get<std::string>();
    for (const Json& l : j.at("lines")) {
      LineOutcome o;
      o.number = l.at("line").get<int>();
      o.regimen = l.at("regimen").get<std::string>();
      o.criteria = l.at("criteria").get<std::string>();
      o.start_date = l.at("start_date").get<std::string>();
      if (l.at("not_assessed").is_string()) o.not_assessed = l["not_assessed"].get<std::string>();
      o.best_response = l.at("best_overall_response").get<std::string>();
      if (l.at("pfs_days").is_number_integer()) o.pfs_days = l["pfs_days"].get<int>();
      o.pfs_censored = l.at("pfs_censored").get<bool>();
      if (l.at("progression_date").is_string()) o.progression_date = l["progression_date"].get<std::string>();
      if (l.at("baseline_sum_mm").is_number()) o.baseline_sum_mm = l["baseline_sum_mm"].get<double>();
      if (l.at("best_change_from_baseline_pct").is_number()) o.best_change_pct = l["best_change_from_baseline_pct"].get<double>();
      o.time_points = l.at("time_points").get<int>();
      o.pending_review = l.at("pending_review").get<int>();
      for (const Json& r : l.at("responses"))
        o.responses.push_back(TimePointOutcome{r.at("date").get<std::string>(), r.at("overall_response").get<std::string>(),
                                               r.at("new_lesions").get<std::string>()});
      c.lines.push_back(o);
    }
    for (const Json& s : j.at("steps"))
      c.steps.push_back(StepRecord{s.at("step").get<std::string>(), s.at("ok").get<bool>(),
                                   s.at("error").is_string() ? s["error"].get<std::string>() : "",
                                   s.at("seconds").get<double>()});
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInvalidArgument, std::string("not a batch case record: ") + e.what(), path);
  }
  return c;
}

}  // namespace oq::cli::batch
