// oq-validation: the CT validation set of lesions inserted into real CT slices (issue 19).
#include <unistd.h>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "oq/validation/ct_insert.h"

namespace {

const char* kUsage =
    "usage: oq-validation ct --shared DIR --out DIR [--count N] [--seed N] [--quiet]\n"
    "\n"
    "Inserts lesions into real CT slices of the shared data (DIR/data/dicom/ct): a GE abdomen with a\n"
    "soft-tissue kernel, a GE upper abdomen with a sharp lung kernel, a head. Each case is one lesion in\n"
    "its own series (160 mm around it, slices 1.25-5 mm): ellipsoid, lobulated or irregular; uniform,\n"
    "heterogeneous, necrotic centre or calcified rim; 10-60 mm; 15-90 HU from its background or a nodule\n"
    "in lung; in an organ, against its edge or against the pleura; point spread 0.5-2 mm FWHM; noise\n"
    "the image's own or 5-80 HU, white or correlated. Truth (truth.json, truth_mask.mha) comes from the\n"
    "shape: the 50 %% partial-volume outline on the acquired slices.\n"
    "\n"
    "  --out DIR    folder to create (must not exist); written as DIR.partial-PID, then renamed\n"
    "  --count N    cases (default 36)\n"
    "  --seed N     random seed (default 20261207); the same seed gives the same set\n"
    "  --quiet      no progress lines\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "error: %s\n%s", message.c_str(), kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using namespace oq::validation;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::printf(kUsage);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "ct") != 0) return usage_error(std::string("unknown command '") + argv[1] + "'");
  std::string shared, out;
  int count = 36;
  unsigned seed = 20261207;
  bool quiet = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--shared")
      shared = value();
    else if (a == "--out")
      out = value();
    else if (a == "--count")
      count = std::atoi(value().c_str());
    else if (a == "--seed")
      seed = static_cast<unsigned>(std::strtoul(value().c_str(), nullptr, 10));
    else if (a == "--quiet")
      quiet = true;
    else
      return usage_error("unknown option '" + a + "'");
  }
  if (shared.empty() || out.empty()) return usage_error("--shared and --out are required");
  if (count < 1 || count > 1000) return usage_error("--count must be 1-1000");
  if (fs::exists(out)) return usage_error(out + " exists");

  const std::string ct = shared + "/data/dicom/ct/";
  std::vector<Background> backgrounds;
  const std::array<std::array<const char*, 3>, 3> sources = {{
      {"dcmqi_ct-3slice/02.dcm", "abdomen-soft", "GE, abdomen (liver, spleen, lung bases), soft-tissue kernel, 1.25 mm"},
      {"orthanc_SignedCT.dcm", "abdomen-sharp", "GE, upper abdomen (liver, spleen, lung bases), sharp lung kernel"},
      {"pydicom-data_693_UNCI.dcm", "head", "head (brain), 5 mm plain series"},
  }};
  for (const auto& s : sources) {
    auto b = load_background(ct + s[0], s[1], s[2]);
    if (!b) {
      std::fprintf(stderr, "error: %s\n", b.error().describe().c_str());
      return 1;
    }
    if (!quiet) std::fprintf(stderr, "background %s: own noise %.1f HU SD\n", s[1], b->own_noise_sd);
    backgrounds.push_back(std::move(*b));
  }
  const std::vector<CaseSpec> plan = plan_cases(backgrounds, count, seed);
  const std::string partial = out + ".partial-" + std::to_string(getpid());
  fs::create_directories(partial);
  std::vector<nlohmann::json> results(plan.size());
  std::vector<std::string> errors(plan.size());
  std::atomic<size_t> next{0}, done{0};
  auto worker = [&]() {
    for (size_t i = next++; i < plan.size(); i = next++) {
      auto r = render_case(backgrounds[plan[i].background], plan[i], partial + "/" + plan[i].id);
      if (r)
        results[i] = *r;
      else
        errors[i] = r.error().describe();
      const size_t n = ++done;
      if (!quiet) std::fprintf(stderr, "\rcases: %zu/%zu", n, plan.size());
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (!quiet) std::fprintf(stderr, "\n");
  nlohmann::json manifest = {{"set", "CT lesions inserted into real CT slices (issue 19 validation set)"},
                             {"seed", seed},
                             {"backgrounds", nlohmann::json::array()},
                             {"cases", nlohmann::json::array()},
                             {"skipped", nlohmann::json::array()}};
  for (const auto& b : backgrounds)
    manifest["backgrounds"].push_back({{"name", b.name}, {"description", b.description}, {"own_noise_sd_hu", b.own_noise_sd}});
  for (size_t i = 0; i < plan.size(); ++i) {
    if (!errors[i].empty()) {
      manifest["skipped"].push_back({{"id", plan[i].id}, {"reason", errors[i]}});
      fs::remove_all(partial + "/" + plan[i].id);
      continue;
    }
    nlohmann::json c = results[i];
    c["dir"] = plan[i].id;
    manifest["cases"].push_back(c);
  }
  std::ofstream(partial + "/manifest.json") << manifest.dump(1) << "\n";
  fs::rename(partial, out);
  if (!quiet)
    std::fprintf(stderr, "%zu cases in %s (%zu skipped: no room on the slice)\n", manifest["cases"].size(), out.c_str(),
                 manifest["skipped"].size());
  return 0;
}
