#include "oq/pet/suv.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace oq::pet {

namespace {

constexpr double kDay = 86400.0;

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (std::isspace(static_cast<unsigned char>(s[b])) || s[b] == '\0')) ++b;
  while (e > b && (std::isspace(static_cast<unsigned char>(s[e - 1])) || s[e - 1] == '\0')) --e;
  return s.substr(b, e - b);
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), H. Hinnant's algorithm.
long long days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long long>(doe) - 719468;
}

std::optional<long long> date_days(const std::string& da_in) {
  std::string da = trim(da_in);
  da.erase(std::remove(da.begin(), da.end(), '.'), da.end());  // old ACR-NEMA "YYYY.MM.DD"
  if (da.size() != 8 || !all_digits(da)) return std::nullopt;
  const int y = std::stoi(da.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(da.substr(4, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(da.substr(6, 2)));
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  return days_from_civil(y, m, d);
}

std::string fmt_seconds(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f s (%.2f h)", s, s / 3600.0);
  return buf;
}

struct Masses {
  std::optional<double> kg;
  std::string reason;
};

// The normalising mass (or for BSA, area in cm2) that a GML SUV Type divided by.
Masses suv_type_normaliser(const std::string& type, const SeriesHeader& h) {
  const std::string sex = upper(trim(h.patient_sex));
  const bool need_sex = type != "BW" && type != "BSA";
  if (need_sex && sex != "M" && sex != "F" && sex != "O")
    return {std::nullopt, "SUV Type " + type + " needs Patient's Sex M, F or O (found '" + sex + "')"};
  if (!h.height_m || *h.height_m <= 0)
    return {std::nullopt, "SUV Type " + type + " needs Patient's Size (height), which is missing or 0"};
  const double w = *h.weight_kg;
  if (type == "LBM") return {lbm_james_kg(w, *h.height_m, sex, 120), {}};  // Morgan & Bray's variant of James
  if (type == "LBMJAMES128") return {lbm_james_kg(w, *h.height_m, sex, 128), {}};
  if (type == "LBMJANMA") return {lbm_janmahasatian_kg(w, *h.height_m, sex), {}};
  if (type == "IBW") return {ibw_kg(*h.height_m, sex), {}};
  return {std::nullopt, "unknown SUV Type '" + type + "'"};
}

bool has_code(const std::vector<std::string>& codes, const char* code) {
  return std::any_of(codes.begin(), codes.end(), [&](const std::string& c) { return upper(trim(c)) == code; });
}

// A frame's acquisition moment. The acquisition date is trusted only when it is within a day of
// the series date: anonymisers shift or blank it (IBSI DRO 4_4), and a wrong date would make the
// series look re-created after acquisition.
std::optional<double> frame_acquisition_seconds(const FrameHeader& f, const SeriesHeader& h, std::optional<double> series_dt) {
  if (auto dt = dicom_datetime_seconds(f.acquisition_datetime)) {
    if (!series_dt || std::fabs(*dt - *series_dt) < kDay) return dt;
  }
  auto tod = dicom_time_seconds(f.acquisition_time);
  if (!tod) return std::nullopt;
  auto acq = dicom_datetime_seconds(f.acquisition_date, f.acquisition_time);
  if (acq && (!series_dt || std::fabs(*acq - *series_dt) < kDay)) return acq;
  // Same day as the series; across midnight when that puts it closer to the series time.
  auto sd = date_days(h.series_date);
  if (!sd) return std::nullopt;
  double t = static_cast<double>(*sd) * kDay + *tod;
  if (series_dt) {
    if (t - *series_dt > kDay / 2) t -= kDay;
    if (*series_dt - t > kDay / 2) t += kDay;
  }
  return t;
}

// The Frame Reference Time, in seconds, of the earliest-acquired frame (0 when absent).
double first_frame_reference_s(const SeriesHeader& h, const std::vector<std::optional<double>>& acq, double earliest) {
  for (std::size_t i = 0; i < acq.size() && i < h.frames.size(); ++i)
    if (acq[i] && *acq[i] == earliest) return h.frames[i].frame_reference_ms.value_or(0) / 1000.0;
  return 0;
}

}  // namespace

std::optional<double> dicom_time_seconds(const std::string& tm_in) {
  std::string tm = trim(tm_in);
  tm.erase(std::remove(tm.begin(), tm.end(), ':'), tm.end());  // old ACR-NEMA "HH:MM:SS"
  if (tm.size() < 2) return std::nullopt;
  const auto dot = tm.find('.');
  const std::string whole = tm.substr(0, dot);
  if (!all_digits(whole) || whole.size() % 2 != 0 || whole.size() > 6) return std::nullopt;
  double s = std::stoi(whole.substr(0, 2)) * 3600.0;
  if (whole.size() >= 4) s += std::stoi(whole.substr(2, 2)) * 60.0;
  if (whole.size() >= 6) s += std::stoi(whole.substr(4, 2));
  if (dot != std::string::npos && dot + 1 < tm.size()) {
    const std::string frac = tm.substr(dot + 1);
    if (!all_digits(frac)) return std::nullopt;
    s += std::stod("0." + frac);
  }
  return s;
}

std::optional<double> dicom_datetime_seconds(const std::string& da, const std::string& tm) {
  auto d = date_days(da);
  auto t = dicom_time_seconds(tm);
  if (!d || !t) return std::nullopt;
  return static_cast<double>(*d) * kDay + *t;
}

std::optional<double> dicom_datetime_seconds(const std::string& dt_in) {
  std::string dt = trim(dt_in);
  if (dt.size() < 8) return std::nullopt;
  double offset = 0;
  const auto tz = dt.find_first_of("+-", 8);
  if (tz != std::string::npos) {
    const std::string z = dt.substr(tz + 1);
    if (z.size() == 4 && all_digits(z)) {
      offset = (std::stoi(z.substr(0, 2)) * 3600.0 + std::stoi(z.substr(2, 2)) * 60.0) * (dt[tz] == '-' ? -1 : 1);
    }
    dt = dt.substr(0, tz);
  }
  const std::string time = dt.size() > 8 ? dt.substr(8) : std::string("000000");
  auto s = dicom_datetime_seconds(dt.substr(0, 8), time);
  if (!s) return std::nullopt;
  return *s - offset;
}

std::optional<double> lbm_janmahasatian_kg(double w, double h_m, const std::string& sex) {
  if (w <= 0 || h_m <= 0) return std::nullopt;
  const double bmi = w / (h_m * h_m);
  const double male = 9270.0 * w / (6680.0 + 216.0 * bmi);
  const double female = 9270.0 * w / (8780.0 + 244.0 * bmi);
  if (sex == "M") return male;
  if (sex == "F") return female;
  if (sex == "O") return (male + female) / 2;
  return std::nullopt;
}

std::optional<double> lbm_james_kg(double w, double h_m, const std::string& sex, double male_coeff) {
  if (w <= 0 || h_m <= 0) return std::nullopt;
  const double h_cm = h_m * 100.0;
  const double r = (w / h_cm) * (w / h_cm);
  const double male = 1.10 * w - male_coeff * r;
  const double female = 1.07 * w - 148.0 * r;
  if (sex == "M") return male;
  if (sex == "F") return female;
  if (sex == "O") return (male + female) / 2;
  return std::nullopt;
}

std::optional<double> ibw_kg(double h_m, const std::string& sex) {
  if (h_m <= 0) return std::nullopt;
  const double over = h_m * 100.0 - 152.0;
  const double male = 48.0 + 1.06 * over;
  const double female = 45.5 + 0.91 * over;
  if (sex == "M") return male;
  if (sex == "F") return female;
  if (sex == "O") return (male + female) / 2;
  return std::nullopt;
}

double frame_average_offset_s(double duration, double half_life) {
  if (duration <= 0) return 0;
  const double lambda = std::log(2.0) / half_life;
  return std::log(lambda * duration / (1.0 - std::exp(-lambda * duration))) / lambda;
}

double bsa_dubois_m2(double w, double h_m) {
  return 0.007184 * std::pow(w, 0.425) * std::pow(h_m * 100.0, 0.725);
}

namespace {

// A value that is there but is no finite number (NaN, inf) is never taken for a number nor for
// missing: SUV is unavailable, naming it (else every voxel came out NaN).
std::string not_numbers(const SeriesHeader& h) {
  std::vector<std::pair<const char*, std::optional<double>>> values = {{"Patient's Weight (0010,1030)", h.weight_kg},
                                                                       {"Patient's Size (0010,1020)", h.height_m},
                                                                       {"Radionuclide Total Dose (0018,1074)", h.total_dose},
                                                                       {"Radionuclide Half Life (0018,1075)", h.half_life_s}};
  for (const FrameHeader& f : h.frames) {
    values.emplace_back("Actual Frame Duration (0018,1242)", f.frame_duration_ms);
    values.emplace_back("Frame Reference Time (0054,1300)", f.frame_reference_ms);
    values.emplace_back("the Philips SUV Scale Factor (7053,1000)", f.philips_suv_factor);
    values.emplace_back("the Philips Activity Concentration Scale Factor (7053,1009)", f.philips_activity_factor);
  }
  for (const auto& [name, v] : values)
    if (v && !std::isfinite(*v)) return std::string(name) + " is not a number (" + std::to_string(*v) + ")";
  return "";
}

// The patient's body as the header gives it, in kg and m: a weight above 1000 is grams, a height
// above 3 is centimetres, 'W' is F. No person weighs more than 500 kg or stands over 3 m after
// that: such a value is a typing or export error, and an SUV from it would look like a measurement.
// Returns why no SUV can be derived (the weight), or empty; an implausible height is dropped.
std::string read_body(SeriesHeader& h, std::ostringstream& notes) {
  if (h.height_m && *h.height_m > 3) h.height_m = *h.height_m / 100.0;
  if (upper(trim(h.patient_sex)) == "W") h.patient_sex = "F";
  if (h.weight_kg && *h.weight_kg > 1000) {
    h.weight_kg = *h.weight_kg / 1000.0;
    notes << "weight read as grams; ";
  }
  if (!h.weight_kg || *h.weight_kg <= 0) return "Patient's Weight (0010,1030) is missing or 0";
  if (*h.weight_kg > 500) return "Patient's Weight (0010,1030) of " + std::to_string(*h.weight_kg) + " kg is no patient's weight";
  if (h.height_m && *h.height_m > 3) {
    notes << "Patient's Size (0010,1020) of " << *h.height_m << " m ignored; ";
    h.height_m.reset();
  }
  return "";
}

}  // namespace

SuvFactors compute_suv_factors(const SeriesHeader& h_in) {
  SuvFactors out;
  SeriesHeader h = h_in;
  const std::size_t n = std::max<std::size_t>(1, h.frames.size());
  if (h.frames.empty()) h.frames.resize(1);
  const std::string units = upper(trim(h.units));
  const std::string dc = upper(trim(h.decay_correction));
  std::ostringstream notes;

  auto fail = [&](const std::string& why) {
    out.bw_available = false;
    out.bw_reason = why;
    out.lbm_available = false;
    out.lbm_reason = why;
    out.bw.clear();
    out.lbm.clear();
    return out;
  };

  if (units.empty()) return fail("Units (0054,1001) is missing");
  if (const std::string why = not_numbers(h); !why.empty()) return fail(why);
  // A NONE series is by definition not decay-corrected (suv.md section 1): the loader corrects
  // each frame itself, so DECY is required only of the others.
  if (!has_code(h.corrected_image, "ATTN"))
    return fail("Corrected Image (0028,0051) lacks ATTN: the image is not attenuation-corrected, not quantitative");
  if (dc != "NONE" && !has_code(h.corrected_image, "DECY"))
    return fail("Corrected Image (0028,0051) lacks DECY and Decay Correction (0054,1102) is '" + dc +
                "', not NONE: the image's decay state is unknown");
  if (units != "BQML" && units != "GML" && units != "CM2ML" && units != "CNTS")
    return fail("Units " + units + " cannot be converted to SUV");

  if (const std::string why = read_body(h, notes); !why.empty()) return fail(why);
  const double w_kg = *h.weight_kg;

  // Decay-corrected dose per frame: needed for BQML and for CNTS with the activity factor.
  std::vector<double> dose_at_ref;
  std::string dose_problem;
  auto compute_dose = [&]() -> bool {
    if (!h.total_dose || *h.total_dose <= 0) {
      dose_problem = "Radionuclide Total Dose (0018,1074) is missing or not positive";
      return false;
    }
    double dose = *h.total_dose;
    if (dose < 1e4) {
      dose *= 1e6;
      notes << "dose read as MBq; ";
    }
    if (dc == "ADMIN") {
      dose_at_ref.assign(n, dose);
      return true;
    }
    if (dc != "START" && dc != "NONE") {
      dose_problem = "Decay Correction (0054,1102) '" + dc + "' is not START, ADMIN or NONE";
      return false;
    }
    if (!h.half_life_s || *h.half_life_s <= 0) {
      dose_problem = "Radionuclide Half Life (0018,1075) is missing";
      return false;
    }
    const auto series_dt = dicom_datetime_seconds(h.series_date, h.series_time);
    std::vector<std::optional<double>> acq(n);
    std::optional<double> earliest;
    for (std::size_t i = 0; i < n; ++i) {
      acq[i] = frame_acquisition_seconds(h.frames[i], h, series_dt);
      if (acq[i] && (!earliest || *acq[i] < *earliest)) earliest = acq[i];
    }
    std::vector<double> ref(n);
    const std::string maker = upper(h.manufacturer);
    const bool ge = maker.find("GE MEDICAL") != std::string::npos || maker.find("GE HEALTHCARE") != std::string::npos;
    if (dc == "START") {
      double r;
      if (series_dt && (!earliest || *series_dt <= *earliest)) {
        r = *series_dt;
      } else if (auto ge_dt = dicom_datetime_seconds(h.ge_scan_datetime)) {
        r = *ge_dt;
        notes << "series time after acquisition: GE scan time (0009,100D) used; ";
      } else if (earliest && series_dt && first_frame_reference_s(h, acq, *earliest) > 0) {
        // The series start from the first frame's timing (IBSI/OncoRay SUV manual, supplementary
        // figure 1): GE counts back the Frame Reference Time; every other vendor's Acquisition
        // Time is the frame's start, so the frame-average offset is added first. A Frame Reference
        // Time of 0 says nothing of the timing (real series re-created after acquisition carry
        // it): then the earliest acquisition is the start, as QIBA's pseudo-code has it.
        std::size_t first = 0;
        for (std::size_t i = 0; i < n; ++i)
          if (acq[i] && *acq[i] == *earliest) first = i;
        const auto& f = h.frames[first];
        r = *earliest - *f.frame_reference_ms / 1000.0;
        if (!ge) {
          if (!f.frame_duration_ms || *f.frame_duration_ms <= 0) {
            dose_problem = "series time after acquisition and no Actual Frame Duration (0018,1242) to find the scan start";
            return false;
          }
          r += frame_average_offset_s(*f.frame_duration_ms / 1000.0, *h.half_life_s);
        }
        notes << "series time after acquisition: scan start from the frame timing; ";
      } else if (earliest) {
        r = *earliest;
        if (series_dt) notes << "series time after acquisition: earliest acquisition time used; ";
      } else {
        dose_problem = "no Series or Acquisition Date/Time to decay the dose to";
        return false;
      }
      ref.assign(n, r);
    } else {  // NONE: each frame holds the average activity over its own acquisition
      for (std::size_t i = 0; i < n; ++i) {
        if (!acq[i]) {
          dose_problem = "Decay Correction NONE but a frame has no Acquisition Time";
          return false;
        }
        const auto& dur = h.frames[i].frame_duration_ms;
        if (!dur || *dur <= 0) {
          dose_problem = "Decay Correction NONE needs the Actual Frame Duration (0018,1242), which is missing";
          return false;
        }
        ref[i] = *acq[i] + frame_average_offset_s(*dur / 1000.0, *h.half_life_s);
      }
    }
    // Injection moment: the full DateTime when given and plausible, else the time on the scan day.
    std::optional<double> inj;
    bool time_only = false;
    if (auto dt = dicom_datetime_seconds(h.injection_datetime)) {
      const double delta = ref[0] - *dt;
      if (delta >= 0 && delta < 30 * kDay)
        inj = dt;  // an anonymised date is years off
      else
        notes << "Radiopharmaceutical Start DateTime ignored (implausible date); ";
    }
    if (!inj) {
      auto tod = dicom_time_seconds(h.injection_time);
      if (!tod) {
        dose_problem = "no Radiopharmaceutical Start Time or DateTime (0018,1072/1078)";
        return false;
      }
      time_only = true;
      // A time without a date cannot be placed for a long-lived tracer (e.g. Zr-89, imaged days later).
      if (*h.half_life_s >= 41400.0) {
        dose_problem = "Radiopharmaceutical Start DateTime is missing and a start time alone is ambiguous for a half-life of " +
                       fmt_seconds(*h.half_life_s);
        return false;
      }
      const double day0 = std::floor(ref[0] / kDay) * kDay;
      double t = day0 + *tod;
      if (t > ref[0]) {
        t -= kDay;  // injected before midnight, scanned after
        notes << "injection taken on the previous day (scan after midnight); ";
      }
      inj = t;
    }
    dose_at_ref.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double dt = ref[i] - *inj;
      if (dt < 0) {
        dose_problem = "injection (" + fmt_seconds(*inj) + ") is after the scan reference time: decay time " + fmt_seconds(dt);
        return false;
      }
      if (time_only && dt > kDay) {
        dose_problem = "decay time of " + fmt_seconds(dt) + " exceeds 24 h and the injection date is unknown";
        return false;
      }
      dose_at_ref[i] = dose * std::pow(2.0, -dt / *h.half_life_s);
      if (i == 0) out.decay_seconds = dt;
    }
    return true;
  };

  out.bw.assign(n, 0.0);
  if (units == "BQML") {
    if (!compute_dose()) return fail(dose_problem);
    for (std::size_t i = 0; i < n; ++i) out.bw[i] = w_kg * 1000.0 / dose_at_ref[i];
  } else if (units == "GML") {
    std::string type = upper(trim(h.suv_type));
    if (type.empty()) type = "BW";
    if (type == "BW") {
      out.bw.assign(n, 1.0);
    } else if (type == "BSA") {
      return fail("Units GML with SUV Type BSA is contradictory");
    } else {
      const Masses m = suv_type_normaliser(type, h);
      if (!m.kg) return fail(m.reason);
      if (*m.kg <= 0) return fail("SUV Type " + type + " gives a non-positive normalising mass");
      out.bw.assign(n, w_kg / *m.kg);
    }
  } else if (units == "CM2ML") {
    if (!h.height_m || *h.height_m <= 0) return fail("Units CM2ML (SUVbsa) need Patient's Size (height)");
    const double bsa_cm2 = bsa_dubois_m2(w_kg, *h.height_m) * 1e4;
    out.bw.assign(n, w_kg * 1000.0 / bsa_cm2);
  } else {  // CNTS: Philips private factors, per frame
    bool dose_ok = false, dose_tried = false;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& f = h.frames[i];
      if (f.philips_suv_factor && *f.philips_suv_factor > 0) {
        out.bw[i] = *f.philips_suv_factor;
      } else if (f.philips_activity_factor && *f.philips_activity_factor > 0) {
        if (!dose_tried) {
          dose_ok = compute_dose();
          dose_tried = true;
        }
        if (!dose_ok) return fail(dose_problem);
        out.bw[i] = *f.philips_activity_factor * w_kg * 1000.0 / dose_at_ref[i];
      } else {
        return fail(
            "Units CNTS without a usable Philips SUV Scale Factor (7053,1000) or Activity Concentration Scale Factor "
            "(7053,1009)");
      }
    }
  }
  // Whatever the header held, a factor every voxel is multiplied by must be a finite positive number.
  if (!std::all_of(out.bw.begin(), out.bw.end(), [](double f) { return std::isfinite(f) && f > 0; }))
    return fail("the header's dose, weight, times and half-life give no finite positive SUV factor");
  out.bw_available = true;

  // SULlbm (Janmahasatian) from SUVbw: SUL = SUVbw x LBM / W.
  const std::string sex = upper(trim(h.patient_sex));
  if (!h.height_m || *h.height_m <= 0) {
    out.lbm_reason = "SULlbm needs Patient's Size (height), which is missing or 0";
  } else if (sex != "M" && sex != "F" && sex != "O") {
    out.lbm_reason = "SULlbm needs Patient's Sex M, F or O";
  } else {
    const double lbm = *lbm_janmahasatian_kg(w_kg, *h.height_m, sex);
    out.lbm.resize(n);
    for (std::size_t i = 0; i < n; ++i) out.lbm[i] = out.bw[i] * lbm / w_kg;
    out.lbm_available = std::all_of(out.lbm.begin(), out.lbm.end(), [](double f) { return std::isfinite(f) && f > 0; });
    if (!out.lbm_available) {
      out.lbm.clear();
      out.lbm_reason = "weight, height and sex give no finite positive lean body mass";
    }
  }
  out.notes = notes.str();
  return out;
}

}  // namespace oq::pet
