// Kaplan-Meier on small cohorts worked by hand.
#include <gtest/gtest.h>

#include "oq/recist/survival.h"

using oq::recist::kaplan_meier;

TEST(KaplanMeier, ProductLimitOverEventsWithCensoringsBetween) {
  // 6 patients: progression at 1, censored at 2, two progressions at 3, censored at 4, progression at 5.
  const auto km = kaplan_meier({{5, true}, {3, true}, {1, true}, {4, false}, {2, false}, {3, true}});
  ASSERT_EQ(km.steps.size(), 5u);
  EXPECT_DOUBLE_EQ(km.survival_at(0), 1.0);
  EXPECT_DOUBLE_EQ(km.survival_at(1), 5.0 / 6.0);
  EXPECT_DOUBLE_EQ(km.survival_at(2.5), 5.0 / 6.0) << "a censoring does not step the curve";
  EXPECT_DOUBLE_EQ(km.survival_at(3), 5.0 / 6.0 * (1 - 2.0 / 4.0)) << "four at risk at day 3, two progress";
  EXPECT_DOUBLE_EQ(km.survival_at(5), 0.0);
  EXPECT_EQ(km.at_risk_at(0), 6);
  EXPECT_EQ(km.at_risk_at(3), 4);
  EXPECT_EQ(km.at_risk_at(3.5), 2);
  EXPECT_EQ(km.at_risk_at(6), 0);
  ASSERT_TRUE(km.median_days.has_value());
  EXPECT_EQ(*km.median_days, 3);
}

TEST(KaplanMeier, ACensoringAtAnEventsTimeWasStillAtRiskThen) {
  const auto km = kaplan_meier({{10, false}, {10, true}});
  ASSERT_EQ(km.steps.size(), 1u);
  EXPECT_EQ(km.steps[0].at_risk, 2);
  EXPECT_DOUBLE_EQ(km.survival_at(10), 0.5);
  EXPECT_EQ(*km.median_days, 10);
}

TEST(KaplanMeier, NoMedianWhileMoreThanHalfAreFreeOfProgression) {
  const auto km = kaplan_meier({{100, true}, {200, false}, {300, false}});
  EXPECT_FALSE(km.median_days.has_value());
  EXPECT_NEAR(km.survival_at(400), 2.0 / 3.0, 1e-12);
  EXPECT_TRUE(kaplan_meier({}).steps.empty());
}
