#include "summary.h"

#include <cstdio>

namespace oq::cli::batch {
namespace {

std::string cell(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : "; ") + s;
  return out;
}

// "2026-03-16 PR; 2026-07-20 PR (new lesion equivocal)": what a reader checks first.
std::string course(const LineOutcome& l) {
  std::string out;
  for (const TimePointOutcome& t : l.responses)
    out += (out.empty() ? "" : "; ") + t.date + " " + t.overall_response +
           (t.new_lesions == "equivocal" ? " (new lesion equivocal)" : "");
  return out;
}

std::vector<std::string> row(const CaseOutcome& c, const LineOutcome* l) {
  return {c.patient,
          c.status,
          c.group ? std::to_string(*c.group) : "",
          c.group_label,
          c.er,
          c.pr,
          c.her2,
          l ? std::to_string(l->number) : "",
          l ? l->regimen : "",
          l ? l->criteria : "",
          l ? l->start_date : "",
          l ? l->best_response : "",
          l && l->best_change_pct ? fixed(*l->best_change_pct, 1) : "",
          l && l->pfs_days ? std::to_string(*l->pfs_days) : "",
          l && l->not_assessed.empty() ? (l->pfs_censored ? "yes" : "no") : "",
          l && l->progression_date ? *l->progression_date : "",
          l ? std::to_string(l->time_points) : "",
          l ? course(*l) : "",
          l ? std::to_string(l->pending_review) : "",
          l ? l->not_assessed : "",
          joined(c.problems)};
}

}  // namespace

std::string csv_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + cell(cells[i]);
    out += "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

std::string summary_csv(const std::vector<CaseOutcome>& cases) {
  std::vector<std::vector<std::string>> rows;
  for (const CaseOutcome& c : cases) {
    if (c.lines.empty()) rows.push_back(row(c, nullptr));
    for (const LineOutcome& l : c.lines) rows.push_back(row(c, &l));
  }
  return csv_table({"patient_id",
                    "case_status",
                    "phenotype_group",
                    "phenotype_label",
                    "er_percent_positive",
                    "pr_percent_positive",
                    "her2_score",
                    "line",
                    "regimen",
                    "criteria",
                    "line_start",
                    "best_overall_response",
                    "best_change_from_baseline_pct",
                    "pfs_days",
                    "pfs_censored",
                    "progression_date",
                    "time_points",
                    "responses",
                    "time_points_pending_review",
                    "not_assessed",
                    "problems"},
                   rows);
}

}  // namespace oq::cli::batch
