#include "case_plan.h"

#include <algorithm>
#include <filesystem>
#include <set>

namespace oq::cli::batch {
namespace {

namespace fs = std::filesystem;

bool is_volume(const SeriesInfo& s) {
  return s.loadable && s.frames >= 2;
}

// The CT of one date: the series the worklist's lesions were chosen on, else the one with the
// most slices (a thin reconstruction over a scout or a thick overview).
const SeriesInfo* pick_ct(const std::vector<const SeriesInfo*>& cts, const std::set<std::string>& wanted) {
  for (const SeriesInfo* s : cts)
    if (wanted.count(s->uid)) return s;
  const SeriesInfo* best = nullptr;
  for (const SeriesInfo* s : cts)
    if (!best || s->frames > best->frames) best = s;
  return best;
}

// The PET of the same Frame of Reference as the CT (one PET-CT), else none: a PET of another
// acquisition cannot be looked up at the CT's coordinates.
const SeriesInfo* pick_pet(const std::vector<const SeriesInfo*>& pets, const SeriesInfo& ct) {
  for (const SeriesInfo* s : pets)
    if (!ct.frame_of_reference_uid.empty() && s->frame_of_reference_uid == ct.frame_of_reference_uid) return s;
  return nullptr;
}

std::string marker_in_name(const std::string& path, const std::string& patient) {
  const std::string stem = fs::path(path).filename().string();
  if (stem.find(patient) == std::string::npos) return "";
  for (const char* m : {"HER2", "ER", "PR"}) {
    const std::string tag = std::string("_") + m;
    const auto at = stem.rfind(tag);
    if (at == std::string::npos) continue;
    const std::size_t end = at + tag.size();
    if (end == stem.size() || stem[end] == '.' || stem[end] == '_') return m;
  }
  return "";
}

void plan_scans(CasePlan& plan, const Catalog& catalog) {
  std::set<std::string> wanted;
  for (const WorklistLesion& l : plan.lesions)
    if (!l.series_uid.empty()) wanted.insert(l.series_uid);
  std::map<std::string, std::vector<const SeriesInfo*>> cts, pets;  // by date
  std::vector<std::string> files;
  for (const StudyInfo& st : catalog.studies) {
    if (st.patient_id != plan.patient) continue;
    for (const SeriesInfo& s : st.series) {
      files.insert(files.end(), s.files.begin(), s.files.end());
      if (!is_volume(s)) continue;
      if (s.modality == "CT") cts[st.study_date].push_back(&s);
      if (s.modality == "PT") pets[st.study_date].push_back(&s);
    }
  }
  plan.images_folder = common_folder(files);
  for (const auto& [date, list] : cts) {
    const SeriesInfo* ct = pick_ct(list, wanted);
    if (list.size() > 1)
      plan.notes.push_back(date + ": " + std::to_string(list.size()) + " CT series; followed " + ct->uid + " (" +
                           std::to_string(ct->frames) + " slices)");
    PlannedScan scan{date, ct->uid, common_folder(ct->files), "", ""};
    if (const SeriesInfo* pet = pick_pet(pets[date], *ct)) {
      scan.pet_uid = pet->uid;
      scan.pet_folder = common_folder(pet->files);
    }
    plan.scans.push_back(scan);
  }
}

void plan_lines(CasePlan& plan, const std::vector<WorklistLine>& lines) {
  std::vector<WorklistLine> sorted = lines;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.number < b.number; });
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    PlannedLine pl;
    pl.line = sorted[i];
    const int n = static_cast<int>(plan.scans.size());
    if (pl.line.baseline_scan) {
      if (*pl.line.baseline_scan < n) pl.baseline = *pl.line.baseline_scan;
    } else {
      for (int s = 0; s < n; ++s)
        if (plan.scans[s].date <= pl.line.start_date) pl.baseline = s;
      if (pl.baseline < 0 && n > 0) pl.baseline = 0;
    }
    const std::string until = i + 1 < sorted.size() ? sorted[i + 1].start_date : "9999-12-31";
    for (int s = pl.baseline + 1; pl.baseline >= 0 && s < n; ++s)
      if (plan.scans[s].date <= until) pl.follow_ups.push_back(s);
    pl.lesions_from_previous_line = i > 0;
    if (pl.baseline < 0)
      pl.not_assessed = "no CT in the archive can be its baseline";
    else if (plan.lesions.empty())
      pl.not_assessed = "the worklist names no baseline lesions";
    plan.lines.push_back(pl);
  }
}

}  // namespace

std::string common_folder(const std::vector<std::string>& files) {
  if (files.empty()) return "";
  fs::path common = fs::path(files.front()).parent_path();
  for (const std::string& f : files) {
    const fs::path dir = fs::path(f).parent_path();
    fs::path shared;
    auto a = common.begin(), b = dir.begin();
    for (; a != common.end() && b != dir.end() && *a == *b; ++a, ++b) shared /= *a;
    common = shared;
  }
  return common.string();
}

std::vector<std::string> patients_of(const Catalog& catalog, const Worklist* worklist) {
  std::set<std::string> ids;
  for (const StudyInfo& st : catalog.studies)
    if (!st.patient_id.empty()) ids.insert(st.patient_id);
  if (worklist)
    for (const WorklistPatient& p : worklist->patients) ids.insert(p.id);
  return {ids.begin(), ids.end()};
}

CasePlan plan_case(const std::string& patient, const Catalog& catalog, const Worklist* worklist) {
  CasePlan plan;
  plan.patient = patient;
  const WorklistPatient* entry = worklist ? worklist->find(patient) : nullptr;
  plan.from_worklist = entry != nullptr;
  if (entry) plan.lesions = entry->lesions;
  plan_scans(plan, catalog);
  if (entry) {
    plan_lines(plan, entry->lines);
    for (const WorklistSlide& s : entry->slides) plan.slides[s.marker] = s.path;
  }
  for (const SlideInfo& s : catalog.slides) {
    const std::string m = marker_in_name(s.path, patient);
    if (!m.empty() && !plan.slides.count(m)) plan.slides[m] = s.path;
  }
  if (plan.scans.empty() && !catalog.studies.empty()) plan.notes.push_back("no CT series of this patient in the input");
  return plan;
}

std::vector<std::string> shard_of(const std::vector<std::string>& patients, int k, int n) {
  std::vector<std::string> share;
  for (std::size_t i = 0; i < patients.size(); ++i)
    if (static_cast<int>(i % static_cast<std::size_t>(n)) == k - 1) share.push_back(patients[i]);
  return share;
}

}  // namespace oq::cli::batch
