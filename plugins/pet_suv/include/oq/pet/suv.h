// SUV from PET headers, per ../shared/specs/suv.md (QIBA FDG-PET/CT profile pseudo-code and the
// IBSI/OncoRay SUV study). Pure computation on header values: the DICOM adapter fills the
// structs below, so every rule is unit-testable without files.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace oq::pet {

// What one PET frame (a slice of a classic series, or one frame of a multi-frame object) says.
struct FrameHeader {
  std::string acquisition_date;                   // DA (0008,0022)
  std::string acquisition_time;                   // TM (0008,0032)
  std::string acquisition_datetime;               // DT (0008,002A) or Frame Acquisition DateTime
  std::optional<double> philips_suv_factor;       // (7053,1000)
  std::optional<double> philips_activity_factor;  // (7053,1009)
  std::optional<double> frame_duration_ms;        // Actual Frame Duration (0018,1242)
  std::optional<double> frame_reference_ms;       // Frame Reference Time (0054,1300)
};

// What the series says (values as stored; absent values are empty / nullopt).
struct SeriesHeader {
  std::string manufacturer;
  std::string units;                         // (0054,1001)
  std::string suv_type;                      // (0054,1006)
  std::string decay_correction;              // (0054,1102)
  std::vector<std::string> corrected_image;  // (0028,0051)
  std::string patient_sex;                   // M, F, O
  std::optional<double> weight_kg;           // (0010,1030)
  std::optional<double> height_m;            // (0010,1020)
  std::optional<double> total_dose;          // (0018,1074), Bq (or MBq at some sites)
  std::optional<double> half_life_s;         // (0018,1075)
  std::string radionuclide;                  // code meaning, when given
  std::string series_date, series_time;      // (0008,0021/0031)
  std::string injection_time;                // (0018,1072)
  std::string injection_datetime;            // (0018,1078)
  std::string ge_scan_datetime;              // GE private (0009,100D) Post-Injection / Scan DateTime
  std::vector<FrameHeader> frames;
};

// Multiplying a rescaled pixel value of frame i by bw[i] gives SUVbw; by lbm[i], SULlbm
// (Janmahasatian lean body mass, for PERCIST).
struct SuvFactors {
  bool bw_available = false;
  std::string bw_reason;  // why not
  std::vector<double> bw;
  bool lbm_available = false;
  std::string lbm_reason;
  std::vector<double> lbm;
  double decay_seconds = 0;  // injection to the reference time of frame 0 (0 for ADMIN, GML, ...)
  std::string notes;         // what was assumed (dose in MBq, midnight, fall-back times)
};

SuvFactors compute_suv_factors(const SeriesHeader& header);

// ---- the pieces, exposed for tests ----

// Seconds since 1970-01-01 for DICOM DA + TM, or a DT. nullopt when unparsable or empty.
std::optional<double> dicom_datetime_seconds(const std::string& da, const std::string& tm);
std::optional<double> dicom_datetime_seconds(const std::string& dt);
std::optional<double> dicom_time_seconds(const std::string& tm);  // seconds after midnight

// Normalising masses in kg; sex M, F or O (mean of M and F). nullopt when inputs are missing.
std::optional<double> lbm_janmahasatian_kg(double weight_kg, double height_m, const std::string& sex);
std::optional<double> lbm_james_kg(double weight_kg, double height_m, const std::string& sex, double male_coeff = 128);
// Ideal body weight as the IBSI SUV reference computes it: 48.0 + 1.06 (H - 152) for men,
// 45.5 + 0.91 (H - 152) for women, H in cm.
std::optional<double> ibw_kg(double height_m, const std::string& sex);
// Seconds after a frame's start at which the decaying activity equals its frame average.
double frame_average_offset_s(double frame_duration_s, double half_life_s);
double bsa_dubois_m2(double weight_kg, double height_m);

}  // namespace oq::pet
