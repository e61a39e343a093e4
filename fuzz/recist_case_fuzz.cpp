// A RECIST case file as `recist assess` reads it: parsed strictly, checked against the rules,
// assessed when it passes. Errors are the expected answer; a crash or UB is a finding.
#include <cstdint>
#include <string>

#include "oq/json_input.h"
#include "oq/recist/assess.h"
#include "oq/recist/case_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto c = oq::recist::parse_case(text, "case.json");
  if (c && oq::recist::check_case(*c).empty()) (void)oq::recist::assess(*c);
  return 0;
}
