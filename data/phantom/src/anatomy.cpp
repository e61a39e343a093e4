#include "oq/phantom/anatomy.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "oq/phantom/rng.h"

namespace oq::phantom {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Torso outline: (z, centre y, half-width, half-depth) knots, linearly interpolated.
constexpr std::array<std::array<double, 4>, 9> kTorso{{{-470, 0, 160, 100},
                                                       {-300, 5, 165, 112},
                                                       {-150, 5, 150, 115},
                                                       {0, 0, 152, 110},
                                                       {120, 0, 162, 108},
                                                       {185, 5, 150, 100},
                                                       {215, 10, 72, 62},
                                                       {240, 10, 56, 56},
                                                       {292, 10, 52, 52}}};

bool torso_at(double z, double scale, Ellipse& e) {
  if (z < kTorso.front()[0] || z > kTorso.back()[0]) return false;
  for (size_t i = 1; i < kTorso.size(); ++i) {
    if (z <= kTorso[i][0]) {
      const auto& a = kTorso[i - 1];
      const auto& b = kTorso[i];
      const double t = (z - a[0]) / (b[0] - a[0]);
      e.cx = 0;
      e.cy = scale * (a[1] + t * (b[1] - a[1]));
      e.ax = scale * (a[2] + t * (b[2] - a[2]));
      e.ay = scale * (a[3] + t * (b[3] - a[3]));
      return true;
    }
  }
  return false;
}

bool ellipsoid_section(const Vec3& c, const Vec3& s, double z, Ellipse& e) {
  const double t = (z - c.z) / s.z;
  if (t * t >= 1) return false;
  const double k = std::sqrt(1 - t * t);
  e = {c.x, c.y, s.x * k, s.y * k};
  return true;
}

Structure tissue_structure(const std::string& name, Tissue tissue, double hu, double suv, std::uint32_t only_over = 0) {
  Structure st;
  st.name = name;
  st.tissue = tissue;
  st.hu = hu;
  st.suv = suv;
  st.only_over = only_over;
  return st;
}

Structure ellipsoid(const std::string& name, Tissue tissue, double hu, double suv, Vec3 c, Vec3 s, std::uint32_t only_over = 0) {
  Structure st = tissue_structure(name, tissue, hu, suv, only_over);
  st.section = [c, s](double z, Ellipse& e) { return ellipsoid_section(c, s, z, e); };
  return st;
}

// An elliptic cylinder along z between z0 and z1.
Structure column(const std::string& name, Tissue tissue, double hu, double suv, Ellipse shape, double z0, double z1,
                 std::uint32_t only_over = 0) {
  Structure st = tissue_structure(name, tissue, hu, suv, only_over);
  st.section = [shape, z0, z1](double z, Ellipse& e) {
    if (z < z0 || z > z1) return false;
    e = shape;
    return true;
  };
  return st;
}

double segment_distance(const Vec3& p, const Vec3& a, const Vec3& b, double& t) {
  const Vec3 ab = b - a;
  t = std::clamp(dot(p - a, ab) / dot(ab, ab), 0.0, 1.0);
  return norm(p - (a + t * ab));
}

}  // namespace

const char* tissue_name(Tissue t) {
  static const char* names[] = {"air",    "skin",  "fat",       "muscle",  "visceral fat",  "lung",
                                "vessel", "heart", "blood",     "liver",   "gall bladder",  "spleen",
                                "kidney", "bowel", "bowel gas", "bladder", "cortical bone", "cancellous bone",
                                "disc",   "csf",   "brain",     "breast",  "lesion"};
  const auto i = static_cast<size_t>(t);
  return i < sizeof(names) / sizeof(names[0]) ? names[i] : "?";
}

Anatomy build_anatomy(const BodyHabitus& h) {
  Anatomy a;
  const double s = h.width_scale;
  const double fat = h.fat_mm;
  a.fat_mm = fat;
  a.body = [s](double z, Ellipse& e) { return torso_at(z, s, e); };
  auto inset = [s](double d) {
    return [s, d](double z, Ellipse& e) {
      if (!torso_at(z, s, e)) return false;
      e.ax -= d;
      e.ay -= d;
      return e.ax > 0 && e.ay > 0;
    };
  };
  auto layer = [&](const std::string& name, Tissue t, double hu, double suv, double d) {
    Structure st;
    st.name = name;
    st.tissue = t;
    st.hu = hu;
    st.suv = suv;
    st.section = inset(d);
    a.structures.push_back(st);
  };
  // The scanner couch under the patient's back (carbon fibre), then the body from the outside in.
  a.structures.push_back(column("couch", Tissue::kMuscle, 60, 0.0, {0, 124 * s + 8, 230, 7}, -900, 600));
  layer("skin", Tissue::kSkin, 45, 0.8, 0);
  layer("subcutaneous fat", Tissue::kFat, -105, 0.35, 2);
  layer("body wall muscle", Tissue::kMuscle, 52, 0.7, 2 + fat);
  const double cavity_inset = 2 + fat + 13;
  layer("body cavity", Tissue::kVisceralFat, -92, 0.4, cavity_inset);
  a.in_cavity = [s, cavity_inset](const Vec3& p) {
    Ellipse e;
    if (!torso_at(p.z, s, e)) return false;
    const double dx = p.x / (e.ax - cavity_inset), dy = (p.y - e.cy) / (e.ay - cavity_inset);
    return dx * dx + dy * dy < 1;
  };

  // Breasts: in front of the chest wall, with their own skin.
  if (h.breasts) {
    for (int side : {-1, 1}) {
      const Vec3 c{side * 72.0 * s, -96.0 * s, 70}, r{64.0 * s, 27.0 * s, 52};
      a.structures.push_back(ellipsoid("breast skin", Tissue::kSkin, 45, 0.8, c, r, tissue_bit(Tissue::kAir)));
      a.structures.push_back(
          ellipsoid("breast", Tissue::kBreast, -45, 0.6, c, {r.x - 2, r.y - 2, r.z - 2}, tissue_bit(Tissue::kSkin)));
    }
  }

  // Lungs fill the thoracic cavity; later structures (heart, liver dome) carve the mediastinum and diaphragm.
  const Vec3 rl_c{-80 * s, 8, 92}, rl_s{64 * s, 88 * s, 112};
  const Vec3 ll_c{80 * s, 8, 96}, ll_s{60 * s, 88 * s, 108};
  a.structures.push_back(ellipsoid("right lung", Tissue::kLung, -860, 0.45, rl_c, rl_s, tissue_bit(Tissue::kVisceralFat)));
  a.structures.push_back(ellipsoid("left lung", Tissue::kLung, -860, 0.45, ll_c, ll_s, tissue_bit(Tissue::kVisceralFat)));

  // Pulmonary vessels: tapering branches from each hilum.
  Rng rng(Rng::derive(h.seed, "lung vessels"));
  for (int side : {-1, 1}) {
    const Vec3 hilum{side * 42.0 * s, 15, 85};
    for (int i = 0; i < 14; ++i) {
      const double az = rng.uniform(-0.9, 0.9) + (side < 0 ? kPi : 0);
      const double el = rng.uniform(-0.8, 0.8);
      const double len = rng.uniform(55, 95) * s;
      const Vec3 tip =
          hilum + Vec3{len * std::cos(az) * std::cos(el), len * 0.8 * std::sin(az) * std::cos(el), len * std::sin(el)};
      const double r0 = rng.uniform(2.5, 4.0), r1 = 1.0;
      a.lung_vessels.push_back({hilum, tip});
      Structure v;
      v.name = "pulmonary vessel";
      v.tissue = Tissue::kVessel;
      v.hu = 45;
      v.suv = 1.4;
      v.only_over = tissue_bit(Tissue::kLung);
      v.contains = [hilum, tip, r0, r1](const Vec3& p) {
        double t = 0;
        const double d = segment_distance(p, hilum, tip, t);
        return d <= r0 + t * (r1 - r0);
      };
      v.lo = {std::min(hilum.x, tip.x) - r0, std::min(hilum.y, tip.y) - r0, std::min(hilum.z, tip.z) - r0};
      v.hi = {std::max(hilum.x, tip.x) + r0, std::max(hilum.y, tip.y) + r0, std::max(hilum.z, tip.z) + r0};
      a.structures.push_back(v);
    }
  }
  a.in_lung = [rl_c, rl_s, ll_c, ll_s, in_cavity = a.in_cavity](const Vec3& p) {
    auto in = [&](Vec3 c, Vec3 r) {
      const double dx = (p.x - c.x) / r.x, dy = (p.y - c.y) / r.y, dz = (p.z - c.z) / r.z;
      return dx * dx + dy * dy + dz * dz < 1;
    };
    return (in(rl_c, rl_s) || in(ll_c, ll_s)) && in_cavity(p);
  };

  a.structures.push_back(column("trachea", Tissue::kAir, -1000, 0.0, {0, 4 * s, 9, 8}, 110, 240));
  a.structures.push_back(ellipsoid("heart", Tissue::kHeart, 125, 2.2, {22 * s, -32 * s, 52}, {56 * s, 46 * s, 52}));
  a.structures.push_back(column("aorta", Tissue::kBlood, 165, 1.7, {14 * s, 32 * s, 12, 12}, -250, 135));
  a.structures.push_back(column("inferior vena cava", Tissue::kBlood, 120, 1.7, {-26 * s, 28 * s, 11, 10}, -250, 30));

  // Liver (right lobe and left lobe), with the gall bladder under it.
  const Vec3 lr_c{-62 * s, 2 * s, -38}, lr_s{84 * s, 80 * s, 78};
  const Vec3 ll2_c{24 * s, -38 * s, -14}, ll2_s{52 * s, 34 * s, 38};
  a.structures.push_back(ellipsoid("liver right lobe", Tissue::kLiver, 105, 2.3, lr_c, lr_s));
  a.structures.push_back(ellipsoid("liver left lobe", Tissue::kLiver, 105, 2.3, ll2_c, ll2_s));
  a.in_liver = [lr_c, lr_s, ll2_c, ll2_s](const Vec3& p) {
    auto in = [&](Vec3 c, Vec3 r) {
      const double dx = (p.x - c.x) / r.x, dy = (p.y - c.y) / r.y, dz = (p.z - c.z) / r.z;
      return dx * dx + dy * dy + dz * dz < 1;
    };
    return in(lr_c, lr_s) || in(ll2_c, ll2_s);
  };
  a.structures.push_back(ellipsoid("gall bladder", Tissue::kGallbladder, 8, 0.5, {-50 * s, -52 * s, -100}, {15, 16, 30}));
  a.structures.push_back(ellipsoid("spleen", Tissue::kSpleen, 110, 1.9, {92 * s, 42 * s, -48}, {34 * s, 44 * s, 50}));
  a.structures.push_back(ellipsoid("right kidney", Tissue::kKidney, 160, 3.5, {-72 * s, 55 * s, -150}, {27, 24, 52}));
  a.structures.push_back(ellipsoid("left kidney", Tissue::kKidney, 160, 3.5, {72 * s, 55 * s, -138}, {27, 24, 52}));

  // Bowel loops and gas pockets in the lower abdomen, inside the cavity fat only.
  Rng bowel(Rng::derive(h.seed, "bowel"));
  for (int i = 0; i < 16; ++i) {
    const Vec3 c{bowel.uniform(-95, 95) * s, bowel.uniform(-70, 10) * s, bowel.uniform(-330, -120)};
    const Vec3 r{bowel.uniform(14, 24), bowel.uniform(14, 24), bowel.uniform(20, 40)};
    a.structures.push_back(ellipsoid("bowel", Tissue::kBowel, 38, 1.5, c, r, tissue_bit(Tissue::kVisceralFat)));
    if (i % 3 == 0)
      a.structures.push_back(
          ellipsoid("bowel gas", Tissue::kBowelGas, -950, 0.0, c, {r.x * 0.5, r.y * 0.5, r.z * 0.5}, tissue_bit(Tissue::kBowel)));
  }
  for (int side : {-1, 1})
    a.structures.push_back(ellipsoid("psoas", Tissue::kMuscle, 50, 0.7, {side * 45 * s, 52 * s, -250}, {20, 20, 115}));
  for (int side : {-1, 1})
    a.structures.push_back(column("paraspinal muscle", Tissue::kMuscle, 52, 0.7, {side * 38 * s, 98 * s, 24, 20}, -330, 185));
  a.structures.push_back(ellipsoid("bladder", Tissue::kBladder, 10, 25.0, {0, -35 * s, -400}, {45, 35, 35}));

  // Spine: vertebral bodies (cortical shell, cancellous core) with discs every 32 mm.
  const Ellipse vb{0, 60 * s, 22, 17};
  const double spine_lo = -320, spine_hi = 215;
  auto is_disc = [](double z) {
    const double m = std::fmod(z + 1024.0, 32.0);  // discs at [32k, 32k + 7) mm
    return m < 7.0;
  };
  {
    Structure st = column("vertebral cortex", Tissue::kCorticalBone, 720, 0.9, vb, spine_lo, spine_hi);
    a.structures.push_back(st);
    Ellipse core = vb;
    core.ax -= 2.5;
    core.ay -= 2.5;
    a.structures.push_back(column("vertebral body", Tissue::kCancellousBone, 230, 1.5, core, spine_lo, spine_hi));
    Structure disc;
    disc.name = "intervertebral disc";
    disc.tissue = Tissue::kDisc;
    disc.hu = 90;
    disc.suv = 0.8;
    disc.section = [vb, is_disc, spine_lo, spine_hi](double z, Ellipse& e) {
      if (z < spine_lo || z > spine_hi || !is_disc(z)) return false;
      e = vb;
      return true;
    };
    a.structures.push_back(disc);
    a.structures.push_back(column("neural arch", Tissue::kCorticalBone, 600, 0.9, {0, 90 * s, 15, 14}, spine_lo, spine_hi));
    a.structures.push_back(column("spinal canal", Tissue::kCsf, 15, 0.3, {0, 90 * s, 9, 8}, spine_lo, spine_hi));
    a.structures.push_back(column("spinous process", Tissue::kCorticalBone, 520, 0.9, {0, 113 * s, 5, 11}, spine_lo, spine_hi));
  }
  a.in_vertebral_body = [vb, is_disc, spine_lo, spine_hi](const Vec3& p) {
    if (p.z < spine_lo || p.z > spine_hi || is_disc(p.z)) return false;
    const double dx = (p.x - vb.cx) / (vb.ax - 3), dy = (p.y - vb.cy) / (vb.ay - 3);
    return dx * dx + dy * dy < 1;
  };

  // Ribs: arcs in the chest wall, each sloping down towards the front; no ribs at the sternum.
  {
    Structure ribs;
    ribs.name = "ribs";
    ribs.tissue = Tissue::kCorticalBone;
    ribs.hu = 480;
    ribs.suv = 1.0;
    const double r_in = 2 + fat + 2, r_out = 2 + fat + 11;
    // Ribs differ a little in height and slope, as real ones do.
    std::array<double, 24> rib_z{}, rib_drop{};
    Rng rib_rng(Rng::derive(h.seed, "ribs"));
    for (size_t i = 0; i < 24; ++i) {
      rib_z[i] = rib_rng.uniform(-4, 4);
      rib_drop[i] = rib_rng.uniform(95, 125);
    }
    ribs.contains = [s, r_in, r_out, rib_z, rib_drop](const Vec3& p) {
      Ellipse e;
      if (!torso_at(p.z, s, e)) return false;
      const double dy = p.y - e.cy;
      const double ang = std::atan2(dy / e.ay, p.x / e.ax);  // 0 at the side, +pi/2 at the back
      const double scale = std::sqrt((p.x / e.ax) * (p.x / e.ax) + (dy / e.ay) * (dy / e.ay));
      const double depth = (1 - scale) * std::min(e.ax, e.ay);  // approximate distance inside the skin
      if (depth < r_in || depth > r_out) return false;
      if (std::abs(ang + kPi / 2) < 0.35) return false;  // sternum / costal cartilage
      const double front = (1 - std::sin(ang)) / 2;      // 0 at the back, 1 at the front
      // Each rib drops about 110 mm from its vertebra to its front end, so an axial slice cuts it
      // obliquely into short segments, as on a real CT.
      const size_t side = p.x < 0 ? 0 : 12;
      for (size_t i = 0; i < 12; ++i) {
        const double zc = 178 - 21.0 * static_cast<double>(i) + rib_z[side + i] - rib_drop[side + i] * front;
        if (std::abs(p.z - zc) < 4.5 && zc > -90) return true;
      }
      return false;
    };
    ribs.ring = [s, r_in, r_out](double z, Ellipse& outer, Ellipse& inner) {
      if (!torso_at(z, s, outer)) return false;
      inner = outer;
      outer.ax -= r_in * 0.5;
      outer.ay -= r_in * 0.5;
      inner.ax -= r_out * 1.6;
      inner.ay -= r_out * 1.6;
      return true;
    };
    ribs.lo = {-200 * s, -160 * s, -95};
    ribs.hi = {200 * s, 160 * s, 180};
    a.structures.push_back(ribs);
  }
  a.structures.push_back(Structure{});
  {
    Structure& st = a.structures.back();
    st.name = "sternum";
    st.tissue = Tissue::kCorticalBone;
    st.hu = 420;
    st.suv = 1.0;
    st.section = [s, fat](double z, Ellipse& e) {
      if (z < 20 || z > 175 || !torso_at(z, s, e)) return false;
      e = {0, e.cy - e.ay + 2 + fat + 8, 15, 6};
      return true;
    };
  }

  // Pelvis: iliac wings and sacrum (cortical shell, cancellous core), femoral heads.
  auto bone = [&](const std::string& name, Vec3 c, Vec3 r) {
    a.structures.push_back(ellipsoid(name + " cortex", Tissue::kCorticalBone, 680, 0.9, c, r));
    a.structures.push_back(ellipsoid(name, Tissue::kCancellousBone, 220, 1.4, c, {r.x - 2.5, r.y - 2.5, r.z - 2.5}));
  };
  for (int side : {-1, 1}) bone(side < 0 ? "right ilium" : "left ilium", {side * 98 * s, 38 * s, -300}, {42 * s, 20, 62});
  bone("sacrum", {0, 78 * s, -315}, {40 * s, 20, 50});
  for (int side : {-1, 1}) bone(side < 0 ? "right femoral head" : "left femoral head", {side * 92 * s, 5, -438}, {24, 24, 24});

  // Head: skull and brain (in the PET field of view; CT of the chest-abdomen-pelvis stops below it).
  a.structures.push_back(ellipsoid("skull", Tissue::kCorticalBone, 900, 0.8, {0, 5, 372}, {72, 92, 98}));
  a.structures.push_back(ellipsoid("brain", Tissue::kBrain, 35, 8.0, {0, 5, 372}, {66, 86, 92}));
  a.structures.push_back(
      ellipsoid("face soft tissue", Tissue::kMuscle, 40, 1.0, {0, -40, 330}, {50, 40, 50}, tissue_bit(Tissue::kAir)));
  return a;
}

void add_lesions(Anatomy& anatomy, const std::vector<LesionPaint>& lesions) {
  for (size_t i = 0; i < lesions.size(); ++i) {
    const LesionPaint l = lesions[i];
    Structure st;
    st.name = "lesion";
    st.tissue = Tissue::kLesion;
    st.hu = l.hu;
    st.suv = l.suv;
    st.lesion = static_cast<int>(i);
    st.contains = [shape = l.shape](const Vec3& p) { return shape.contains(p); };
    const double r = l.shape.bounding_radius();
    const Vec3 c = l.shape.centre();
    st.lo = {c.x - r, c.y - r, c.z - r};
    st.hi = {c.x + r, c.y + r, c.z + r};
    anatomy.structures.push_back(st);
  }
}

}  // namespace oq::phantom
