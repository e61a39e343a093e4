#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "oq/pet/suv.h"

namespace {

using oq::pet::compute_suv_factors;
using oq::pet::SeriesHeader;

std::string str(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return {};
  if (j[key].is_string()) return j[key].get<std::string>();
  std::ostringstream s;
  s.precision(17);
  s << j[key].get<double>();
  return s.str();
}

std::optional<double> num(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::nullopt;
  if (j[key].is_string()) {
    const std::string v = j[key].get<std::string>();
    if (v.find_first_not_of(" ") == std::string::npos) return std::nullopt;
    return std::stod(v);
  }
  return j[key].get<double>();
}

// The calculate-suv metadata files carry the header values of real vendor series.
SeriesHeader header_from_calculate_suv_json(const std::string& path) {
  std::ifstream in(path);
  const auto instances = nlohmann::json::parse(in);
  const auto& first = instances.at(0);
  SeriesHeader h;
  h.units = str(first, "Units");
  h.decay_correction = str(first, "DecayCorrection");
  for (const auto& c : first["CorrectedImage"]) h.corrected_image.push_back(c.get<std::string>());
  h.patient_sex = str(first, "PatientSex");
  h.weight_kg = num(first, "PatientWeight");
  h.height_m = num(first, "PatientSize");
  h.total_dose = num(first, "RadionuclideTotalDose");
  h.half_life_s = num(first, "RadionuclideHalfLife");
  h.series_date = str(first, "SeriesDate");
  h.series_time = str(first, "SeriesTime");
  h.injection_time = str(first, "RadiopharmaceuticalStartTime");
  h.injection_datetime = str(first, "RadiopharmaceuticalStartDateTime");
  for (const auto& inst : instances) {
    oq::pet::FrameHeader f;
    f.acquisition_date = str(inst, "AcquisitionDate");
    f.acquisition_time = str(inst, "AcquisitionTime");
    const auto& ph = inst["PhilipsPETPrivateGroup"];
    f.philips_suv_factor = num(ph, "SUVScaleFactor");
    f.philips_activity_factor = num(ph, "ActivityConcentrationScaleFactor");
    f.frame_duration_ms = num(inst, "ActualFrameDuration");
    f.frame_reference_ms = num(inst, "FrameReferenceTime");
    h.frames.push_back(f);
  }
  return h;
}

struct VendorCase {
  const char* file;
  double expected;  // from upstream calculate-suv tests, listed in shared/data/PROVENANCE.md
};

class CalculateSuvMetadata : public ::testing::TestWithParam<VendorCase> {};

TEST_P(CalculateSuvMetadata, GivesTheListedSuvBwScaleFactor) {
  const auto& c = GetParam();
  const std::string path = std::string(OQ_SHARED_DIR) + "/data/dicom/pet/calculate-suv-metadata/" + c.file;
  const auto f = compute_suv_factors(header_from_calculate_suv_json(path));
  ASSERT_TRUE(f.bw_available) << f.bw_reason;
  for (double v : f.bw) EXPECT_NEAR(v / c.expected, 1.0, 1e-6) << c.file;
}

INSTANTIATE_TEST_SUITE_P(Vendors, CalculateSuvMetadata,
                         ::testing::Values(VendorCase{"BQML_AC_DT_lessThan_S_DT_SIEMENS-instances.json", 0.0004069156854009332},
                                           VendorCase{"CPS_AND_BQML_AC_DT_-_S_DT-instances.json", 0.00026503312764157046},
                                           VendorCase{"GE_MEDICAL_AND_BQML-instances.json", 0.0005367387681819742},
                                           VendorCase{"PHILIPS_BQML-instances.json", 0.0007463747013889488},
                                           VendorCase{"PHILIPS_CNTS_AND_BQML_SUV-instances.json", 0.000551},
                                           VendorCase{"PHILIPS_CNTS_AND_SUV-instances.json", 0.000728},
                                           VendorCase{"RADIOPHARM_DATETIME_UNDEFINED-instances.json", 0.0003721089202818729},
                                           VendorCase{"SIEMENS-instances.json", 0.00042748316187197236}),
                         [](const ::testing::TestParamInfo<VendorCase>& i) {
                           std::string n = i.param.file;
                           n = n.substr(0, n.find("-instances"));
                           for (auto& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

SeriesHeader fdg_default() {
  SeriesHeader h;
  h.units = "BQML";
  h.decay_correction = "START";
  h.corrected_image = {"ATTN", "DECY", "NORM"};
  h.patient_sex = "F";
  h.weight_kg = 70;
  h.height_m = 1.65;
  h.total_dose = 370e6;
  h.half_life_s = 6586.2;
  h.series_date = "20250101";
  h.series_time = "110000";
  h.injection_time = "100000";
  oq::pet::FrameHeader f;
  f.acquisition_date = "20250101";
  f.acquisition_time = "110000";
  f.frame_duration_ms = 120000;
  f.frame_reference_ms = 0;
  h.frames = {f};
  return h;
}

double expected_bw(double w_kg, double dose, double seconds) {
  return w_kg * 1000.0 / (dose * std::pow(2.0, -seconds / 6586.2));
}

TEST(SuvBw, StartDecaysTheDoseFromInjectionToSeriesTime) {
  const auto f = compute_suv_factors(fdg_default());
  ASSERT_TRUE(f.bw_available);
  EXPECT_NEAR(f.bw[0], expected_bw(70, 370e6, 3600), 1e-12);
  EXPECT_DOUBLE_EQ(f.decay_seconds, 3600);
}

TEST(SuvBw, AdminMeansNoDecayOfTheDose) {
  auto h = fdg_default();
  h.decay_correction = "ADMIN";
  EXPECT_NEAR(compute_suv_factors(h).bw[0], 70e3 / 370e6, 1e-15);
}

TEST(SuvBw, DoseBelowTenThousandIsMegabecquerel) {
  auto h = fdg_default();
  h.total_dose = 370.0;
  const auto f = compute_suv_factors(h);
  EXPECT_NEAR(f.bw[0], expected_bw(70, 370e6, 3600), 1e-12);
  EXPECT_NE(f.notes.find("MBq"), std::string::npos);
}

TEST(SuvBw, WeightAboveThousandIsGrams) {
  auto h = fdg_default();
  h.weight_kg = 70000;
  EXPECT_NEAR(compute_suv_factors(h).bw[0], expected_bw(70, 370e6, 3600), 1e-12);
}

// Found by fuzz_suv_header: a weight of 9e307 (read as grams, still 9e304 kg) gave an infinite
// SULlbm factor. Above 500 kg (after grams) no SUV is derived; a height over 3 m (after
// centimetres) is ignored, so SULlbm is unavailable and SUVbw stands.
TEST(SuvBw, WeightBeyondAnyPatientGivesNoSuv) {
  auto h = fdg_default();
  h.weight_kg = 501;
  EXPECT_FALSE(compute_suv_factors(h).bw_available);
  h.weight_kg = 9e307;
  const auto f = compute_suv_factors(h);
  EXPECT_FALSE(f.bw_available);
  EXPECT_FALSE(f.lbm_available);
  EXPECT_NE(f.bw_reason.find("no patient's weight"), std::string::npos) << f.bw_reason;
}

TEST(SuvBw, HeightBeyondThreeMetresLeavesNoLeanBodyMass) {
  auto h = fdg_default();
  h.height_m = 9e307;
  const auto f = compute_suv_factors(h);
  EXPECT_TRUE(f.bw_available);
  EXPECT_FALSE(f.lbm_available);
  h.height_m = 165;  // centimetres
  EXPECT_TRUE(compute_suv_factors(h).lbm_available);
}

TEST(SuvBw, InjectionBeforeMidnightScanAfter) {
  auto h = fdg_default();
  h.series_date = "20250102";
  h.series_time = "003000";
  h.frames[0].acquisition_date = "20250102";
  h.frames[0].acquisition_time = "003000";
  h.injection_time = "233000";
  const auto f = compute_suv_factors(h);
  ASSERT_TRUE(f.bw_available) << f.bw_reason;
  EXPECT_NEAR(f.bw[0], expected_bw(70, 370e6, 3600), 1e-12);
}

TEST(SuvBw, SeriesTimeAfterAcquisitionFallsBackToGePrivateThenFrameTiming) {
  auto h = fdg_default();
  h.series_time = "120000";  // re-created after the acquisition at 11:00
  h.frames[0].frame_reference_ms = 90000;
  // Any vendor but GE: Acquisition Time is the frame start, the reference Tacq + Tave - 90 s.
  const double t_avg = oq::pet::frame_average_offset_s(120, 6586.2);
  EXPECT_NEAR(compute_suv_factors(h).bw[0], expected_bw(70, 370e6, 3600 + t_avg - 90), 1e-12);
  h.manufacturer = "Synthetic";
  EXPECT_NEAR(compute_suv_factors(h).bw[0], expected_bw(70, 370e6, 3600 + t_avg - 90), 1e-12);
  h.ge_scan_datetime = "20250101104500";
  EXPECT_NEAR(compute_suv_factors(h).bw[0], expected_bw(70, 370e6, 2700), 1e-12);
  // No frame timing (Frame Reference Time 0 or absent): the earliest acquisition is the start.
  h.ge_scan_datetime.clear();
  h.frames[0].frame_reference_ms = 0;
  EXPECT_NEAR(compute_suv_factors(h).bw[0], expected_bw(70, 370e6, 3600), 1e-12);
  h.frames[0].frame_reference_ms.reset();
  EXPECT_NEAR(compute_suv_factors(h).bw[0], expected_bw(70, 370e6, 3600), 1e-12);
}

TEST(SuvBw, DecayNoneNeedsNoDecyInCorrectedImage) {
  auto h = fdg_default();
  h.decay_correction = "NONE";
  h.corrected_image = {"ATTN", "NORM"};
  ASSERT_TRUE(compute_suv_factors(h).bw_available) << compute_suv_factors(h).bw_reason;
  h.decay_correction = "START";
  EXPECT_FALSE(compute_suv_factors(h).bw_available) << "START without DECY: decay state unknown";
}

TEST(SuvBw, DecayNoneUsesEachFramesOwnAcquisitionAndFrameAverageTime) {
  auto h = fdg_default();
  h.decay_correction = "NONE";
  auto later = h.frames[0];
  later.acquisition_time = "111000";
  h.frames.push_back(later);
  const auto f = compute_suv_factors(h);
  ASSERT_TRUE(f.bw_available) << f.bw_reason;
  // Independent check of the frame-average time: the mean of 2^(-t/T) over [0, 120 s] equals
  // 2^(-t_avg/T), integrated numerically here.
  double mean = 0;
  const int steps = 120000;
  for (int i = 0; i < steps; ++i) mean += std::pow(2.0, -(120.0 * (i + 0.5) / steps) / 6586.2) / steps;
  const double t_avg = -std::log2(mean) * 6586.2;
  EXPECT_NEAR(oq::pet::frame_average_offset_s(120, 6586.2), t_avg, 1e-6);
  EXPECT_NEAR(f.bw[0], expected_bw(70, 370e6, 3600 + t_avg), 1e-12);
  EXPECT_NEAR(f.bw[1], expected_bw(70, 370e6, 4200 + t_avg), 1e-12);
  h.frames[1].frame_duration_ms.reset();
  EXPECT_FALSE(compute_suv_factors(h).bw_available);
}

TEST(SuvBw, SiemensSeriesRecreatedAfterAcquisitionUsesFrameTiming) {
  auto h = fdg_default();
  h.manufacturer = "SIEMENS";
  h.series_time = "120000";
  h.frames[0].frame_reference_ms = 30000;
  const double t_avg = oq::pet::frame_average_offset_s(120, 6586.2);
  EXPECT_NEAR(compute_suv_factors(h).bw[0], expected_bw(70, 370e6, 3600 - 30 + t_avg), 1e-12);
  h.manufacturer = "GE MEDICAL SYSTEMS";
  EXPECT_NEAR(compute_suv_factors(h).bw[0], expected_bw(70, 370e6, 3600 - 30), 1e-12);
  h.manufacturer = "PHILIPS";
  h.frames[0].frame_duration_ms.reset();
  EXPECT_FALSE(compute_suv_factors(h).bw_available) << "frame duration is needed outside GE";
}

TEST(SuvBw, StartTimeAloneIsAmbiguousForLongLivedTracers) {
  auto h = fdg_default();
  h.half_life_s = 282240;  // Zr-89
  const auto f = compute_suv_factors(h);
  EXPECT_FALSE(f.bw_available);
  EXPECT_NE(f.bw_reason.find("ambiguous"), std::string::npos);
}

TEST(SuvBw, FullInjectionDateTimeAllowsUptakeOverADay) {
  auto h = fdg_default();
  h.injection_datetime = "20241230100000";  // full datetime: a Zr-89 study imaged 2 days later is fine
  h.half_life_s = 282240;
  EXPECT_TRUE(compute_suv_factors(h).bw_available);
}

TEST(SuvBw, GmlBodyWeightIsAlreadySuvBw) {
  auto h = fdg_default();
  h.units = "GML";
  EXPECT_DOUBLE_EQ(compute_suv_factors(h).bw[0], 1.0);
}

TEST(SuvBw, GmlOtherNormalisationsAreConvertedBackToBodyWeight) {
  auto h = fdg_default();
  h.units = "GML";
  h.suv_type = "LBMJANMA";
  const double lbm = *oq::pet::lbm_janmahasatian_kg(70, 1.65, "F");
  EXPECT_NEAR(compute_suv_factors(h).bw[0], 70 / lbm, 1e-12);
  h.suv_type = "IBW";
  h.patient_sex = "O";
  const double ibw = (48.0 + 1.06 * 13 + 45.5 + 0.91 * 13) / 2;
  EXPECT_NEAR(compute_suv_factors(h).bw[0], 70 / ibw, 1e-12);
  h.patient_sex = "";
  EXPECT_FALSE(compute_suv_factors(h).bw_available);
  h.patient_sex = "M";
  h.height_m = 0;
  EXPECT_FALSE(compute_suv_factors(h).bw_available);
}

TEST(SuvBw, Cm2mlUsesDuBoisSurfaceArea) {
  auto h = fdg_default();
  h.units = "CM2ML";
  const double bsa_cm2 = 0.007184 * std::pow(70, 0.425) * std::pow(165, 0.725) * 1e4;
  EXPECT_NEAR(compute_suv_factors(h).bw[0], 70000 / bsa_cm2, 1e-12);
}

TEST(SuvBw, UnavailableWithAReason) {
  auto h = fdg_default();
  h.weight_kg = 0;
  auto f = compute_suv_factors(h);
  EXPECT_FALSE(f.bw_available);
  EXPECT_NE(f.bw_reason.find("Weight"), std::string::npos);

  h = fdg_default();
  h.units = "CPS";
  f = compute_suv_factors(h);
  EXPECT_FALSE(f.bw_available);
  EXPECT_NE(f.bw_reason.find("CPS"), std::string::npos);

  h = fdg_default();
  h.corrected_image = {"NORM", "ATTN"};
  EXPECT_FALSE(compute_suv_factors(h).bw_available);

  h = fdg_default();
  h.units = "CNTS";
  f = compute_suv_factors(h);
  EXPECT_FALSE(f.bw_available);
  EXPECT_NE(f.bw_reason.find("7053"), std::string::npos);

  h = fdg_default();
  h.half_life_s.reset();
  EXPECT_FALSE(compute_suv_factors(h).bw_available);

  h = fdg_default();
  h.injection_time = "120000";  // after the scan: negative decay time
  f = compute_suv_factors(h);
  EXPECT_TRUE(f.bw_available) << "time-only injection after scan time is read as the previous day";
}

TEST(SulLbm, JanmahasatianFromBodyWeightFactor) {
  const auto f = compute_suv_factors(fdg_default());
  ASSERT_TRUE(f.lbm_available);
  const double bmi = 70 / (1.65 * 1.65);
  const double lbm = 9270 * 70 / (8780 + 244 * bmi);
  EXPECT_NEAR(f.lbm[0], lbm * 1000 / (370e6 * std::pow(2.0, -3600 / 6586.2)), 1e-12);
}

TEST(DicomTime, ParsesFractionsOffsetsAndOldColons) {
  EXPECT_DOUBLE_EQ(*oq::pet::dicom_time_seconds("123514.999995"), 12 * 3600 + 35 * 60 + 14.999995);
  EXPECT_DOUBLE_EQ(*oq::pet::dicom_time_seconds("10:30:00"), 10.5 * 3600);
  EXPECT_DOUBLE_EQ(*oq::pet::dicom_time_seconds("1030"), 10.5 * 3600);
  EXPECT_FALSE(oq::pet::dicom_time_seconds("ab").has_value());
  const double utc = *oq::pet::dicom_datetime_seconds("20250101100000+0100");
  EXPECT_DOUBLE_EQ(utc, *oq::pet::dicom_datetime_seconds("20250101", "090000"));
}

}  // namespace
