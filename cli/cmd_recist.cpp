// oncoquant recist assess: RECIST 1.1 / iRECIST response over one treatment line (issue 5).
#include <cstdio>
#include <filesystem>
#include <optional>

#include "args.h"
#include "commands.h"
#include "oq/json_input.h"
#include "oq/recist/assess.h"
#include "oq/recist/case_json.h"
#include "oq/recist/store.h"

namespace oq::cli {
namespace {

const char* kRecistUsage =
    "usage: oncoquant recist assess CASE.json [--criteria RECIST1.1|iRECIST]\n"
    "       oncoquant recist assess --db STORE --patient ID [--line N] [--criteria RECIST1.1|iRECIST]\n"
    "  Assesses one patient's treatment line: CASE.json follows recist-case.schema.json (baseline targets\n"
    "  and non-targets, every follow-up's measurements, new lesions). Prints the result as JSON on stdout\n"
    "  (recist-result.schema.json): sums, nadir, target / non-target / new-lesion and overall response per\n"
    "  time point, best overall response, progression date, PFS and duration of response.\n"
    "  A baseline that breaks a RECIST rule is refused with every violation named (lesion id and rule), exit 1.\n"
    "  --db STORE --patient ID   build the case from the study store (SQLite): the line's baseline is its last\n"
    "                            time point on or before the line's start; measurements in force (edits win)\n"
    "  --line N     the treatment line (default: the patient's latest)\n"
    "  --criteria   overrides the case's (or the line's) own criteria\n";

}  // namespace

int cmd_recist(int argc, char** argv) {
  Args args(argc, argv, 2, {"--criteria", "--db", "--patient", "--line"}, {"--help", "--json"});
  if (args.has("--help")) {
    std::fputs(kRecistUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kRecistUsage);
  const bool from_store = args.has("--db");
  if (args.positional().empty() || args.positional()[0] != "assess" || args.positional().size() != (from_store ? 1u : 2u))
    return usage_fail(from_store ? "recist assess --db takes no CASE.json" : "recist needs 'assess' and one CASE.json",
                      kRecistUsage);
  if (from_store != args.has("--patient")) return usage_fail("--db and --patient go together", kRecistUsage);
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
  Result<recist::Case> c = Error(ErrorCode::kInternal, "no case");
  std::string path;
  std::vector<recist::PendingReview> pending;
  // Arguments are checked before any file is opened.
  std::optional<long long> given_line;
  if (args.has("--line")) {
    given_line = parse_integer(args.get("--line"), 1, 999);
    if (!given_line)
      return usage_fail("--line needs a treatment line number 1-999, not '" + args.get("--line") + "'", kRecistUsage);
  }
  if (from_store) {
    path = args.get("--db");
    auto store = recist::open_sqlite_store(path, recist::StoreAccess::kReadOnly);
    if (!store) return fail(store.error().describe());
    const std::string patient = args.get("--patient");
    int line = 0;
    if (given_line) {
      line = static_cast<int>(*given_line);
    } else {
      auto lines = store.value()->treatment_lines(patient);
      if (!lines) return fail(lines.error().about(path).describe());
      if (lines.value().empty()) return fail(path + ": " + patient + ": no treatment line in the store");
      line = lines.value().back();
    }
    c = store.value()->build_case(patient, line);
    if (!c) return fail(c.error().about(path).describe());
    auto p = store.value()->pending_reviews(patient, line);
    if (!p) return fail(p.error().about(path).describe());
    pending = p.value();
  } else {
    path = args.positional()[1];
    auto text = read_small_file(path);
    if (!text) return fail(text.error().describe());
    c = recist::parse_case(*text, path);
    if (!c) return fail(c.error().describe());
  }
  if (criteria) c.value().criteria = *criteria;
  Result<recist::Assessment> a = recist::assess(c.value());
  if (!a) return fail(a.error().about(path).describe());
  for (const auto& p : pending)
    a.value().warnings.push_back(recist::format_date(p.date) + ": " + std::to_string(p.automatic_values) +
                                 " automatic value(s) not yet reviewed (oncoquant store review ... --state confirmed)");
  std::printf("%s\n", recist::to_json(a.value()).c_str());
  return 0;
}

}  // namespace oq::cli
