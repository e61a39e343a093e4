// A planned patient made concrete: body habitus, lesions placed in their organs (seeded), the
// table shift of each scan, and the anatomy as it is at each time point.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oq/phantom/anatomy.h"
#include "oq/phantom/plan.h"

namespace oq::phantom {

struct PlacedLesion {
  LesionPlan plan;
  Blob shape;      // at size factor 1 and anatomy coordinates
  double hu = 0;   // CT number inside (portal venous phase)
  double suv = 0;  // FDG uptake at size factor 1
  std::string tracking_uid;
  double factor(size_t tp) const { return tp < plan.course.size() ? plan.course[tp] : 0.0; }
  bool present(size_t tp) const { return factor(tp) > 0; }
  // Uptake follows the size: a shrinking lesion also loses metabolic activity.
  double suv_at(size_t tp) const { return suv * (0.45 + 0.55 * factor(tp)); }
};

struct PlacedPatient {
  PatientPlan plan;
  std::uint64_t seed = 0;
  BodyHabitus habitus;
  std::vector<PlacedLesion> lesions;
  std::vector<Vec3> table_shift;    // per time point: where the patient lies relative to the scanner
  std::vector<double> slice_phase;  // per time point: first slice offset within one slice spacing
  std::string study_date(size_t tp) const;
};

PlacedPatient place_patient(const PatientPlan& plan, std::uint64_t seed);

// The body with the lesions present at time point tp, at their sizes then (anatomy coordinates).
Anatomy anatomy_at(const PlacedPatient& patient, size_t tp, std::vector<int>* lesion_index = nullptr);

// The lesion as it is at time point tp, in scanner coordinates (table shift applied).
Blob lesion_in_scan(const PlacedPatient& patient, size_t lesion, size_t tp);

// Tissue at a point, by painting the structures in order (slow; for placement and tests).
Tissue tissue_at(const Anatomy& anatomy, const Vec3& p);

// Deterministic DICOM UID (2.25 form) from the generator seed and a label.
std::string make_uid(std::uint64_t seed, const std::string& label);

}  // namespace oq::phantom
