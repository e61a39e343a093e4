// `oncoquant recist assess` as users call it: the spec's example, refusals of invalid
// baselines and inputs, and every treatment line of the demo archive against the course the
// generator designed (its truth is computed by the generator's own code, not by recist/).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "support.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path(OQ_BINARY_DIR) / "test-scratch" / "recist";
  fs::create_directories(dir);
  return dir / name;
}

fs::path write(const std::string& name, const json& j) {
  const fs::path p = scratch(name);
  std::ofstream(p) << j.dump(2);
  return p;
}

TEST(RecistCli, TheSpecExample) {
  const std::string dir = std::string(OQ_SHARED_DIR) + "/specs/examples/";
  const auto out = oqtest::oncoquant("recist assess " + oqtest::quote(dir + "recist-case-pr.json"));
  ASSERT_EQ(out.exit_code, 0) << out.err;
  const json got = json::parse(out.out);
  const json want = oqtest::load_json(dir + "recist-case-pr.expected.json");
  for (const auto& [key, value] : want.items())
    if (key != "timepoints") {
      EXPECT_EQ(got[key], value) << key;
    }
  for (size_t i = 0; i < want["timepoints"].size(); ++i)
    for (const auto& [key, value] : want["timepoints"][i].items()) EXPECT_EQ(got["timepoints"][i][key], value) << key;
}

TEST(RecistCli, AnInvalidBaselineIsRefusedWithEveryRuleNamed) {
  const json c = {
      {"criteria", "RECIST1.1"},
      {"baseline",
       {{"date", "2025-01-10"},
        {"slice_thickness_mm", 5},
        {"lesions",
         {{{"id", "L1"}, {"organ", "liver"}, {"kind", "target"}, {"long_axis_mm", 30}},
          {{"id", "L2"}, {"organ", "liver"}, {"kind", "target"}, {"long_axis_mm", 25}},
          {{"id", "L3"}, {"organ", "liver"}, {"kind", "target"}, {"long_axis_mm", 22}},
          {{"id", "N1"}, {"organ", "lymph node"}, {"kind", "target"}, {"nodal", true}, {"short_axis_mm", 12}},
          {{"id", "P1"}, {"organ", "lung"}, {"kind", "target"}, {"long_axis_mm", 8}},
          {{"id", "S1"}, {"organ", "spleen"}, {"kind", "target"}, {"long_axis_mm", 20}}}}}},
      {"followups", json::array()}};
  const fs::path p = write("invalid-baseline.json", c);
  const auto out = oqtest::oncoquant("recist assess " + oqtest::quote(p.string()));
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_TRUE(out.out.empty());
  EXPECT_EQ(out.err.rfind("error: " + p.string(), 0), 0u) << out.err;
  for (const char* expected : {"L3: target number 3 in organ 'liver'", "N1: a lymph node with short axis 12 mm",
                               "P1: longest diameter 8 mm is too small", "S1: target number 6 overall"})
    EXPECT_NE(out.err.find(expected), std::string::npos) << expected << " in\n" << out.err;
}

TEST(RecistCli, InputThatIsNotACase) {
  const fs::path p = scratch("not-a-case.json");
  std::ofstream(p) << R"({"criteria": "RECIST1.1", "baseline": {"date": "2025-01-10"}, "followups": {}})";
  auto out = oqtest::oncoquant("recist assess " + oqtest::quote(p.string()));
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find("$.baseline.lesions: is required"), std::string::npos) << out.err;
  EXPECT_NE(out.err.find("$.followups: must be an array"), std::string::npos) << out.err;
  out = oqtest::oncoquant("recist assess " + oqtest::quote(scratch("missing.json").string()));
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find("missing.json: cannot be read"), std::string::npos) << out.err;
  EXPECT_EQ(oqtest::oncoquant("recist").exit_code, 2);
  EXPECT_EQ(oqtest::oncoquant("recist assess " + oqtest::quote(p.string()) + " --criteria RECIST2").exit_code, 2);
}

// The generator designed each line's course (PR, PR, PD by a new lesion; SD, SD; PD | SD, PR)
// and wrote the case as recist-case-lineN.json; the engine must find the same responses.
TEST(RecistCli, DemoArchiveCoursesMatchTheDesign) {
  const fs::path archive = OQ_PHANTOM_ARCHIVE;
  const json manifest = oqtest::load_json(archive / "manifest.json");
  int lines = 0;
  for (const auto& patient : manifest["patients"]) {
    const fs::path truth_dir = archive / patient["truth_path"].get<std::string>();
    const json truth = oqtest::load_json(truth_dir / "recist.truth.json");
    for (const auto& line : truth["lines"]) {
      const fs::path case_file = truth_dir / ("recist-case-line" + std::to_string(line["line"].get<int>()) + ".json");
      for (const std::string criteria : {"RECIST1.1", "iRECIST"}) {
        const auto out = oqtest::oncoquant("recist assess " + oqtest::quote(case_file.string()) + " --criteria " + criteria);
        ASSERT_EQ(out.exit_code, 0) << out.err;
        const json got = json::parse(out.out);
        const std::string what = patient["patient_id"].get<std::string>() + " line " + std::to_string(line["line"].get<int>());
        EXPECT_NEAR(got["baseline_sum_mm"].get<double>(), line["baseline_sum_mm"].get<double>(), 0.05) << what;
        ASSERT_EQ(got["timepoints"].size(), line["followups"].size()) << what;
        for (size_t i = 0; i < line["followups"].size(); ++i) {
          const json& want = line["followups"][i];
          const json& tp = got["timepoints"][i];
          EXPECT_EQ(tp["date"], want["date"]) << what;
          EXPECT_NEAR(tp["sum_mm"].get<double>(), want["sum_mm"].get<double>(), 0.05) << what << " " << want["date"];
          EXPECT_EQ(tp["overall_response"], criteria == "iRECIST" ? want["irecist_response"] : want["overall_response"])
              << what << " " << want["date"] << " " << criteria;
          if (criteria == "RECIST1.1") {
            EXPECT_EQ(tp["target_response"], want["target_response"]) << what;
          }
        }
        if (criteria == "RECIST1.1") {
          const json& pfs = line["pfs"];
          EXPECT_EQ(got["pfs_days"], pfs["days"]) << what;
          EXPECT_EQ(got["pfs_censored"].get<bool>(), pfs["event"] != "progression") << what;
        }
      }
      ++lines;
    }
  }
  EXPECT_EQ(lines, 4);  // OQ-DEMO-001 one line, 002 one, 003 two
}

}  // namespace
