#include "oq/phantom/patient.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include "oq/phantom/rng.h"

namespace oq::phantom {
namespace {

constexpr double kPi = 3.14159265358979323846;

// 26 directions: the faces, edges and corners of a cube, for containment checks.
std::vector<Vec3> probe_points(const Blob& b, double margin) {
  std::vector<Vec3> pts;
  for (int i = 0; i <= 8; ++i)
    for (int j = 0; j < 12; ++j) {
      const Vec3 s = b.surface_point(kPi * i / 8, 2 * kPi * j / 12);
      pts.push_back(b.centre() + (1 + margin) * (s - b.centre()));
    }
  return pts;
}

double max_factor(const LesionPlan& l) {
  double m = 0;
  for (double f : l.course) m = std::max(m, f);
  return m;
}

bool all_in(const Anatomy& a, const std::vector<Vec3>& pts, std::uint32_t tissues) {
  for (const Vec3& p : pts)
    if ((tissue_bit(tissue_at(a, p)) & tissues) == 0) return false;
  return true;
}

Blob make_shape(const LesionPlan& l, Rng& rng, Vec3 centre) {
  const double half = l.size_mm / 2;
  std::vector<Lobe> lobes;
  double yaw = rng.uniform(0, kPi);
  double pitch = rng.uniform(-0.2, 0.2);
  Vec3 semi;
  switch (l.kind) {
    case LesionKind::kLymphNode:
      // Short axis across, elongated along the vessels (craniocaudal).
      semi = {half, half * rng.uniform(1.05, 1.2), half * l.elongation};
      lobes = {{0.03, 3, rng.uniform(0, 2 * kPi)}};
      pitch = rng.uniform(-0.1, 0.1);
      break;
    case LesionKind::kLiverHypo:
    case LesionKind::kLiverHyper: {
      lobes = {{rng.uniform(0.05, 0.10), rng.integer(3, 5), rng.uniform(0, 2 * kPi)},
               {rng.uniform(0.02, 0.05), rng.integer(6, 8), rng.uniform(0, 2 * kPi)}};
      const double a = half / (1 + 0.6 * (lobes[0].amplitude + lobes[1].amplitude));
      semi = {a, a * rng.uniform(0.78, 0.92), a * rng.uniform(0.8, 1.0)};
      break;
    }
    case LesionKind::kLungNodule: {
      lobes = {{rng.uniform(0.03, 0.07), rng.integer(4, 7), rng.uniform(0, 2 * kPi)}};
      const double a = half / (1 + 0.6 * lobes[0].amplitude);
      semi = {a, a * rng.uniform(0.8, 0.95), a * rng.uniform(0.85, 1.0)};
      break;
    }
    case LesionKind::kBoneLytic:
    case LesionKind::kBoneBlastic:
      semi = {half, half * rng.uniform(0.8, 0.95), half * rng.uniform(0.75, 0.9)};
      lobes = {{0.04, 3, rng.uniform(0, 2 * kPi)}};
      pitch = 0;
      break;
  }
  return Blob(centre, semi, yaw, pitch, lobes);
}

// Places one lesion, trying seeded candidate positions until its organ holds it.
Blob place(const LesionPlan& l, const Anatomy& a, Rng& rng, const std::vector<PlacedLesion>& others, double scale) {
  const double grow = std::max(1.0, max_factor(l));
  for (int attempt = 0; attempt < 4000; ++attempt) {
    Vec3 c;
    switch (l.kind) {
      case LesionKind::kLiverHypo:
      case LesionKind::kLiverHyper:
        c = {rng.uniform(-135, 0) * scale, rng.uniform(-60, 60) * scale, rng.uniform(-100, 20)};
        break;
      case LesionKind::kLungNodule:
        c = {(l.site == "left lung" ? 1 : -1) * rng.uniform(30, 130) * scale, rng.uniform(-70, 80) * scale, rng.uniform(20, 170)};
        break;
      case LesionKind::kLymphNode:
        if (l.site == "para-aortic")
          c = {(14 * scale + 12 + l.size_mm / 2 + rng.uniform(2, 5)), 32 * scale + rng.uniform(-4, 4), rng.uniform(-210, -150)};
        else if (l.site == "mediastinal")
          c = {-(l.size_mm / 2 + rng.uniform(10, 13)), rng.uniform(-8, 2) * scale, rng.uniform(135, 155)};
        else  // external iliac
          c = {(rng.uniform() < 0.5 ? -1 : 1) * rng.uniform(62, 70) * scale, rng.uniform(-8, 4), rng.uniform(-365, -345)};
        break;
      case LesionKind::kBoneLytic:
      case LesionKind::kBoneBlastic: {
        // Middle of a vertebral body (discs every 32 mm, 7 mm thick).
        const int level = rng.integer(-7, 4);
        c = {rng.uniform(-3, 3), 60 * scale + rng.uniform(-2, 2), 32.0 * level + 19.5};
        break;
      }
    }
    const Blob shape = make_shape(l, rng, c);
    const Blob largest = shape.scaled(grow);
    bool clear = true;
    for (const PlacedLesion& o : others) {
      const double gap = norm(o.shape.centre() - c) - largest.bounding_radius() -
                         o.shape.scaled(std::max(1.0, max_factor(o.plan))).bounding_radius();
      if (gap < 4) clear = false;
    }
    if (!clear) continue;
    const auto pts = probe_points(largest, 0.08);
    switch (l.kind) {
      case LesionKind::kLiverHypo:
      case LesionKind::kLiverHyper:
        if (all_in(a, pts, tissue_bit(Tissue::kLiver))) return shape;
        break;
      case LesionKind::kLungNodule: {
        const std::uint32_t lung = tissue_bit(Tissue::kLung) | tissue_bit(Tissue::kVessel);
        if ((tissue_bit(tissue_at(a, c)) & lung) == 0) break;
        if (l.touches_pleura) {
          // Juxtapleural: part of the surface lies in the chest wall, nothing in the mediastinum.
          int outside = 0;
          bool bad = false;
          for (const Vec3& p : probe_points(largest, 0.0)) {
            const Tissue t = tissue_at(a, p);
            if ((tissue_bit(t) & lung) != 0) continue;
            ++outside;
            if (t != Tissue::kMuscle && t != Tissue::kCorticalBone && t != Tissue::kVisceralFat) bad = true;
          }
          const double frac = outside / static_cast<double>(pts.size());
          if (!bad && frac > 0.08 && frac < 0.3) return shape;
        } else if (l.touches_vessel) {
          // Against a pulmonary vessel: move the candidate next to the nearest vessel segment.
          const auto& v = a.lung_vessels[static_cast<size_t>(rng.integer(0, static_cast<int>(a.lung_vessels.size()) - 1))];
          if ((v.first.x < 0) != (l.site != "left lung")) break;
          const Vec3 p = v.first + rng.uniform(0.35, 0.7) * (v.second - v.first);
          Vec3 dir{rng.normal(), rng.normal(), rng.normal()};
          const Vec3 axis = (1.0 / norm(v.second - v.first)) * (v.second - v.first);
          dir = dir - dot(dir, axis) * axis;
          dir = (1.0 / norm(dir)) * dir;
          const Blob moved = make_shape(l, rng, p + (shape.semi_axes().y * 0.95 + 2.0) * dir);
          if (all_in(a, probe_points(moved.scaled(grow), 0.05), lung)) return moved;
        } else if (all_in(a, pts, lung)) {
          return shape;
        }
        break;
      }
      case LesionKind::kLymphNode: {
        // Nodes lie in fat (mediastinal, retroperitoneal, pelvic), touching but not buried in
        // muscle or organs: most of the surface must be in fat or lung.
        int in_fat = 0;
        for (const Vec3& q : pts) {
          const Tissue t = tissue_at(a, q);
          if (t == Tissue::kVisceralFat || t == Tissue::kFat || t == Tissue::kLung) ++in_fat;
        }
        if (in_fat * 2 >= static_cast<int>(pts.size())) return shape;
        break;
      }
      case LesionKind::kBoneLytic:
      case LesionKind::kBoneBlastic:
        if (all_in(a, probe_points(largest, 0.0), tissue_bit(Tissue::kCancellousBone) | tissue_bit(Tissue::kCorticalBone)))
          return shape;
        break;
    }
  }
  throw std::runtime_error("could not place lesion " + l.id + " (" + l.site + ")");
}

// CT number (portal venous phase) and FDG uptake ranges per kind of lesion.
struct Appearance {
  double hu_lo, hu_hi, suv_lo, suv_hi;
};
Appearance appearance(LesionKind k) {
  switch (k) {
    case LesionKind::kLiverHypo:
      return {40, 62, 5, 10};
    case LesionKind::kLiverHyper:
      return {140, 165, 6, 12};
    case LesionKind::kLungNodule:
      return {25, 45, 4, 9};
    case LesionKind::kLymphNode:
      return {35, 52, 3.5, 8};
    case LesionKind::kBoneLytic:
      return {20, 45, 5, 9};
    case LesionKind::kBoneBlastic:
      return {750, 950, 3, 5};
  }
  return {0, 0, 0, 0};
}

}  // namespace

std::string make_uid(std::uint64_t seed, const std::string& label) {
  const std::uint64_t hi = Rng::derive(seed, label), lo = Rng::derive(seed ^ 0x5bd1e995ULL, label + "/lo");
  // 128-bit value (top bit cleared so the UID stays within 64 characters) in decimal.
  std::array<std::uint32_t, 4> w{static_cast<std::uint32_t>((hi >> 32) & 0x7fffffffU), static_cast<std::uint32_t>(hi),
                                 static_cast<std::uint32_t>(lo >> 32), static_cast<std::uint32_t>(lo)};
  std::string digits;
  auto is_zero = [&] { return w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0; };
  while (!is_zero()) {
    std::uint64_t rem = 0;
    for (auto& part : w) {
      const std::uint64_t cur = (rem << 32) | part;
      part = static_cast<std::uint32_t>(cur / 10);
      rem = cur % 10;
    }
    digits.insert(digits.begin(), static_cast<char>('0' + rem));
  }
  return "2.25." + (digits.empty() ? std::string("0") : digits);
}

Tissue tissue_at(const Anatomy& a, const Vec3& p) {
  Tissue t = Tissue::kAir;
  for (const Structure& st : a.structures) {
    bool inside = false;
    if (st.section) {
      Ellipse e;
      if (st.section(p.z, e) && e.ax > 0 && e.ay > 0) {
        const double dx = (p.x - e.cx) / e.ax, dy = (p.y - e.cy) / e.ay;
        inside = dx * dx + dy * dy <= 1;
      }
    } else if (st.contains) {
      inside = p.x >= st.lo.x && p.x <= st.hi.x && p.y >= st.lo.y && p.y <= st.hi.y && p.z >= st.lo.z && p.z <= st.hi.z &&
               st.contains(p);
    }
    if (inside && (st.only_over == 0 || (st.only_over & tissue_bit(t)) != 0)) t = st.tissue;
  }
  return t;
}

std::string PlacedPatient::study_date(size_t tp) const {
  return add_days(plan.first_scan_date, plan.time_points[tp].day);
}

PlacedPatient place_patient(const PatientPlan& plan, std::uint64_t seed) {
  PlacedPatient p;
  p.plan = plan;
  p.seed = Rng::derive(seed, plan.id);
  Rng rng(Rng::derive(p.seed, "habitus"));
  p.habitus.width_scale = 0.92 + 0.18 * (plan.weight_kg - 55) / 25;
  p.habitus.fat_mm = rng.uniform(12, 24);
  p.habitus.seed = p.seed;
  const Anatomy body = build_anatomy(p.habitus);
  // Lesions are placed one after another; when an early one leaves no room for a later one, the
  // whole placement is drawn again from the next sub-stream.
  for (int attempt = 0;; ++attempt) {
    p.lesions.clear();
    Rng place_rng(Rng::derive(p.seed, attempt == 0 ? std::string("lesions") : "lesions " + std::to_string(attempt)));
    try {
      for (const LesionPlan& l : plan.lesions) {
        PlacedLesion pl;
        pl.plan = l;
        pl.shape = place(l, body, place_rng, p.lesions, p.habitus.width_scale);
        const Appearance look = appearance(l.kind);
        pl.hu = place_rng.uniform(look.hu_lo, look.hu_hi);
        pl.suv = place_rng.uniform(look.suv_lo, look.suv_hi);
        pl.tracking_uid = make_uid(p.seed, "lesion/" + l.id);
        p.lesions.push_back(pl);
      }
      break;
    } catch (const std::runtime_error&) {
      if (attempt >= 8) throw;
    }
  }
  Rng scan_rng(Rng::derive(p.seed, "table"));
  for (size_t t = 0; t < plan.time_points.size(); ++t) {
    p.table_shift.push_back(t == 0 ? Vec3{} : Vec3{scan_rng.uniform(-6, 6), scan_rng.uniform(-5, 5), scan_rng.uniform(-12, 12)});
    p.slice_phase.push_back(scan_rng.uniform(0, 1));
  }
  return p;
}

Anatomy anatomy_at(const PlacedPatient& patient, size_t tp, std::vector<int>* lesion_index) {
  Anatomy a = build_anatomy(patient.habitus);
  std::vector<LesionPaint> paints;
  if (lesion_index) lesion_index->clear();
  for (size_t i = 0; i < patient.lesions.size(); ++i) {
    const PlacedLesion& l = patient.lesions[i];
    if (!l.present(tp)) continue;
    paints.push_back({l.shape.scaled(l.factor(tp)), l.hu, l.suv_at(tp)});
    if (lesion_index) lesion_index->push_back(static_cast<int>(i));
  }
  add_lesions(a, paints);
  return a;
}

Blob lesion_in_scan(const PlacedPatient& patient, size_t lesion, size_t tp) {
  const PlacedLesion& l = patient.lesions[lesion];
  return l.shape.scaled(l.factor(tp)).moved(patient.table_shift[tp]);
}

}  // namespace oq::phantom
