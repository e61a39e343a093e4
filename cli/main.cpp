// oncoquant: the command-line entry point. Dispatches to one file per subcommand.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "commands.h"
#include "oq/diagnostics.h"

namespace {

const char* kUsage =
    "OncoQuant - imaging and pathology analysis for metastatic breast cancer studies\n"
    "\n"
    "usage: oncoquant <command> [options]\n"
    "\n"
    "commands:\n"
    "  info PATH... [--json]         list the studies, series and slides in files, folders and DICOMDIRs,\n"
    "                                and every file that cannot be used, with the reason\n"
    "  convert INPUT -o OUT          write one series as a volume (.nii.gz, .nrrd, .mha)\n"
    "  segment INPUT --seed X,Y,Z    segment the lesion under a click and measure it (RECIST calipers)\n"
    "  bonescan INPUT [--json]       hot spots on whole-body bone scan views, bone involvement (exploratory)\n"
    "  recist assess CASE.json       RECIST 1.1 / iRECIST response per time point, best response, PFS\n"
    "                                (or --db STORE --patient ID [--line N]: from the study store)\n"
    "  track BASELINE FOLLOWUP       carry baseline lesions into a follow-up CT and propose their measurements\n"
    "  ihc SLIDE --marker ER|PR      ER/PR on a whole-slide image: percent positive, H-score, Allred, category\n"
    "  phenotype --er-pct P ...      the phenotype group (1 HR+/HER2-, 2 HER2+, 3 triple negative) from ER, PR, HER2\n"
    "  store ACTION --db STORE       the study store: import-case, measure (corrections), history, audit\n"
    "  report --db STORE --patient ID --out DIR\n"
    "                                a patient's results: DICOM SR TID 1500 per time point, JSON, CSV\n"
    "  batch INPUT --out DIR         the main job: every patient of an archive, resumable and parallel\n"
    "  merge DIR... --out DIR        join the outputs of a sharded batch (Slurm job arrays)\n"
    "  demo                          the main job on the bundled demo archive (generated once)\n"
    "  plugins [--json]              list the loaders and exporters of this build\n"
    "\n"
    "oncoquant <command> --help describes each command's options.\n";

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, oq::diag());
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "--version") {
    std::puts("oncoquant 0.1.0");
    return 0;
  }
  if (cmd == "info") return oq::cli::cmd_info(argc, argv);
  if (cmd == "convert") return oq::cli::cmd_convert(argc, argv);
  if (cmd == "plugins") return oq::cli::cmd_plugins(argc, argv);
  if (cmd == "segment") return oq::cli::cmd_segment(argc, argv);
  if (cmd == "bonescan") return oq::cli::cmd_bonescan(argc, argv);
  if (cmd == "recist") return oq::cli::cmd_recist(argc, argv);
  if (cmd == "store") return oq::cli::cmd_store(argc, argv);
  if (cmd == "track") return oq::cli::cmd_track(argc, argv);
  if (cmd == "phenotype") return oq::cli::cmd_phenotype(argc, argv);
  if (cmd == "ihc") return oq::cli::cmd_ihc(argc, argv);
  if (cmd == "report") return oq::cli::cmd_report(argc, argv);
  if (cmd == "batch") return oq::cli::cmd_batch(argc, argv);
  if (cmd == "demo") return oq::cli::cmd_demo(argc, argv);
  if (cmd == "merge") return oq::cli::cmd_merge(argc, argv);
  std::fprintf(oq::diag(), "usage error: unknown command '%s'\n\n%s", cmd.c_str(), kUsage);
  return 2;
}

// An answer that never reached its reader (stdout on a full disk, `> /dev/full`) is a failure:
// a script that saves the JSON must not see exit 0 and an empty or cut file.
int finish_stdout(int code) {
  std::cout.flush();
  const bool lost = std::cout.fail() || std::fflush(stdout) != 0 || std::ferror(stdout);
  if (!lost) return code;
  const int err = errno;
  std::fprintf(oq::diag(), "error: standard output: the answer could not be written (%s)\n",
               err ? std::strerror(err) : "write failed");
  return code == 0 ? 1 : code;
}

// What libraries printed is shown after our own error line, never before it; on success it is noise.
int show_library_messages(int code) {
  const std::string held = oq::held_library_messages();
  if (code == 0 || held.empty()) return code;
  std::fputs("details from the libraries that read the input:\n", oq::diag());
  size_t start = 0;
  while (start < held.size()) {
    const size_t end = std::min(held.find('\n', start), held.size());
    if (end > start) std::fprintf(oq::diag(), "  %s\n", held.substr(start, end - start).c_str());
    start = end + 1;
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f, a quota) makes a write fail with EFBIG, reported as an error and
  // cleaned up like a full disk, instead of killing the process mid-write.
  std::signal(SIGXFSZ, SIG_IGN);
  oq::hold_library_messages();
  return show_library_messages(finish_stdout(dispatch(argc, argv)));
}
