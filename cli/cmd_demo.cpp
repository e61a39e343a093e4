// oncoquant demo: the main job on the bundled demo archive (issue 22). The archive (synthetic
// patients with ground truth) is generated once by oq-phantom, the generator built beside this
// program, into a cache; `batch` then runs on it like on any hospital export.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "args.h"
#include "batch/child_process.h"
#include "commands.h"
#include "oq/diagnostics.h"
#include "oq/json_input.h"

namespace oq::cli {
namespace {

namespace fs = std::filesystem;

const char* kDemoUsage =
    "usage: oncoquant demo [--out DIR] [--jobs N] [--seed N] [--fresh]\n"
    "  Generates the demo archive once (three synthetic patients followed over 1-2 treatment lines with CT,\n"
    "  PET-CT and bone scans, biopsy slides for ER, PR and HER2, a worklist and the ground truth; about two\n"
    "  minutes) into $OQ_CACHE_DIR (default ~/.cache/oncoquant), then runs `oncoquant batch` on it into DIR\n"
    "  (default ./demo-output) and says where the reports, the summary and the truth are.\n"
    "  --jobs N  cases at a time (default 2)   --seed N  another archive (default 20261123)\n"
    "  --fresh   start DIR over instead of resuming the cases an earlier demo finished\n";

std::string cache_dir() {
  if (const char* c = std::getenv("OQ_CACHE_DIR"); c && *c) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/oncoquant";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/oncoquant";
  return ".cache";
}

// The generator built beside this program.
std::string generator() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / "oq-phantom").string();
}

Result<std::string> generator_version(const std::string& program, const std::string& scratch) {
  batch::ChildStep s;
  s.program = program;
  s.args = {"--version"};
  s.stdout_path = scratch + "/.oq-phantom-version";
  s.time_limit_s = 60;
  auto r = batch::run_child(s);
  if (!r || !r->ok()) return Error(ErrorCode::kIo, "the demo archive's generator does not run", program);
  auto text = read_small_file(s.stdout_path, 64);
  std::error_code ec;
  fs::remove(s.stdout_path, ec);
  if (!text) return text.error();
  std::string v;
  for (char c : *text)
    if (std::isdigit(static_cast<unsigned char>(c))) v += c;
  if (v.empty()) return Error(ErrorCode::kIo, "the generator gave no version", program);
  return v;
}

// The archive for this generator version and seed, generated when not there yet.
Result<std::string> demo_archive(const std::string& seed) {
  const std::string program = generator();
  std::error_code ec;
  if (!fs::exists(program, ec))
    return Error(ErrorCode::kNotFound, "the demo archive's generator is not beside oncoquant (scripts/build oq-phantom)",
                 program);
  const std::string cache = cache_dir();
  fs::create_directories(cache, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot create the cache folder: " + ec.message(), cache);
  auto version = generator_version(program, cache);
  if (!version) return version.error();
  const std::string archive = cache + "/demo-archive-v" + *version + "-seed" + seed;
  if (fs::exists(archive + "/manifest.json", ec)) {
    std::fprintf(diag(), "demo: the archive %s (cached)\n", archive.c_str());
    return archive;
  }
  std::fprintf(diag(), "demo: generating the demo archive into %s (once, about two minutes)\n", archive.c_str());
  batch::ChildStep s;
  s.program = program;
  s.args = {"demo", "--seed", seed, "--out", archive};
  s.time_limit_s = 3600;
  auto r = batch::run_child(s);
  if (!r) return r.error();
  if (!r->ok()) return Error(ErrorCode::kIo, "generating the demo archive failed: " + r->last_error, archive);
  return archive;
}

void print_where(const std::string& archive, const std::string& out) {
  std::printf("\nDemo archive:  %s/archive   (worklist: %s/manifest.json)\n", archive.c_str(), archive.c_str());
  std::printf("Ground truth:  %s/truth     (lesion calipers, expected RECIST courses, IHC scores, groups)\n", archive.c_str());
  std::printf("Summary:       %s/summary.csv   (one row per patient and treatment line)\n", out.c_str());
  std::printf("Per patient:   %s/patients/ID/reports   (PDF and HTML for people, SR and SEG per time point, JSON, CSV)\n",
              out.c_str());
  std::printf("               %s/patients/ID/study.sqlite   (oncoquant store audit --db ...; review with store review)\n",
              out.c_str());
}

}  // namespace

int cmd_demo(int argc, char** argv) {
  Args args(argc, argv, 2, {"--out", "--jobs", "--seed"}, {"--help", "--fresh"});
  if (args.has("--help")) {
    std::fputs(kDemoUsage, stdout);
    return 0;
  }
  if (!args.ok()) return usage_fail(args.error(), kDemoUsage);
  if (!args.positional().empty()) return usage_fail("demo takes no positional argument", kDemoUsage);
  const auto seed = parse_integer(args.get("--seed", "20261123"), 0, 1LL << 53);
  if (!seed) return usage_fail("--seed must be a whole number", kDemoUsage);
  const std::string jobs = args.get("--jobs", "2");
  if (!parse_integer(jobs, 1, 64)) return usage_fail("--jobs must be a whole number 1-64", kDemoUsage);
  const std::string out = args.get("--out", "demo-output");
  auto archive = demo_archive(std::to_string(*seed));
  if (!archive) return fail(archive.error().describe());
  if (args.has("--fresh")) {
    std::error_code ec;
    fs::remove_all(out, ec);
  }
  std::fprintf(diag(), "demo: oncoquant batch %s/archive --out %s --jobs %s\n", archive->c_str(), out.c_str(), jobs.c_str());
  const std::string input = *archive + "/archive", manifest = *archive + "/manifest.json";
  std::vector<std::string> words = {"oncoquant", "batch", input, "--out", out, "--manifest", manifest, "--jobs", jobs};
  std::vector<char*> batch_argv;
  for (std::string& w : words) batch_argv.push_back(w.data());
  batch_argv.push_back(nullptr);
  const int code = cmd_batch(static_cast<int>(words.size()), batch_argv.data());
  if (code == 0) {
    auto summary = read_small_file(out + "/summary.csv");
    if (summary) std::printf("\n%s", summary->c_str());
    print_where(*archive, out);
  }
  return code;
}

}  // namespace oq::cli
