// The cohort's pictures, as a study's statistician and its data managers look at a batch: a waterfall
// plot (each patient's best change of the sum of diameters on a line, coloured by phenotype group), a
// swimmer plot (each patient's lines over time with the responses and progression), and Kaplan-Meier
// curves of progression-free survival per treatment line and group with the numbers at risk; and an
// HTML index that shows them with the summary table and links each patient's report.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "oq/error.h"
#include "oq/report.h"

namespace oq::html_report {

// PNG files; each returns an error naming `path` when it cannot be written.
Status write_waterfall_png(const std::vector<CohortCase>& cases, int line, const std::string& path);
Status write_swimmer_png(const std::vector<CohortCase>& cases, const std::string& path);
Status write_kaplan_meier_png(const std::vector<CohortCase>& cases, int line, const std::string& path);

struct CohortPage {
  std::vector<std::pair<std::string, std::string>> images;  // (title, file relative to the page)
  std::map<std::string, std::string> report_links;          // patient -> their report, relative to the page
  std::string generated_at;                                 // ISO 8601, in the footer
};

// The index page: counts by case status, the pictures, and per patient and line the summary with a
// link to the patient's report.
std::string cohort_index_html(const std::vector<CohortCase>& cases, const CohortPage& page);

}  // namespace oq::html_report
