#include "oq/validation/ct_insert.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <opencv2/imgproc.hpp>

namespace oq::validation {

namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kFieldOfViewMm = 160;  // each series' in-plane extent around its lesion
constexpr double kZMarginMm = 25;       // slices beyond the lesion, each side

cv::Mat as_mat(const Background& b) {
  return cv::Mat(b.rows, b.cols, CV_32F, const_cast<float*>(b.hu.data())).clone();
}

// The slice's anatomy (a light blur: 1.5 px) and the fine residual, which is mostly the noise.
void split_anatomy(const cv::Mat& hu, cv::Mat& anatomy, cv::Mat& residual) {
  cv::GaussianBlur(hu, anatomy, {0, 0}, 1.5);
  residual = hu - anatomy;
}

std::string new_uid() {
  char buf[100];
  dcmGenerateUniqueIdentifier(buf, SITE_INSTANCE_UID_ROOT);
  return buf;
}

// A smooth random texture: a dozen plane waves 4-10 mm long, summed to unit SD.
struct WaveField {
  std::vector<std::array<double, 4>> waves;  // kx, ky, kz (rad/mm), phase
  WaveField() = default;
  explicit WaveField(std::mt19937& rng) {
    std::uniform_real_distribution<double> u(0, 1);
    for (int i = 0; i < 12; ++i) {
      const double z = 2 * u(rng) - 1, phi = 2 * kPi * u(rng), r = std::sqrt(1 - z * z);
      const double k = 2 * kPi / (4 + 6 * u(rng));
      waves.push_back({k * r * std::cos(phi), k * r * std::sin(phi), k * z, 2 * kPi * u(rng)});
    }
  }
  double operator()(const P3& p) const {
    double s = 0;
    for (const auto& w : waves) s += std::cos(w[0] * p[0] + w[1] * p[1] + w[2] * p[2] + w[3]);
    return s / std::sqrt(static_cast<double>(waves.size()) / 2.0);
  }
};

struct Grid3 {
  int nx = 0, ny = 0, nz = 0;
  int x0 = 0, y0 = 0;  // the crop's first column and row in the background slice
  double dx = 1, dy = 1, dz = 1;
  P3 origin{};  // LPS of voxel (0, 0, 0)
  P3 at(double i, double j, double k) const { return {origin[0] + i * dx, origin[1] + j * dy, origin[2] + k * dz}; }
};

void put(DcmDataset* ds, const DcmTagKey& tag, const std::string& v) {
  ds->putAndInsertString(tag, v.c_str());
}

std::string ds_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

Status write_slice(const std::string& template_path, const std::string& path, const Grid3& g, int k,
                   const std::vector<int16_t>& pixels, const std::string& study, const std::string& series,
                   const std::string& frame, const std::string& patient, const std::string& description) {
  DcmFileFormat ff;
  if (ff.loadFile(template_path.c_str()).bad()) return Error(ErrorCode::kUnreadable, "cannot read", template_path);
  DcmDataset* ds = ff.getDataset();
  for (const DcmTagKey& t : {DCM_PixelData, DCM_LargestImagePixelValue, DCM_SmallestImagePixelValue, DCM_PixelPaddingValue,
                             DCM_PixelPaddingRangeLimit, DCM_SliceLocation, DCM_SpacingBetweenSlices})
    delete ds->remove(t);
  put(ds, DCM_PatientID, patient);
  put(ds, DCM_PatientName, patient);
  put(ds, DCM_StudyInstanceUID, study);
  put(ds, DCM_SeriesInstanceUID, series);
  put(ds, DCM_FrameOfReferenceUID, frame);
  put(ds, DCM_SOPInstanceUID, new_uid());
  put(ds, DCM_SeriesDescription, description);
  put(ds, DCM_SeriesNumber, "1");
  put(ds, DCM_InstanceNumber, std::to_string(k + 1));
  const P3 p = g.at(0, 0, k);
  put(ds, DCM_ImagePositionPatient, ds_number(p[0]) + "\\" + ds_number(p[1]) + "\\" + ds_number(p[2]));
  put(ds, DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
  put(ds, DCM_PixelSpacing, ds_number(g.dy) + "\\" + ds_number(g.dx));
  put(ds, DCM_SliceThickness, ds_number(g.dz));
  put(ds, DCM_RescaleIntercept, "0");
  put(ds, DCM_RescaleSlope, "1");
  put(ds, DCM_PhotometricInterpretation, "MONOCHROME2");
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(g.ny));
  ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(g.nx));
  ds->putAndInsertUint16(DCM_BitsAllocated, 16);
  ds->putAndInsertUint16(DCM_BitsStored, 16);
  ds->putAndInsertUint16(DCM_HighBit, 15);
  ds->putAndInsertUint16(DCM_PixelRepresentation, 1);
  ds->putAndInsertUint16Array(DCM_PixelData, reinterpret_cast<const Uint16*>(pixels.data()), pixels.size());
  if (ff.saveFile(path.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL, EPD_withoutPadding, 0, 0,
                  EWM_createNewMeta)
          .bad())
    return Error(ErrorCode::kIo, "cannot write", path);
  return Ok{};
}

// MetaImage (ITK reads it): the truth mask on the series grid.
Status write_mask(const std::string& path, const Grid3& g, const std::vector<uint8_t>& mask) {
  std::ofstream out(path, std::ios::binary);
  out << "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
      << "TransformMatrix = 1 0 0 0 1 0 0 0 1\nOffset = " << g.origin[0] << " " << g.origin[1] << " " << g.origin[2]
      << "\nElementSpacing = " << g.dx << " " << g.dy << " " << g.dz << "\nDimSize = " << g.nx << " " << g.ny << " " << g.nz
      << "\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n";
  out.write(reinterpret_cast<const char*>(mask.data()), static_cast<std::streamsize>(mask.size()));
  if (!out) return Error(ErrorCode::kIo, "cannot write", path);
  return Ok{};
}

// Where the case's lesion can sit on this slice (pixel column, row), from the slice's anatomy:
// soft tissue (0-200 HU) or aerated lung (-950 to -500 HU), and distances to their edges.
Result<std::array<int, 2>> place(const cv::Mat& anatomy, const Background& b, Placement where, double radius_mm,
                                 std::mt19937& rng) {
  cv::Mat soft, lung, d_soft, d_lung;
  cv::inRange(anatomy, 0, 200, soft);
  cv::inRange(anatomy, -950, -500, lung);
  cv::distanceTransform(soft, d_soft, cv::DIST_L2, 5);
  cv::distanceTransform(lung, d_lung, cv::DIST_L2, 5);
  const double px = std::min(b.row_spacing, b.col_spacing);
  const double border_mm = radius_mm + 30;
  std::vector<std::array<int, 2>> candidates;
  for (int j = 0; j < b.rows; j += 2)
    for (int i = 0; i < b.cols; i += 2) {
      if (i * b.col_spacing < border_mm || (b.cols - i) * b.col_spacing < border_mm || j * b.row_spacing < border_mm ||
          (b.rows - j) * b.row_spacing < border_mm)
        continue;
      const double ds = d_soft.at<float>(j, i) * px, dl = d_lung.at<float>(j, i) * px;
      bool ok = false;
      switch (where) {
        case Placement::kInOrgan:
          ok = ds >= radius_mm + 5;
          break;
        case Placement::kJuxtaOrgan:
          ok = ds >= 0.3 * radius_mm && ds <= 0.7 * radius_mm;
          break;
        case Placement::kJuxtapleural:
          ok = dl >= 0.4 * radius_mm && dl <= 0.8 * radius_mm;
          break;
      }
      if (ok) candidates.push_back({i, j});
    }
  if (candidates.empty())
    return Error(ErrorCode::kNotFound, std::string("no room for a ") + std::to_string(std::lround(2 * radius_mm)) +
                                           " mm lesion " + to_string(where) + " on " + b.name);
  return candidates[std::uniform_int_distribution<size_t>(0, candidates.size() - 1)(rng)];
}

}  // namespace

const char* to_string(Placement p) {
  switch (p) {
    case Placement::kInOrgan:
      return "in organ";
    case Placement::kJuxtaOrgan:
      return "against an organ's edge";
    case Placement::kJuxtapleural:
      return "juxtapleural";
  }
  return "?";
}

const char* to_string(NoiseKind n) {
  switch (n) {
    case NoiseKind::kImageOwn:
      return "image's own";
    case NoiseKind::kWhite:
      return "white";
    case NoiseKind::kCorrelated:
      return "correlated";
  }
  return "?";
}

Result<Background> load_background(const std::string& path, const std::string& name, const std::string& description) {
  DcmFileFormat ff;
  if (ff.loadFile(path.c_str()).bad()) return Error(ErrorCode::kUnreadable, "not a readable DICOM file", path);
  DcmDataset* ds = ff.getDataset();
  Background b;
  b.name = name;
  b.description = description;
  b.path = path;
  Uint16 rows = 0, cols = 0, repr = 0, bits = 16;
  ds->findAndGetUint16(DCM_Rows, rows);
  ds->findAndGetUint16(DCM_Columns, cols);
  ds->findAndGetUint16(DCM_PixelRepresentation, repr);
  ds->findAndGetUint16(DCM_BitsAllocated, bits);
  Float64 slope = 1, intercept = 0, rs = 0, cs = 0;
  ds->findAndGetFloat64(DCM_RescaleSlope, slope);
  ds->findAndGetFloat64(DCM_RescaleIntercept, intercept);
  ds->findAndGetFloat64(DCM_PixelSpacing, rs, 0);
  ds->findAndGetFloat64(DCM_PixelSpacing, cs, 1);
  for (int a = 0; a < 3; ++a) {
    Float64 v = 0;
    ds->findAndGetFloat64(DCM_ImagePositionPatient, v, static_cast<unsigned long>(a));
    b.origin[static_cast<size_t>(a)] = v;
  }
  if (rows == 0 || cols == 0 || bits != 16 || rs <= 0 || cs <= 0)
    return Error(ErrorCode::kUnsupported, "an uncompressed 16-bit CT slice with Pixel Spacing is needed", path);
  const Uint16* raw = nullptr;
  if (ds->findAndGetUint16Array(DCM_PixelData, raw).bad() || !raw)
    return Error(ErrorCode::kUnsupported, "no uncompressed pixel data", path);
  b.rows = rows;
  b.cols = cols;
  b.row_spacing = rs;
  b.col_spacing = cs;
  b.hu.resize(static_cast<size_t>(rows) * cols);
  for (size_t i = 0; i < b.hu.size(); ++i) {
    const double v = repr ? static_cast<double>(static_cast<int16_t>(raw[i])) : static_cast<double>(raw[i]);
    b.hu[i] = static_cast<float>(v * slope + intercept);
  }
  // The slice's own noise: the SD of the fine residual in 16 x 16 px windows lying wholly in soft
  // tissue, the lower quartile of them (homogeneous parenchyma, not edges or vessels), corrected
  // for the share of white noise the 1.5 px blur keeps in the anatomy (1 - 2 w0 + sum w^2).
  cv::Mat anatomy, residual;
  split_anatomy(as_mat(b), anatomy, residual);
  std::vector<float> window_sd;
  for (int y = 0; y + 16 <= b.rows; y += 16)
    for (int x = 0; x + 16 <= b.cols; x += 16) {
      double lo = 1e9, hi = -1e9;
      cv::minMaxLoc(anatomy(cv::Rect(x, y, 16, 16)), &lo, &hi);
      if (lo < 0 || hi > 150) continue;
      cv::Scalar mean, sd;
      cv::meanStdDev(residual(cv::Rect(x, y, 16, 16)), mean, sd);
      window_sd.push_back(static_cast<float>(sd[0]));
    }
  std::sort(window_sd.begin(), window_sd.end());
  const double s2 = 1.5 * 1.5, keep = std::sqrt(1 - 2 / (2 * kPi * s2) + 1 / (4 * kPi * s2));
  b.own_noise_sd = window_sd.empty() ? 0 : window_sd[window_sd.size() / 4] / keep;
  return b;
}

std::vector<CaseSpec> plan_cases(const std::vector<Background>& backgrounds, int count, unsigned seed) {
  std::mt19937 rng(seed);
  const double sizes[] = {10, 12, 14, 17, 20, 24, 28, 34, 40, 48, 60};
  // Liver metastases in the portal phase run 40-100 HU below the liver; faint ones 15-20 HU.
  const double contrasts[] = {-100, -80, -60, -45, -30, -20, -15, 15, 20, 35, 60};
  const double thickness[] = {1.25, 2.5, 3.75, 5.0};
  const double psf[] = {0.5, 1.0, 1.5, 2.0};
  const double noise[] = {0, 5, 10, 20, 40, 80};
  // Each factor's levels spread evenly over the cases, in an order of their own (a shuffled
  // permutation per factor), so that no two factors move together.
  auto levels = [&](size_t n) {
    std::vector<size_t> v(static_cast<size_t>(count));
    for (size_t i = 0; i < v.size(); ++i) v[i] = i % n;
    std::shuffle(v.begin(), v.end(), rng);
    return v;
  };
  const auto bg = levels(backgrounds.size()), where = levels(6), shape = levels(3), texture = levels(4),
             size = levels(std::size(sizes)), contrast = levels(std::size(contrasts)), slice = levels(std::size(thickness)),
             spread = levels(std::size(psf)), sd = levels(std::size(noise)), kind = levels(2);
  std::vector<CaseSpec> out;
  for (size_t i = 0; i < static_cast<size_t>(count); ++i) {
    CaseSpec c;
    c.background = bg[i];
    // Lung only on the abdominal slices (their lung bases); elsewhere in an organ or at its edge.
    const bool has_lung = backgrounds[c.background].name.find("abdomen") != std::string::npos;
    c.placement = static_cast<Placement>(where[i] % (has_lung ? 3 : 2));
    c.shape = static_cast<ShapeKind>(shape[i]);
    c.texture = static_cast<Texture>(texture[i]);
    c.diameter_mm = sizes[size[i]];
    c.contrast_hu = contrasts[contrast[i]];
    c.thickness_mm = thickness[slice[i]];
    c.psf_fwhm_mm = psf[spread[i]];
    c.noise_sd_hu = noise[sd[i]];
    c.noise = c.noise_sd_hu == 0 ? NoiseKind::kImageOwn : (kind[i] ? NoiseKind::kCorrelated : NoiseKind::kWhite);
    c.seed = static_cast<unsigned>(rng());
    char id[32];
    std::snprintf(id, sizeof id, "VAL-%03zu", i + 1);
    c.id = id;
    out.push_back(c);
  }
  return out;
}

namespace {

// Where a case's lesion sits: its series' grid around it, and its shape.
struct Framed {
  int ci = 0, cj = 0;  // the lesion's centre on the background slice (pixels)
  Grid3 g;
  LesionShape shape;
};

Result<Framed> frame_case(const cv::Mat& anatomy, const Background& b, const CaseSpec& c, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  auto spot = place(anatomy, b, c.placement, c.diameter_mm / 2 * 1.2, rng);
  if (!spot) return spot.error();
  Framed f;
  f.ci = (*spot)[0];
  f.cj = (*spot)[1];
  Grid3& g = f.g;
  g.dx = b.col_spacing;
  g.dy = b.row_spacing;
  g.dz = c.thickness_mm;
  g.nx = std::min(b.cols, static_cast<int>(std::ceil(kFieldOfViewMm / g.dx)));
  g.ny = std::min(b.rows, static_cast<int>(std::ceil(kFieldOfViewMm / g.dy)));
  g.x0 = std::clamp(f.ci - g.nx / 2, 0, b.cols - g.nx);
  g.y0 = std::clamp(f.cj - g.ny / 2, 0, b.rows - g.ny);
  f.shape = make_shape(c.shape, {b.origin[0] + f.ci * g.dx, b.origin[1] + f.cj * g.dy, 0}, c.diameter_mm, rng);
  const auto box = f.shape.bounds();
  g.nz = static_cast<int>(std::ceil(2 * ((box[1][2] - box[0][2]) / 2 + kZMarginMm) / g.dz)) + 1;
  // The lesion's centre falls anywhere within a slice (partial volume differs case to case).
  const double z_offset = (u(rng) - 0.5) * g.dz;
  g.origin = {b.origin[0] + g.x0 * g.dx, b.origin[1] + g.y0 * g.dy, -static_cast<double>(g.nz / 2) * g.dz + z_offset};
  return f;
}

// The lesion's CT number at a point, against the tissue under its centre, by texture.
struct Look {
  double background_hu = 0, lesion_hu = 0, contrast = 0, texture_sd = 0;
  Texture texture = Texture::kUniform;
  const LesionShape* shape = nullptr;
  WaveField field;  // for a heterogeneous texture
  double at(const P3& p) const {
    switch (texture) {
      case Texture::kUniform:
        return lesion_hu;
      case Texture::kHeterogeneous:
        return lesion_hu + texture_sd * field(p);
      case Texture::kNecroticCentre:  // a fluid-like core (0-20 HU at the least), darker than the viable rim
        return shape->rho(p) < 0.55 ? std::max(std::min(lesion_hu, background_hu) - 30, std::min(lesion_hu - 25, 10.0))
                                    : lesion_hu;
      case Texture::kCalcifiedRim:
        return shape->rho(p) > 0.85 ? lesion_hu + 220 : lesion_hu;
    }
    return lesion_hu;
  }
};

Look make_look(const cv::Mat& anatomy, const Framed& f, const CaseSpec& c, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0, 1);
  Look l;
  l.background_hu = anatomy.at<float>(f.cj, f.ci);
  l.lesion_hu = c.placement == Placement::kJuxtapleural ? -10 + 50 * u(rng) : l.background_hu + c.contrast_hu;
  l.contrast = std::abs(l.lesion_hu - l.background_hu);
  l.texture_sd = 5 + 0.25 * std::min(l.contrast, 80.0);
  l.texture = c.texture;
  l.shape = &f.shape;
  l.field = WaveField(rng);
  return l;
}

// Noise: the slice's own, plus what the case adds, never below 5 HU in all (a slice stored
// smoothed - the head's reads 0.2 HU - is no scanner's image).
struct Noise {
  NoiseKind kind = NoiseKind::kWhite;
  double added_sd = 0, total_sd = 0;
};
Noise plan_noise(const Background& b, const CaseSpec& c) {
  Noise n;
  const double wanted = std::max(5.0, c.noise == NoiseKind::kImageOwn ? 0.0 : c.noise_sd_hu);
  n.kind = c.noise == NoiseKind::kImageOwn ? NoiseKind::kWhite : c.noise;
  n.added_sd = std::sqrt(std::max(0.0, wanted * wanted - b.own_noise_sd * b.own_noise_sd));
  n.total_sd = std::sqrt(b.own_noise_sd * b.own_noise_sd + n.added_sd * n.added_sd);
  return n;
}

// One slice's background: the anatomy plus the slice's own residual moved by up to 40 px, plus
// the added noise.
cv::Mat background_slice(const cv::Mat& anatomy, const cv::Mat& residual, const Background& b, const Grid3& g, const Noise& noise,
                         std::mt19937& rng, std::normal_distribution<float>& gauss) {
  std::uniform_real_distribution<double> u(0, 1);
  const int sx = static_cast<int>(std::lround((u(rng) - 0.5) * 80)), sy = static_cast<int>(std::lround((u(rng) - 0.5) * 80));
  cv::Mat slice(g.ny, g.nx, CV_32F);
  for (int j = 0; j < g.ny; ++j)
    for (int i = 0; i < g.nx; ++i) {
      const int bi = g.x0 + i, bj = g.y0 + j;
      const int ri = std::clamp(bi + sx, 0, b.cols - 1), rj = std::clamp(bj + sy, 0, b.rows - 1);
      slice.at<float>(j, i) = anatomy.at<float>(bj, bi) + residual.at<float>(rj, ri);
    }
  if (noise.added_sd > 0) {
    cv::Mat n(g.ny, g.nx, CV_32F);
    for (int j = 0; j < g.ny; ++j)
      for (int i = 0; i < g.nx; ++i) n.at<float>(j, i) = gauss(rng);
    if (noise.kind == NoiseKind::kCorrelated) {
      cv::GaussianBlur(n, n, {0, 0}, 1.0);
      n *= 2 * std::sqrt(kPi) * 1.0;  // unit SD again (a 2D Gaussian of sigma s keeps 1 / (2 s sqrt(pi)))
    }
    slice += n * noise.added_sd;
  }
  return slice;
}

// Adds slice k's lesion to `slice`: (its CT number - the tissue's) x the share of the voxel and
// slice profile it fills (4 x 4 in the plane, 8 through the profile), then the in-plane point
// spread; marks the voxels it fills at least half of in `truth_mask`.
void add_lesion(cv::Mat& slice, const cv::Mat& anatomy, const Grid3& g, int k, const Look& look, double psf_fwhm_mm,
                std::vector<uint8_t>& truth_mask) {
  const LesionShape& shape = *look.shape;
  const auto box = shape.bounds();
  const double z = g.origin[2] + k * g.dz;
  if (z < box[0][2] - g.dz || z > box[1][2] + g.dz) return;
  const double psf_sigma_mm = psf_fwhm_mm / 2.355;
  const double margin = 3 * psf_sigma_mm + 2 * std::max(g.dx, g.dy);
  const int i0 = std::max(0, static_cast<int>(std::floor((box[0][0] - margin - g.origin[0]) / g.dx)));
  const int i1 = std::min(g.nx - 1, static_cast<int>(std::ceil((box[1][0] + margin - g.origin[0]) / g.dx)));
  const int j0 = std::max(0, static_cast<int>(std::floor((box[0][1] - margin - g.origin[1]) / g.dy)));
  const int j1 = std::min(g.ny - 1, static_cast<int>(std::ceil((box[1][1] + margin - g.origin[1]) / g.dy)));
  constexpr int kSub = 4, kSubZ = 8;
  cv::Mat term = cv::Mat::zeros(g.ny, g.nx, CV_32F);
  bool any = false;
  for (int j = j0; j <= j1; ++j)
    for (int i = i0; i <= i1; ++i) {
      double sum = 0, occupied = 0, wsum = 0;
      for (int sz = 0; sz < kSubZ; ++sz) {
        const double dz = -g.dz + (sz + 0.5) * 2 * g.dz / kSubZ, w = slice_profile(dz, g.dz);
        for (int s = 0; s < kSub * kSub; ++s) {
          const P3 p{g.origin[0] + (i - 0.5 + (s % kSub + 0.5) / kSub) * g.dx,
                     g.origin[1] + (j - 0.5 + (static_cast<double>(s / kSub) + 0.5) / kSub) * g.dy, z + dz};
          wsum += w;
          if (!shape.inside(p)) continue;
          occupied += w;
          sum += w * (look.at(p) - anatomy.at<float>(g.y0 + j, g.x0 + i));
        }
      }
      if (occupied == 0) continue;
      any = true;
      term.at<float>(j, i) = static_cast<float>(sum / wsum);
      if (occupied / wsum >= 0.5) truth_mask[(static_cast<size_t>(k) * g.ny + j) * g.nx + i] = 1;
    }
  if (!any) return;
  if (psf_sigma_mm > 0) cv::GaussianBlur(term, term, {0, 0}, psf_sigma_mm / g.dx, psf_sigma_mm / g.dy);
  slice += term;
}

std::vector<int16_t> stored_pixels(const cv::Mat& slice) {
  std::vector<int16_t> px(static_cast<size_t>(slice.total()));
  for (int j = 0; j < slice.rows; ++j)
    for (int i = 0; i < slice.cols; ++i)
      px[static_cast<size_t>(j) * static_cast<size_t>(slice.cols) + static_cast<size_t>(i)] =
          static_cast<int16_t>(std::clamp(std::lround(slice.at<float>(j, i)), -1024L, 3071L));
  return px;
}

// The case's truth: the 50 % partial-volume outline on each acquired slice, the longest winning
// (RECIST), with what the case was made of.
nlohmann::json truth_of(const Background& b, const CaseSpec& c, const Framed& f, const Look& look, const Noise& noise,
                        const std::vector<uint8_t>& truth_mask) {
  const Grid3& g = f.g;
  SliceTruth best;
  int best_k = -1;
  for (int k = 0; k < g.nz; ++k) {
    const SliceTruth t = truth_on_slice(f.shape, g.origin[2] + k * g.dz, g.dz);
    if (t.long_axis.length > best.long_axis.length) best = t, best_k = k;
  }
  const double voxel_ml = g.dx * g.dy * g.dz / 1000;
  const auto pt = [&](const std::array<double, 2>& p) { return nlohmann::json::array({p[0], p[1], best.z}); };
  return {
      {"id", c.id},
      {"series", "series"},
      {"truth_mask", "truth_mask.mha"},
      {"background", {{"name", b.name}, {"description", b.description}, {"file", fs::path(b.path).filename().string()}}},
      {"placement", to_string(c.placement)},
      {"shape", to_string(c.shape)},
      {"texture", to_string(c.texture)},
      {"nominal_diameter_mm", c.diameter_mm},
      {"lesion_hu", look.lesion_hu},
      {"background_hu", look.background_hu},
      {"contrast_hu", look.contrast},
      {"noise_sd_hu", noise.total_sd},
      {"image_own_noise_sd_hu", b.own_noise_sd},
      {"noise", noise.added_sd > 0 ? to_string(noise.kind) : to_string(NoiseKind::kImageOwn)},
      {"contrast_to_noise", look.contrast / noise.total_sd},
      {"psf_fwhm_mm", c.psf_fwhm_mm},
      {"slice_thickness_mm", c.thickness_mm},
      {"pixel_mm", {g.dx, g.dy}},
      {"seed_mm", {f.shape.centre[0], f.shape.centre[1], f.shape.centre[2]}},
      {"long_axis",
       {{"length_mm", best.long_axis.length},
        {"endpoints_mm", {pt(best.long_axis.a), pt(best.long_axis.b)}},
        {"slice_index", best_k}}},
      {"short_axis", {{"length_mm", best.short_axis.length}, {"endpoints_mm", {pt(best.short_axis.a), pt(best.short_axis.b)}}}},
      {"volume_ml", static_cast<double>(std::count(truth_mask.begin(), truth_mask.end(), 1)) * voxel_ml},
  };
}

}  // namespace

Result<nlohmann::json> render_case(const Background& b, const CaseSpec& c, const std::string& dir) {
  std::mt19937 rng(c.seed);
  std::normal_distribution<float> gauss(0, 1);
  cv::Mat anatomy, residual;
  split_anatomy(as_mat(b), anatomy, residual);
  auto framed = frame_case(anatomy, b, c, rng);
  if (!framed) return framed.error();
  const Framed& f = *framed;
  const Look look = make_look(anatomy, f, c, rng);
  const Noise noise = plan_noise(b, c);

  const std::string series_dir = dir + "/series";
  fs::create_directories(series_dir);
  const std::string study = new_uid(), series = new_uid(), frame = new_uid();
  const std::string description = std::string("validation ") + c.id + ": " + to_string(c.shape) + ", " + to_string(c.texture);
  std::vector<uint8_t> truth_mask(static_cast<size_t>(f.g.nx) * f.g.ny * f.g.nz, 0);
  for (int k = 0; k < f.g.nz; ++k) {
    cv::Mat slice = background_slice(anatomy, residual, b, f.g, noise, rng, gauss);
    add_lesion(slice, anatomy, f.g, k, look, c.psf_fwhm_mm, truth_mask);
    char name[32];
    std::snprintf(name, sizeof name, "/%04d.dcm", k + 1);
    if (Status st = write_slice(b.path, series_dir + name, f.g, k, stored_pixels(slice), study, series, frame, c.id, description);
        !st.ok())
      return st.error();
  }
  if (Status st = write_mask(dir + "/truth_mask.mha", f.g, truth_mask); !st.ok()) return st.error();
  nlohmann::json truth = truth_of(b, c, f, look, noise, truth_mask);
  std::ofstream(dir + "/truth.json") << truth.dump(1) << "\n";
  return truth;
}

}  // namespace oq::validation
