// The batch's index page: what a data manager opens first. Counts by case status (so a failed case
// is not missed), the cohort plots, then per patient and line the summary with a link to the report.
#include <map>

#include "drawing.h"
#include "oq/html_report/cohort.h"

namespace oq::html_report {
namespace {

const char* kStyle =
    "body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}"
    "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#f0f0f0}"
    ".failed{background:#fde2e2}.partial{background:#fff4d6}.note{color:#666;font-size:12px}"
    "figure{margin:16px 0}img{max-width:100%;border:1px solid #ddd}";

std::string cells(const std::vector<std::string>& values, const char* tag = "td") {
  std::string out = "<tr>";
  for (const std::string& v : values) out += std::string("<") + tag + ">" + v + "</" + tag + ">";
  return out + "</tr>\n";
}

std::string status_counts(const std::vector<CohortCase>& cases) {
  std::map<std::string, int> n;
  for (const CohortCase& c : cases) ++n[c.status];
  std::string out = "<p>" + std::to_string(cases.size()) + " patients:";
  for (const auto& [status, count] : n) out += " " + std::to_string(count) + " " + escaped(status) + ";";
  out.back() = '.';
  return out + "</p>\n";
}

std::string line_rows(const CohortCase& c, const CohortPage& page) {
  const auto link = page.report_links.find(c.patient);
  const std::string patient = link == page.report_links.end()
                                  ? escaped(c.patient)
                                  : "<a href=\"" + escaped(link->second) + "\">" + escaped(c.patient) + "</a>";
  const std::string group = c.group ? std::to_string(*c.group) + " " + escaped(c.group_label) : "-";
  std::string problems;
  for (const std::string& p : c.problems) problems += (problems.empty() ? "" : "<br>") + escaped(p);
  std::string out;
  const std::string cls = c.status == "failed" || c.status == "partial" ? " class=\"" + c.status + "\"" : "";
  if (c.lines.empty())
    return "<tr" + cls + "><td>" + patient + "</td><td>" + escaped(c.status) + "</td><td>" + group +
           "</td><td colspan=\"5\"></td><td>" + problems + "</td></tr>\n";
  for (const CohortLine& l : c.lines) {
    std::string course;
    for (const CohortTimePoint& t : l.responses)
      course += (course.empty() ? "" : ", ") + escaped(t.overall_response) + (t.new_lesions == "equivocal" ? "?" : "");
    const std::string pfs = l.pfs_days ? std::to_string(*l.pfs_days) + (l.pfs_censored ? "+" : "") : "-";
    out += "<tr" + cls + "><td>" + patient + "</td><td>" + escaped(c.status) + "</td><td>" + group + "</td><td>" +
           std::to_string(l.number) + " " + escaped(l.regimen) + "</td><td>" +
           (l.not_assessed.empty() ? escaped(l.best_response) : "<span class=\"note\">" + escaped(l.not_assessed) + "</span>") +
           "</td><td>" + shown(l.best_change_pct) + "</td><td>" + pfs + "</td><td>" + course + "</td><td>" + problems +
           "</td></tr>\n";
  }
  return out;
}

}  // namespace

std::string cohort_index_html(const std::vector<CohortCase>& cases, const CohortPage& page) {
  std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>OncoQuant batch</title><style>";
  html += kStyle;
  html += "</style></head><body>\n<h1>OncoQuant batch</h1>\n" + status_counts(cases);
  html +=
      "<p class=\"note\">Automatic values await a reader's review (oncoquant store review); a response marked ? has a "
      "candidate new lesion a reader has not confirmed. PFS with + is censored.</p>\n";
  html +=
      "<table>\n" +
      cells({"patient", "case", "group", "line", "best response", "best change %", "PFS days", "responses", "problems"}, "th");
  for (const CohortCase& c : cases) html += line_rows(c, page);
  html += "</table>\n";
  for (const auto& [title, file] : page.images)
    html += "<figure><img src=\"" + escaped(file) + "\" alt=\"" + escaped(title) + "\"><figcaption>" + escaped(title) +
            "</figcaption></figure>\n";
  html +=
      "<p class=\"note\">summary.csv has every value; unreadable.csv lists the files of the input that could not be "
      "used. Written " +
      escaped(page.generated_at) + ".</p>\n</body></html>\n";
  return html;
}

}  // namespace oq::html_report
