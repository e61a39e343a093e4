// specs/suv.md acceptance: every IBSI SUV reference object, converted to SUVbw by the real
// command, gives the catalogue's min / median / max inside its mask, to two decimals.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "support.h"

namespace {

using namespace oqtest;

struct DroCase {
  std::string id, min, median, max;
};

// The expected values come from the DRO catalogue itself (DRO_list.csv), not from our code.
std::vector<DroCase> dro_catalogue() {
  std::vector<DroCase> out;
  std::ifstream in(shared_dir() + "/data/dicom/pet/ibsi-suv-dro/DRO_list.csv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::string cur;
    bool quoted = false;
    for (char c : line) {
      if (c == '"')
        quoted = !quoted;
      else if (c == ',' && !quoted) {
        cols.push_back(cur);
        cur.clear();
      } else
        cur += c;
    }
    cols.push_back(cur);
    if (cols.size() >= 6 && fs::exists(shared_dir() + "/data/dicom/pet/ibsi-suv-dro/" + cols[1]))
      out.push_back({cols[1], cols[3], cols[4], cols[5]});
  }
  return out;
}

std::string two_decimals(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

TEST(IbsiSuvDro, EveryObjectGivesTheCatalogueStatisticsInsideItsMask) {
  const auto cases = dro_catalogue();
  ASSERT_GE(cases.size(), 8u) << "DRO catalogue not found under " << shared_dir();
  const fs::path out_dir = scratch("dro");
  for (const auto& c : cases) {
    SCOPED_TRACE(c.id);
    const std::string dir = shared_dir() + "/data/dicom/pet/ibsi-suv-dro/" + c.id;
    const std::string out = (out_dir / (c.id + ".nii.gz")).string();
    const CliRun r = oncoquant("convert " + quote(dir + "/PT") + " -o " + quote(out) + " --quiet");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const VolumeData suv = read_volume(out);
    const VolumeData mask = read_volume(dir + "/mask/DRO_mask.nii.gz");
    ASSERT_EQ(suv.size, mask.size);
    for (int i = 0; i < 3; ++i) {
      EXPECT_NEAR(suv.origin[i], mask.origin[i], 1e-3) << "the volume must sit on the mask's grid";
      EXPECT_NEAR(suv.spacing[i], mask.spacing[i], 1e-6);
    }
    std::vector<float> inside;
    for (std::size_t i = 0; i < suv.voxels.size(); ++i)
      if (mask.voxels[i] > 0.5f) inside.push_back(suv.voxels[i]);
    ASSERT_FALSE(inside.empty());
    std::sort(inside.begin(), inside.end());
    const double median =
        inside.size() % 2 ? inside[inside.size() / 2] : 0.5 * (inside[inside.size() / 2 - 1] + inside[inside.size() / 2]);
    EXPECT_EQ(two_decimals(inside.front()), c.min);
    EXPECT_EQ(two_decimals(median), c.median);
    EXPECT_EQ(two_decimals(inside.back()), c.max);
  }
}

TEST(IbsiSuvDro, SulLbmAndNativeUnitsAreOffered) {
  const std::string dir = shared_dir() + "/data/dicom/pet/ibsi-suv-dro/DRO_0_0/PT";
  const fs::path out_dir = scratch("dro_units");
  const CliRun bw = oncoquant("convert " + quote(dir) + " -o " + quote((out_dir / "bw.mha").string()) + " --quiet");
  const CliRun sul =
      oncoquant("convert " + quote(dir) + " -o " + quote((out_dir / "sul.mha").string()) + " --units suvlbm --quiet");
  const CliRun native =
      oncoquant("convert " + quote(dir) + " -o " + quote((out_dir / "bq.mha").string()) + " --units native --quiet");
  ASSERT_EQ(bw.exit_code, 0) << bw.err;
  ASSERT_EQ(sul.exit_code, 0) << sul.err;
  ASSERT_EQ(native.exit_code, 0) << native.err;
  const auto a = read_volume((out_dir / "bw.mha").string());
  const auto b = read_volume((out_dir / "sul.mha").string());
  const auto n = read_volume((out_dir / "bq.mha").string());
  // SUL / SUV is the lean-body-mass fraction, the same in every voxel, and below 1.
  std::size_t k = std::max_element(a.voxels.begin(), a.voxels.end()) - a.voxels.begin();
  const double ratio = b.voxels[k] / a.voxels[k];
  EXPECT_GT(ratio, 0.4);
  EXPECT_LT(ratio, 1.0);
  // Native values are Bq/ml: thousands, not SUV units.
  EXPECT_GT(n.voxels[k], 1000.0);
}

}  // namespace
