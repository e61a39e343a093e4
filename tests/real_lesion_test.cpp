// A real tumour with an expert's contour (IBSI STS_008: a soft-tissue sarcoma of the thigh, CT and
// FDG-PET, TCIA Soft-tissue-Sarcoma), clicked at the contour's centre as a reader would click it.
// The truth is the expert's NIfTI mask on each series' own grid, never anything our code made.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "support.h"

namespace {

using namespace oqtest;

const std::string kCase = "/data/dicom/ct/ibsi-sts-008";

// The LPS position of a voxel index (ITK's convention: origin + direction x (index x spacing)).
std::array<double, 3> lps_of(const VolumeData& v, double i, double j, double k) {
  const double s[3] = {i * v.spacing[0], j * v.spacing[1], k * v.spacing[2]};
  std::array<double, 3> p{};
  for (int r = 0; r < 3; ++r)
    p[r] = v.origin[r] + v.direction[r * 3 + 0] * s[0] + v.direction[r * 3 + 1] * s[1] + v.direction[r * 3 + 2] * s[2];
  return p;
}

std::array<double, 3> centroid(const VolumeData& mask) {
  double si = 0, sj = 0, sk = 0, n = 0;
  for (std::size_t k = 0; k < mask.size[2]; ++k)
    for (std::size_t j = 0; j < mask.size[1]; ++j)
      for (std::size_t i = 0; i < mask.size[0]; ++i)
        if (mask.voxels[(k * mask.size[1] + j) * mask.size[0] + i] > 0.5f) {
          si += static_cast<double>(i), sj += static_cast<double>(j), sk += static_cast<double>(k), n += 1;
        }
  return lps_of(mask, si / n, sj / n, sk / n);
}

double dice(const VolumeData& a, const VolumeData& b) {
  double both = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.voxels.size(); ++i) {
    const bool x = a.voxels[i] > 0.5f, y = b.voxels[i] > 0.5f;
    both += x && y, na += x, nb += y;
  }
  return na + nb > 0 ? 2 * both / (na + nb) : 0;
}

double volume_ml(const VolumeData& m) {
  const double n = static_cast<double>(std::count_if(m.voxels.begin(), m.voxels.end(), [](float v) { return v > 0.5f; }));
  return n * m.spacing[0] * m.spacing[1] * m.spacing[2] / 1000.0;
}

std::string seed_arg(const std::array<double, 3>& p) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.2f,%.2f,%.2f", p[0], p[1], p[2]);
  return buf;
}

// The expert's PET contour against each threshold method, printed so a reader can choose
// knowingly; SUVmax is the hottest voxel of the method's own mask.
TEST(RealTumour, PetMethodsAgainstTheExpertContour) {
  const std::string dir = shared_dir() + kCase;
  const VolumeData expert = read_volume(dir + "/nifti/PET_mask.nii.gz");
  const fs::path out = scratch("sts008_pet");
  ASSERT_EQ(
      oncoquant("convert " + quote(dir + "/PET/image") + " -o " + quote((out / "suv.nii.gz").string()) + " --quiet").exit_code,
      0);
  const VolumeData suv = read_volume((out / "suv.nii.gz").string());
  ASSERT_EQ(suv.size, expert.size);
  const std::string seed = seed_arg(centroid(expert));
  std::printf("STS_008 PET, expert contour %.1f ml; click at its centre %s\n", volume_ml(expert), seed.c_str());
  for (const char* method : {"41", "50", "adaptive"}) {
    SCOPED_TRACE(method);
    const fs::path mask = out / (std::string("mask_") + method + ".nii.gz");
    const CliRun r = oncoquant("segment " + quote(dir + "/PET/image") + " --seed " + seed + " --pet-threshold " + method +
                               " --mask " + quote(mask.string()) + " --json --quiet");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    const VolumeData m = read_volume(mask.string());
    ASSERT_EQ(m.size, expert.size);
    float hottest = 0;
    for (std::size_t i = 0; i < m.voxels.size(); ++i)
      if (m.voxels[i] > 0.5f) hottest = std::max(hottest, suv.voxels[i]);
    EXPECT_NEAR(j["suv_max"].get<double>(), hottest, 1e-4) << "SUVmax is the lesion's maximum";
    EXPECT_GE(j["suv_peak"].get<double>(), 0.0);
    EXPECT_LE(j["suv_peak"].get<double>(), j["suv_max"].get<double>());
    std::printf("  %-9s Dice %.2f, MTV %.1f ml, SUVmax %.2f, SUVpeak %.2f\n", method, dice(m, expert), volume_ml(m),
                j["suv_max"].get<double>(), j["suv_peak"].get<double>());
    RecordProperty(std::string("dice_") + method, std::to_string(dice(m, expert)));
  }
}

// Clicked at the centre of the expert's CT contour. The tumour lies in muscle, its edge faint on
// CT (the expert drew it with MR beside it): the measurement must either find the edge or say it
// cannot be trusted, never return a confident number that leaks into the muscle.
TEST(RealTumour, CtClickAtTheCentreOfAFaintSarcoma) {
  const std::string dir = shared_dir() + kCase;
  const VolumeData expert = read_volume(dir + "/nifti/CT_mask.nii.gz");
  const VolumeData ct = read_volume(dir + "/nifti/CT_image.nii.gz");
  ASSERT_EQ(ct.size, expert.size);
  // The contrast the edge offers, measured here for the record: inside the contour against a
  // shell of 3-8 mm around it, in SD of the inside.
  double in = 0, in2 = 0, n_in = 0, out_sum = 0, n_out = 0;
  const std::size_t nx = ct.size[0], ny = ct.size[1], nz = ct.size[2];
  for (std::size_t k = 0; k < nz; ++k)
    for (std::size_t j = 0; j < ny; ++j)
      for (std::size_t i = 0; i < nx; ++i) {
        const std::size_t o = (k * ny + j) * nx + i;
        const double v = ct.voxels[o];
        if (expert.voxels[o] > 0.5f) {
          in += v, in2 += v * v, n_in += 1;
          continue;
        }
        // Distance to the contour by a small search (in-plane only: 3-8 mm ring on the same slice).
        bool near = false, too_near = false;
        const int r = static_cast<int>(std::ceil(8 / ct.spacing[0]));
        for (int dj = -r; dj <= r && !too_near; ++dj)
          for (int di = -r; di <= r; ++di) {
            const long x = static_cast<long>(i) + di, y = static_cast<long>(j) + dj;
            if (x < 0 || y < 0 || x >= static_cast<long>(nx) || y >= static_cast<long>(ny)) continue;
            if (expert.voxels[(k * ny + static_cast<std::size_t>(y)) * nx + static_cast<std::size_t>(x)] <= 0.5f) continue;
            const double d = std::hypot(di * ct.spacing[0], dj * ct.spacing[1]);
            if (d < 3) too_near = true;
            if (d <= 8) near = true;
          }
        if (near && !too_near) out_sum += v, n_out += 1;
      }
  const double mean_in = in / n_in, sd_in = std::sqrt(std::max(0.0, in2 / n_in - mean_in * mean_in));
  std::printf("STS_008 CT: inside the contour %.0f +- %.0f HU, 3-8 mm outside %.0f HU (contrast %.1f SD)\n", mean_in, sd_in,
              out_sum / n_out, std::abs(mean_in - out_sum / n_out) / sd_in);
  const fs::path out = scratch("sts008_ct");
  const std::string seed = seed_arg(centroid(expert));
  const CliRun r = oncoquant("segment " + quote(dir + "/CT/image") + " --seed " + seed + " --mask " +
                             quote((out / "mask.nii.gz").string()) + " --json --quiet");
  std::printf("  click %s: exit %d %s\n", seed.c_str(), r.exit_code, r.exit_code ? r.err.c_str() : "");
  if (r.exit_code == 0) {
    const auto j = nlohmann::json::parse(r.out);
    const VolumeData m = read_volume((out / "mask.nii.gz").string());
    const double d = dice(m, expert);
    std::printf("  long axis %.1f mm (expert about 39), Dice %.2f, confidence %s\n", j["long_axis_mm"].get<double>(), d,
                j.value("confidence", nlohmann::json("absent")).dump().c_str());
    if (j["confidence"] == "low") std::printf("  reason: %s\n", j["confidence_reason"].get<std::string>().c_str());
    // A confident answer must be a right one.
    ASSERT_TRUE(j.contains("confidence")) << "every CT measurement says how far it can be trusted";
    if (j["confidence"] == "high") {
      EXPECT_GE(d, 0.7) << "a confident measurement that leaks into the muscle";
      EXPECT_NEAR(j["long_axis_mm"].get<double>(), 39, 6);
    }
  } else {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("no lesion found"), std::string::npos) << r.err;
  }
}

}  // namespace
