// A reader's click recorded in the study store (`segment --db`, issue 21 part 2): the value, its
// calipers with their images and its mask, read back through `store history` and, for the mask,
// straight from the SQLite file with the sqlite3 tool and compared with the `--mask` NIfTI (ITK).
#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support.h"

namespace {

using namespace oqtest;
using nlohmann::json;

const fs::path kSet = OQ_LESION_SET;

struct Click {
  std::string series, seed;
};

// The first lesion of the lesion set's first patient, at its baseline.
Click first_lesion() {
  const json m = load_json(kSet / "manifest.json");
  const auto& p = m["patients"][0];
  const auto& t0 = p["time_points"][0];
  const fs::path truth = kSet / p["truth_path"].get<std::string>() / ("t0_" + t0["date"].get<std::string>()) / "ct.truth.json";
  return {(kSet / t0["ct"]["path"].get<std::string>()).string(), point_arg(load_json(truth)["lesions"][0]["seed_mm"])};
}

// The mask's voxels from the store's run lengths (32-bit little-endian, outside first), decoded
// here from the hex sqlite3 prints.
std::vector<std::uint8_t> runs_to_voxels(const std::string& hex) {
  std::vector<std::uint8_t> out;
  bool inside = false;
  for (std::size_t i = 0; i + 8 <= hex.size(); i += 8) {
    std::uint32_t n = 0;
    for (int b = 0; b < 4; ++b) n |= static_cast<std::uint32_t>(std::stoul(hex.substr(i + 2 * b, 2), nullptr, 16)) << (8 * b);
    out.insert(out.end(), n, inside ? 1 : 0);
    inside = !inside;
  }
  return out;
}

TEST(ReaderClick, SegmentDbKeepsTheValueItsCalipersAndTheMaskItWrote) {
  const Click c = first_lesion();
  const fs::path dir = scratch("reader_click");
  const std::string db = (dir / "study.sqlite").string(), nifti = (dir / "mask.nii.gz").string();
  const CliRun r = oncoquant("segment " + quote(c.series) + " --seed " + c.seed + " --mask " + quote(nifti) + " --db " +
                             quote(db) + " --lesion T1 --organ liver --author dr.reader --json --quiet");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json seg = json::parse(r.out);
  EXPECT_EQ(seg["store"]["treatment_line"], 1);
  EXPECT_TRUE(seg["store"]["treatment_line_created"].get<bool>());

  const CliRun h = oncoquant("store history --db " + quote(db) + " --patient " + seg["store"]["patient"].get<std::string>() +
                             " --lesion T1 --json");
  ASSERT_EQ(h.exit_code, 0) << h.err;
  const json history = json::parse(h.out);
  ASSERT_EQ(history.size(), 1u);
  const json& v = history[0];
  EXPECT_EQ(v["author"], "dr.reader");
  EXPECT_EQ(v["method"], "automatic");
  EXPECT_EQ(v["long_axis_mm"], seg["long_axis_mm"]);
  EXPECT_EQ(v["long_axis"], seg["long_axis"]) << "the stored caliper is the one measured, with its image";
  EXPECT_FALSE(v["long_axis"]["sop_instance_uid"].get<std::string>().empty());
  EXPECT_EQ(v["series_uid"], seg["series_uid"]);

  // The stored mask, placed by its offset in the series, is the written mask voxel for voxel.
  const CliRun row = shell("sqlite3 -separator ' ' " + quote(db) +
                           " 'SELECT offset_i, offset_j, offset_k, size_i, size_j, size_k, hex(runs) FROM masks'");
  ASSERT_EQ(row.exit_code, 0) << row.err;
  std::istringstream in(row.out);
  std::size_t off[3], size[3];
  std::string hex;
  in >> off[0] >> off[1] >> off[2] >> size[0] >> size[1] >> size[2] >> hex;
  const std::vector<std::uint8_t> box = runs_to_voxels(hex);
  ASSERT_EQ(box.size(), size[0] * size[1] * size[2]);
  const VolumeData written = read_volume(nifti);
  std::size_t inside_written = 0, agree = 0, inside_box = 0;
  for (float x : written.voxels) inside_written += x > 0.5f;
  for (std::size_t k = 0; k < size[2]; ++k)
    for (std::size_t j = 0; j < size[1]; ++j)
      for (std::size_t i = 0; i < size[0]; ++i) {
        const bool stored = box[(k * size[1] + j) * size[0] + i] != 0;
        const std::size_t o = ((off[2] + k) * written.size[1] + off[1] + j) * written.size[0] + off[0] + i;
        inside_box += stored;
        agree += stored && written.voxels[o] > 0.5f;
      }
  EXPECT_GT(inside_box, 100u);
  EXPECT_EQ(inside_box, inside_written);
  EXPECT_EQ(agree, inside_written);
}

TEST(ReaderClick, StoreFlagsWithoutAStoreOrALesionAreUsageErrors) {
  const Click c = first_lesion();
  const CliRun no_db = oncoquant("segment " + quote(c.series) + " --seed " + c.seed + " --lesion T1");
  EXPECT_EQ(no_db.exit_code, 2);
  EXPECT_NE(no_db.err.find("--lesion is for the study store"), std::string::npos) << no_db.err;
  const fs::path dir = scratch("reader_click_usage");
  const CliRun no_lesion = oncoquant("segment " + quote(c.series) + " --seed " + c.seed + " --db " + quote((dir / "s").string()));
  EXPECT_EQ(no_lesion.exit_code, 2);
  EXPECT_FALSE(fs::exists(dir / "s")) << "nothing is created before the flags are checked";
  const CliRun role = oncoquant("segment " + quote(c.series) + " --seed " + c.seed + " --db " + quote((dir / "s").string()) +
                                " --lesion T1 --role new");
  EXPECT_EQ(role.exit_code, 2);
  EXPECT_NE(role.err.find("--role must be target or non-target"), std::string::npos) << role.err;
}

}  // namespace
