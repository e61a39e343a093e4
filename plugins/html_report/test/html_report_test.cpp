// The report for people, drawn from a made-up patient: the spider plot's courses are the targets'
// changes from baseline, and the PDF and HTML are written whole.
#include <gtest/gtest.h>
#include <oqtest/scratch_root.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../src/drawing.h"
#include "oq/html_report/report_document.h"

namespace oq::html_report {
namespace {

ReportedLesion target(const std::string& label, double long_axis, bool nodal = false, double short_axis = 0) {
  ReportedLesion l;
  l.label = label;
  l.role = LesionRole::kTarget;
  l.nodal = nodal;
  l.organ = nodal ? "lymph node" : "liver";
  l.value.long_axis_mm = long_axis;
  if (nodal) l.value.short_axis_mm = short_axis;
  return l;
}

PatientReport two_time_points() {
  PatientReport r;
  r.patient_id = "PSN-1";
  LineReport line;
  line.number = 1;
  line.best_response = "PR";
  r.lines.push_back(line);
  TimePointReport base, fu;
  base.line = fu.line = 1;
  base.baseline = true;
  base.date = "2026-01-12";
  fu.date = "2026-03-13";  // 60 days later
  base.lesions = {target("T1", 40), target("N1", 25, true, 20)};
  fu.lesions = {target("T1", 20), target("N1", 26, true, 10)};
  fu.lesions[0].value.status = MeasurementStatus::kMeasured;
  r.time_points = {base, fu};
  return r;
}

TEST(SpiderPlot, EachTargetsCourseIsItsChangeFromBaselineAndANodeIsFollowedByItsShortAxis) {
  const auto courses = target_courses(two_time_points(), 1);
  ASSERT_EQ(courses.size(), 2u);
  EXPECT_EQ(courses[0].lesion, "T1");
  ASSERT_EQ(courses[0].points.size(), 2u);
  EXPECT_DOUBLE_EQ(courses[0].points[1].first, 60);
  EXPECT_DOUBLE_EQ(courses[0].points[1].second, -50);  // 40 -> 20 mm
  EXPECT_DOUBLE_EQ(courses[1].points[1].second, -50);  // short axis 20 -> 10 mm (the long axis grew)
}

TEST(PeopleReport, ThePdfHasASummaryPageAndOnePerTimePointAndTheHtmlIsOneFile) {
  const std::filesystem::path dir = oqtest::scratch_root() / "people_report";
  std::filesystem::create_directories(dir);
  const PatientReport r = two_time_points();
  ASSERT_TRUE(write_pdf(r, {"test", "2026-12-07"}, (dir / "r.pdf").string()).ok());
  ASSERT_TRUE(write_html(r, {"test", "2026-12-07"}, (dir / "r.html").string()).ok());
  std::stringstream pdf, html;
  pdf << std::ifstream(dir / "r.pdf", std::ios::binary).rdbuf();
  html << std::ifstream(dir / "r.html").rdbuf();
  EXPECT_EQ(pdf.str().rfind("%PDF", 0), 0u);
  EXPECT_NE(pdf.str().find("/Count 3"), std::string::npos) << "summary + two time points";
  EXPECT_NE(html.str().find("<svg"), std::string::npos) << "the spider plot is inline";
  EXPECT_NE(html.str().find("2026-03-13"), std::string::npos);
  EXPECT_EQ(html.str().find("src=\"http"), std::string::npos) << "nothing fetched from elsewhere";
  EXPECT_FALSE(write_pdf(r, {"test", "x"}, (dir / "no-such-folder" / "r.pdf").string()).ok());
}

}  // namespace
}  // namespace oq::html_report
