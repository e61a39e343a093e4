// oq-phantom: generates the synthetic patients with ground truth (the demo archive).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>

#include "oq/phantom/archive.h"

namespace {

const char* kUsage =
    "usage: oq-phantom demo --out DIR [--seed N] [--jobs N] [--patients ID,ID] [--no-previews] [--quiet]\n"
    "       oq-phantom lesions --out DIR [--count N] [--seed N] [--jobs N] [--no-previews] [--quiet]\n"
    "       oq-phantom slides --out DIR [--count N] [--seed N] [--jobs N] [--labs-at-defaults] [--no-previews]\n"
    "                         [--quiet]\n"
    "       oq-phantom --version\n"
    "\n"
    "Generates the demo archive: synthetic metastatic breast cancer patients (one per phenotype group)\n"
    "with CT, PET and bone scans over 3-4 time points and the IHC slides of a biopsy, exported as a\n"
    "PACS folder export or DICOMDIR media, with ground truth and preview pictures beside them.\n"
    "\n"
    "The lesion set: N single CTs (default 10), alternating chest and abdomen, slice 1.25-5 mm,\n"
    "pixels 0.6-0.9 mm, noise 10-25 HU, lesions of every kind 6-60 mm, with truth, for accuracy tests.\n"
    "\n"
    "The slide set: N biopsies (default 10) of ER, PR and HER2 slides, ER/PR from negative to positive\n"
    "and HER2 0 to 3+, each from its own lab (stains, blur, JPEG), stain vectors turned 0, 5 or 10 degrees\n"
    "from the lab's own (which vary about the defaults, up to 13 degrees from them in all);\n"
    "with each slide a JPEG field of view cut from inside its tissue (tiles/), with its own truth.\n"
    "\n"
    "  --out DIR        folder to create (must not exist); written as DIR.partial-PID, then renamed\n"
    "  --seed N         random seed (default 20261123); the same seed gives the same bytes\n"
    "  --jobs N         worker threads (default: all cores)\n"
    "  --patients IDS   only these patients (e.g. OQ-DEMO-002)\n"
    "  --labs-at-defaults  slides: every lab's stains are the defaults (Ruifrok & Johnston) before the\n"
    "                   turn, so no slide's vectors lie more than 10 degrees from them\n"
    "  --no-previews    skip the PNG pictures\n"
    "  --quiet          no progress lines\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "error: %s\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("%d\n", oq::phantom::kGeneratorVersion);
    return 0;
  }
  const std::string command = argv[1];
  if (command != "demo" && command != "lesions" && command != "slides") return usage_error("unknown command '" + command + "'");
  oq::phantom::ArchiveOptions options;
  int count = 10;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) return nullptr;
      (void)name;
      return argv[++i];
    };
    if (arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--out") {
      const char* v = value("--out");
      if (!v) return usage_error("--out needs a folder");
      options.out_dir = v;
    } else if (arg == "--seed") {
      const char* v = value("--seed");
      char* end = nullptr;
      if (!v || (options.seed = std::strtoull(v, &end, 10), *end != '\0')) return usage_error("--seed needs a whole number");
    } else if (arg == "--jobs") {
      const char* v = value("--jobs");
      if (!v || (options.jobs = std::atoi(v)) <= 0) return usage_error("--jobs needs a positive number");
    } else if (arg == "--patients") {
      const char* v = value("--patients");
      if (!v) return usage_error("--patients needs patient ids");
      std::stringstream ss(v);
      std::string id;
      while (std::getline(ss, id, ',')) options.patients.push_back(id);
    } else if (arg == "--count" && command != "demo") {
      const char* v = value("--count");
      if (!v || (count = std::atoi(v)) <= 0) return usage_error("--count needs a positive number");
    } else if (arg == "--labs-at-defaults" && command == "slides") {
      options.lab_stain_variation = false;
    } else if (arg == "--no-previews") {
      options.previews = false;
    } else if (arg == "--quiet") {
      options.quiet = true;
    } else {
      return usage_error("unknown option '" + arg + "'");
    }
  }
  if (options.out_dir.empty()) return usage_error("--out is required");
  const oq::Status status = command == "demo"      ? oq::phantom::generate_demo_archive(options)
                            : command == "lesions" ? oq::phantom::generate_lesion_set(options, count)
                                                   : oq::phantom::generate_slide_set(options, count);
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", status.error().describe().c_str());
    return 1;
  }
  if (!options.quiet)
    std::fprintf(stderr, "%s written to %s\n",
                 command == "demo"      ? "demo archive"
                 : command == "lesions" ? "lesion set"
                                        : "slide set",
                 options.out_dir.c_str());
  return 0;
}
