#include "oq/phantom/archive.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "oq/phantom/plan.h"
#include "scans.h"
#include "slide.h"

namespace oq::phantom {
namespace fs = std::filesystem;
namespace {

std::string two(int v) {
  char b[8];
  std::snprintf(b, sizeof b, "%02d", v);
  return b;
}

struct Task {
  std::string label;
  std::function<void()> run;
};

// Runs tasks on `jobs` threads; each task writes only its own files and result slot, so the
// output does not depend on scheduling. Returns the first failure's message.
std::string run_tasks(std::vector<Task>& tasks, int jobs, bool quiet) {
  std::atomic<size_t> next{0}, done{0};
  std::mutex mu;
  std::string failure;
  auto worker = [&] {
    for (;;) {
      const size_t i = next++;
      if (i >= tasks.size()) return;
      const auto t0 = std::chrono::steady_clock::now();
      try {
        tasks[i].run();
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (failure.empty()) failure = tasks[i].label + ": " + e.what();
        next = tasks.size();
        return;
      }
      const size_t d = ++done;
      if (!quiet) {
        std::lock_guard<std::mutex> lock(mu);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::fprintf(stderr, "[%zu/%zu] %s (%.1f s)\n", d, tasks.size(), tasks[i].label.c_str(), s);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < jobs; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  return failure;
}

// Removes DIR.partial-PID folders left by runs that were killed (their process is gone).
void remove_abandoned_partials(const fs::path& final_dir) {
  std::error_code ec;
  const fs::path parent = final_dir.has_parent_path() ? final_dir.parent_path() : fs::path(".");
  const std::string prefix = final_dir.filename().string() + ".partial-";
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(entry.path(), ec);
  }
}

struct SeriesSlot {
  DicomContext ctx;
  SeriesTarget target;
  SeriesResult result;
  std::string relative_dir;  // from the archive root
};

struct TimePointSlots {
  SeriesSlot ct, pet, nm, sc;
  bool has_bone_scan = false;
};

struct SlideSlot {
  SlidePlan plan;
  SlideTarget target;
  SlideResult result;
};

}  // namespace

Status generate_archive(const ArchiveOptions& options, std::vector<PatientPlan> plans, const std::string& title) {
  const fs::path final_dir(options.out_dir);
  std::error_code ec;
  if (fs::exists(final_dir, ec))
    return Error(ErrorCode::kInvalidArgument, "already exists; remove it or choose another folder", final_dir.string());
  remove_abandoned_partials(final_dir);
  const fs::path root = final_dir.string() + ".partial-" + std::to_string(::getpid());
  fs::remove_all(root, ec);

  if (!options.patients.empty()) {
    std::vector<PatientPlan> kept;
    for (const auto& p : plans)
      if (std::find(options.patients.begin(), options.patients.end(), p.id) != options.patients.end()) kept.push_back(p);
    for (const auto& want : options.patients)
      if (std::none_of(plans.begin(), plans.end(), [&](const PatientPlan& p) { return p.id == want; }))
        return Error(ErrorCode::kNotFound, "no such patient in the demo plan", want);
    plans = kept;
  }
  std::vector<PlacedPatient> patients;
  try {
    for (const auto& plan : plans) patients.push_back(place_patient(plan, options.seed));
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, e.what());
  }

  const fs::path archive = root / "archive", truth = root / "truth", previews = root / "previews";
  std::vector<std::vector<TimePointSlots>> slots(patients.size());
  std::vector<std::vector<SlideSlot>> slides(patients.size());
  std::vector<Task> tasks;
  try {
    for (size_t pi = 0; pi < patients.size(); ++pi) {
      const PlacedPatient& p = patients[pi];
      const bool media = p.plan.dicomdir_export;
      // Accession numbers from the patient id, so a patient generated alone gets the same bytes.
      std::string patient_digits;
      for (char c : p.plan.id)
        if (std::isdigit(static_cast<unsigned char>(c))) patient_digits += c;
      slots[pi].resize(p.plan.time_points.size());
      const fs::path preview_dir = previews / p.plan.id;
      if (options.previews) fs::create_directories(preview_dir);
      DicomContext patient_ctx;
      patient_ctx.patient_id = p.plan.id;
      patient_ctx.patient_name = p.plan.name;
      patient_ctx.birth_date = p.plan.birth_date;
      patient_ctx.weight_kg = p.plan.weight_kg;
      patient_ctx.height_m = p.plan.height_m;
      for (size_t tp = 0; tp < p.plan.time_points.size(); ++tp) {
        TimePointSlots& s = slots[pi][tp];
        const std::string date = p.study_date(tp);
        const std::string tag = p.plan.id + "/t" + std::to_string(tp);
        const fs::path tp_truth = truth / p.plan.id / ("t" + std::to_string(tp) + "_" + date);
        fs::create_directories(tp_truth);
        // PET-CT study.
        DicomContext study = patient_ctx;
        study.study_uid = make_uid(p.seed, tag + "/petct");
        study.study_date = dicom_date(date);
        study.study_time = "101200";
        study.study_id = std::to_string(tp + 1);
        study.accession = "A" + patient_digits + two(static_cast<int>(tp));
        study.study_description = p.plan.with_pet ? "PET-CT FDG whole body + CT chest abdomen pelvis" : "CT " + p.plan.ct_region;
        study.frame_of_reference_uid = make_uid(p.seed, tag + "/for");
        study.series_date = study.study_date;
        const std::string study_dir =
            media ? "DICOM/ST" + std::string(6 - std::to_string(tp + 1).size(), '0') + std::to_string(tp + 1)
                  : dicom_date(date) + (p.plan.with_pet ? "_PET-CT" : "_CT");
        auto series_dir = [&](int number, const std::string& name) {
          return media ? study_dir + "/SE" + std::string(6 - std::to_string(number).size(), '0') + std::to_string(number)
                       : study_dir + "/" + std::to_string(number) + "_" + name;
        };
        s.ct.ctx = study;
        s.ct.ctx.series_uid = make_uid(p.seed, tag + "/ct");
        s.ct.ctx.series_number = 2;
        char desc[64];
        std::snprintf(desc, sizeof desc, "CT %s %.3gmm portal venous", p.plan.ct_region.c_str(), p.plan.slice_thickness_mm);
        s.ct.ctx.series_description = desc;
        s.ct.ctx.series_time = "101200";
        s.ct.ctx.body_part = "CHEST";
        s.ct.relative_dir = p.plan.id + "/" + series_dir(2, "CT_" + p.plan.ct_region);
        s.ct.target = {(archive / s.ct.relative_dir).string(), media, tp_truth.string(),
                       options.previews ? preview_dir.string() : ""};
        const PetTiming timing = pet_timing(p, tp);
        s.pet.ctx = study;
        s.pet.ctx.series_uid = make_uid(p.seed, tag + "/pet");
        s.pet.ctx.series_number = 3;
        s.pet.ctx.series_description = "PET WB FDG AC";
        s.pet.ctx.series_time = timing.series_time;
        s.pet.ctx.body_part = "WHOLEBODY";
        s.pet.relative_dir = p.plan.id + "/" + series_dir(3, "PET_AC");
        s.pet.target = {(archive / s.pet.relative_dir).string(), media, tp_truth.string(),
                        options.previews ? preview_dir.string() : ""};
        fs::create_directories(s.ct.target.dir);
        if (p.plan.with_pet) fs::create_directories(s.pet.target.dir);
        tasks.push_back({"CT  " + p.plan.id + " " + date, [&p, tp, &slot = s.ct] {
                           slot.result = generate_ct(p, tp, slot.ctx, slot.target);
                           write_json(slot.target.truth_dir + "/ct.truth.json", slot.result.truth);
                         }});
        if (p.plan.with_pet)
          tasks.push_back({"PET " + p.plan.id + " " + date, [&p, tp, &slot = s.pet, timing] {
                             slot.result = generate_pet(p, tp, slot.ctx, timing, slot.target);
                             write_json(slot.target.truth_dir + "/pet.truth.json", slot.result.truth);
                           }});
        if (p.plan.time_points[tp].bone_scan) {
          s.has_bone_scan = true;
          const std::string nm_date = add_days(date, 2);
          DicomContext nm = patient_ctx;
          nm.study_uid = make_uid(p.seed, tag + "/bone");
          nm.study_date = dicom_date(nm_date);
          nm.study_time = "123000";
          nm.study_id = std::to_string(100 + tp);
          nm.accession = "B" + patient_digits + two(static_cast<int>(tp));
          nm.study_description = "NM whole body bone scan Tc-99m MDP";
          nm.frame_of_reference_uid = make_uid(p.seed, tag + "/bone/for");
          nm.series_date = nm.study_date;
          nm.series_time = "123000";
          nm.body_part = "WHOLEBODY";
          const std::string nm_study =
              media ? "DICOM/ST" + std::string(4, '0') + two(static_cast<int>(50 + tp)) : dicom_date(nm_date) + "_NM_Bone";
          s.nm.ctx = nm;
          s.nm.ctx.series_uid = make_uid(p.seed, tag + "/bone/nm");
          s.nm.ctx.series_number = 1;
          s.nm.ctx.series_description = "WB bone ANT POST";
          s.nm.relative_dir = p.plan.id + "/" + nm_study + (media ? "/SE000001" : "/1_WB_Bone");
          s.nm.target = {(archive / s.nm.relative_dir).string(), media, tp_truth.string(),
                         options.previews ? preview_dir.string() : ""};
          s.sc.ctx = nm;
          s.sc.ctx.series_uid = make_uid(p.seed, tag + "/bone/sc");
          s.sc.ctx.series_number = 2;
          s.sc.ctx.series_description = "WB bone screen capture";
          s.sc.ctx.frame_of_reference_uid.clear();
          s.sc.relative_dir = p.plan.id + "/" + nm_study + (media ? "/SE000002" : "/2_WB_Bone_SC");
          s.sc.target = {(archive / s.sc.relative_dir).string(), media, tp_truth.string(), ""};
          fs::create_directories(s.nm.target.dir);
          fs::create_directories(s.sc.target.dir);
          tasks.push_back({"NM  " + p.plan.id + " " + nm_date, [&p, tp, &s] {
                             s.nm.result = generate_bone_scan(p, tp, s.nm.ctx, s.nm.target, s.sc.ctx, s.sc.target);
                             s.sc.result.files = {s.sc.target.file_name(2, 1), s.sc.target.file_name(2, 2)};
                             write_json(s.nm.target.truth_dir + "/bone_scan.truth.json", s.nm.result.truth);
                           }});
        }
      }
      // The biopsy's IHC slides, from the pathology lab's scanner.
      const std::string biopsy_date = add_days(p.plan.first_scan_date, -16);
      const std::string slide_dir_rel = p.plan.id + "/pathology/" + dicom_date(biopsy_date) + "_core_biopsy";
      fs::create_directories(archive / slide_dir_rel);
      const fs::path slide_truth = truth / p.plan.id / "pathology";
      fs::create_directories(slide_truth);
      slides[pi].resize(p.plan.slides.size());
      for (size_t si = 0; si < p.plan.slides.size(); ++si) {
        SlideSlot& ss = slides[pi][si];
        ss.plan = p.plan.slides[si];
        const std::string marker = marker_name(ss.plan.marker);
        const std::string file = p.plan.id + "_" + marker + (p.plan.slides_as_svs ? ".svs" : ".tiff");
        ss.target.relative_path = "archive/" + slide_dir_rel + "/" + file;
        ss.target.path = (archive / slide_dir_rel / file).string();
        ss.target.truth_dir = slide_truth.string();
        ss.target.preview_dir = options.previews ? preview_dir.string() : "";
        ss.target.stem = marker;
        ss.target.svs = p.plan.slides_as_svs;
        ss.target.slide_id = p.plan.id + "-" + marker;
        ss.target.date_us = biopsy_date.substr(5, 2) + "/" + biopsy_date.substr(8, 2) + "/" + biopsy_date.substr(2, 2);
        if (options.slide_tiles) {
          fs::create_directories(root / "tiles");
          ss.target.tile_relative_path = "tiles/" + p.plan.id + "_" + marker + ".jpg";
          ss.target.tile_path = (root / ss.target.tile_relative_path).string();
        }
        tasks.push_back({"WSI " + p.plan.id + " " + marker, [&p, &ss] {
                           ss.result = generate_slide(p, ss.plan, ss.target);
                           write_json(ss.target.truth_dir + "/" + ss.target.stem + ".truth.json", ss.result.truth);
                           if (!ss.result.tile_truth.is_null())
                             write_json(ss.target.truth_dir + "/" + ss.target.stem + ".tile.truth.json", ss.result.tile_truth);
                         }});
      }
    }
  } catch (const std::exception& e) {
    fs::remove_all(root, ec);
    return Error(ErrorCode::kIo, e.what(), root.string());
  }

  const int jobs = options.jobs > 0 ? options.jobs : std::max(1U, std::thread::hardware_concurrency());
  const std::string failure = run_tasks(tasks, jobs, options.quiet);
  if (!failure.empty()) {
    fs::remove_all(root, ec);
    return Error(ErrorCode::kInternal, failure);
  }

  // Per patient: RECIST truth, phenotype truth, DICOMDIR, manifest entry.
  Json manifest_patients = Json::array();
  try {
    for (size_t pi = 0; pi < patients.size(); ++pi) {
      const PlacedPatient& p = patients[pi];
      std::vector<std::vector<LesionTruth>> per_tp;
      for (const auto& s : slots[pi]) per_tp.push_back(s.ct.result.lesion_truth);
      const Json recist = p.plan.lines.empty() ? Json::array() : recist_truth(p, per_tp);
      if (!recist.empty())
        write_json((truth / p.plan.id / "recist.truth.json").string(),
                   Json{{"patient_id", p.plan.id}, {"slice_thickness_mm", p.plan.slice_thickness_mm}, {"lines", recist}});
      for (const auto& line : recist)
        write_json((truth / p.plan.id / ("recist-case-line" + std::to_string(line["line"].get<int>()) + ".json")).string(),
                   line["recist_case"]);
      Json scores;
      Json slide_list = Json::array();
      for (const SlideSlot& ss : slides[pi]) {
        scores[marker_name(ss.plan.marker)] = ss.result.scores;
        slide_list.push_back(Json{{"marker", marker_name(ss.plan.marker)},
                                  {"path", ss.target.relative_path},
                                  {"stain", "IHC, DAB with hematoxylin counterstain"},
                                  {"specimen", "core needle biopsy of a metastasis"},
                                  {"biopsy_date", add_days(p.plan.first_scan_date, -16)}});
        if (!ss.target.tile_relative_path.empty()) slide_list.back()["tile"] = ss.target.tile_relative_path;
      }
      if (scores.contains("ER") && scores.contains("PR") && scores.contains("HER2")) {
        Json group = phenotype_group(scores["ER"], scores["PR"], scores["HER2"]);
        group["patient_id"] = p.plan.id;
        group["designed_group"] = p.plan.expected_group;
        write_json((truth / p.plan.id / "phenotype.truth.json").string(), group);
      }
      std::vector<std::string> media_files;
      Json tps = Json::array();
      for (size_t tp = 0; tp < slots[pi].size(); ++tp) {
        const TimePointSlots& s = slots[pi][tp];
        auto series_json = [&](const SeriesSlot& slot, const char* modality) {
          for (const auto& f : slot.result.files) media_files.push_back(slot.relative_dir.substr(p.plan.id.size() + 1) + "/" + f);
          return Json{{"modality", modality},
                      {"series_uid", slot.ctx.series_uid},
                      {"study_uid", slot.ctx.study_uid},
                      {"path", "archive/" + slot.relative_dir},
                      {"instances", slot.result.files.size()}};
        };
        Json t{{"index", tp}, {"date", p.study_date(tp)}};
        t["ct"] = series_json(s.ct, "CT");
        if (p.plan.with_pet) t["pet"] = series_json(s.pet, "PT");
        if (s.has_bone_scan) {
          t["bone_scan"] = series_json(s.nm, "NM");
          t["bone_scan_secondary_capture"] = series_json(s.sc, "NM");
        }
        tps.push_back(t);
      }
      if (p.plan.dicomdir_export) {
        // A file-set ID allows only upper-case letters, digits, space and underscore.
        std::string fileset;
        for (char c : p.plan.id)
          if (std::isalnum(static_cast<unsigned char>(c)))
            fileset += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        write_dicomdir((archive / p.plan.id).string(), media_files, fileset.substr(0, 16), make_uid(p.seed, "dicomdir"));
      }
      // The worklist: baseline lesions with their seeds, as a trial's imaging core hands them out.
      Json seeds = Json::array();
      const Json line1 = recist.empty() ? Json{{"targets", Json::array()}} : recist.at(0);
      const Json no_lesions = Json::array();
      const auto& ct_truth = slots[pi].empty() ? no_lesions : slots[pi][0].ct.result.truth["lesions"];
      for (const auto& l : ct_truth) {
        if (!l["present"].get<bool>()) continue;
        const std::string id = l["id"];
        std::string role = recist.empty() ? "lesion" : "non-target";
        for (const auto& t : line1["targets"])
          if (t == id) role = "target";
        seeds.push_back(Json{{"lesion_id", id},
                             {"tracking_uid", l["tracking_uid"]},
                             {"role", role},
                             {"organ", l["organ"]},
                             {"nodal", l["nodal"]},
                             {"series_uid", slots[pi].at(0).ct.ctx.series_uid},
                             {"seed_mm", l["seed_mm"]}});
      }
      Json lines = Json::array();
      for (const auto& line : p.plan.lines)
        lines.push_back(Json{{"line", line.number},
                             {"start_date", add_days(p.plan.first_scan_date, line.start_day)},
                             {"regimen", line.regimen},
                             {"baseline_time_point", line.baseline_time_point}});
      Json entry{{"patient_id", p.plan.id},
                 {"archive_path", "archive/" + p.plan.id},
                 {"export", p.plan.dicomdir_export ? "DICOMDIR media" : "PACS folder export"},
                 {"treatment_lines", lines},
                 {"time_points", tps},
                 {"baseline_lesion_seeds", seeds},
                 {"slides", slide_list},
                 {"truth_path", "truth/" + p.plan.id}};
      if (p.plan.dicomdir_export) entry["dicomdir"] = "archive/" + p.plan.id + "/DICOMDIR";
      manifest_patients.push_back(entry);
    }
    write_json((root / "manifest.json").string(), Json{{"archive", title + " (synthetic patients, no real person's data)"},
                                                       {"generator", "oq-phantom"},
                                                       {"generator_version", kGeneratorVersion},
                                                       {"seed", options.seed},
                                                       {"coordinates", "DICOM patient coordinates (LPS), millimetres"},
                                                       {"patients", manifest_patients}});
  } catch (const std::exception& e) {
    fs::remove_all(root, ec);
    return Error(ErrorCode::kIo, e.what(), root.string());
  }
  fs::rename(root, final_dir, ec);
  if (ec) {
    fs::remove_all(root, ec);
    return Error(ErrorCode::kIo, "cannot move the finished archive into place: " + ec.message(), final_dir.string());
  }
  return ok_status();
}

Status generate_demo_archive(const ArchiveOptions& options) {
  return generate_archive(options, demo_plan(), "OncoQuant demo archive");
}

Status generate_lesion_set(const ArchiveOptions& options, int count) {
  if (count < 1) return Error(ErrorCode::kInvalidArgument, "the lesion set needs at least one series");
  return generate_archive(options, lesion_set_plan(options.seed, count), "OncoQuant lesion set");
}

Status generate_slide_set(const ArchiveOptions& options, int count) {
  if (count < 1) return Error(ErrorCode::kInvalidArgument, "the slide set needs at least one biopsy");
  ArchiveOptions with_tiles = options;
  with_tiles.slide_tiles = true;
  return generate_archive(with_tiles, slide_set_plan(options.seed, count, options.lab_stain_variation),
                          "OncoQuant IHC slide set");
}

}  // namespace oq::phantom
