// `oncoquant phenotype`: the demo archive's three patients from their slides' IHC results (the
// JSON shape `oncoquant ihc` prints, as the generator wrote it beside each slide), against the
// group each patient was designed to have; and the rules' edge cases from the command line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "support.h"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

TEST(PhenotypeCli, DemoPatientsGetTheirDesignedGroups) {
  const fs::path archive = OQ_PHANTOM_ARCHIVE;
  const json manifest = oqtest::load_json(archive / "manifest.json");
  int checked = 0;
  for (const auto& patient : manifest["patients"]) {
    const fs::path tdir = archive / patient["truth_path"].get<std::string>();
    const fs::path dir = oqtest::scratch("phenotype-" + patient["patient_id"].get<std::string>());
    std::string args;
    for (const char* marker : {"ER", "PR", "HER2"}) {
      const json truth = oqtest::load_json(tdir / "pathology" / (std::string(marker) + ".truth.json"));
      const fs::path f = dir / (std::string(marker) + ".json");
      std::ofstream(f) << truth["result"].dump();
      std::string flag = marker;
      std::transform(flag.begin(), flag.end(), flag.begin(), [](unsigned char c) { return std::tolower(c); });
      args += " --" + flag + " " + oqtest::quote(f.string());
    }
    const auto out = oqtest::oncoquant("phenotype" + args + " --json");
    ASSERT_EQ(out.exit_code, 0) << out.err;
    const json got = json::parse(out.out);
    const json want = oqtest::load_json(tdir / "phenotype.truth.json");
    EXPECT_EQ(got["group"], want["designed_group"]) << patient["patient_id"];
    EXPECT_EQ(got["hr_status"], want["hr_status"]) << patient["patient_id"];
    EXPECT_EQ(got["her2_status"], want["her2_status"]) << patient["patient_id"];
    for (const auto& flag : want["flags"])
      EXPECT_NE(std::find(got["flags"].begin(), got["flags"].end(), flag), got["flags"].end())
          << patient["patient_id"] << " lacks " << flag;
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(PhenotypeCli, EquivocalHerTwoGetsNoGroupWithoutIsh) {
  auto out = oqtest::oncoquant("phenotype --er-pct 80 --pr-pct 40 --her2-score 2+ --json");
  ASSERT_EQ(out.exit_code, 0) << out.err;
  json j = json::parse(out.out);
  EXPECT_TRUE(j["group"].is_null());
  EXPECT_EQ(j["label"], "HER2 equivocal, ISH required");
  out = oqtest::oncoquant("phenotype --er-pct 80 --pr-pct 40 --her2-score 2+ --ish amplified --json");
  EXPECT_EQ(json::parse(out.out)["group"], 2);
  out = oqtest::oncoquant("phenotype --er-pct 0 --pr-pct 0.5 --her2-score 2+ --ish not-amplified --json");
  j = json::parse(out.out);
  EXPECT_EQ(j["group"], 3);
  EXPECT_NE(std::find(j["flags"].begin(), j["flags"].end(), "HER2-low"), j["flags"].end());
}

TEST(PhenotypeCli, UsageAndInputErrors) {
  EXPECT_EQ(oqtest::oncoquant("phenotype --pr-pct 1 --her2-score 0").exit_code, 2);              // no ER
  EXPECT_EQ(oqtest::oncoquant("phenotype --er-pct 1 --pr-pct 1 --her2-score 4+").exit_code, 2);  // no such score
  EXPECT_EQ(oqtest::oncoquant("phenotype --er-pct 101 --pr-pct 1 --her2-score 0").exit_code, 2);
  const fs::path bad = oqtest::scratch("phenotype-bad") / "er.json";
  std::ofstream(bad) << R"({"marker": "ER"})";
  const auto out = oqtest::oncoquant("phenotype --er " + oqtest::quote(bad.string()) + " --pr-pct 1 --her2-score 0");
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find("no percent_positive"), std::string::npos) << out.err;
}

}  // namespace
