#include "oq/phantom/plan.h"

#include <cstdio>

#include "oq/phantom/rng.h"

namespace oq::phantom {

const char* lesion_kind_name(LesionKind k) {
  switch (k) {
    case LesionKind::kLiverHypo:
      return "liver metastasis, hypo-attenuating";
    case LesionKind::kLiverHyper:
      return "liver metastasis, hyper-attenuating";
    case LesionKind::kLungNodule:
      return "lung nodule, solid";
    case LesionKind::kLymphNode:
      return "lymph node";
    case LesionKind::kBoneLytic:
      return "bone metastasis, lytic";
    case LesionKind::kBoneBlastic:
      return "bone metastasis, blastic";
  }
  return "?";
}

const char* lesion_organ(LesionKind k) {
  switch (k) {
    case LesionKind::kLiverHypo:
    case LesionKind::kLiverHyper:
      return "liver";
    case LesionKind::kLungNodule:
      return "lung";
    case LesionKind::kLymphNode:
      return "lymph node";
    case LesionKind::kBoneLytic:
    case LesionKind::kBoneBlastic:
      return "bone";
  }
  return "?";
}

const char* marker_name(Marker m) {
  switch (m) {
    case Marker::kER:
      return "ER";
    case Marker::kPR:
      return "PR";
    case Marker::kHER2:
      return "HER2";
  }
  return "?";
}

namespace {
// Days since 1970-01-01 (Howard Hinnant's civil calendar algorithm).
long days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097L + static_cast<long>(doe) - 719468L;
}
void civil_from_days(long z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const long era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yoe) + static_cast<int>(era) * 400 + (m <= 2);
}
long parse_iso(const std::string& s) {
  int y = 0;
  unsigned m = 0, d = 0;
  std::sscanf(s.c_str(), "%d-%u-%u", &y, &m, &d);
  return days_from_civil(y, m, d);
}
}  // namespace

std::string add_days(const std::string& iso_date, int days) {
  int y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(parse_iso(iso_date) + days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

std::string dicom_date(const std::string& iso) {
  return iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2);
}

int days_between(const std::string& from_iso, const std::string& to_iso) {
  return static_cast<int>(parse_iso(to_iso) - parse_iso(from_iso));
}

std::vector<PatientPlan> demo_plan() {
  std::vector<PatientPlan> plan;
  {
    // Group 1 (HR+/HER2-low): liver and nodal disease with bone metastases; partial response on
    // endocrine therapy + CDK4/6 inhibitor, then progression with a new liver lesion.
    PatientPlan p;
    p.id = "OQ-DEMO-001";
    p.name = "DEMO^ALICE";
    p.birth_date = "19620414";
    p.weight_kg = 71;
    p.height_m = 1.64;
    p.first_scan_date = "2026-01-12";
    p.expected_group = 1;
    p.slice_thickness_mm = 5.0;
    p.pixel_spacing_mm = 0.781;
    p.ct_noise_hu = 18;
    p.slides_as_svs = true;
    p.time_points = {{0, true}, {63, false}, {126, false}, {189, true}};
    p.lines = {{1, 7, 0, "letrozole + palbociclib"}};
    p.lesions = {
        {"L1", LesionKind::kLiverHypo, "liver right lobe", 38, 1, false, false, {1, 0.6, 0.5, 0.52}},
        {"L2", LesionKind::kLiverHyper, "liver right lobe", 22, 1, false, false, {1, 0.62, 0.5, 0.5}},
        {"N1", LesionKind::kLymphNode, "para-aortic", 18, 1.5, false, false, {1, 0.62, 0.55, 0.55}},
        {"B1", LesionKind::kBoneBlastic, "vertebral body", 16, 1, false, false, {1, 1, 1, 1}},
        {"B2", LesionKind::kBoneLytic, "vertebral body", 13, 1, false, false, {1, 1, 1, 1}},
        {"L3", LesionKind::kLiverHypo, "liver right lobe", 15, 1, false, false, {0, 0, 0, 1}},
    };
    p.slides = {{Marker::kER, {0.08, 0.12, 0.30, 0.50}},
                {Marker::kPR, {0.55, 0.15, 0.20, 0.10}},
                {Marker::kHER2, {0.72, 0.28, 0.0, 0.0}}};
    plan.push_back(p);
  }
  {
    // Group 2 (HER2+): lung nodules (one against the pleura, one against a vessel) and a
    // mediastinal node; stable disease on taxane + trastuzumab + pertuzumab.
    PatientPlan p;
    p.id = "OQ-DEMO-002";
    p.name = "DEMO^BEATRICE";
    p.birth_date = "19750902";
    p.weight_kg = 63;
    p.height_m = 1.69;
    p.first_scan_date = "2026-02-02";
    p.expected_group = 2;
    p.slice_thickness_mm = 3.0;
    p.pixel_spacing_mm = 0.703;
    p.ct_noise_hu = 12;
    p.slides_as_svs = false;
    p.time_points = {{0, false}, {56, false}, {112, false}};
    p.lines = {{1, 7, 0, "paclitaxel + trastuzumab + pertuzumab"}};
    p.lesions = {
        {"T1", LesionKind::kLungNodule, "right lung", 24, 1, true, false, {1, 0.92, 0.96}},
        {"T2", LesionKind::kLungNodule, "left lung", 16, 1, false, true, {1, 0.9, 1.0}},
        {"N1", LesionKind::kLymphNode, "mediastinal", 17, 1.4, false, false, {1, 0.95, 1.02}},
        {"L1", LesionKind::kLiverHypo, "liver right lobe", 8, 1, false, false, {1, 1, 1}},
    };
    p.slides = {{Marker::kER, {0.60, 0.20, 0.15, 0.05}},
                {Marker::kPR, {0.97, 0.03, 0.0, 0.0}},
                {Marker::kHER2, {0.05, 0.05, 0.10, 0.80}}};
    plan.push_back(p);
  }
  {
    // Group 3 (triple negative, HER2-ultralow): progression on first line, then a response on
    // second line in which one lung nodule disappears; exported to media with a DICOMDIR.
    PatientPlan p;
    p.id = "OQ-DEMO-003";
    p.name = "DEMO^CLARA";
    p.birth_date = "19800117";
    p.weight_kg = 58;
    p.height_m = 1.60;
    p.first_scan_date = "2026-03-02";
    p.expected_group = 3;
    p.slice_thickness_mm = 3.75;
    p.pixel_spacing_mm = 0.859;
    p.ct_noise_hu = 22;
    p.dicomdir_export = true;
    p.slides_as_svs = true;
    p.time_points = {{0, false}, {49, false}, {105, false}, {161, false}};
    p.lines = {{1, 7, 0, "paclitaxel + bevacizumab"}, {2, 56, 1, "capecitabine"}};
    p.lesions = {
        {"L1", LesionKind::kLiverHypo, "liver right lobe", 30, 1, false, false, {1, 1.35, 1.0, 0.65}},
        {"N1", LesionKind::kLymphNode, "external iliac", 16, 1.6, false, false, {1, 1.25, 1.0, 0.7}},
        {"T1", LesionKind::kLungNodule, "right lung", 14, 1, false, false, {1, 1.3, 1.0, 0.7}},
        {"T2", LesionKind::kLungNodule, "left lung", 12, 1, false, false, {1, 1.2, 0.8, 0}},  // gone at the last visit
    };
    p.slides = {
        {Marker::kER, {0.995, 0.005, 0.0, 0.0}}, {Marker::kPR, {1.0, 0.0, 0.0, 0.0}}, {Marker::kHER2, {0.94, 0.06, 0.0, 0.0}}};
    plan.push_back(p);
  }
  return plan;
}

namespace {

// The i-th (0-based) patient of a numbered set: "OQ-<code>-001", "<NAME>^1", scans a week apart.
PatientPlan numbered_patient(const char* code, const char* name, int i, const std::string& first_date) {
  PatientPlan p;
  char id[32];
  std::snprintf(id, sizeof id, "OQ-%s-%03d", code, i + 1);
  p.id = id;
  p.name = std::string(name) + "^" + std::to_string(i + 1);
  p.birth_date = "19700101";
  p.first_scan_date = add_days(first_date, 7 * i);
  return p;
}

}  // namespace

std::vector<PatientPlan> lesion_set_plan(std::uint64_t seed, int count) {
  static const double kThickness[] = {1.25, 2.0, 2.5, 3.0, 5.0};
  std::vector<PatientPlan> plans;
  for (int i = 0; i < count; ++i) {
    Rng rng(Rng::derive(seed, "lesion set " + std::to_string(i)));
    PatientPlan p = numbered_patient("LES", "LESIONSET", i, "2026-01-05");
    p.weight_kg = rng.uniform(52, 90);
    p.height_m = rng.uniform(1.55, 1.80);
    p.slice_thickness_mm = kThickness[static_cast<size_t>((i / 2) % 5)];
    p.pixel_spacing_mm = std::round(rng.uniform(0.6, 0.9) * 1000) / 1000;
    p.ct_noise_hu = std::round(rng.uniform(10, 25));
    p.with_pet = false;
    p.time_points = {{0, false}};
    const bool chest = i % 2 == 0;
    if (chest) {
      p.ct_region = "chest";
      p.ct_z_min = 0;
      p.ct_z_max = 205;
      p.lesions = {
          {"T1", LesionKind::kLungNodule, "right lung", rng.uniform(12, 30), 1, true, false, {1}},
          {"T2", LesionKind::kLungNodule, "left lung", rng.uniform(8, 24), 1, false, true, {1}},
          {"T3",
           LesionKind::kLungNodule,
           rng.uniform() < 0.5 ? "left lung" : "right lung",
           rng.uniform(6, 20),
           1,
           false,
           false,
           {1}},
          {"N1", LesionKind::kLymphNode, "mediastinal", rng.uniform(8, 22), rng.uniform(1.2, 1.9), false, false, {1}},
      };
    } else {
      p.ct_region = "abdomen";
      p.ct_z_min = -240;
      p.ct_z_max = 75;
      p.lesions = {
          {"L1", LesionKind::kLiverHypo, "liver right lobe", rng.uniform(30, 60), 1, false, false, {1}},
          {"L2",
           rng.uniform() < 0.5 ? LesionKind::kLiverHyper : LesionKind::kLiverHypo,
           "liver right lobe",
           rng.uniform(8, 30),
           1,
           false,
           false,
           {1}},
          {"L3", LesionKind::kLiverHyper, "liver right lobe", rng.uniform(8, 20), 1, false, false, {1}},
          {"N1", LesionKind::kLymphNode, "para-aortic", rng.uniform(8, 25), rng.uniform(1.2, 1.9), false, false, {1}},
          {"B1",
           i % 4 == 1 ? LesionKind::kBoneLytic : LesionKind::kBoneBlastic,
           "vertebral body",
           rng.uniform(10, 18),
           1,
           false,
           false,
           {1}},
      };
    }
    plans.push_back(p);
  }
  return plans;
}

std::vector<PatientPlan> slide_set_plan(std::uint64_t seed, int count, bool lab_stain_variation) {
  // Percent of ER/PR-positive tumour nuclei, around the category boundaries (1 %, 10 %) and beyond.
  static const double kPositive[] = {0.0, 0.6, 4.0, 9.0, 25.0, 55.0, 92.0};
  std::vector<PatientPlan> plans;
  for (int i = 0; i < count; ++i) {
    Rng rng(Rng::derive(seed, "slide set " + std::to_string(i)));
    PatientPlan p = numbered_patient("IHC", "SLIDESET", i, "2026-02-02");
    p.with_pet = false;
    p.slides_as_svs = i % 2 == 0;
    const double rotation = 5.0 * (i % 3);
    auto receptor = [&](Marker m, double positive_pct) {
      SlidePlan s;
      s.marker = m;
      s.stain_rotation_deg = rotation;
      s.lab_stain_variation = lab_stain_variation;
      const double pos = positive_pct / 100;
      // Intensities of the positive nuclei: a random mix, weighted towards one class.
      std::array<double, 3> w{rng.uniform(0.1, 1), rng.uniform(0.1, 1), rng.uniform(0.1, 1)};
      w[static_cast<size_t>(rng.integer(0, 2))] += 1.5;
      const double sum = w[0] + w[1] + w[2];
      s.fractions = {1 - pos, pos * w[0] / sum, pos * w[1] / sum, pos * w[2] / sum};
      return s;
    };
    p.slides.push_back(receptor(Marker::kER, kPositive[static_cast<size_t>(i % 7)]));
    p.slides.push_back(receptor(Marker::kPR, kPositive[static_cast<size_t>((i + 3) % 7)]));
    SlidePlan her2;
    her2.marker = Marker::kHER2;
    her2.stain_rotation_deg = rotation;
    her2.lab_stain_variation = lab_stain_variation;
    switch (i % 5) {
      case 0:  // 0: no staining
        her2.fractions = {1, 0, 0, 0};
        break;
      case 1: {  // 0, ultralow: faint incomplete in <= 10 %
        const double f = rng.uniform(0.03, 0.08);
        her2.fractions = {1 - f, f, 0, 0};
        break;
      }
      case 2: {  // 1+: faint incomplete in > 10 %
        const double f = rng.uniform(0.25, 0.7);
        her2.fractions = {1 - f, f, 0, 0};
        break;
      }
      case 3: {  // 2+: weak to moderate complete in > 10 %
        const double w = rng.uniform(0.25, 0.55), f = rng.uniform(0.05, 0.2);
        her2.fractions = {1 - w - f, f, w, 0};
        break;
      }
      default: {  // 3+: intense complete in > 10 %
        const double n = rng.uniform(0.35, 0.85), w = rng.uniform(0.03, 0.1);
        her2.fractions = {1 - n - w, 0, w, n};
        break;
      }
    }
    p.slides.push_back(her2);
    plans.push_back(p);
  }
  return plans;
}

}  // namespace oq::phantom
