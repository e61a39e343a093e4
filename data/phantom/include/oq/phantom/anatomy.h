// A synthetic patient body: skin, fat, muscle, lungs with vessels, heart, great vessels, liver,
// gall bladder, spleen, kidneys, bowel, bladder, spine, ribs, sternum, pelvis, femoral heads,
// breasts and head, each with the CT number of real tissue (portal venous phase) and the FDG
// uptake (SUV) of a typical scan, plus the patient's lesions. Coordinates are DICOM LPS mm
// (x to the patient's left, y to the back, z to the head); z = 0 is near the diaphragm.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "oq/phantom/shape.h"

namespace oq::phantom {

enum class Tissue : std::uint8_t {
  kAir,
  kSkin,
  kFat,
  kMuscle,
  kVisceralFat,
  kLung,
  kVessel,
  kHeart,
  kBlood,
  kLiver,
  kGallbladder,
  kSpleen,
  kKidney,
  kBowel,
  kBowelGas,
  kBladder,
  kCorticalBone,
  kCancellousBone,
  kDisc,
  kCsf,
  kBrain,
  kBreast,
  kLesion,
  kCount
};
const char* tissue_name(Tissue t);

// A cross-section ellipse on one axial plane, axis-aligned.
struct Ellipse {
  double cx = 0, cy = 0, ax = 0, ay = 0;
};

// One thing painted into the body, in painter's order: later structures cover earlier ones.
struct Structure {
  std::string name;
  Tissue tissue = Tissue::kAir;
  double hu = 0;
  double suv = 0;
  int lesion = -1;              // index into the lesion list for lesions
  std::uint32_t only_over = 0;  // bit mask of tissues it may replace; 0 = any
  // Either an axial ellipse per plane (fast row spans)...
  std::function<bool(double z, Ellipse&)> section;
  // ...or a point test inside a bounding box, optionally only between two ellipses (a ring
  // such as the ribs, where testing every pixel of the box would be wasted work).
  std::function<bool(const Vec3&)> contains;
  Vec3 lo, hi;
  std::function<bool(double z, Ellipse& outer, Ellipse& inner)> ring;
};

inline std::uint32_t tissue_bit(Tissue t) {
  return 1U << static_cast<unsigned>(t);
}

struct BodyHabitus {
  double width_scale = 1.0;  // lateral and antero-posterior scale of the torso
  double fat_mm = 18;        // subcutaneous fat thickness
  bool breasts = true;
  std::uint64_t seed = 1;  // for vessels and bowel loops
};

struct Anatomy {
  std::vector<Structure> structures;
  // Organ lookups used to place lesions (point tests in anatomy coordinates).
  std::function<bool(const Vec3&)> in_liver, in_lung, in_vertebral_body, in_cavity;
  std::vector<std::pair<Vec3, Vec3>> lung_vessels;  // segments, for nodules that touch a vessel
  // Body outline at z (for ribs and placement).
  std::function<bool(double z, Ellipse&)> body;
  double fat_mm = 18;
};

Anatomy build_anatomy(const BodyHabitus& habitus);

// A lesion painted into the body.
struct LesionPaint {
  Blob shape;
  double hu = 0;
  double suv = 0;
};
void add_lesions(Anatomy& anatomy, const std::vector<LesionPaint>& lesions);

}  // namespace oq::phantom
