#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "oq/measurement.h"
#include "oq/serialize.h"

namespace {

TEST(Caliper, LengthIsTheDistanceBetweenItsEndPoints) {
  oq::Caliper c;
  c.a = {0, 0, 10};
  c.b = {3, 4, 10};
  EXPECT_DOUBLE_EQ(c.length_mm(), 5.0);
}

TEST(MeasurementNames, EveryNameReadsBackToItsValue) {
  for (int i = 0; i < 7; ++i) {
    const auto s = static_cast<oq::MeasurementStatus>(i);
    EXPECT_EQ(oq::measurement_status_from(oq::to_string(s)), s);
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(oq::lesion_role_from(oq::to_string(static_cast<oq::LesionRole>(i))), static_cast<oq::LesionRole>(i));
    EXPECT_EQ(oq::measurement_method_from(oq::to_string(static_cast<oq::MeasurementMethod>(i))),
              static_cast<oq::MeasurementMethod>(i));
  }
  EXPECT_EQ(oq::to_string(oq::MeasurementStatus::kUnequivocalProgression), std::string("unequivocal-progression"));
  EXPECT_FALSE(oq::measurement_status_from("Measured"));
  EXPECT_FALSE(oq::lesion_role_from("nontarget"));
}

// The binary residue the review found in `segment --json` (0.018000000000000002 ml).
TEST(Serializer, RoundedValuesPrintAsTheirDecimalsWithoutBinaryResidue) {
  EXPECT_EQ(oq::Json(oq::report_value(0.018000000000000002, oq::Quantity::kVolumeMl)).dump(), "0.018");
  EXPECT_EQ(oq::Json(oq::report_value(0.1 + 0.2, oq::Quantity::kLengthMm)).dump(), "0.3");
  EXPECT_EQ(oq::Json(oq::report_value(12.345678, oq::Quantity::kUptake)).dump(), "12.3457");
  EXPECT_EQ(oq::Json(oq::report_value(-0.004, oq::Quantity::kLengthMm)).dump(), "0.0");
  EXPECT_EQ(oq::Json(oq::report_value(-41.26, oq::Quantity::kHu)).dump(), "-41.3");
}

TEST(Serializer, AMissingOrNonFiniteValueIsNull) {
  EXPECT_TRUE(oq::json_value(std::nullopt, oq::Quantity::kLengthMm).is_null());
  EXPECT_TRUE(oq::json_value(std::numeric_limits<double>::quiet_NaN(), oq::Quantity::kUptake).is_null());
  EXPECT_TRUE(oq::json_value(std::numeric_limits<double>::infinity(), oq::Quantity::kUptake).is_null());
}

TEST(Serializer, ALesionMeasurementCarriesItsCalipersAndNames) {
  oq::LesionMeasurement m;
  m.lesion_id = "T1";
  m.tracking_uid = "2.25.1";
  m.role = oq::LesionRole::kTarget;
  m.long_axis_mm = 31.257;
  m.long_axis = oq::Caliper{{0, 0, 5}, {31.257, 0, 5}, "1.2.3", 0};
  m.volume_ml = 12.0004;
  m.method = oq::MeasurementMethod::kEdited;
  const oq::Json j = oq::to_json(m);
  EXPECT_EQ(j["lesion"], "T1");
  EXPECT_EQ(j["role"], "target");
  EXPECT_EQ(j["status"], "measured");
  EXPECT_EQ(j["method"], "edited");
  EXPECT_EQ(j["long_axis_mm"].dump(), "31.26");
  EXPECT_TRUE(j["short_axis_mm"].is_null());
  EXPECT_EQ(j["long_axis"]["endpoints_mm"][1].dump(), "[31.26,0.0,5.0]");
  EXPECT_EQ(j["long_axis"]["sop_instance_uid"], "1.2.3");
  EXPECT_EQ(j["volume_ml"].dump(), "12.0");
  EXPECT_FALSE(j.contains("suv"));
}

}  // namespace
