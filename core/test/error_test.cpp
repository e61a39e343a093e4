#include <gtest/gtest.h>

#include "oq/error.h"

namespace {

oq::Result<int> half(int v) {
  if (v % 2) return oq::Error(oq::ErrorCode::kInvalidArgument, "odd value " + std::to_string(v));
  return v / 2;
}

TEST(Result, CarriesValueOrError) {
  auto a = half(8);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 4);
  auto b = half(7);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), oq::ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.error().message(), "odd value 7");
}

TEST(Error, DescribeNamesTheSubjectOnce) {
  oq::Error e(oq::ErrorCode::kUnreadable, "truncated pixel data");
  EXPECT_EQ(e.describe(), "truncated pixel data");
  const oq::Error named = e.about("/data/a.dcm").about("/other");
  EXPECT_EQ(named.describe(), "/data/a.dcm: truncated pixel data");
}

}  // namespace
