#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "oq/isolation.h"

namespace {

oq::Bytes bytes(const std::string& s) {
  return oq::Bytes(s.begin(), s.end());
}

// Answers by the request: "echo:..." echoes, "big" returns 1 MiB, "error", "abort", "segv",
// "throw", "hang" and "pid" (the child's process id) do what they say.
oq::Result<oq::Bytes> handler(const oq::Bytes& request) {
  const std::string r(request.begin(), request.end());
  if (r.rfind("echo:", 0) == 0) return bytes(r.substr(5));
  if (r == "big") {
    oq::Bytes out(std::size_t{1} << 20);
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<unsigned char>(i * 7);
    return out;
  }
  if (r == "error") return oq::Error(oq::ErrorCode::kUnsupported, "JPEG XL is not supported");
  if (r == "abort") std::abort();
  if (r == "segv") std::raise(SIGSEGV);
  if (r == "throw") throw std::runtime_error("bad Huffman table");
  if (r == "hang")
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
  if (r == "pid") return bytes(std::to_string(getpid()));
  return oq::Bytes{};
}

TEST(IsolatedWorker, TheChildsAnswerComesBackWhole) {
  oq::IsolatedWorker worker(handler);
  auto r = worker.call("f.dcm", bytes("big"), std::size_t{1} << 20);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->size(), std::size_t{1} << 20);
  for (std::size_t i = 0; i < r->size(); i += 4099) EXPECT_EQ((*r)[i], static_cast<unsigned char>(i * 7));
}

TEST(IsolatedWorker, WorkIsDoneInAnotherProcessThatServesManyCalls) {
  oq::IsolatedWorker worker(handler);
  auto first = worker.call("a.dcm", bytes("pid"), 64);
  auto second = worker.call("b.dcm", bytes("pid"), 64);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(std::string(first->begin(), first->end()), std::to_string(getpid()));
  EXPECT_EQ(*first, *second);
}

TEST(IsolatedWorker, TheHandlersErrorComesBackWithItsCodeAboutTheFile) {
  oq::IsolatedWorker worker(handler);
  auto r = worker.call("f.dcm", bytes("error"), 16);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), oq::ErrorCode::kUnsupported);
  EXPECT_EQ(r.error().describe(), "f.dcm: JPEG XL is not supported");
}

TEST(IsolatedWorker, AnAbortCostsThatFileAndTheNextFileIsDecoded) {
  oq::IsolatedWorker worker(handler);
  auto r = worker.call("corrupt.dcm", bytes("abort"), 16);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), oq::ErrorCode::kUnreadable);
  EXPECT_NE(r.error().describe().find("corrupt.dcm: the decoder crashed"), std::string::npos) << r.error().describe();
  EXPECT_NE(r.error().message().find("signal 6"), std::string::npos) << r.error().message();
  auto next = worker.call("good.dcm", bytes("echo:ok"), 16);
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ(*next, bytes("ok"));
}

TEST(IsolatedWorker, ASegmentationFaultIsAnError) {
  oq::IsolatedWorker worker(handler);
  auto r = worker.call("corrupt.dcm", bytes("segv"), 16);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("signal 11"), std::string::npos) << r.error().message();
}

TEST(IsolatedWorker, AnExceptionIsAnErrorAndTheChildLivesOn) {
  oq::IsolatedWorker worker(handler);
  auto before = worker.call("a", bytes("pid"), 64);
  auto r = worker.call("f.dcm", bytes("throw"), 16);
  auto after = worker.call("a", bytes("pid"), 64);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("bad Huffman table"), std::string::npos);
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ(*before, *after);
}

TEST(IsolatedWorker, ADecoderThatHangsIsStoppedAtTheLimitAndReplaced) {
  oq::IsolatedWorker worker(handler);
  oq::IsolationLimits limits;
  limits.seconds = 0.3;
  auto r = worker.call("loop.dcm", bytes("hang"), 16, limits);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("did not finish"), std::string::npos) << r.error().message();
  auto next = worker.call("good.dcm", bytes("echo:ok"), 16);
  EXPECT_TRUE(next.ok());
}

TEST(IsolatedWorker, AReplyLargerThanAllowedIsRefused) {
  oq::IsolatedWorker worker(handler);
  auto r = worker.call("f.dcm", bytes("echo:123456789"), 8);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), oq::ErrorCode::kInternal);
}

TEST(IsolatedWorker, TheTimeLimitGrowsWithTheOutputSoLargeObjectsAreNotCutShort) {
  EXPECT_GE(oq::isolation_time_limit(0), 60.0);
  EXPECT_GT(oq::isolation_time_limit(std::size_t{2} << 30), oq::isolation_time_limit(std::size_t{512} << 20));
}

}  // namespace
