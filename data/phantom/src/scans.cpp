#include "scans.h"

#include <zlib.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "oq/phantom/render.h"
#include "oq/phantom/rng.h"

namespace oq::phantom {
namespace {

constexpr double kFdgHalfLife = 6586.2;

std::string hhmmss(int seconds) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d%02d%02d", seconds / 3600, (seconds / 60) % 60, seconds % 60);
  return buf;
}

// Smooths a white-noise field with [1 2 1]/4 along x and y (and z when nz > 1) and rescales it
// to unit variance: scanner noise is correlated over neighbouring voxels.
void correlate_noise(std::vector<float>& n, int nx, int ny, int nz) {
  std::vector<float> tmp(n.size());
  auto pass = [&](size_t stride, int len, size_t count_outer, auto index) {
    (void)count_outer;
    for (size_t o = 0; o < n.size(); ++o) {
      const int pos = index(o);
      const float c = n[o];
      const float a = pos > 0 ? n[o - stride] : c;
      const float b = pos + 1 < len ? n[o + stride] : c;
      tmp[o] = 0.25f * a + 0.5f * c + 0.25f * b;
    }
    n.swap(tmp);
  };
  const auto snx = static_cast<size_t>(nx), sny = static_cast<size_t>(ny);
  pass(1, nx, 0, [&](size_t o) { return static_cast<int>(o % snx); });
  pass(snx, ny, 0, [&](size_t o) { return static_cast<int>((o / snx) % sny); });
  double var = 0.375 * 0.375;
  if (nz > 1) {
    pass(snx * sny, nz, 0, [&](size_t o) { return static_cast<int>(o / (snx * sny)); });
    var *= 0.375;
  }
  const auto scale = static_cast<float>(1.0 / std::sqrt(var));
  for (float& v : n) v *= scale;
}

void write_png(const std::string& path, const cv::Mat& image) {
  if (path.empty()) return;
  if (!cv::imwrite(path, image)) throw std::runtime_error("cannot write " + path);
}

// The fields every series truth starts with.
Json series_truth(const char* object, const DicomContext& ctx, const PlacedPatient& p, size_t tp) {
  return Json{{"object", object},
              {"series_uid", ctx.series_uid},
              {"frame_of_reference_uid", ctx.frame_of_reference_uid},
              {"patient_id", p.plan.id},
              {"time_point", tp},
              {"date", p.study_date(tp)}};
}

}  // namespace

std::string SeriesTarget::file_name(int series, int instance) const {
  char buf[32];
  if (media_names)
    std::snprintf(buf, sizeof buf, "IM%06d", instance);
  else
    std::snprintf(buf, sizeof buf, "IM-%04d-%04d.dcm", series, instance);
  return buf;
}

void write_json(const std::string& path, const Json& j) {
  std::ofstream f(path, std::ios::binary);
  f << j.dump(2) << "\n";
  if (!f) throw std::runtime_error("cannot write " + path);
}

void write_label_nrrd(const std::string& path, const std::vector<std::uint8_t>& labels, int nx, int ny, int nz, double sx,
                      double sy, double sz, double ox, double oy, double oz) {
  char header[1024];
  std::snprintf(header, sizeof header,
                "NRRD0004\n# lesion labels: value = index in the truth's lesion list + 1\ntype: uint8\ndimension: 3\n"
                "space: left-posterior-superior\nsizes: %d %d %d\nspace directions: (%.6f,0,0) (0,%.6f,0) (0,0,%.6f)\n"
                "kinds: domain domain domain\nencoding: gzip\nspace origin: (%.6f,%.6f,%.6f)\n\n",
                nx, ny, nz, sx, sy, sz, ox, oy, oz);
  z_stream zs{};
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("zlib");
  std::vector<unsigned char> out(deflateBound(&zs, labels.size()) + 64);
  zs.next_in = const_cast<Bytef*>(labels.data());
  zs.avail_in = static_cast<uInt>(labels.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const size_t written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib could not compress " + path);
  std::ofstream f(path, std::ios::binary);
  f << header;
  f.write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(written));
  if (!f) throw std::runtime_error("cannot write " + path);
}

SeriesResult generate_ct(const PlacedPatient& p, size_t tp, const DicomContext& ctx, const SeriesTarget& out) {
  const double thick = p.plan.slice_thickness_mm, ps = p.plan.pixel_spacing_mm;
  const int nx = 512, ny = 512;
  const PlaneGrid grid{nx, ny, ps, ps, -255.5 * ps, 10 - 255.5 * ps};
  const int n = static_cast<int>(std::floor((p.plan.ct_z_max - p.plan.ct_z_min) / thick));
  const double z_top = p.plan.ct_z_max - p.slice_phase[tp] * thick;
  std::vector<double> zs(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) zs[static_cast<size_t>(i)] = z_top - i * thick;

  std::vector<int> lesion_index;
  const Anatomy anatomy = anatomy_at(p, tp, &lesion_index);
  SlabRenderer renderer(anatomy, grid, 3, std::max(2, static_cast<int>(std::lround(thick / 1.25))));
  Rng noise(Rng::derive(p.seed, "ct noise " + std::to_string(tp)));
  const size_t plane = static_cast<size_t>(nx) * ny;
  std::vector<std::uint8_t> labels(plane * static_cast<size_t>(n), 0);
  std::vector<double> hu_sum(p.lesions.size(), 0.0);
  std::vector<long> voxels(p.lesions.size(), 0);
  Slab slab;
  SeriesResult result;
  std::vector<float> field(plane);
  cv::Mat preview;
  int preview_slice = -1;
  // The preview shows the slice through the largest lesion present.
  double best = 0;
  for (size_t i = 0; i < p.lesions.size(); ++i)
    if (p.lesions[i].present(tp) && p.lesions[i].factor(tp) * p.lesions[i].plan.size_mm > best &&
        !is_bone(p.lesions[i].plan.kind)) {
      best = p.lesions[i].factor(tp) * p.lesions[i].plan.size_mm;
      const double zc = lesion_in_scan(p, i, tp).centre().z;
      preview_slice = static_cast<int>(std::lround((z_top - zc) / thick));
    }
  for (int i = 0; i < n; ++i) {
    renderer.render(zs[static_cast<size_t>(i)], thick, p.table_shift[tp], slab);
    for (float& v : field) v = static_cast<float>(noise.normal());
    correlate_noise(field, nx, ny, 1);
    std::vector<std::int16_t> stored(plane);
    const size_t ascending = static_cast<size_t>(n - 1 - i);
    for (size_t k = 0; k < plane; ++k) {
      const double air = slab.hu[k] <= -999.0f ? 0.3 : 1.0;  // the scanner's air is quieter
      const double hu = slab.hu[k] + p.plan.ct_noise_hu * air * field[k];
      stored[k] = static_cast<std::int16_t>(std::clamp(std::lround(hu) + 1024L, 0L, 4095L));
      if (slab.lesion[k] >= 0) {
        const auto li = static_cast<size_t>(lesion_index[static_cast<size_t>(slab.lesion[k])]);
        labels[ascending * plane + k] = static_cast<std::uint8_t>(li + 1);
        hu_sum[li] += slab.hu[k];
        ++voxels[li];
      }
    }
    PlaneGeometry g;
    g.rows = ny;
    g.columns = nx;
    g.spacing_row = ps;
    g.spacing_col = ps;
    g.x = grid.origin_x;
    g.y = grid.origin_y;
    g.z = zs[static_cast<size_t>(i)];
    g.thickness = thick;
    const std::string name = out.file_name(ctx.series_number, i + 1);
    write_ct_image(out.dir + "/" + name, ctx, make_uid(p.seed, ctx.series_uid + "/" + std::to_string(i + 1)), i + 1, g, stored,
                   120, 180 + 40 * std::sin(i * 0.1));
    result.files.push_back(name);
    if (i == preview_slice && !out.preview_dir.empty()) {
      cv::Mat img(ny, nx, CV_8U);
      for (int y = 0; y < ny; ++y)
        for (int x = 0; x < nx; ++x) {
          const double hu = stored[static_cast<size_t>(y * nx + x)] - 1024.0;
          img.at<std::uint8_t>(y, x) = cv::saturate_cast<std::uint8_t>((hu - (40 - 200)) * 255.0 / 400.0);
        }
      preview = img;
    }
  }
  const std::string stem = "ct";
  write_label_nrrd(out.truth_dir + "/" + stem + "_lesion_labels.nrrd", labels, nx, ny, n, ps, ps, thick, grid.origin_x,
                   grid.origin_y, zs.back());
  if (!preview.empty()) write_png(out.preview_dir + "/ct_t" + std::to_string(tp) + "_lesion_slice.png", preview);

  std::vector<double> ascending_z(zs.rbegin(), zs.rend());
  const auto truth = measure_time_point(p, tp, zs);
  result.lesion_truth = truth;
  Json lesions = Json::array();
  for (size_t i = 0; i < p.lesions.size(); ++i) {
    Json j = to_json(truth[i], p.lesions[i]);
    if (truth[i].present) {
      j["label"] = i + 1;
      j["hu"] = std::round(p.lesions[i].hu * 10) / 10;
      j["label_voxels"] = voxels[i];
      j["seed_mm"] = Json::array({std::round(lesion_in_scan(p, i, tp).centre().x * 1000) / 1000,
                                  std::round(lesion_in_scan(p, i, tp).centre().y * 1000) / 1000,
                                  std::round(lesion_in_scan(p, i, tp).centre().z * 1000) / 1000});
    }
    lesions.push_back(j);
  }
  result.truth = series_truth("CT", ctx, p, tp);
  result.truth.update(
      Json{{"grid",
            {{"columns", nx},
             {"rows", ny},
             {"slices", n},
             {"pixel_spacing_mm", ps},
             {"slice_thickness_mm", thick},
             {"slice_spacing_mm", thick},
             {"origin_mm", Json::array({grid.origin_x, grid.origin_y, zs.back()})},
             {"slice_order", "slice_index 0 is the lowest z (feet); instance 1 is the highest"}}},
           {"noise_hu_sd", p.plan.ct_noise_hu},
           {"table_shift_mm", Json::array({p.table_shift[tp].x, p.table_shift[tp].y, p.table_shift[tp].z})},
           {"label_map", stem + "_lesion_labels.nrrd"},
           {"tissue_hu", {{"liver", 105}, {"spleen", 110}, {"muscle", 52}, {"fat", -105}, {"lung", -860}, {"aorta", 165}}},
           {"lesions", lesions}});
  return result;
}

PetTiming pet_timing(const PlacedPatient& p, size_t tp) {
  Rng rng(Rng::derive(p.seed, "pet timing " + std::to_string(tp)));
  PetTiming t;
  const int series_start = 10 * 3600 + 20 * 60 + rng.integer(0, 40) * 60;
  t.uptake_s = rng.uniform(56, 72) * 60;
  const int inj = series_start - static_cast<int>(std::lround(t.uptake_s));
  t.uptake_s = series_start - inj;
  t.series_time = hhmmss(series_start);
  t.injection_datetime = dicom_date(p.study_date(tp)) + hhmmss(inj);
  t.injected_dose_bq = std::round(3.5e6 * p.plan.weight_kg * rng.uniform(0.93, 1.07) / 1e4) * 1e4;
  return t;
}

SeriesResult generate_pet(const PlacedPatient& p, size_t tp, const DicomContext& ctx, const PetTiming& timing,
                          const SeriesTarget& out) {
  const int nx = 144, ny = 144, fine = 2;
  const double vs = 4.0;
  const int n = 225;
  const double z_top = 456 - p.slice_phase[tp] * vs;
  const double ox = -71.5 * vs, oy = 10 - 71.5 * vs;
  const int fx = nx * fine, fy = ny * fine, fz = n * fine;
  const double fs = vs / fine;
  std::vector<int> lesion_index;
  const Anatomy anatomy = anatomy_at(p, tp, &lesion_index);
  // Render the activity on a 2 mm grid, blur it with the scanner's 6 mm FWHM, then average to 4 mm.
  const PlaneGrid fine_grid{fx, fy, fs, fs, ox - vs / 2 + fs / 2, oy - vs / 2 + fs / 2};
  SlabRenderer renderer(anatomy, fine_grid, 1, 1);
  const size_t fplane = static_cast<size_t>(fx) * fy;
  std::vector<float> act(fplane * fz);
  std::vector<std::int16_t> flabel(fplane * fz);
  Slab slab;
  // Fine plane k lies at z_top + vs/2 - fs/2 - k * fs (descending).
  for (int k = 0; k < fz; ++k) {
    renderer.render(z_top + vs / 2 - fs / 2 - k * fs, 0, p.table_shift[tp], slab);
    std::copy(slab.suv.begin(), slab.suv.end(), act.begin() + static_cast<long>(k * fplane));
    std::copy(slab.lesion.begin(), slab.lesion.end(), flabel.begin() + static_cast<long>(k * fplane));
  }
  {
    const double sigma = 6.0 / 2.3548 / fs;
    const int r = static_cast<int>(std::ceil(3 * sigma));
    std::vector<float> kernel(static_cast<size_t>(2 * r + 1));
    double ksum = 0;
    for (int i = -r; i <= r; ++i)
      ksum += kernel[static_cast<size_t>(i + r)] = static_cast<float>(std::exp(-0.5 * i * i / (sigma * sigma)));
    for (float& v : kernel) v = static_cast<float>(v / ksum);
    std::vector<float> tmp(act.size());
    const int dims[3] = {fx, fy, fz};
    const size_t strides[3] = {1, static_cast<size_t>(fx), fplane};
    for (int axis = 0; axis < 3; ++axis) {
      for (int z = 0; z < fz; ++z)
        for (int y = 0; y < fy; ++y)
          for (int x = 0; x < fx; ++x) {
            const int pos[3] = {x, y, z};
            const size_t o = static_cast<size_t>(z) * fplane + static_cast<size_t>(y) * fx + x;
            double s = 0;
            for (int i = -r; i <= r; ++i) {
              const int q = std::clamp(pos[axis] + i, 0, dims[axis] - 1);
              s += kernel[static_cast<size_t>(i + r)] * act[o + (q - pos[axis]) * static_cast<long>(strides[axis])];
            }
            tmp[o] = static_cast<float>(s);
          }
      act.swap(tmp);
    }
  }
  const size_t plane = static_cast<size_t>(nx) * ny;
  std::vector<float> suv(plane * n, 0.0f);
  std::vector<std::uint8_t> labels(plane * n, 0);
  for (int z = 0; z < n; ++z)
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x) {
        double s = 0;
        int votes = 0, id = -1;
        for (int dz = 0; dz < 2; ++dz)
          for (int dy = 0; dy < 2; ++dy)
            for (int dx = 0; dx < 2; ++dx) {
              const size_t f = static_cast<size_t>(2 * z + dz) * fplane + static_cast<size_t>(2 * y + dy) * fx + (2 * x + dx);
              s += act[f];
              if (flabel[f] >= 0) {
                if (id < 0) id = flabel[f];
                if (id == flabel[f]) ++votes;
              }
            }
        const size_t o = static_cast<size_t>(z) * plane + static_cast<size_t>(y) * nx + x;
        suv[o] = static_cast<float>(s / 8);
        if (votes >= 4) labels[o] = static_cast<std::uint8_t>(lesion_index[static_cast<size_t>(id)] + 1);
      }
  // Noise-free lesion statistics (the truth), before noise is added.
  std::vector<double> suv_max(p.lesions.size(), 0), suv_sum(p.lesions.size(), 0);
  std::vector<long> count(p.lesions.size(), 0);
  for (size_t o = 0; o < suv.size(); ++o)
    if (labels[o] > 0) {
      const size_t li = labels[o] - 1U;
      suv_max[li] = std::max(suv_max[li], static_cast<double>(suv[o]));
      suv_sum[li] += suv[o];
      ++count[li];
    }
  Rng rng(Rng::derive(p.seed, "pet noise " + std::to_string(tp)));
  std::vector<float> field(suv.size());
  for (float& v : field) v = static_cast<float>(rng.normal());
  correlate_noise(field, nx, ny, n);
  for (size_t o = 0; o < suv.size(); ++o)
    suv[o] = std::max(0.0f, suv[o] + static_cast<float>(0.12 * std::sqrt(std::max(0.0f, suv[o]) * 2.3)) * field[o]);

  const double decayed = timing.injected_dose_bq * std::pow(2.0, -timing.uptake_s / kFdgHalfLife);
  const double bqml_per_suv = decayed / (p.plan.weight_kg * 1000.0);
  SeriesResult result;
  const int start_s = std::stoi(timing.series_time.substr(0, 2)) * 3600 + std::stoi(timing.series_time.substr(2, 2)) * 60 +
                      std::stoi(timing.series_time.substr(4, 2));
  cv::Mat mip(n, nx, CV_32F, cv::Scalar(0));
  for (int i = 0; i < n; ++i) {
    // Instance 1 is the top slice; bed positions of 150 mm, 2 minutes each, from the head down.
    const int z = n - 1 - i;  // ascending index of this plane
    const double zpos = z_top - i * vs;
    (void)z;
    const float* s = &suv[static_cast<size_t>(i) * plane];
    double peak = 0;
    for (size_t k = 0; k < plane; ++k) peak = std::max(peak, static_cast<double>(s[k]) * bqml_per_suv);
    const double slope = peak > 0 ? peak / 32000.0 : 1.0;
    std::vector<std::int16_t> stored(plane);
    for (size_t k = 0; k < plane; ++k) stored[k] = static_cast<std::int16_t>(std::lround(s[k] * bqml_per_suv / slope));
    for (int y = 0; y < ny; ++y)
      for (int x = 0; x < nx; ++x) mip.at<float>(i, x) = std::max(mip.at<float>(i, x), s[static_cast<size_t>(y * nx + x)]);
    PlaneGeometry g;
    g.rows = ny;
    g.columns = nx;
    g.spacing_row = vs;
    g.spacing_col = vs;
    g.x = ox;
    g.y = oy;
    g.z = zpos;
    g.thickness = vs;
    PetAcquisition acq;
    acq.radiopharmaceutical_start_datetime = timing.injection_datetime + ".000000";
    acq.injected_dose_bq = timing.injected_dose_bq;
    acq.number_of_slices = n;
    const int bed = static_cast<int>((z_top - zpos) / 150.0);
    acq.acquisition_time = hhmmss(start_s + bed * 120);
    acq.decay_factor = std::pow(2.0, (bed * 120 + 60) / kFdgHalfLife);
    const std::string name = out.file_name(ctx.series_number, i + 1);
    write_pet_image(out.dir + "/" + name, ctx, make_uid(p.seed, ctx.series_uid + "/" + std::to_string(i + 1)), i + 1, g, stored,
                    slope, acq);
    result.files.push_back(name);
  }
  if (!out.preview_dir.empty()) {
    cv::Mat img;
    mip.convertTo(img, CV_8U, -255.0 / 6.0, 255);  // inverted grey, SUV 0-6, as nuclear medicine reads a MIP
    cv::Mat big;
    cv::resize(img, big, cv::Size(nx * 3, n * 3), 0, 0, cv::INTER_NEAREST);
    write_png(out.preview_dir + "/pet_t" + std::to_string(tp) + "_coronal_mip.png", big);
  }
  // Labels are stored ascending in z.
  std::vector<std::uint8_t> asc(labels.size());
  for (int i = 0; i < n; ++i)
    std::copy(labels.begin() + static_cast<long>(i * plane), labels.begin() + static_cast<long>((i + 1) * plane),
              asc.begin() + static_cast<long>((n - 1 - i) * plane));
  write_label_nrrd(out.truth_dir + "/pet_lesion_labels.nrrd", asc, nx, ny, n, vs, vs, vs, ox, oy, z_top - (n - 1) * vs);
  Json lesions = Json::array();
  for (size_t i = 0; i < p.lesions.size(); ++i) {
    const PlacedLesion& l = p.lesions[i];
    Json j{{"id", l.plan.id}, {"tracking_uid", l.tracking_uid}, {"present", l.present(tp)}};
    if (l.present(tp)) {
      const Vec3 c = lesion_in_scan(p, i, tp).centre();
      j["centre_mm"] = Json::array({std::round(c.x * 1000) / 1000, std::round(c.y * 1000) / 1000, std::round(c.z * 1000) / 1000});
      j["suv_true"] = std::round(l.suv_at(tp) * 1000) / 1000;
      j["label"] = i + 1;
      j["label_voxels"] = count[i];
      j["suv_max_noise_free"] = std::round(suv_max[i] * 1000) / 1000;
      j["suv_mean_noise_free"] = count[i] > 0 ? std::round(suv_sum[i] / static_cast<double>(count[i]) * 1000) / 1000 : 0.0;
    }
    lesions.push_back(j);
  }
  result.truth = series_truth("PT", ctx, p, tp);
  result.truth.update(Json{
      {"grid",
       {{"columns", nx},
        {"rows", ny},
        {"slices", n},
        {"voxel_mm", vs},
        {"origin_mm", Json::array({ox, oy, z_top - (n - 1) * vs})}}},
      {"units", "BQML"},
      {"decay_correction", "START"},
      {"weight_kg", p.plan.weight_kg},
      {"height_m", p.plan.height_m},
      {"injected_dose_bq", timing.injected_dose_bq},
      {"injection_datetime", timing.injection_datetime},
      {"series_time", timing.series_time},
      {"uptake_s", timing.uptake_s},
      {"suv_bw_factor", 1.0 / bqml_per_suv},
      {"scanner_fwhm_mm", 6.0},
      {"organ_suv", {{"liver", 2.3}, {"blood_pool", 1.7}, {"brain", 8.0}, {"bladder", 25.0}, {"spleen", 1.9}, {"kidney", 3.5}}},
      {"label_map", "pet_lesion_labels.nrrd"},
      {"lesions", lesions}});
  return result;
}

}  // namespace oq::phantom
