// PERCIST 1.0 as section 6 of ../shared/specs/recist.md states it.
#include <gtest/gtest.h>

#include "oq/recist/percist.h"

namespace oq::recist {
namespace {

PetScan scan(int date, std::optional<double> peak, double liver = 2.0, double liver_sd = 0.25) {
  PetScan s;
  s.date = date;
  s.sul_peak = peak;
  s.liver_mean = liver;
  s.liver_sd = liver_sd;
  return s;
}

std::string response(const PetScan& base, const PetScan& follow) {
  const auto a = assess_percist(base, {follow});
  EXPECT_TRUE(a.ok());
  return a.ok() ? to_string(a.value().timepoints.at(0).response) : "error";
}

TEST(Percist, MeasurabilityFromLiverOrBloodPool) {
  // 1.5 x 2.0 + 2 x 0.25 = 3.5
  auto a = assess_percist(scan(0, 3.5), {});
  ASSERT_TRUE(a.ok());
  EXPECT_DOUBLE_EQ(a.value().measurability_threshold, 3.5);
  EXPECT_TRUE(a.value().baseline_measurable);
  EXPECT_FALSE(assess_percist(scan(0, 3.49), {}).value().baseline_measurable);
  // Abnormal liver: 2.0 x blood pool mean + 2 SD = 2 x 1.6 + 2 x 0.2 = 3.6
  PetScan b = scan(0, 3.55);
  b.liver_abnormal = true;
  EXPECT_FALSE(assess_percist(b, {}).ok());  // needs the blood pool
  b.blood_pool_mean = 1.6;
  b.blood_pool_sd = 0.2;
  a = assess_percist(b, {});
  EXPECT_DOUBLE_EQ(a.value().measurability_threshold, 3.6);
  EXPECT_FALSE(a.value().baseline_measurable);
  EXPECT_EQ(a.value().threshold_basis, "blood pool");
}

TEST(Percist, ResponseCategoriesAndTheirTwoBounds) {
  const PetScan base = scan(0, 10.0);
  EXPECT_EQ(response(base, scan(60, 7.0)), "PMR");   // -30 %, -3.0 units: both bounds, inclusive
  EXPECT_EQ(response(base, scan(60, 7.1)), "SMD");   // -29 %
  EXPECT_EQ(response(base, scan(60, 13.1)), "PMD");  // +31 %, +3.1
  EXPECT_EQ(response(base, scan(60, 13.0)), "SMD");  // +30 % exactly is not more than 30 %
  EXPECT_EQ(response(base, scan(60, 1.9)), "CMR");   // at or below the liver
  EXPECT_EQ(response(base, scan(60, std::nullopt)), "CMR");
  // Small absolute changes: -35 % but only -0.7 units is not PMR; +35 % but +0.7 is not PMD.
  const PetScan low = scan(0, 2.0, 1.0, 0.1);  // threshold 1.7
  EXPECT_EQ(response(low, scan(60, 1.3, 1.0, 0.1)), "SMD");
  EXPECT_EQ(response(low, scan(60, 2.7, 1.0, 0.1)), "SMD");
  EXPECT_EQ(response(low, scan(60, 1.2, 1.0, 0.1)), "PMR");  // -40 %, -0.8: both met
}

TEST(Percist, NewLesionsAndExtentAreProgression) {
  const PetScan base = scan(0, 10.0);
  PetScan f = scan(60, 6.0);
  f.new_lesion = true;
  EXPECT_EQ(response(base, f), "PMD");
  PetScan b2 = base;
  b2.tlg = 100;
  PetScan f2 = scan(60, 10.5);
  f2.tlg = 180;  // +80 %
  EXPECT_EQ(response(b2, f2), "PMD");
  f2.tlg = 170;  // +70 %
  EXPECT_EQ(response(b2, f2), "SMD");
}

TEST(Percist, ScansThatDoNotCompareAreNotEvaluated) {
  const PetScan base = scan(0, 10.0, 2.0);
  auto a = assess_percist(base, {scan(60, 6.0, 2.45)});  // liver +22.5 %
  EXPECT_EQ(std::string(to_string(a.value().timepoints[0].response)), "NE");
  EXPECT_FALSE(a.value().timepoints[0].comparable);
  a = assess_percist(base, {scan(60, 6.0, 2.29)});  // +14.5 %, +0.29: comparable
  EXPECT_EQ(std::string(to_string(a.value().timepoints[0].response)), "PMR");
  PetScan late = scan(60, 6.0);
  late.uptake_minutes = 75;  // 15 min later than 60
  a = assess_percist(base, {late});
  EXPECT_EQ(std::string(to_string(a.value().timepoints[0].response)), "NE");
  EXPECT_NE(a.value().timepoints[0].reason.find("uptake time"), std::string::npos);
}

TEST(Percist, NotMeasurableAtBaselineIsNotEvaluable) {
  auto a = assess_percist(scan(0, 3.0), {scan(60, 1.0)});
  EXPECT_EQ(std::string(to_string(a.value().timepoints[0].response)), "NE");
  EXPECT_NE(a.value().timepoints[0].reason.find("measurability"), std::string::npos);
}

TEST(Percist, BestResponseUntilProgression) {
  auto a = assess_percist(scan(0, 10.0), {scan(60, 6.0), scan(120, 1.5), scan(180, 9.0)});
  EXPECT_EQ(std::string(to_string(a.value().best)), "CMR");
  a = assess_percist(scan(0, 10.0), {scan(60, 14.0), scan(120, 5.0)});
  EXPECT_EQ(std::string(to_string(a.value().timepoints[1].response)), "PMD");  // stays progression
  EXPECT_EQ(std::string(to_string(a.value().best)), "PMD");
}

}  // namespace
}  // namespace oq::recist
