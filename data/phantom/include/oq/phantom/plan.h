// What a synthetic patient is: lesions with a course over time points and treatment lines,
// scan settings, and the biopsy's IHC slides. The demo archive is a list of these plans; the
// generator places the lesions (seeded) and derives every truth value from the geometry.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace oq::phantom {

enum class LesionKind { kLiverHypo, kLiverHyper, kLungNodule, kLymphNode, kBoneLytic, kBoneBlastic };
const char* lesion_kind_name(LesionKind k);
const char* lesion_organ(LesionKind k);  // RECIST organ name: liver, lung, lymph node, bone
inline bool is_nodal(LesionKind k) {
  return k == LesionKind::kLymphNode;
}
inline bool is_bone(LesionKind k) {
  return k == LesionKind::kBoneLytic || k == LesionKind::kBoneBlastic;
}

struct LesionPlan {
  std::string id;
  LesionKind kind = LesionKind::kLiverHypo;
  std::string site;         // where in the organ: "right lobe", "para-aortic", "L2 vertebral body", ...
  double size_mm = 10;      // baseline longest diameter (nodes: short axis)
  double elongation = 1.4;  // nodes: long / short axis
  bool touches_pleura = false;
  bool touches_vessel = false;
  // Size factor per time point (1 = baseline size); 0 = not there (not yet, or vanished).
  std::vector<double> course;
};

struct TimePointPlan {
  int day = 0;             // days after the patient's first scan
  bool bone_scan = false;  // a whole-body bone scan in the same week
};

struct TreatmentLinePlan {
  int number = 1;
  int start_day = 0;
  int baseline_time_point = 0;  // the last assessment before the line starts
  std::string regimen;
};

enum class Marker { kER, kPR, kHER2 };
const char* marker_name(Marker m);

struct SlidePlan {
  Marker marker = Marker::kER;
  // ER/PR: fraction of tumour nuclei that are negative, 1+, 2+, 3+.
  // HER2: fraction of tumour cells with no membrane staining, faint incomplete, weak-to-moderate
  // complete, intense complete.
  std::array<double, 4> fractions{1, 0, 0, 0};
  // Both stain vectors turned this far from the lab's (about random axes): a lab whose
  // hematoxylin and DAB differ from the usual more than the demo labs' do.
  double stain_rotation_deg = 0;
  // The lab's own vectors vary about the spec's defaults (Ruifrok & Johnston) before the turn,
  // as labs do; without, the turn is measured from the defaults themselves, as issue 6's
  // acceptance states it ("stain vectors rotated up to 10 degrees").
  bool lab_stain_variation = true;
};

struct PatientPlan {
  std::string id;    // pseudonymous, e.g. OQ-DEMO-001
  std::string name;  // DICOM PN
  std::string birth_date;
  double weight_kg = 68;
  double height_m = 1.65;
  std::string first_scan_date;  // ISO date of time point 0
  int expected_group = 0;       // the study protocol's phenotype group the slides are designed for
  double slice_thickness_mm = 5;
  double pixel_spacing_mm = 0.78;
  double ct_noise_hu = 15;
  double ct_z_min = -405, ct_z_max = 195;  // CT coverage (patient z, mm): chest-abdomen-pelvis by default
  std::string ct_region = "CAP";           // named in the series description
  bool with_pet = true;
  bool dicomdir_export = false;  // laid out as media with a DICOMDIR, else as a PACS folder export
  bool slides_as_svs = true;     // Aperio SVS, else generic pyramidal TIFF
  std::vector<LesionPlan> lesions;
  std::vector<TimePointPlan> time_points;
  std::vector<TreatmentLinePlan> lines;
  std::vector<SlidePlan> slides;
};

// The bundled demo archive: one patient per phenotype group, courses with PR, PD with a new
// lesion, SD, and a second treatment line.
std::vector<PatientPlan> demo_plan();

// The lesion set for measuring segmentation accuracy: `count` single-time-point CTs, alternating
// chest (lung nodules, some against the pleura or a vessel, a mediastinal node) and abdomen (liver
// metastases 8-60 mm, hypo- and hyper-attenuating, a para-aortic node, a vertebral metastasis),
// with slice thickness 1.25-5 mm, pixel spacing 0.6-0.9 mm and noise 10-25 HU drawn from the seed.
std::vector<PatientPlan> lesion_set_plan(std::uint64_t seed, int count);

// The slide set for measuring IHC accuracy: `count` biopsies (ER, PR and HER2 slides each) whose
// designs run through ER/PR negative, low positive and positive with mixed intensities and HER2
// 0, ultralow, 1+, 2+ and 3+, each patient its own lab (stain vectors, strengths, blur, JPEG
// quality), stain vectors turned a further 0, 5 or 10 degrees, SVS and generic TIFF alternating.
std::vector<PatientPlan> slide_set_plan(std::uint64_t seed, int count, bool lab_stain_variation = true);

// ISO date arithmetic for the plans (proleptic Gregorian).
std::string add_days(const std::string& iso_date, int days);
int days_between(const std::string& from_iso, const std::string& to_iso);
// YYYY-MM-DD as DICOM writes dates: YYYYMMDD.
std::string dicom_date(const std::string& iso_date);

}  // namespace oq::phantom
