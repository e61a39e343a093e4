// oncoquant batch: the main job (issue 22). Catalogues an archive, plans each patient's work from the
// worklist, runs the cases in parallel (each step a child process, so one bad file costs its case
// at most), keeps the run's state in the output folder so that a second run resumes, and writes the
// cohort's summary.
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <thread>

#include "args.h"
#include "batch/case_plan.h"
#include "batch/case_run.h"
#include "batch/child_process.h"
#include "batch/cohort_outputs.h"
#include "batch/run_folder.h"
#include "batch/summary.h"
#include "commands.h"
#include "oq/diagnostics.h"
#include "oq/output.h"
#include "oq/progress.h"
#include "oq/scan.h"

namespace oq::cli {
namespace {

namespace fs = std::filesystem;
using namespace batch;

const char* kBatchUsage =
    "usage: oncoquant batch INPUT --out DIR [--manifest WORKLIST] [--jobs N] [--shard K/N] [--retry-failed]\n"
    "                       [--quiet] [--json]\n"
    "  The main job: every patient in INPUT (a folder tree as hospitals export it: nested folders, DICOMDIRs,\n"
    "  slides beside DICOM, junk), each as one case:\n"
    "    the baseline read from the worklist's seeds (segment --db), every later CT of the treatment line\n"
    "    tracked (track --db: proposals pending a reader's review; on PET-CT, candidate new lesions), each line\n"
    "    assessed (RECIST 1.1 or iRECIST as the worklist says), the biopsy's ER, PR and HER2 scored and the\n"
    "    phenotype group assigned, and the reports written (SR and SEG per time point, JSON, CSV, PDF, HTML).\n"
    "  DIR/patients/ID/ holds each case: study.sqlite (the study store), reports/, steps/ (each step's\n"
    "  answer), log.txt and case.json (its outcome). DIR/summary.csv has one row per patient and line;\n"
    "  DIR/index.html shows the waterfall, swimmer and Kaplan-Meier plots (PNG beside it) and links each\n"
    "  report; DIR/unreadable.csv lists the files of INPUT that could not be used, with the reason.\n"
    "  --manifest WORKLIST  treatment lines, baseline lesion seeds and slides per patient: the demo archive's\n"
    "                       manifest.json form, or a CSV (README: \"The batch worklist\"). Default: the\n"
    "                       manifest.json in INPUT or in its parent folder, if there is one.\n"
    "  --jobs N             cases run at a time (default: 1; each case's steps use the cores themselves)\n"
    "  --shard K/N          only the K-th of N deterministic shares of the patients (Slurm job arrays)\n"
    "  --retry-failed       run the cases an earlier run recorded as failed again\n"
    "  A second run with the same --out resumes: finished cases are kept, a case a killed run left half done\n"
    "  is done again. A case that fails is recorded with its reason and the others go on. Exit 0 when every\n"
    "  case ran (some may be partial: a step failed, listed in summary.csv), 1 when a case failed entirely or\n"
    "  the input could not be read, 130 when interrupted (Ctrl-C, SIGTERM).\n";

extern "C" void on_stop_signal(int) {
  request_stop();
}

struct Request {
  std::string input, out, manifest;
  int jobs = 1, shard_k = 1, shard_n = 1;
  bool retry_failed = false, quiet = false, json = false;
};

std::string default_manifest(const std::string& input) {
  std::error_code ec;
  for (const fs::path& dir : {fs::path(input), fs::path(input).parent_path()})
    if (fs::is_regular_file(dir / "manifest.json", ec)) return (dir / "manifest.json").string();
  return "";
}

int parse_request(const Args& args, Request& r) {
  if (args.positional().size() != 1) return usage_fail("batch needs one INPUT (a folder)", kBatchUsage);
  if (!args.has("--out")) return usage_fail("batch needs --out DIR", kBatchUsage);
  r.input = args.positional()[0];
  r.out = args.get("--out");
  r.manifest = args.has("--manifest") ? args.get("--manifest") : default_manifest(r.input);
  if (args.has("--jobs")) {
    const auto j = parse_integer(args.get("--jobs"), 1, 64);
    if (!j) return usage_fail("--jobs must be a whole number 1-64, not '" + args.get("--jobs") + "'", kBatchUsage);
    r.jobs = static_cast<int>(*j);
  }
  if (args.has("--shard")) {
    const std::string s = args.get("--shard");
    const auto slash = s.find('/');
    const auto k = slash == std::string::npos ? std::nullopt : parse_integer(s.substr(0, slash), 1, 100000);
    const auto n = slash == std::string::npos ? std::nullopt : parse_integer(s.substr(slash + 1), 1, 100000);
    if (!k || !n || *k > *n) return usage_fail("--shard must be K/N with 1 <= K <= N, not '" + s + "'", kBatchUsage);
    r.shard_k = static_cast<int>(*k);
    r.shard_n = static_cast<int>(*n);
  }
  r.retry_failed = args.has("--retry-failed");
  r.json = args.has("--json");
  r.quiet = args.has("--quiet") || r.json;
  std::error_code ec;
  if (!fs::is_directory(r.input, ec)) return fail(r.input + ": not a folder (batch takes an archive folder)");
  const fs::path in = fs::weakly_canonical(r.input, ec), out = fs::weakly_canonical(r.out, ec);
  if (out == in || out.string().rfind(in.string() + "/", 0) == 0)
    return fail(r.out + ": the output folder must not lie inside the input archive (its reports would be read as input)");
  return 0;
}

// Cases done / total, the cases running, and the time left, on one line of stderr.
class BatchProgress {
 public:
  BatchProgress(std::size_t total, bool quiet) : total_(total), quiet_(quiet), tty_(isatty(STDERR_FILENO) != 0) {}

  void started(const std::string& patient) {
    std::lock_guard<std::mutex> lock(mutex_);
    running_.push_back(patient);
    draw(nullptr);
  }
  void finished(const CaseOutcome& c, double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++done_;
    seconds_ += seconds;
    running_.erase(std::remove(running_.begin(), running_.end(), c.patient), running_.end());
    draw(&c);
  }

 private:
  void draw(const CaseOutcome* just) {
    if (quiet_) return;
    const double per_case = done_ ? seconds_ / static_cast<double>(done_) : 0;
    std::string running;
    for (const std::string& p : running_) running += (running.empty() ? "" : ", ") + p;
    char eta[32] = "";
    if (done_ && done_ < total_) {
      const int left = static_cast<int>(per_case * static_cast<double>(total_ - done_) /
                                        static_cast<double>(std::max<std::size_t>(1, running_.size())));
      std::snprintf(eta, sizeof eta, ", ETA %d:%02d", left / 60, left % 60);
    }
    if (just) {
      std::fprintf(diag(), "%s[%zu/%zu] %s: %s%s\n", tty_ ? "\r\033[K" : "", done_, total_, just->patient.c_str(),
                   just->status.c_str(), just->problems.empty() ? "" : (" (" + just->problems.front() + ")").c_str());
    }
    if (tty_ && done_ < total_)
      std::fprintf(diag(), "\r\033[Kbatch [%zu/%zu]%s running: %s", done_, total_, eta, running.c_str());
    std::fflush(diag());
  }

  std::mutex mutex_;
  std::size_t total_, done_ = 0;
  double seconds_ = 0;
  bool quiet_, tty_;
  std::vector<std::string> running_;
};

// The cohort's files from every finished case (this run's and earlier runs').
Status write_cohort(const RunFolder& folder, std::size_t* failed, std::size_t* cases) {
  std::vector<std::string> unreadable;
  const auto finished = folder.finished_cases(&unreadable);
  *cases = finished.size();
  *failed = 0;
  for (const CaseOutcome& c : finished) *failed += c.status == "failed";
  for (const std::string& u : unreadable) std::fprintf(diag(), "warning: %s\n", u.c_str());
  auto written = write_cohort_outputs(folder.dir(), finished);
  if (!written) return written.error();
  return ok_status();
}

void run_cases(const std::vector<CasePlan>& plans, RunFolder& folder, int jobs, BatchProgress& progress) {
  std::atomic<std::size_t> next{0};
  auto worker = [&]() {
    for (std::size_t i = next++; i < plans.size() && !stop_requested(); i = next++) {
      const CasePlan& plan = plans[i];
      progress.started(plan.patient);
      const auto t0 = std::chrono::steady_clock::now();
      auto work = folder.start(plan.patient);
      CaseOutcome outcome;
      outcome.patient = plan.patient;
      if (!work) {
        outcome.status = "failed";
        outcome.problems.push_back(work.error().describe());
      } else {
        outcome = run_case(plan, *work, CaseOptions{});
        if (stop_requested()) {
          folder.discard(plan.patient);  // half a case is not a result: the next run does it again
          return;
        }
        if (auto c = folder.commit(plan.patient); !c) {
          outcome.status = "failed";
          outcome.problems.push_back(c.error().describe());
        }
      }
      progress.finished(outcome, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < jobs; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
}

}  // namespace

int cmd_batch(int argc, char** argv) {
  Args args(argc, argv, 2, {"--out", "--manifest", "--jobs", "--shard"}, {"--help", "--quiet", "--json", "--retry-failed"});
  if (args.has("--help")) {
    std::fputs(kBatchUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kBatchUsage);
  Request req;
  if (int code = parse_request(args, req); code != 0) return code;
  if (req.quiet) Progress::set_quiet(true);

  std::optional<Worklist> worklist;
  if (!req.manifest.empty()) {
    auto w = read_worklist(req.manifest);
    if (!w) return fail(w.error().describe());
    worklist = std::move(*w);
  }
  auto folder = RunFolder::open(req.out);
  if (!folder) return fail(folder.error().describe());
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);

  if (!req.quiet) std::fprintf(diag(), "batch: cataloguing %s\n", req.input.c_str());
  const Catalog catalog = scan_inputs({req.input});
  if (auto u = write_unreadable(req.out, catalog); !u) return fail(u.error().describe());
  const auto patients = shard_of(patients_of(catalog, worklist ? &*worklist : nullptr), req.shard_k, req.shard_n);
  std::vector<CasePlan> plans;
  std::size_t already = 0;
  for (const std::string& p : patients) {
    if (req.retry_failed) (*folder)->reopen_failed(p);
    if ((*folder)->finished(p)) {
      ++already;
      continue;
    }
    plans.push_back(plan_case(p, catalog, worklist ? &*worklist : nullptr));
  }
  if (!req.quiet)
    std::fprintf(diag(), "batch: %zu patients%s; %zu finished by an earlier run, %zu to do (%d at a time)\n", patients.size(),
                 req.shard_n > 1 ? (" in shard " + std::to_string(req.shard_k) + "/" + std::to_string(req.shard_n)).c_str() : "",
                 already, plans.size(), req.jobs);
  // The longest cases first (each follow-up's registration is most of a case's time), so that with
  // several at a time the run does not end waiting on one long case started last.
  const auto work = [](const CasePlan& p) {
    std::size_t n = 0;
    for (const PlannedLine& l : p.lines) n += l.follow_ups.size();
    return n;
  };
  std::stable_sort(plans.begin(), plans.end(), [&](const CasePlan& a, const CasePlan& b) { return work(a) > work(b); });
  BatchProgress progress(plans.size(), req.quiet);
  run_cases(plans, **folder, req.jobs, progress);
  if (stop_requested()) {
    std::fprintf(diag(), "error: %s: the batch was interrupted; run it again with the same --out to finish\n", req.out.c_str());
    return 130;
  }
  std::size_t failed = 0, cases = 0;
  if (auto s = write_cohort(**folder, &failed, &cases); !s) return fail(s.error().describe());
  if (!req.quiet)
    std::fprintf(diag(), "batch: %zu cases in %s/summary.csv; plots and links to each report in %s/index.html\n", cases,
                 req.out.c_str(), req.out.c_str());
  if (req.json) {
    nlohmann::ordered_json j = {{"out", req.out},   {"patients", patients.size()},         {"cases", cases},
                                {"failed", failed}, {"summary", req.out + "/summary.csv"}, {"index", req.out + "/index.html"}};
    std::printf("%s\n", dump(j).c_str());
  }
  if (failed)
    return fail(req.out + ": " + std::to_string(failed) + " of " + std::to_string(cases) +
                " cases failed (summary.csv says why)");
  return 0;
}

}  // namespace oq::cli
