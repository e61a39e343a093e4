// ../shared/specs/ihc.md sections 1-3: ER/PR scores with the spec's own check and the Allred
// and category boundaries, every HER2 score row, and the phenotype groups.
#include <gtest/gtest.h>

#include <algorithm>

#include "oq/wsi/scoring.h"

namespace oq::wsi {
namespace {

TEST(ReceptorScore, TheSpecCheck) {
  // 25 cells each of 0, 1+, 2+ and 3+: 75 % positive, H-score 150, Allred 5 + 2 = 7.
  const ReceptorScore s = score_receptor({25, 25, 25, 25});
  EXPECT_DOUBLE_EQ(s.percent_positive, 75);
  EXPECT_DOUBLE_EQ(s.h_score, 150);
  EXPECT_EQ(s.allred_proportion, 5);
  EXPECT_EQ(s.allred_intensity, 2);
  EXPECT_EQ(s.allred_total, 7);
  EXPECT_EQ(s.category, ReceptorCategory::kPositive);
}

TEST(ReceptorScore, AllredProportionBoundaries) {
  struct Row {
    std::size_t positive, of;
    int proportion;
  };
  for (const Row& r : {Row{0, 100, 0}, Row{1, 200, 1}, Row{1, 100, 2}, Row{10, 100, 2}, Row{11, 100, 3}, Row{33, 100, 3},
                       Row{34, 100, 4}, Row{66, 100, 4}, Row{67, 100, 5}, Row{100, 100, 5}}) {
    const ReceptorScore s = score_receptor({r.of - r.positive, 0, r.positive, 0});
    EXPECT_EQ(s.allred_proportion, r.proportion) << r.positive << " of " << r.of;
    EXPECT_EQ(s.allred_total, r.positive ? r.proportion + 2 : 0);
  }
  // Intensity is the average of the positive cells: mostly weak -> 1, mostly strong -> 3.
  EXPECT_EQ(score_receptor({0, 80, 10, 10}).allred_intensity, 1);
  EXPECT_EQ(score_receptor({0, 5, 10, 85}).allred_intensity, 3);
  EXPECT_DOUBLE_EQ(score_receptor({0, 0, 0, 10}).h_score, 300);
  EXPECT_EQ(score_receptor({}).allred_total, 0);  // no tumour cells: nothing, not a division by zero
}

TEST(ReceptorScore, CategoriesAtOneAndTenPercent) {
  EXPECT_EQ(receptor_category(0.9), ReceptorCategory::kNegative);
  EXPECT_EQ(receptor_category(1.0), ReceptorCategory::kLowPositive);
  EXPECT_EQ(receptor_category(10.0), ReceptorCategory::kLowPositive);
  EXPECT_EQ(receptor_category(10.5), ReceptorCategory::kPositive);
}

TEST(Her2Score, AFewFaintCellsAmongThousandsAreNotUltralowForImageAnalysis) {
  // 1 faint cell in 1000 is a misread, not HER2-ultralow, once a floor is set; 2 % is ultralow.
  EXPECT_EQ(score_her2({999, 1, 0, 0, 0}, 1.0).category, Her2Category::kNegative);
  EXPECT_EQ(score_her2({999, 1, 0, 0, 0}).category, Her2Category::kUltralow);  // a pathologist's own count
  EXPECT_EQ(score_her2({980, 20, 0, 0, 0}, 1.0).category, Her2Category::kUltralow);
}

TEST(Her2Score, EveryRowOfTheTable) {
  struct Row {
    MembraneCounts cells;
    const char* score;
    const char* category;
  };
  const Row rows[] = {
      {{100, 0, 0, 0, 0}, "0", "negative"},     // no staining
      {{90, 10, 0, 0, 0}, "0", "ultralow"},     // faint incomplete in <= 10 %
      {{89, 11, 0, 0, 0}, "1+", "low"},         // faint incomplete in > 10 %
      {{60, 29, 11, 0, 0}, "2+", "equivocal"},  // weak-moderate complete in > 10 %
      {{60, 20, 9, 11, 0}, "3+", "positive"},   // intense complete in > 10 %
      {{85, 0, 5, 10, 0}, "2+", "equivocal"},   // unusual: intense complete in <= 10 %
      {{80, 10, 0, 0, 10}, "2+", "equivocal"},  // unusual: moderate-intense incomplete
  };
  for (const Row& r : rows) {
    const Her2Result h = score_her2(r.cells);
    EXPECT_STREQ(to_string(h.score), r.score) << r.score << " " << r.category;
    EXPECT_STREQ(to_string(h.category), r.category) << r.score << " " << r.category;
  }
  const Her2Result h = score_her2({60, 20, 9, 11, 0});
  EXPECT_DOUBLE_EQ(h.percent_intense_complete, 11);
  EXPECT_DOUBLE_EQ(h.percent_faint_incomplete, 20);
}

Phenotype phenotype(double er, double pr, Her2Score her2, Ish ish = Ish::kNotDone, bool ultralow = false) {
  return assign_phenotype({er, pr, her2, ultralow, ish});
}

bool has(const Phenotype& p, const std::string& flag) {
  return std::find(p.flags.begin(), p.flags.end(), flag) != p.flags.end();
}

TEST(PhenotypeGroup, TheProtocolsThreeGroups) {
  EXPECT_EQ(phenotype(50, 0, Her2Score::k0).group, 1);
  EXPECT_EQ(phenotype(0, 50, Her2Score::k1).group, 1);  // PR alone makes HR+
  EXPECT_EQ(phenotype(60, 60, Her2Score::k3).group, 2);
  EXPECT_EQ(phenotype(0, 0, Her2Score::k3).group, 2);
  EXPECT_EQ(phenotype(0, 0, Her2Score::k0).group, 3);
  EXPECT_EQ(phenotype(0.5, 0.9, Her2Score::k1).group, 3);  // < 1 % is negative
  const Phenotype low = phenotype(5, 0, Her2Score::k1);
  EXPECT_EQ(low.group, 1);  // ER low positive still counts as HR+
  EXPECT_TRUE(has(low, "ER low positive"));
  EXPECT_TRUE(has(low, "HER2-low"));
  EXPECT_TRUE(has(low, "ER 0-10 %: confirm the internal control stained"));
  EXPECT_EQ(low.label, "HR+/HER2-");
}

TEST(PhenotypeGroup, HerTwoEquivocalNeedsIsh) {
  const Phenotype none = phenotype(80, 80, Her2Score::k2);
  EXPECT_FALSE(none.group.has_value());  // never guessed
  EXPECT_EQ(none.her2_status, "equivocal");
  EXPECT_TRUE(has(none, "ISH required"));
  EXPECT_EQ(phenotype(80, 80, Her2Score::k2, Ish::kAmplified).group, 2);
  const Phenotype not_amp = phenotype(0, 0, Her2Score::k2, Ish::kNotAmplified);
  EXPECT_EQ(not_amp.group, 3);
  EXPECT_TRUE(has(not_amp, "HER2-low"));
  EXPECT_TRUE(has(phenotype(0, 0, Her2Score::k0, Ish::kNotDone, true), "HER2-ultralow"));
  EXPECT_FALSE(has(phenotype(0, 0, Her2Score::k0), "HER2-ultralow"));
}

}  // namespace
}  // namespace oq::wsi
