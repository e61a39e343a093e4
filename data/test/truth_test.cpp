// The generator's clinical arithmetic (IHC scores, phenotype group, RECIST course) on the checks
// the specs give, and the demo patients' designed courses.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "../phantom/src/slide.h"
#include "oq/phantom/patient.h"
#include "oq/phantom/plan.h"
#include "oq/phantom/truth.h"

namespace oq::phantom {
namespace {

TEST(IhcTruth, SpecCheckOfTwentyFiveCellsPerClass) {
  // ../shared/specs/ihc.md section 2: 25 cells each of 0, 1+, 2+, 3+.
  const Json s = ihc_scores(Marker::kER, {25, 25, 25, 25});
  EXPECT_DOUBLE_EQ(s["percent_positive"].get<double>(), 75);
  EXPECT_DOUBLE_EQ(s["h_score"].get<double>(), 150);
  EXPECT_EQ(s["allred"]["proportion"], 5);
  EXPECT_EQ(s["allred"]["intensity"], 2);
  EXPECT_EQ(s["allred"]["total"], 7);
  EXPECT_EQ(s["category"], "positive");
}

TEST(IhcTruth, LowPositiveAndNegativeBoundaries) {
  EXPECT_EQ(ihc_scores(Marker::kER, {990, 10, 0, 0})["category"], "low-positive");   // 1 %
  EXPECT_EQ(ihc_scores(Marker::kER, {900, 100, 0, 0})["category"], "low-positive");  // 10 %
  EXPECT_EQ(ihc_scores(Marker::kER, {995, 5, 0, 0})["category"], "negative");        // 0.5 %
  EXPECT_EQ(ihc_scores(Marker::kER, {995, 5, 0, 0})["allred"]["total"], 2);          // proportion 1 + weak 1
  EXPECT_EQ(ihc_scores(Marker::kPR, {1000, 0, 0, 0})["allred"]["total"], 0);
}

TEST(IhcTruth, Her2ScoresFollowTheGuideline) {
  EXPECT_EQ(ihc_scores(Marker::kHER2, {5, 5, 10, 80})["her2"]["score"], "3+");
  EXPECT_EQ(ihc_scores(Marker::kHER2, {70, 10, 20, 0})["her2"]["score"], "2+");
  EXPECT_EQ(ihc_scores(Marker::kHER2, {72, 28, 0, 0})["her2"]["category"], "low");
  EXPECT_EQ(ihc_scores(Marker::kHER2, {94, 6, 0, 0})["her2"]["category"], "ultralow");
  EXPECT_EQ(ihc_scores(Marker::kHER2, {100, 0, 0, 0})["her2"]["category"], "negative");
  // Intense complete staining in <= 10 % is an unusual pattern: equivocal.
  EXPECT_EQ(ihc_scores(Marker::kHER2, {95, 0, 0, 5})["her2"]["score"], "2+");
}

TEST(IhcTruth, PhenotypeGroups) {
  const Json er_pos = ihc_scores(Marker::kER, {10, 30, 30, 30}), neg = ihc_scores(Marker::kER, {100, 0, 0, 0});
  EXPECT_EQ(phenotype_group(er_pos, neg, ihc_scores(Marker::kHER2, {72, 28, 0, 0}))["group"], 1);
  EXPECT_EQ(phenotype_group(neg, neg, ihc_scores(Marker::kHER2, {5, 5, 10, 80}))["group"], 2);
  EXPECT_EQ(phenotype_group(neg, neg, ihc_scores(Marker::kHER2, {94, 6, 0, 0}))["group"], 3);
  EXPECT_TRUE(phenotype_group(er_pos, neg, ihc_scores(Marker::kHER2, {70, 10, 20, 0}))["group"].is_null());
}

TEST(DemoPlan, DesignedSlidesGiveTheDesignedGroups) {
  for (const PatientPlan& p : demo_plan()) {
    Json scores;
    for (const SlidePlan& s : p.slides) {
      std::array<long, 4> counts{};
      for (size_t c = 0; c < 4; ++c) counts[c] = std::lround(s.fractions[c] * 4000);
      scores[marker_name(s.marker)] = ihc_scores(s.marker, counts);
    }
    EXPECT_EQ(phenotype_group(scores["ER"], scores["PR"], scores["HER2"])["group"], p.expected_group) << p.id;
  }
}

TEST(DemoPlan, CoursesGiveTheDesignedResponses) {
  // The responses the plan was designed for, computed from the true diameters of the placed lesions.
  const std::map<std::string, std::vector<std::vector<std::string>>> designed{
      {"OQ-DEMO-001", {{"PR", "PR", "PD"}}}, {"OQ-DEMO-002", {{"SD", "SD"}}}, {"OQ-DEMO-003", {{"PD"}, {"SD", "PR"}}}};
  for (const PatientPlan& plan : demo_plan()) {
    const PlacedPatient p = place_patient(plan, 20261123);
    std::vector<std::vector<LesionTruth>> per_tp;
    for (size_t tp = 0; tp < plan.time_points.size(); ++tp) {
      std::vector<double> planes;
      for (double z = -400; z <= 200; z += plan.slice_thickness_mm)
        planes.push_back(z + p.slice_phase[tp] * plan.slice_thickness_mm);
      per_tp.push_back(measure_time_point(p, tp, planes));
    }
    const Json lines = recist_truth(p, per_tp);
    const auto& want = designed.at(plan.id);
    ASSERT_EQ(lines.size(), want.size()) << plan.id;
    for (size_t l = 0; l < want.size(); ++l) {
      std::vector<std::string> got;
      for (const auto& f : lines[l]["followups"]) got.push_back(f["overall_response"]);
      EXPECT_EQ(got, want[l]) << plan.id << " line " << l + 1 << ": " << lines[l].dump();
    }
  }
}

TEST(DemoPlan, LesionsShrinkGrowVanishAndAppear) {
  bool shrinks = false, grows = false, vanishes = false, appears = false;
  for (const PatientPlan& p : demo_plan())
    for (const LesionPlan& l : p.lesions)
      for (size_t t = 1; t < l.course.size(); ++t) {
        const double before = l.course[t - 1], now = l.course[t];
        shrinks = shrinks || (now > 0 && now < before);
        grows = grows || (before > 0 && now > before);
        vanishes = vanishes || (before > 0 && now == 0);
        appears = appears || (before == 0 && now > 0);
      }
  EXPECT_TRUE(shrinks && grows && vanishes && appears);
}

TEST(DemoPlan, UidsAreValidAndDistinct) {
  const std::string a = make_uid(1, "x"), b = make_uid(1, "y");
  EXPECT_NE(a, b);
  EXPECT_LE(a.size(), 64U);
  EXPECT_EQ(a.rfind("2.25.", 0), 0U);
  EXPECT_NE(a[5], '0');
  EXPECT_EQ(make_uid(1, "x"), a);
}

}  // namespace
}  // namespace oq::phantom

namespace oq::phantom {
namespace {

TEST(LesionSet, CoversTheRangesAccuracyIsMeasuredOver) {
  const auto plans = lesion_set_plan(20261123, 10);
  ASSERT_EQ(plans.size(), 10U);
  std::set<double> thickness;
  double min_size = 1e9, max_size = 0;
  std::set<LesionKind> kinds;
  bool pleura = false, vessel = false;
  for (const PatientPlan& p : plans) {
    thickness.insert(p.slice_thickness_mm);
    EXPECT_GE(p.pixel_spacing_mm, 0.6);
    EXPECT_LE(p.pixel_spacing_mm, 0.9);
    EXPECT_GE(p.ct_noise_hu, 10);
    EXPECT_LE(p.ct_noise_hu, 25);
    for (const LesionPlan& l : p.lesions) {
      kinds.insert(l.kind);
      min_size = std::min(min_size, l.size_mm);
      max_size = std::max(max_size, l.size_mm);
      pleura = pleura || l.touches_pleura;
      vessel = vessel || l.touches_vessel;
    }
  }
  EXPECT_EQ(thickness, (std::set<double>{1.25, 2.0, 2.5, 3.0, 5.0}));
  EXPECT_EQ(kinds.size(), 6U);
  EXPECT_LE(min_size, 10);
  EXPECT_GE(max_size, 45);
  EXPECT_TRUE(pleura && vessel);
}

TEST(LesionSet, EveryLesionIsPlacedInsideTheSeriesCoverage) {
  for (const PatientPlan& plan : lesion_set_plan(20261123, 6)) {
    const PlacedPatient p = place_patient(plan, 20261123);
    for (size_t i = 0; i < p.lesions.size(); ++i) {
      const Blob b = lesion_in_scan(p, i, 0);
      EXPECT_GT(b.centre().z - b.bounding_radius(), plan.ct_z_min) << plan.id << " " << p.lesions[i].plan.id;
      EXPECT_LT(b.centre().z + b.bounding_radius(), plan.ct_z_max) << plan.id << " " << p.lesions[i].plan.id;
    }
  }
}

}  // namespace
}  // namespace oq::phantom
