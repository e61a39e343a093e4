// oncoquant recist assess: RECIST 1.1 / iRECIST response over one treatment line (issue 5).
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>

#include "args.h"
#include "commands.h"
#include "oq/recist/assess.h"
#include "oq/recist/case_json.h"

namespace oq::cli {
namespace {

const char* kRecistUsage =
    "usage: oncoquant recist assess CASE.json [--criteria RECIST1.1|iRECIST]\n"
    "  Assesses one patient's treatment line: CASE.json follows recist-case.schema.json (baseline targets\n"
    "  and non-targets, every follow-up's measurements, new lesions). Prints the result as JSON on stdout\n"
    "  (recist-result.schema.json): sums, nadir, target / non-target / new-lesion and overall response per\n"
    "  time point, best overall response, progression date, PFS and duration of response.\n"
    "  A baseline that breaks a RECIST rule is refused with every violation named (lesion id and rule), exit 1.\n"
    "  --criteria   overrides the case's own \"criteria\"\n";

}  // namespace

int cmd_recist(int argc, char** argv) {
  Args args(argc, argv, 2, {"--criteria"}, {"--help", "--json"});
  if (args.has("--help")) {
    std::fputs(kRecistUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kRecistUsage);
  if (args.positional().size() != 2 || args.positional()[0] != "assess")
    return usage_fail("recist needs 'assess' and one CASE.json", kRecistUsage);
  std::optional<recist::Criteria> criteria;
  if (args.has("--criteria")) {
    const std::string v = args.get("--criteria");
    if (v == "RECIST1.1")
      criteria = recist::Criteria::kRecist11;
    else if (v == "iRECIST")
      criteria = recist::Criteria::kIrecist;
    else
      return usage_fail("--criteria must be RECIST1.1 or iRECIST, not '" + v + "'", kRecistUsage);
  }
  const std::string path = args.positional()[1];
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  Result<recist::Case> c = recist::parse_case(text.str(), path);
  if (!c) return fail(c.error().describe());
  if (criteria) c.value().criteria = *criteria;
  const Result<recist::Assessment> a = recist::assess(c.value());
  if (!a) return fail(a.error().about(path).describe());
  std::printf("%s\n", recist::to_json(a.value()).c_str());
  return 0;
}

}  // namespace oq::cli
