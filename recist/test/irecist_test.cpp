// iRECIST (section 5 of ../shared/specs/recist.md): unconfirmed and confirmed progression, new
// lesions kept apart from the baseline sum, reset after iSD/iPR/iCR, and the best response.
#include <gtest/gtest.h>

#include "helpers.h"

namespace oq::recist {
namespace {

using namespace testing;  // NOLINT(google-build-using-namespace)

Case irecist_case(const std::vector<double>& sums, double baseline = 50) {
  Case c = single_target_case(baseline, sums, true);
  c.criteria = Criteria::kIrecist;
  return c;
}

std::vector<std::string> responses(const Assessment& a) {
  std::vector<std::string> out;
  for (const TimePointResult& t : a.timepoints) out.push_back(to_string(t.overall_response));
  return out;
}

using Seq = std::vector<std::string>;

TEST(Irecist, ProgressionIsUnconfirmedUntilTheNextAssessmentShowsMore) {
  // 50 -> 40 (nadir) -> 50 (+25 %, +10 mm: iUPD) -> 55 (+5 mm more: iCPD)
  const Assessment a = assessed(irecist_case({40, 50, 55}));
  EXPECT_EQ(responses(a), (Seq{"iSD", "iUPD", "iCPD"}));
  ASSERT_TRUE(a.progression_date.has_value());
  EXPECT_EQ(*a.progression_date, a.timepoints[1].date);  // the date of the confirmed iUPD
  EXPECT_EQ(std::string(to_string(a.best_overall_response)), "iSD");
}

TEST(Irecist, FurtherIncreasesAddUpAcrossTimePoints) {
  // iUPD at 50, then +4 mm (still iUPD), then +2 mm more: 6 mm since the iUPD confirms.
  EXPECT_EQ(responses(assessed(irecist_case({40, 50, 54, 56}))), (Seq{"iSD", "iUPD", "iUPD", "iCPD"}));
}

TEST(Irecist, ShrinkageAfterUnconfirmedProgressionResetsIt) {
  // iUPD, then back to 42 (iSD: reset), then 50 again: a fresh iUPD against the nadir of 40,
  // not a confirmation.
  const Assessment a = assessed(irecist_case({40, 50, 42, 50}));
  EXPECT_EQ(responses(a), (Seq{"iSD", "iUPD", "iSD", "iUPD"}));
  EXPECT_FALSE(a.progression_date.has_value());
  EXPECT_TRUE(a.pfs_censored);
  // After a reset, a small rise is not progression: 42 -> 46 is +9.5 % over the nadir of 40.
  EXPECT_EQ(responses(assessed(irecist_case({40, 50, 42, 46}))), (Seq{"iSD", "iUPD", "iSD", "iSD"}));
}

TEST(Irecist, NewLesionsAreRecordedApartFromTheBaselineSum) {
  Case c = irecist_case({40, 40, 40});
  NewLesion nlt = new_lesion("X1", "liver", true, 12);  // measurable: a new-lesion target
  c.followups[1].new_lesions = {nlt};
  nlt.long_axis_mm = 17;  // NLT sum +5 mm
  c.followups[2].new_lesions = {nlt};
  const Assessment a = assessed(c);
  EXPECT_EQ(responses(a), (Seq{"iSD", "iUPD", "iCPD"}));
  EXPECT_DOUBLE_EQ(*a.timepoints[1].sum_mm, 40);  // never added to the target sum
  EXPECT_DOUBLE_EQ(*a.timepoints[1].new_lesion_target_sum_mm, 12);
  EXPECT_DOUBLE_EQ(*a.timepoints[2].new_lesion_target_sum_mm, 17);
}

TEST(Irecist, AnAdditionalNewLesionConfirms) {
  Case c = irecist_case({40, 40, 40});
  c.followups[1].new_lesions = {new_lesion("X1", "liver", true, 12)};
  c.followups[2].new_lesions = {new_lesion("X1", "liver", true, 12), new_lesion("X2", "lung", true, 6)};
  EXPECT_EQ(responses(assessed(c)), (Seq{"iSD", "iUPD", "iCPD"}));
}

TEST(Irecist, StableNewLesionsKeepTheProgressionUnconfirmed) {
  Case c = irecist_case({40, 40, 38});
  c.followups[1].new_lesions = {new_lesion("X1", "liver", true, 12)};
  c.followups[2].new_lesions = {new_lesion("X1", "liver", true, 13)};  // +1 mm: not >= 5
  EXPECT_EQ(responses(assessed(c)), (Seq{"iSD", "iUPD", "iUPD"}));
  // ... and they disappear: reset.
  c.followups[2].new_lesions[0].status = LesionStatus::kAbsent;
  EXPECT_EQ(responses(assessed(c)), (Seq{"iSD", "iUPD", "iSD"}));
}

TEST(Irecist, NonMeasurableNewLesionIncreaseConfirms) {
  Case c = irecist_case({40, 40, 40});
  NewLesion small = new_lesion("X1", "liver", true, 6);  // < 10 mm: a new-lesion non-target
  c.followups[1].new_lesions = {small};
  small.status = LesionStatus::kIncreased;
  c.followups[2].new_lesions = {small};
  EXPECT_EQ(responses(assessed(c)), (Seq{"iSD", "iUPD", "iCPD"}));
}

TEST(Irecist, AnyNonTargetIncreaseConfirms) {
  Case c = irecist_case({40, 50, 50});                           // iUPD by targets
  c.followups[2].non_targets["NT1"] = LesionStatus::kIncreased;  // short of unequivocal
  EXPECT_EQ(responses(assessed(c)), (Seq{"iSD", "iUPD", "iCPD"}));
}

TEST(Irecist, UnconfirmedProgressionFollowedOnlyByNotEvaluableIsTheBestResponse) {
  Case c = irecist_case({60, 60});  // 50 -> 60: +20 %, +10 mm against the baseline nadir: iUPD
  c.followups[1].targets.clear();
  const Assessment a = assessed(c);
  EXPECT_EQ(responses(a), (Seq{"iUPD", "NE"}));
  EXPECT_EQ(std::string(to_string(a.best_overall_response)), "iUPD");
}

TEST(Irecist, ResponsesAfterUnconfirmedProgressionCount) {
  // Pseudo-progression: iUPD then iPR.
  const Assessment a = assessed(irecist_case({60, 30}));
  EXPECT_EQ(responses(a), (Seq{"iUPD", "iPR"}));
  EXPECT_EQ(std::string(to_string(a.best_overall_response)), "iPR");
}

TEST(Irecist, ConfirmedProgressionIsTheBestResponseWhenNothingBetterCame) {
  const Assessment a = assessed(irecist_case({60, 66}));
  EXPECT_EQ(responses(a), (Seq{"iUPD", "iCPD"}));
  EXPECT_EQ(std::string(to_string(a.best_overall_response)), "iCPD");
  EXPECT_EQ(*a.progression_date, a.timepoints[0].date);
}

}  // namespace
}  // namespace oq::recist
