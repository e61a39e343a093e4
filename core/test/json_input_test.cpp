#include "oq/json_input.h"

#include <gtest/gtest.h>

namespace {

std::string problem(const std::string& text) {
  auto r = oq::parse_json_strictly(text, "case.json");
  return r.ok() ? std::string("parsed") : r.error().describe();
}

TEST(JsonInput, ANumberBeyondDoubleRangeIsAnErrorNotAnException) {
  EXPECT_NE(problem(R"({"long_axis_mm": 1e999})").find("case.json: not valid JSON: number overflow"), std::string::npos)
      << problem(R"({"long_axis_mm": 1e999})");
}

TEST(JsonInput, AKeyGivenTwiceIsNamedWithItsPath) {
  EXPECT_EQ(problem(R"({"baseline": {"lesions": [{"id": "T1"}, {"id": "T2", "id": "T3"}]}})"),
            "case.json: not valid JSON: $.baseline.lesions[1].id: the key is given twice in one object");
  EXPECT_EQ(problem(R"({"a": [1, 2, {"b": 1}], "c": {"b": 2}})"), "parsed") << "the same key in different objects is fine";
}

TEST(JsonInput, NestingBeyondAnyRealDocumentIsRefused) {
  EXPECT_NE(problem(std::string(300, '[') + std::string(300, ']')).find("nested more than 256"), std::string::npos);
  EXPECT_EQ(problem(std::string(200, '[') + std::string(200, ']')), "parsed");
}

TEST(JsonInput, AnEndlessFileIsRefusedAtTheLimit) {
  auto r = oq::read_small_file("/dev/zero", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().describe(), "/dev/zero: is larger than 1 MiB; not an input of this kind");
  EXPECT_FALSE(oq::read_small_file("/nonexistent/x.json").ok());
  EXPECT_FALSE(oq::read_small_file("/tmp").ok());
}

}  // namespace
