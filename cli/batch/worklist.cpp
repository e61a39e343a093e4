// Reading the worklist strictly: a wrong entry stops the run before any work, naming the file, the
// patient or row and the field, because a seed or a marker silently dropped would change a
// patient's result without anyone noticing.
#include "worklist.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "oq/json_input.h"
#include "oq/recist/case.h"

namespace oq::cli::batch {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

Error bad(const std::string& source, const std::string& where, const std::string& what) {
  return Error(ErrorCode::kInvalidArgument, where + ": " + what, source);
}

bool known_marker(const std::string& m) {
  return m == "ER" || m == "PR" || m == "HER2";
}

// Checks what both forms share: ids unique, dates real, roles, markers, finite seeds.
Status check(const Worklist& w) {
  std::set<std::string> ids;
  for (const WorklistPatient& p : w.patients) {
    if (p.id.empty()) return bad(w.source, "a patient", "has no patient_id");
    if (!ids.insert(p.id).second) return bad(w.source, "patient " + p.id, "is listed twice");
    std::set<int> numbers;
    for (const WorklistLine& l : p.lines) {
      const std::string where = "patient " + p.id + ", line " + std::to_string(l.number);
      if (l.number < 1 || l.number > 99) return bad(w.source, where, "a line number is 1-99");
      if (!numbers.insert(l.number).second) return bad(w.source, where, "is listed twice");
      if (auto d = recist::parse_date(l.start_date); !d) return bad(w.source, where, "start_date: " + d.error().message());
      if (l.criteria != "RECIST1.1" && l.criteria != "iRECIST")
        return bad(w.source, where, "criteria must be RECIST1.1 or iRECIST, not '" + l.criteria + "'");
      if (l.baseline_scan && (*l.baseline_scan < 0 || *l.baseline_scan > 999))
        return bad(w.source, where, "baseline_time_point must be a scan index 0-999");
    }
    std::set<std::string> labels;
    for (const WorklistLesion& l : p.lesions) {
      const std::string where = "patient " + p.id + ", lesion " + l.id;
      if (l.id.empty()) return bad(w.source, "patient " + p.id, "a lesion has no lesion_id");
      if (!labels.insert(l.id).second) return bad(w.source, where, "is listed twice");
      if (l.role != "target" && l.role != "non-target") return bad(w.source, where, "role must be target or non-target");
      for (double v : l.seed_mm)
        if (!std::isfinite(v) || std::abs(v) > 5000) return bad(w.source, where, "seed_mm must be three finite numbers in mm");
    }
    std::set<std::string> markers;
    for (const WorklistSlide& s : p.slides) {
      const std::string where = "patient " + p.id + ", slide " + s.path;
      if (!known_marker(s.marker)) return bad(w.source, where, "marker must be ER, PR or HER2, not '" + s.marker + "'");
      if (s.path.empty()) return bad(w.source, "patient " + p.id, "a slide has no path");
      if (!markers.insert(s.marker).second) return bad(w.source, where, "a second " + s.marker + " slide: name one per marker");
    }
  }
  return ok_status();
}

// The worklist's relative paths are relative to its own folder, as the manifest writes them.
std::string resolve(const std::string& source, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(source).parent_path() / path).lexically_normal().string();
}

template <typename T>
Result<T> field(const Json& j, const char* key, const std::string& source, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end()) return bad(source, where, std::string("has no ") + key);
  try {
    return it->get<T>();
  } catch (const std::exception&) {
    return bad(source, where, std::string(key) + " has the wrong type");
  }
}

template <typename T>
T optional_field(const Json& j, const char* key, T fallback) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const std::exception&) {
    return fallback;
  }
}

Result<WorklistLine> line_from(const Json& j, const std::string& source, const std::string& where) {
  WorklistLine l;
  auto n = field<int>(j, "line", source, where);
  if (!n) return n.error();
  l.number = *n;
  auto start = field<std::string>(j, "start_date", source, where + ", line " + std::to_string(l.number));
  if (!start) return start.error();
  l.start_date = *start;
  l.regimen = optional_field<std::string>(j, "regimen", "");
  l.criteria = optional_field<std::string>(j, "criteria", "RECIST1.1");
  if (j.contains("baseline_time_point") && !j["baseline_time_point"].is_null()) {
    if (!j["baseline_time_point"].is_number_integer())
      return bad(source, where + ", line " + std::to_string(l.number), "baseline_time_point must be a whole number");
    l.baseline_scan = j["baseline_time_point"].get<int>();
  }
  return l;
}

Result<WorklistLesion> lesion_from(const Json& j, const std::string& source, const std::string& where) {
  WorklistLesion l;
  l.id = optional_field<std::string>(j, "lesion_id", optional_field<std::string>(j, "id", ""));
  const std::string at = where + ", lesion " + l.id;
  l.role = optional_field<std::string>(j, "role", "target");
  l.organ = optional_field<std::string>(j, "organ", "unspecified");
  l.nodal = optional_field<bool>(j, "nodal", false);
  l.series_uid = optional_field<std::string>(j, "series_uid", "");
  auto seed = field<std::vector<double>>(j, "seed_mm", source, at);
  if (!seed) return seed.error();
  if (seed->size() != 3) return bad(source, at, "seed_mm must be three numbers");
  l.seed_mm = {(*seed)[0], (*seed)[1], (*seed)[2]};
  return l;
}

Result<WorklistPatient> patient_from(const Json& j, const std::string& source, std::size_t index) {
  WorklistPatient p;
  p.id = optional_field<std::string>(j, "patient_id", "");
  const std::string where = p.id.empty() ? "patients[" + std::to_string(index) + "]" : "patient " + p.id;
  for (const char* key : {"treatment_lines", "baseline_lesion_seeds", "slides"})
    if (j.contains(key) && !j[key].is_array()) return bad(source, where, std::string(key) + " must be a list");
  for (const Json& l : j.value("treatment_lines", Json::array())) {
    auto line = line_from(l, source, where);
    if (!line) return line.error();
    p.lines.push_back(*line);
  }
  for (const Json& l : j.value("baseline_lesion_seeds", Json::array())) {
    auto lesion = lesion_from(l, source, where);
    if (!lesion) return lesion.error();
    // The manifest also lists lesions no line measures ("lesion"): a worklist names only what is read.
    if (lesion->role == "lesion") continue;
    p.lesions.push_back(*lesion);
  }
  for (const Json& s : j.value("slides", Json::array())) {
    WorklistSlide slide;
    slide.marker = optional_field<std::string>(s, "marker", "");
    slide.path = resolve(source, optional_field<std::string>(s, "path", ""));
    p.slides.push_back(slide);
  }
  return p;
}

// One CSV record, RFC 4180 quoting; false at the end of the text.
bool next_record(const std::string& text, std::size_t& pos, std::vector<std::string>& cells) {
  cells.clear();
  if (pos >= text.size()) return false;
  std::string cell;
  bool quoted = false;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (quoted) {
      if (c == '"' && pos + 1 < text.size() && text[pos + 1] == '"') {
        cell += '"';
        ++pos;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(cell);
      cell.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && pos + 1 < text.size() && text[pos + 1] == '\n') ++pos;
      ++pos;
      break;
    } else {
      cell += c;
    }
  }
  cells.push_back(cell);
  return true;
}

Result<double> csv_number(const std::string& cell, const std::string& source, const std::string& where) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(cell, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (cell.empty() || used != cell.size() || !std::isfinite(v)) return bad(source, where, "'" + cell + "' is not a number");
  return v;
}

}  // namespace

const WorklistPatient* Worklist::find(const std::string& id) const {
  for (const WorklistPatient& p : patients)
    if (p.id == id) return &p;
  return nullptr;
}

Result<Worklist> worklist_from_manifest_text(const std::string& text, const std::string& source) {
  auto parsed = parse_json_strictly(text, source);
  if (!parsed) return parsed.error();
  const Json& j = *parsed;
  if (!j.is_object() || !j.contains("patients") || !j["patients"].is_array())
    return bad(source, "the worklist", "needs a \"patients\" list (the demo archive's manifest.json form)");
  Worklist w;
  w.source = source;
  for (std::size_t i = 0; i < j["patients"].size(); ++i) {
    auto p = patient_from(j["patients"][i], source, i);
    if (!p) return p.error();
    w.patients.push_back(std::move(*p));
  }
  if (auto ok = check(w); !ok) return ok.error();
  return w;
}

Result<Worklist> worklist_from_csv_text(const std::string& text, const std::string& source) {
  std::size_t pos = 0;
  std::vector<std::string> cells;
  if (!next_record(text, pos, cells)) return bad(source, "the worklist", "is empty");
  std::map<std::string, std::size_t> column;
  for (std::size_t i = 0; i < cells.size(); ++i) column[cells[i]] = i;
  for (const char* needed : {"patient_id", "record"})
    if (!column.count(needed)) return bad(source, "the header", std::string("has no column ") + needed);
  Worklist w;
  w.source = source;
  int row = 1;
  while (next_record(text, pos, cells)) {
    ++row;
    if (cells.size() == 1 && cells[0].empty()) continue;  // a blank line
    auto get = [&](const char* name) {
      const auto it = column.find(name);
      return it == column.end() || it->second >= cells.size() ? std::string() : cells[it->second];
    };
    const std::string where = "row " + std::to_string(row);
    const std::string id = get("patient_id"), record = get("record");
    WorklistPatient* p = nullptr;
    for (auto& x : w.patients)
      if (x.id == id) p = &x;
    if (!p) {
      w.patients.push_back(WorklistPatient{id, {}, {}, {}});
      p = &w.patients.back();
    }
    if (record == "line") {
      WorklistLine l;
      auto n = csv_number(get("line"), source, where + ", line");
      if (!n) return n.error();
      l.number = static_cast<int>(*n);
      l.start_date = get("start_date");
      l.regimen = get("regimen");
      if (!get("criteria").empty()) l.criteria = get("criteria");
      p->lines.push_back(l);
    } else if (record == "lesion") {
      WorklistLesion l;
      l.id = get("lesion_id");
      if (!get("role").empty()) l.role = get("role");
      if (!get("organ").empty()) l.organ = get("organ");
      const std::string nodal = get("nodal");
      if (nodal != "" && nodal != "yes" && nodal != "no" && nodal != "true" && nodal != "false")
        return bad(source, where, "nodal must be yes or no");
      l.nodal = nodal == "yes" || nodal == "true";
      const char* axes[] = {"seed_x_mm", "seed_y_mm", "seed_z_mm"};
      for (int a = 0; a < 3; ++a) {
        auto v = csv_number(get(axes[a]), source, where + ", " + axes[a]);
        if (!v) return v.error();
        l.seed_mm[a] = *v;
      }
      p->lesions.push_back(l);
    } else if (record == "slide") {
      p->slides.push_back(WorklistSlide{get("marker"), resolve(source, get("path"))});
    } else {
      return bad(source, where, "record must be line, lesion or slide, not '" + record + "'");
    }
  }
  if (auto ok = check(w); !ok) return ok.error();
  return w;
}

Result<Worklist> read_worklist(const std::string& path) {
  auto text = read_small_file(path);
  if (!text) return text.error();
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".csv") return worklist_from_csv_text(*text, path);
  if (ext == ".json") return worklist_from_manifest_text(*text, path);
  return Error(ErrorCode::kInvalidArgument, "a worklist is a .json (manifest form) or a .csv file", path);
}

}  // namespace oq::cli::batch
