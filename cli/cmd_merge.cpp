// oncoquant merge: the outputs of a sharded batch (`batch --shard K/N`, one per Slurm array task)
// joined into one, as if the batch had run unsharded: every finished case taken over, the input's
// unusable files listed once, the summary, plots and index rebuilt from all the cases.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "args.h"
#include "batch/cohort_outputs.h"
#include "batch/run_folder.h"
#include "batch/summary.h"
#include "commands.h"
#include "oq/diagnostics.h"
#include "oq/json_input.h"
#include "oq/output.h"

namespace oq::cli {
namespace {

namespace fs = std::filesystem;
using namespace batch;

const char* kMergeUsage =
    "usage: oncoquant merge DIR... --out DIR\n"
    "  Joins the output folders of a sharded batch (batch --shard K/N, e.g. the tasks of a Slurm job array)\n"
    "  into --out as if the batch had run unsharded: each finished case is taken over (hard links where the\n"
    "  file system allows, else copies), unreadable.csv lists each unusable file of the input once, and\n"
    "  summary.csv, the plots and index.html are rebuilt from all the cases. A patient finished in two of\n"
    "  the folders is refused (they were not shards of one run); a case a shard left unfinished is not\n"
    "  taken (run that shard again to finish it). --out may be one of the folders being merged into.\n";

}  // namespace

int cmd_merge(int argc, char** argv) {
  Args args(argc, argv, 2, {"--out"}, {"--help", "--quiet"});
  if (args.has("--help")) {
    std::fputs(kMergeUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kMergeUsage);
  if (args.positional().empty() || !args.has("--out")) return usage_fail("merge needs DIR... and --out DIR", kMergeUsage);
  const std::string out = args.get("--out");
  std::error_code ec;
  for (const std::string& d : args.positional())
    if (!fs::is_directory(d + "/patients", ec)) return fail(d + ": not a batch output folder (no patients/ in it)");
  auto folder = RunFolder::open(out);
  if (!folder) return fail(folder.error().describe());
  // Every folder's finished cases first: a patient in two folders stops the merge before anything is
  // copied, so a refused merge leaves --out as it was.
  std::vector<std::pair<std::string, std::string>> to_take;  // (folder, patient)
  std::map<std::string, std::string> taken_from;
  for (const std::string& d : args.positional()) {
    if (fs::equivalent(d, out, ec)) continue;  // merging into one of the shards
    for (const auto& entry : fs::directory_iterator(d + "/patients", ec)) {
      auto c = read_case_outcome(entry.path().string() + "/case.json");
      if (!c) {
        std::fprintf(diag(), "warning: %s: not taken, the case is unfinished or its record unreadable (run that shard again)\n",
                     entry.path().string().c_str());
        continue;
      }
      const auto [at, fresh] = taken_from.emplace(c->patient, d);
      if (!fresh || (*folder)->finished(c->patient))
        return fail(d + ": patient " + c->patient + " is also in " + (fresh ? out : at->second) +
                    ": the folders are not shards of one run; nothing merged");
      to_take.emplace_back(d, c->patient);
    }
  }
  for (const auto& [d, patient] : to_take)
    if (auto a = (*folder)->adopt(d, patient); !a) return fail(a.error().describe());
  const std::size_t taken = to_take.size();
  if (auto u = merge_unreadable(args.positional(), out); !u) return fail(u.error().describe());
  const auto cases = (*folder)->finished_cases(nullptr);
  auto written = write_cohort_outputs(out, cases);
  if (!written) return fail(written.error().describe());
  if (!args.has("--quiet"))
    std::fprintf(diag(), "merge: %zu cases taken over, %zu in %s/summary.csv\n", taken, cases.size(), out.c_str());
  return 0;
}

}  // namespace oq::cli
