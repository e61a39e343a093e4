// Whole-body bone scintigraphy (Tc-99m MDP), anterior and posterior views, drawn as projections
// of a skeleton with the uptake a nuclear physician expects: spine and pelvis brighter on the
// posterior view, sternum on the anterior, kidneys faint, bladder bright, metastases as hot spots.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "oq/phantom/rng.h"
#include "scans.h"

namespace oq::phantom {
namespace {

constexpr int kRows = 1024, kCols = 256, kSuper = 2;
constexpr double kPixel = 2.4;  // mm
constexpr double kTopZ = 520;   // patient z at the top edge of the image

struct Canvas {
  cv::Mat img;  // supersampled uptake, float
  double sign;  // +1 anterior (patient's right on the viewer's left), -1 posterior (mirrored)
  cv::Point2f at(double x, double z) const {
    const double col = (kCols / 2.0) + sign * x / kPixel;
    const double row = (kTopZ - z) / kPixel;
    return {static_cast<float>(col * kSuper), static_cast<float>(row * kSuper)};
  }
  float px(double mm) const { return static_cast<float>(mm / kPixel * kSuper); }
  void ellipse(double x, double z, double ax, double az, double uptake, double angle = 0) {
    cv::ellipse(img, cv::RotatedRect(at(x, z), cv::Size2f(2 * px(ax), 2 * px(az)), static_cast<float>(angle)), cv::Scalar(uptake),
                cv::FILLED, cv::LINE_AA);
  }
  void bone(double x0, double z0, double x1, double z1, double width, double uptake) {
    cv::line(img, at(x0, z0), at(x1, z1), cv::Scalar(uptake), std::max(1, static_cast<int>(std::lround(px(width)))), cv::LINE_AA);
  }
};

void paint_body(Canvas& c, const Anatomy& a) {
  // Soft tissue: torso from the anatomy's outline, then head, arms and legs.
  for (double z = -470; z <= 292; z += 2) {
    Ellipse e;
    if (a.body(z, e)) c.bone(-e.ax, z, e.ax, z, 3, 0.08);
  }
  c.ellipse(0, 372, 75, 100, 0.08);
  for (int s : {-1, 1}) {
    c.bone(s * 175, 190, s * 205, -80, 70, 0.06);
    c.bone(s * 205, -80, s * 220, -330, 55, 0.06);
    c.bone(s * 95, -450, s * 110, -880, 150, 0.08);
    c.bone(s * 110, -880, s * 100, -1320, 100, 0.07);
  }
}

void paint_skeleton(Canvas& c, bool anterior) {
  const double spine = anterior ? 0.55 : 1.0, front = anterior ? 1.0 : 0.55, back = anterior ? 0.35 : 1.0;
  // Skull and face.
  c.ellipse(0, 372, 72, 98, 0.55);
  c.ellipse(0, 372, 62, 88, 0.25);
  c.ellipse(0, 300, 45, 30, 0.6 * front);
  // Vertebrae from C2 to S1, discs every 32 mm as in the CT phantom.
  for (int k = -10; k <= 8; ++k) c.ellipse(0, 32.0 * k + 19.5, 20, 11, 1.0 * spine);
  c.ellipse(0, -315, 38, 48, 0.9 * spine);  // sacrum
  // Ribs: arcs from the spine sloping down to the front.
  for (int i = 0; i < 12; ++i) {
    const double z = 178 - 21.0 * i;
    for (int s : {-1, 1}) {
      cv::Point2f prev = c.at(s * 18, z);
      for (int k = 1; k <= 24; ++k) {
        const double t = k / 24.0;
        if (z - 110 * t * t < -90) break;
        const double x = s * (18 + 135 * std::sin(t * 1.7));
        const double zz = z - 110 * t * t;
        const cv::Point2f cur = c.at(x, zz);
        cv::line(c.img, prev, cur, cv::Scalar(0.45), std::max(1, static_cast<int>(c.px(9))), cv::LINE_AA);
        prev = cur;
      }
    }
  }
  c.bone(0, 175, 0, 25, 26, 0.7 * front);  // sternum
  for (int s : {-1, 1}) {
    c.bone(s * 15, 205, s * 150, 218, 14, 0.6 * front);       // clavicle
    c.ellipse(s * 105, 150, 45, 75, 0.45 * back, s * 10.0);   // scapula
    c.ellipse(s * 175, 200, 22, 22, 0.8);                     // shoulder
    c.bone(s * 175, 190, s * 205, -80, 20, 0.45);             // humerus
    c.bone(s * 205, -80, s * 220, -330, 16, 0.35);            // forearm
    c.ellipse(s * 98, -300, 44, 64, 0.75 * back, s * -15.0);  // ilium
    c.ellipse(s * 92, -438, 24, 24, 0.7);                     // hip
    c.bone(s * 92, -438, s * 108, -880, 26, 0.45);            // femur
    c.ellipse(s * 108, -890, 30, 24, 0.8);                    // knee
    c.bone(s * 108, -900, s * 100, -1320, 22, 0.4);           // tibia
    c.ellipse(s * 100, -1340, 30, 20, 0.6);                   // ankle and foot
    c.ellipse(s * 40, -410, 35, 14, 0.6 * front);             // pubic bone
  }
}

}  // namespace

SeriesResult generate_bone_scan(const PlacedPatient& p, size_t tp, const DicomContext& ctx, const SeriesTarget& out,
                                const DicomContext& sc_ctx, const SeriesTarget& sc_out) {
  const Anatomy a = build_anatomy(p.habitus);
  Rng rng(Rng::derive(p.seed, "bone scan " + std::to_string(tp)));
  Json hot_spots = Json::array();
  PlanarViews views;
  views.rows = kRows;
  views.columns = kCols;
  views.pixel_mm = kPixel;
  std::vector<cv::Mat> finals;
  for (int view = 0; view < 2; ++view) {
    const bool anterior = view == 0;
    Canvas c{cv::Mat(kRows * kSuper, kCols * kSuper, CV_32F, cv::Scalar(0)), anterior ? 1.0 : -1.0};
    paint_body(c, a);
    paint_skeleton(c, anterior);
    for (int s : {-1, 1}) c.ellipse(s * 72 * p.habitus.width_scale, -145, 24, 48, anterior ? 0.12 : 0.3);  // kidneys, faint
    c.ellipse(0, -400, 42, 32, anterior ? 4.0 : 2.6);                                                      // bladder
    // Metastases: hot spots where the bone lesions are, 2.5-5 times normal bone.
    for (size_t i = 0; i < p.lesions.size(); ++i) {
      const PlacedLesion& l = p.lesions[i];
      if (!is_bone(l.plan.kind) || !l.present(tp)) continue;
      const Vec3 ctr = l.shape.centre();
      const double r = l.shape.bounding_radius() * l.factor(tp);
      const double ratio = (l.plan.kind == LesionKind::kBoneBlastic ? 4.5 : 2.8) * (anterior ? 0.7 : 1.0);
      c.ellipse(ctr.x, ctr.z, r, r, ratio);
      const cv::Point2f pt = c.at(ctr.x, ctr.z);
      hot_spots.push_back(Json{{"lesion", l.plan.id},
                               {"view", anterior ? "anterior" : "posterior"},
                               {"row", std::round(pt.y / kSuper * 10) / 10},
                               {"column", std::round(pt.x / kSuper * 10) / 10},
                               {"radius_mm", std::round(r * 10) / 10},
                               {"uptake_vs_normal_bone", ratio / (anterior ? 0.55 : 1.0)}});
    }
    cv::Mat small;
    cv::resize(c.img, small, cv::Size(kCols, kRows), 0, 0, cv::INTER_AREA);
    cv::GaussianBlur(small, small, cv::Size(0, 0), 8.0 / 2.3548 / kPixel);  // camera resolution ~8 mm FWHM
    const double total = cv::sum(small)[0];
    const double scale = (anterior ? 1.1e6 : 1.25e6) / total;
    std::vector<std::uint16_t> counts(static_cast<size_t>(kRows * kCols));
    for (int y = 0; y < kRows; ++y)
      for (int x = 0; x < kCols; ++x)
        counts[static_cast<size_t>(y * kCols + x)] =
            static_cast<std::uint16_t>(std::min<std::uint32_t>(65535, rng.poisson(small.at<float>(y, x) * scale + 0.02)));
    (anterior ? views.anterior : views.posterior) = counts;
    // Inverted grey, black at the 99.9th count percentile (the bladder and hot spots), as bone scans are read.
    std::vector<std::uint16_t> sorted(counts);
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() * 999 / 1000), sorted.end());
    const double black = std::max<double>(1, 0.6 * sorted[sorted.size() * 999 / 1000]);
    cv::Mat shown(kRows, kCols, CV_16U, counts.data());
    cv::Mat as8;
    shown.convertTo(as8, CV_8U, -255.0 / black, 255);
    finals.push_back(as8.clone());
  }
  const Json injection = Json{{"radiopharmaceutical", "Tc-99m MDP"}, {"dose_mbq", 740}};
  views.injection_time = "090000";
  SeriesResult result;
  const std::string nm_name = out.file_name(ctx.series_number, 1);
  write_nm_whole_body(out.dir + "/" + nm_name, ctx, make_uid(p.seed, ctx.series_uid + "/1"), views);
  result.files.push_back(nm_name);
  const char* names[2] = {"anterior", "posterior"};
  for (int v = 0; v < 2; ++v) {
    const std::string name = sc_out.file_name(sc_ctx.series_number, v + 1);
    write_sc_view(sc_out.dir + "/" + name, sc_ctx, make_uid(p.seed, sc_ctx.series_uid + "/" + std::to_string(v + 1)), v + 1,
                  kRows, kCols, kPixel, v == 0 ? views.anterior : views.posterior, names[v]);
  }
  if (!out.preview_dir.empty()) {
    cv::Mat both;
    cv::hconcat(finals[0], finals[1], both);
    cv::imwrite(out.preview_dir + "/bone_scan_t" + std::to_string(tp) + "_ant_post.png", both);
  }
  result.truth = Json{{"object", "NM whole-body bone scan"},
                      {"series_uid", ctx.series_uid},
                      {"secondary_capture_series_uid", sc_ctx.series_uid},
                      {"patient_id", p.plan.id},
                      {"time_point", tp},
                      {"rows", kRows},
                      {"columns", kCols},
                      {"pixel_mm", kPixel},
                      {"views", Json::array({"anterior", "posterior"})},
                      {"orientation", "anterior view: patient's right on the image left; posterior view mirrored"},
                      {"top_edge_z_mm", kTopZ},
                      {"injection", injection},
                      {"not_hot_spots", Json::array({"bladder", "kidneys"})},
                      {"hot_spots", hot_spots}};
  return result;
}

}  // namespace oq::phantom
