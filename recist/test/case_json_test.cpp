// The case and result documents: the example in ../shared/specs/examples, and inputs that do
// not follow recist-case.schema.json.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "oq/recist/case_json.h"

namespace oq::recist {
namespace {

using nlohmann::json;

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(RecistJson, TheSpecExampleGivesTheExpectedResult) {
  const std::string dir = std::string(OQ_SHARED_DIR) + "/specs/examples/";
  const Result<Case> c = parse_case(read(dir + "recist-case-pr.json"), "recist-case-pr.json");
  ASSERT_TRUE(c.ok()) << c.error().describe();
  const Result<Assessment> a = assess(c.value());
  ASSERT_TRUE(a.ok()) << a.error().describe();
  const json got = json::parse(to_json(a.value()));
  const json want = json::parse(read(dir + "recist-case-pr.expected.json"));
  // Every field the expected result states, with the value it states.
  for (const auto& [key, value] : want.items()) {
    if (key == "timepoints") continue;
    EXPECT_EQ(got[key], value) << key;
  }
  ASSERT_EQ(got["timepoints"].size(), want["timepoints"].size());
  for (size_t i = 0; i < want["timepoints"].size(); ++i)
    for (const auto& [key, value] : want["timepoints"][i].items())
      EXPECT_EQ(got["timepoints"][i][key], value) << "timepoints[" << i << "]." << key;
}

TEST(RecistJson, EveryDeviationFromTheSchemaIsNamedWithItsPath) {
  const std::string bad = R"({
    "criteria": "RECIST2",
    "baseline": {"date": "2025-02-30", "lesions": [{"id": "T1", "organ": "liver", "kind": "target", "long_axis": 20}]},
    "followups": [{"date": "2025-03-01", "targets": {"T1": {"long_axis_mm": -3}}, "non_targets": {"NT1": "gone"}}],
    "extra": 1
  })";
  const Result<Case> c = parse_case(bad, "case.json");
  ASSERT_FALSE(c.ok());
  const std::string m = c.error().describe();
  EXPECT_NE(m.find("case.json"), std::string::npos) << m;
  for (const char* path : {"$.criteria", "$.baseline.date", "$.baseline.lesions[0].long_axis: unknown key",
                           "$.followups[0].targets.T1.long_axis_mm", "$.followups[0].non_targets.NT1", "$.extra"})
    EXPECT_NE(m.find(path), std::string::npos) << path << " in\n" << m;
}

TEST(RecistJson, NotJsonAtAll) {
  const Result<Case> c = parse_case("{\"criteria\": ", "broken.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().describe().find("not valid JSON"), std::string::npos);
}

TEST(RecistJson, DefaultsAreTheSchemas) {
  const Result<Case> c =
      parse_case(R"({"criteria": "iRECIST", "baseline": {"date": "2025-01-06", "lesions": []}, "followups": []})", "x");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.value().slice_thickness_mm, 5);
  EXPECT_EQ(c.value().sd_min_interval_days, 42);
  EXPECT_EQ(c.value().confirmation_interval_days, 28);
  EXPECT_FALSE(c.value().confirmation_required);
  EXPECT_EQ(c.value().modality, Modality::kCt);
  EXPECT_EQ(c.value().criteria, Criteria::kIrecist);
}

}  // namespace
}  // namespace oq::recist
