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
  fs::path p = scratch(name);
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
  const json c = {{"criteria", "RECIST1.1"},
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

TEST(RecistCli, FromTheStudyStore) {
  const fs::path db = scratch("store.sqlite");
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
  const std::string example = std::string(OQ_SHARED_DIR) + "/specs/examples/recist-case-pr.json";
  const std::string store = " --db " + oqtest::quote(db.string());
  auto out = oqtest::oncoquant("store import-case " + oqtest::quote(example) + store +
                               " --patient PSN-7 --line 1 --regimen 'letrozole' --author data.manager");
  ASSERT_EQ(out.exit_code, 0) << out.err;
  const auto from_file = oqtest::oncoquant("recist assess " + oqtest::quote(example));
  const auto from_store = oqtest::oncoquant("recist assess" + store + " --patient PSN-7");
  ASSERT_EQ(from_store.exit_code, 0) << from_store.err;
  EXPECT_EQ(from_store.out, from_file.out);

  // A radiologist corrects T1 at the second follow-up: 31 -> 60 mm makes it progression.
  out = oqtest::oncoquant("store measure" + store +
                          " --patient PSN-7 --lesion T1 --date 2025-05-14 --long-axis 60 --author dr.reader");
  ASSERT_EQ(out.exit_code, 0) << out.err;
  const json after = json::parse(oqtest::oncoquant("recist assess" + store + " --patient PSN-7 --line 1").out);
  EXPECT_EQ(after["timepoints"][1]["overall_response"], "PD");
  EXPECT_EQ(after["progression_date"], "2025-05-14");
  const json history = json::parse(oqtest::oncoquant("store history" + store + " --patient PSN-7 --lesion T1 --json").out);
  ASSERT_EQ(history.size(), 4u);  // baseline, two follow-ups, the correction
  EXPECT_EQ(history[2]["long_axis_mm"], 31.0);
  EXPECT_EQ(history[2]["method"], "manual");
  EXPECT_EQ(history[3]["method"], "edited");
  EXPECT_EQ(history[3]["author"], "dr.reader");
  EXPECT_EQ(history[3]["supersedes"], history[2]["id"]);
  const json audit = json::parse(oqtest::oncoquant("store audit" + store + " --json").out);
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.back()["action"], "measure-edited");
  EXPECT_EQ(audit.back()["actor"], "dr.reader");

  // An invalid case is refused whole and the store keeps what it had.
  const fs::path bad = write(
      "bad-line.json",
      {{"criteria", "RECIST1.1"},
       {"baseline",
        {{"date", "2025-06-01"}, {"lesions", {{{"id", "X1"}, {"organ", "liver"}, {"kind", "target"}, {"long_axis_mm", 6}}}}}},
       {"followups", json::array()}});
  out = oqtest::oncoquant("store import-case " + oqtest::quote(bad.string()) + store + " --patient PSN-7 --line 2");
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find("X1: longest diameter 6 mm is too small"), std::string::npos) << out.err;
  EXPECT_EQ(json::parse(oqtest::oncoquant("store audit" + store + " --json").out).size(), audit.size());
  out = oqtest::oncoquant("recist assess" + store + " --patient PSN-7 --line 2");
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find("no treatment line 2"), std::string::npos) << out.err;
  out = oqtest::oncoquant("recist assess --db " + oqtest::quote(scratch("nowhere.sqlite").string()) + " --patient PSN-7");
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_NE(out.err.find("no such study store"), std::string::npos) << out.err;
  EXPECT_EQ(oqtest::oncoquant("recist assess" + store).exit_code, 2);  // --db without --patient
}

// Every line of the demo archive, stored and assessed back from the store.
TEST(RecistCli, DemoArchiveThroughTheStore) {
  const fs::path archive = OQ_PHANTOM_ARCHIVE;
  const fs::path db = scratch("demo.sqlite");
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix);
  const json manifest = oqtest::load_json(archive / "manifest.json");
  for (const auto& patient : manifest["patients"]) {
    const std::string id = patient["patient_id"];
    const fs::path truth_dir = archive / patient["truth_path"].get<std::string>();
    const json truth = oqtest::load_json(truth_dir / "recist.truth.json");
    for (const auto& line : truth["lines"]) {
      const std::string n = std::to_string(line["line"].get<int>());
      const fs::path case_file = truth_dir / ("recist-case-line" + n + ".json");
      const std::string where = " --db " + oqtest::quote(db.string()) + " --patient " + id + " --line " + n;
      auto out = oqtest::oncoquant("store import-case " + oqtest::quote(case_file.string()) + where);
      ASSERT_EQ(out.exit_code, 0) << out.err;
      out = oqtest::oncoquant("recist assess" + where);
      ASSERT_EQ(out.exit_code, 0) << out.err;
      const json got = json::parse(out.out);
      ASSERT_EQ(got["timepoints"].size(), line["followups"].size()) << id << " line " << n;
      for (size_t i = 0; i < line["followups"].size(); ++i)
        EXPECT_EQ(got["timepoints"][i]["overall_response"], line["followups"][i]["overall_response"]) << id << " line " << n;
      EXPECT_EQ(got["pfs_days"], line["pfs"]["days"]) << id << " line " << n;
    }
  }
}

}  // namespace
