// The cohort's pictures from a made-up cohort: bars, lanes and curves land where their values say, in
// their group's colour, and the index links each report and escapes what patients' ids hold.
#include <cairo.h>
#include <gtest/gtest.h>
#include <oqtest/scratch_root.h>

#include <cmath>

#include "oq/html_report/cohort.h"

namespace oq::html_report {
namespace {

CohortCase patient(const std::string& id, std::optional<int> group, double change, int pfs, bool censored) {
  CohortCase c;
  c.patient = id;
  c.status = "complete";
  c.group = group;
  CohortLine l;
  l.number = 1;
  l.start_date = "2026-01-10";
  l.best_change_pct = change;
  l.pfs_days = pfs;
  l.pfs_censored = censored;
  l.best_response = change <= -30 ? "PR" : "SD";
  l.responses = {{"2026-03-10", l.best_response, "no"}};
  if (!censored) l.progression_date = "2026-05-10";
  c.lines = {l};
  return c;
}

struct Png {
  cairo_surface_t* s;
  explicit Png(const std::string& path) : s(cairo_image_surface_create_from_png(path.c_str())) {}
  ~Png() { cairo_surface_destroy(s); }
  bool ok() const { return cairo_surface_status(s) == CAIRO_STATUS_SUCCESS; }
  // Pixels of roughly this colour in the column range [x0, x1).
  int count(int x0, int x1, int r, int g, int b) const {
    const int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    const int stride = cairo_image_surface_get_stride(s);
    const unsigned char* d = cairo_image_surface_get_data(s);
    int n = 0;
    for (int y = 0; y < h; ++y)
      for (int x = std::max(0, x0); x < std::min(w, x1); ++x) {
        const unsigned char* p = d + y * stride + 4 * x;  // BGRA little endian
        if (std::abs(p[2] - r) < 12 && std::abs(p[1] - g) < 12 && std::abs(p[0] - b) < 12) ++n;
      }
    return n;
  }
};

TEST(CohortPlots, WaterfallBarsAreSortedAndColouredByGroup) {
  const std::string dir = oqtest::fresh_scratch("cohort").string();
  // Sorted from the largest growth: P3 (+25 %, group 3 green), P2 (-10 %, group 2 orange), P1 (-60 %, group 1 blue).
  const std::vector<CohortCase> cases = {patient("P1", 1, -60, 300, true), patient("P2", 2, -10, 120, false),
                                         patient("P3", 3, 25, 60, false)};
  ASSERT_TRUE(write_waterfall_png(cases, 1, dir + "/w.png"));
  Png png(dir + "/w.png");
  ASSERT_TRUE(png.ok());
  // The plot spans x 70-880 in three slots of 270 px.
  const int blue[] = {31, 102, 191}, orange[] = {237, 125, 26}, green[] = {41, 153, 64};
  EXPECT_GT(png.count(70, 340, green[0], green[1], green[2]), 100) << "the first slot is the largest growth";
  EXPECT_GT(png.count(340, 610, orange[0], orange[1], orange[2]), 100);
  EXPECT_GT(png.count(610, 880, blue[0], blue[1], blue[2]), 100);
  EXPECT_LT(png.count(610, 880, green[0], green[1], green[2]), 5);
  // The -60 % bar is six times the height of the -10 % one.
  const double tall = png.count(610, 880, blue[0], blue[1], blue[2]),
               short_bar = png.count(340, 610, orange[0], orange[1], orange[2]);
  EXPECT_NEAR(tall / short_bar, 6.0, 0.6);
}

TEST(CohortPlots, SwimmerAndKaplanMeierAreWrittenForAnyCohort) {
  const std::string dir = oqtest::fresh_scratch("cohort-any").string();
  std::vector<CohortCase> cases = {patient("P1", 1, -60, 300, true), patient("P2", 1, -10, 120, false)};
  CohortCase none;
  none.patient = "P9";
  none.status = "failed";
  cases.push_back(none);
  for (const std::vector<CohortCase>& cohort : {cases, std::vector<CohortCase>{}}) {
    ASSERT_TRUE(write_swimmer_png(cohort, dir + "/s.png"));
    ASSERT_TRUE(write_kaplan_meier_png(cohort, 1, dir + "/k.png"));
    EXPECT_TRUE(Png(dir + "/s.png").ok());
    EXPECT_TRUE(Png(dir + "/k.png").ok());
  }
  EXPECT_FALSE(write_swimmer_png(cases, dir + "/no-such-folder/s.png"));
}

TEST(CohortIndex, LinksReportsCountsStatusesAndEscapesIds) {
  std::vector<CohortCase> cases = {patient("P1", 1, -60, 300, true), patient("<b>x</b>", std::nullopt, 5, 90, false)};
  cases[1].status = "failed";
  cases[1].problems = {"segment T1: error: no lesion found"};
  CohortPage page;
  page.report_links["P1"] = "patients/P1/reports/P1_report.html";
  page.images = {{"Swimmer plot", "swimmer.png"}};
  const std::string html = cohort_index_html(cases, page);
  EXPECT_NE(html.find("<a href=\"patients/P1/reports/P1_report.html\">P1</a>"), std::string::npos);
  EXPECT_NE(html.find("2 patients: 1 complete; 1 failed."), std::string::npos) << html.substr(0, 800);
  EXPECT_EQ(html.find("<b>x</b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;x&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(html.find("<img src=\"swimmer.png\""), std::string::npos);
  EXPECT_NE(html.find("300+"), std::string::npos) << "a censored PFS is marked";
}

}  // namespace
}  // namespace oq::html_report
