// The report for people: the oncologist's view of a patient's course. A PDF with a summary page
// (treatment lines with best response and PFS, the time points' sums and responses, a spider plot of
// each target's change from baseline) and one page per time point (the lesions with their values,
// key images with outline and calipers), and the same as one self-contained HTML file.
#pragma once

#include <string>

#include "oq/error.h"
#include "oq/report.h"

namespace oq::html_report {

struct ReportContext {
  std::string software_version;
  std::string generated_at;  // ISO 8601, shown in the footer
};

Status write_pdf(const PatientReport& report, const ReportContext& context, const std::string& path);
Status write_html(const PatientReport& report, const ReportContext& context, const std::string& path);

}  // namespace oq::html_report
