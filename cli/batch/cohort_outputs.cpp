#include "cohort_outputs.h"

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <set>
#include <sstream>

#include "oq/html_report/cohort.h"
#include "oq/json_input.h"
#include "oq/output.h"
#include "run_folder.h"
#include "summary.h"

namespace oq::cli::batch {
namespace {

namespace fs = std::filesystem;

// Writes `text` to `path` (a temporary name an OutputSet handed out); errors name `final_name`.
Status write_text(const std::string& path, const std::string& text, const std::string& final_name) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Error(ErrorCode::kIo, "cannot write", final_name);
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return Error(ErrorCode::kIo, "cannot write", final_name);
  return ok_status();
}

// One file written whole under its final name, or not at all.
Status write_file(const std::string& path, const std::string& text) {
  OutputSet outputs({});
  auto temp = outputs.add(path);
  if (!temp) return temp.error();
  if (auto s = write_text(*temp, text, path); !s) return s;
  return outputs.commit();
}

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::localtime(&t));
  return buf;
}

}  // namespace

Result<CohortFiles> write_cohort_outputs(const std::string& dir, const std::vector<CaseOutcome>& cases) {
  const std::vector<CohortCase> cohort(cases.begin(), cases.end());
  std::set<int> lines;
  for (const CohortCase& c : cohort)
    for (const CohortLine& l : c.lines)
      if (l.not_assessed.empty()) lines.insert(l.number);
  OutputSet outputs({});
  CohortFiles files;
  html_report::CohortPage page;
  page.generated_at = now_iso();
  auto add = [&](const std::string& name) -> Result<std::string> {
    files.written.push_back(dir + "/" + name);
    return outputs.add(dir + "/" + name);
  };
  auto summary = add("summary.csv");
  if (!summary) return summary.error();
  if (auto s = write_text(*summary, summary_csv(cases), dir + "/summary.csv"); !s) return s.error();
  for (int line : lines) {
    const std::string n = std::to_string(line);
    auto waterfall = add("waterfall_line" + n + ".png");
    if (!waterfall) return waterfall.error();
    if (auto s = html_report::write_waterfall_png(cohort, line, *waterfall); !s) return s.error();
    page.images.emplace_back("Waterfall: best change of the sum of diameters, line " + n, "waterfall_line" + n + ".png");
  }
  auto swimmer = add("swimmer.png");
  if (!swimmer) return swimmer.error();
  if (auto s = html_report::write_swimmer_png(cohort, *swimmer); !s) return s.error();
  page.images.emplace_back("Swimmer plot: treatment lines, responses and progression", "swimmer.png");
  for (int line : lines) {
    const std::string n = std::to_string(line);
    auto km = add("pfs_line" + n + ".png");
    if (!km) return km.error();
    if (auto s = html_report::write_kaplan_meier_png(cohort, line, *km); !s) return s.error();
    page.images.emplace_back("Progression-free survival, line " + n + ", by phenotype group", "pfs_line" + n + ".png");
  }
  for (const CohortCase& c : cohort) {
    const std::string report = "patients/" + folder_name(c.patient) + "/reports/" + c.patient + "_report.html";
    std::error_code ec;
    if (fs::exists(dir + "/" + report, ec)) page.report_links[c.patient] = report;
  }
  auto index = add("index.html");
  if (!index) return index.error();
  if (auto s = write_text(*index, html_report::cohort_index_html(cohort, page), dir + "/index.html"); !s) return s.error();
  if (auto c = outputs.commit(); !c) return c.error();
  return files;
}

Status write_unreadable(const std::string& dir, const Catalog& catalog) {
  std::vector<std::vector<std::string>> rows;
  for (const Unreadable& u : catalog.unreadable)
    rows.push_back({u.path, u.unclaimed ? "not an image OncoQuant reads" : u.reason});
  return write_file(dir + "/unreadable.csv", csv_table({"path", "reason"}, rows));
}

Status merge_unreadable(const std::vector<std::string>& shard_dirs, const std::string& dir) {
  std::vector<std::string> lines;
  std::set<std::string> seen;
  for (const std::string& d : shard_dirs) {
    auto text = read_small_file(d + "/unreadable.csv");
    if (!text) continue;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);)
      if (seen.insert(line).second) lines.push_back(line);
  }
  if (lines.empty()) return ok_status();
  std::string text;
  for (const std::string& l : lines) text += l + "\n";
  return write_file(dir + "/unreadable.csv", text);
}

}  // namespace oq::cli::batch
