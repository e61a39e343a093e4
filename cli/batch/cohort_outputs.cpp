#include "cohort_outputs.h"

#include <cstdio>
#include <filesystem>
#include <set>

#include "oq/html_report/cohort.h"
#include "oq/output.h"
#include "run_folder.h"
#include "summary.h"

namespace oq::cli::batch {
namespace {

namespace fs = std::filesystem;

Status write_text(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Error(ErrorCode::kIo, "cannot write", path);
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return Error(ErrorCode::kIo, "cannot write", path);
  return ok_status();
}

}  // namespace

Result<CohortFiles> write_cohort_outputs(const std::string& dir, const std::vector<CaseOutcome>& cases,
                                         const std::string& generated_at) {
  const std::vector<CohortCase> cohort(cases.begin(), cases.end());
  std::set<int> lines;
  for (const CohortCase& c : cohort)
    for (const CohortLine& l : c.lines)
      if (l.not_assessed.empty()) lines.insert(l.number);
  OutputSet outputs({});
  CohortFiles files;
  html_report::CohortPage page;
  page.generated_at = generated_at;
  auto add = [&](const std::string& name) -> Result<std::string> {
    files.written.push_back(dir + "/" + name);
    return outputs.add(dir + "/" + name);
  };
  auto summary = add("summary.csv");
  if (!summary) return summary.error();
  if (auto s = write_text(*summary, summary_csv(cases)); !s) return s.error();
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
  if (auto s = write_text(*index, html_report::cohort_index_html(cohort, page)); !s) return s.error();
  if (auto c = outputs.commit(); !c) return c.error();
  return files;
}

}  // namespace oq::cli::batch
