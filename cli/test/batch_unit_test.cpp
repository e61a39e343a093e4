// The batch's stages on closed-form inputs: reading the worklist, planning a patient's case from a
// hand-made catalogue, sharding, the summary's rows, the run folder's lock and commit, and a step's
// child process that fails, crashes or hangs.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "batch/case_plan.h"
#include "batch/child_process.h"
#include "batch/run_folder.h"
#include "batch/summary.h"
#include "batch/worklist.h"
#include "oqtest/scratch_root.h"

namespace fs = std::filesystem;
using namespace oq;
using namespace oq::cli::batch;

namespace {

const char* kManifest = R"({"patients": [
  {"patient_id": "P1",
   "treatment_lines": [{"line": 1, "start_date": "2026-01-19", "regimen": "letrozole", "baseline_time_point": 0},
                       {"line": 2, "start_date": "2026-05-01", "regimen": "capecitabine", "criteria": "iRECIST"}],
   "baseline_lesion_seeds": [{"lesion_id": "L1", "role": "target", "organ": "liver", "nodal": false, "seed_mm": [1, 2, 3]},
                             {"lesion_id": "X9", "role": "lesion", "organ": "lung", "nodal": false, "seed_mm": [0, 0, 0]},
                             {"lesion_id": "N1", "role": "non-target", "organ": "lymph node", "nodal": true,
                              "seed_mm": [4, 5, 6], "series_uid": "1.2.3"}],
   "slides": [{"marker": "ER", "path": "archive/P1/P1_ER.svs"}]}]})";

std::string with_patient(const std::string& entry) {
  return std::string(R"({"patients": [)") + entry + "]}";
}

TEST(Worklist, ManifestFormGivesLinesSeedsAndSlidesRelativeToItsFolder) {
  auto w = worklist_from_manifest_text(kManifest, "/data/demo/manifest.json");
  ASSERT_TRUE(w) << w.error().describe();
  ASSERT_EQ(w->patients.size(), 1u);
  const WorklistPatient& p = w->patients[0];
  ASSERT_EQ(p.lines.size(), 2u);
  EXPECT_EQ(p.lines[0].baseline_scan, 0);
  EXPECT_FALSE(p.lines[1].baseline_scan.has_value());
  EXPECT_EQ(p.lines[1].criteria, "iRECIST");
  ASSERT_EQ(p.lesions.size(), 2u) << "a lesion no line measures (role \"lesion\") is not part of the read";
  EXPECT_TRUE(p.lesions[1].nodal);
  EXPECT_EQ(p.lesions[1].series_uid, "1.2.3");
  EXPECT_EQ(p.lesions[0].seed_mm[2], 3);
  ASSERT_EQ(p.slides.size(), 1u);
  EXPECT_EQ(p.slides[0].path, "/data/demo/archive/P1/P1_ER.svs");
}

TEST(Worklist, CsvFormReadsTheSameWorklist) {
  const std::string csv =
      "patient_id,record,line,start_date,regimen,criteria,lesion_id,role,organ,nodal,seed_x_mm,seed_y_mm,seed_z_mm,marker,path\n"
      "P1,line,1,2026-01-19,\"letrozole, palbociclib\",RECIST1.1,,,,,,,,,\n"
      "P1,lesion,,,,,L1,target,liver,no,1,2,3,,\n"
      "P1,lesion,,,,,N1,non-target,lymph node,yes,4,5,6,,\n"
      "\n"
      "P1,slide,,,,,,,,,,,,ER,archive/P1/P1_ER.svs\r\n";
  auto w = worklist_from_csv_text(csv, "/data/demo/worklist.csv");
  ASSERT_TRUE(w) << w.error().describe();
  const WorklistPatient& p = w->patients.at(0);
  EXPECT_EQ(p.lines.at(0).regimen, "letrozole, palbociclib");
  ASSERT_EQ(p.lesions.size(), 2u);
  EXPECT_TRUE(p.lesions[1].nodal);
  EXPECT_EQ(p.lesions[1].seed_mm[0], 4);
  EXPECT_EQ(p.slides.at(0).path, "/data/demo/archive/P1/P1_ER.svs");
}

TEST(Worklist, RefusesWhatWouldChangeAResultSilently) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {with_patient(R"({"patient_id": "A"}, {"patient_id": "A"})"), "listed twice"},
      {with_patient(R"({"patient_id": "A", "slides": [{"marker": "Ki67", "path": "x.svs"}]})"), "marker must be"},
      {with_patient(R"({"patient_id": "A", "slides": [{"marker": "ER", "path": "a.svs"}, {"marker": "ER", "path": "b.svs"}]})"),
       "a second ER slide"},
      {with_patient(R"({"patient_id": "A", "treatment_lines": [{"line": 1, "start_date": "2026-02-30"}]})"), "start_date"},
      {with_patient(R"({"patient_id": "A", "treatment_lines": [{"line": 1, "start_date": "2026-02-03", "criteria": "WHO"}]})"),
       "criteria"},
      {with_patient(R"({"patient_id": "A", "baseline_lesion_seeds": [{"lesion_id": "T1", "seed_mm": [1, 2]}]})"), "three"},
      {with_patient(R"({"patient_id": "A", "baseline_lesion_seeds": [{"lesion_id": "T1", "seed_mm": [1, 2, 1e300]}]})"),
       "finite"},
      {R"({"cases": []})", "patients"}};
  for (const auto& [text, why] : cases) {
    auto w = worklist_from_manifest_text(text, "m.json");
    ASSERT_FALSE(w) << text;
    EXPECT_NE(w.error().describe().find(why), std::string::npos) << w.error().describe();
    EXPECT_NE(w.error().describe().find("m.json"), std::string::npos);
  }
  auto csv = worklist_from_csv_text("patient_id,record,lesion_id,seed_x_mm,seed_y_mm,seed_z_mm\nA,lesion,T1,1,nan,3\n", "w.csv");
  ASSERT_FALSE(csv);
  EXPECT_NE(csv.error().describe().find("row 2"), std::string::npos) << csv.error().describe();
  EXPECT_FALSE(worklist_from_csv_text("patient_id,record\nA,tumour\n", "w.csv"));
}

SeriesInfo series(const std::string& uid, const std::string& modality, std::size_t frames, const std::string& folder,
                  const std::string& frame_of_reference) {
  SeriesInfo s;
  s.uid = uid;
  s.modality = modality;
  s.frames = frames;
  s.frame_of_reference_uid = frame_of_reference;
  for (std::size_t i = 0; i < std::min<std::size_t>(frames, 3); ++i) s.files.push_back(folder + "/" + std::to_string(i) + ".dcm");
  return s;
}

void add_scan(Catalog& c, const std::string& patient, const std::string& date, bool pet) {
  StudyInfo st;
  st.patient_id = patient;
  st.study_uid = "study-" + date;
  st.study_date = date;
  c.add_series(st, series("ct-" + date, "CT", 80, "/a/" + patient + "/" + date + "/ct", "for-" + date));
  if (pet) c.add_series(st, series("pt-" + date, "PT", 60, "/a/" + patient + "/" + date + "/pet", "for-" + date));
}

Worklist two_lines() {
  auto w = worklist_from_manifest_text(with_patient(R"({"patient_id": "P1",
    "treatment_lines": [{"line": 1, "start_date": "2026-01-19"}, {"line": 2, "start_date": "2026-05-20"}],
    "baseline_lesion_seeds": [{"lesion_id": "T1", "seed_mm": [0, 0, 0]}]})"),
                                       "/w/m.json");
  return *w;
}

TEST(CasePlan, LineBaselineIsTheLastScanOnOrBeforeItsStartAndFollowUpsRunUntilTheNextLine) {
  Catalog c;
  for (const char* d : {"2026-01-12", "2026-03-16", "2026-05-18", "2026-07-20"}) add_scan(c, "P1", d, false);
  add_scan(c, "P2", "2026-01-12", false);
  const Worklist w = two_lines();
  const CasePlan plan = plan_case("P1", c, &w);
  ASSERT_EQ(plan.scans.size(), 4u) << "another patient's scans are not this case's";
  ASSERT_EQ(plan.lines.size(), 2u);
  EXPECT_EQ(plan.lines[0].baseline, 0);
  EXPECT_EQ(plan.lines[0].follow_ups, (std::vector<int>{1, 2})) << "the scan before line 2 starts ends line 1";
  EXPECT_EQ(plan.lines[1].baseline, 2);
  EXPECT_EQ(plan.lines[1].follow_ups, (std::vector<int>{3}));
  EXPECT_TRUE(plan.lines[1].lesions_from_previous_line);
  EXPECT_TRUE(plan.lines[0].not_assessed.empty());
  EXPECT_EQ(plan.images_folder, "/a/P1");
}

TEST(CasePlan, PetIsPairedByFrameOfReferenceOnly) {
  Catalog c;
  add_scan(c, "P1", "2026-01-12", true);
  StudyInfo st{"P1", "study-x", "2026-03-16", "", {}};
  c.add_series(st, series("ct-b", "CT", 80, "/a/P1/b/ct", "for-b"));
  c.add_series(st, series("pt-other", "PT", 60, "/a/P1/b/pet", "for-other-scanner"));
  const CasePlan plan = plan_case("P1", c, nullptr);
  ASSERT_EQ(plan.scans.size(), 2u);
  EXPECT_EQ(plan.scans[0].pet_uid, "pt-2026-01-12");
  EXPECT_EQ(plan.scans[0].pet_folder, "/a/P1/2026-01-12/pet");
  EXPECT_TRUE(plan.scans[1].pet_uid.empty()) << "a PET of another frame of reference cannot be read at the CT's coordinates";
}

TEST(CasePlan, OfSeveralCtsTheWorklistSeriesElseTheMostSlicesAndTheChoiceIsNoted) {
  Catalog c;
  StudyInfo st{"P1", "s", "2026-01-12", "", {}};
  c.add_series(st, series("thick", "CT", 40, "/a/P1/thick", "f"));
  c.add_series(st, series("thin", "CT", 300, "/a/P1/thin", "f"));
  c.add_series(st, series("scout", "CT", 1, "/a/P1/scout", "f"));
  CasePlan plan = plan_case("P1", c, nullptr);
  ASSERT_EQ(plan.scans.size(), 1u);
  EXPECT_EQ(plan.scans[0].ct_uid, "thin");
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_NE(plan.notes[0].find("followed thin"), std::string::npos) << plan.notes[0];
  auto w = worklist_from_manifest_text(
      with_patient(
          R"({"patient_id": "P1", "baseline_lesion_seeds": [{"lesion_id": "T1", "seed_mm": [0, 0, 0], "series_uid": "thick"}]})"),
      "m.json");
  plan = plan_case("P1", c, &*w);
  EXPECT_EQ(plan.scans.at(0).ct_uid, "thick") << "the series the reader chose the seeds on";
}

TEST(CasePlan, SlidesOutsideTheWorklistAreMatchedByPatientAndMarkerInTheirName) {
  Catalog c;
  for (const char* name : {"/a/P1/P1_ER.svs", "/a/P1/P1_HER2.tiff", "/a/P1/P12_PR.svs", "/a/P1/P1_ERG.svs"}) {
    SlideInfo s;
    s.path = name;
    c.slides.push_back(s);
  }
  const CasePlan plan = plan_case("P1", c, nullptr);
  EXPECT_EQ(plan.slides.size(), 3u);
  EXPECT_EQ(plan.slides.at("ER"), "/a/P1/P1_ER.svs") << "P1_ERG is not an ER slide";
  EXPECT_EQ(plan.slides.at("HER2"), "/a/P1/P1_HER2.tiff");
  EXPECT_EQ(plan.slides.count("PR"), 1u) << "P12 contains P1: the name match is by substring, so the worklist names slides";
}

TEST(CasePlan, ALineWithoutBaselineLesionsOrScansSaysWhyItIsNotAssessed) {
  Catalog c;
  auto w = worklist_from_manifest_text(with_patient(R"({"patient_id": "P1",
    "treatment_lines": [{"line": 1, "start_date": "2026-01-19"}]})"),
                                       "m.json");
  CasePlan plan = plan_case("P1", c, &*w);
  ASSERT_EQ(plan.lines.size(), 1u);
  EXPECT_NE(plan.lines[0].not_assessed.find("no CT"), std::string::npos);
  add_scan(c, "P1", "2026-01-12", false);
  plan = plan_case("P1", c, &*w);
  EXPECT_NE(plan.lines[0].not_assessed.find("no baseline lesions"), std::string::npos);
}

TEST(Shards, EveryPatientIsInExactlyOneShard) {
  std::vector<std::string> patients;
  for (int i = 0; i < 23; ++i) patients.push_back("P" + std::to_string(i));
  for (int n : {1, 2, 4, 7, 30}) {
    std::multiset<std::string> seen;
    std::size_t largest = 0, smallest = patients.size();
    for (int k = 1; k <= n; ++k) {
      const auto share = shard_of(patients, k, n);
      seen.insert(share.begin(), share.end());
      largest = std::max(largest, share.size());
      smallest = std::min(smallest, share.size());
    }
    EXPECT_EQ(seen, std::multiset<std::string>(patients.begin(), patients.end())) << n << " shards";
    EXPECT_LE(largest - smallest, 1u) << "shards are balanced";
  }
}

TEST(Summary, OneRowPerPatientAndLineQuotedWhereTextHasCommas) {
  CaseOutcome a;
  a.patient = "P1";
  a.status = "partial";
  a.group = 1;
  a.group_label = "HR+/HER2-";
  a.problems = {"segment B1: error: \"x\", bone"};
  LineOutcome l1;
  l1.number = 1;
  l1.regimen = "letrozole, palbociclib";
  l1.best_response = "PR";
  l1.best_change_pct = -50.44;
  l1.pfs_days = 182;
  l1.responses = {{"2026-03-16", "PR", "no"}, {"2026-07-20", "PR", "equivocal"}};
  l1.time_points = 2;
  LineOutcome l2;
  l2.number = 2;
  l2.not_assessed = "no lesion";
  a.lines = {l1, l2};
  CaseOutcome b;
  b.patient = "P2";
  b.status = "failed";
  const std::string csv = summary_csv({a, b});
  std::vector<std::string> rows;
  std::istringstream in(csv);
  for (std::string r; std::getline(in, r);) rows.push_back(r);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1].rfind("P1,partial,1,HR+/HER2-,,,,1,\"letrozole, palbociclib\",,,PR,-50.4,182,yes,,2,2026-03-16 PR; "
                          "2026-07-20 PR (new lesion equivocal),",
                          0),
            0u)
      << rows[1];
  EXPECT_NE(rows[1].find("\"segment B1: error: \"\"x\"\", bone\""), std::string::npos) << rows[1];
  EXPECT_NE(rows[2].find(",no lesion,"), std::string::npos) << rows[2];
  EXPECT_EQ(rows[3].rfind("P2,failed,", 0), 0u);
}

TEST(RunFolder, PatientIdsCannotNameAFolderOutsideTheRun) {
  EXPECT_EQ(folder_name("OQ-DEMO-001"), "OQ-DEMO-001");
  EXPECT_EQ(folder_name("../etc"), "%2E.%2Fetc") << "a leading dot and every slash are escaped";
  EXPECT_EQ(folder_name(""), "%00");
  EXPECT_EQ(folder_name("a b/c"), "a%20b%2Fc");
}

TEST(RunFolder, OneRunAtATimeAndWhatAKilledRunLeftIsCleared) {
  const std::string dir = oqtest::fresh_scratch("batch-run-folder").string();
  fs::create_directories(dir + "/.work/P9");
  std::ofstream(dir + "/.work/P9/half.txt") << "half";
  auto first = RunFolder::open(dir);
  ASSERT_TRUE(first) << first.error().describe();
  EXPECT_FALSE(fs::exists(dir + "/.work/P9")) << "a case a killed run left half done is done again";
  auto second = RunFolder::open(dir);
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().describe().find("another batch"), std::string::npos);

  auto work = (*first)->start("P1");
  ASSERT_TRUE(work);
  EXPECT_FALSE((*first)->finished("P1"));
  std::ofstream(*work + "/case.json") << R"({"patient": "P1", "status": "failed", "problems": ["x"], "notes": [],
    "phenotype": {"group": null, "label": "", "er_percent_positive": "", "pr_percent_positive": "", "her2_score": ""},
    "lines": [], "steps": []})";
  ASSERT_TRUE((*first)->commit("P1"));
  EXPECT_TRUE((*first)->finished("P1"));
  const auto cases = (*first)->finished_cases(nullptr);
  ASSERT_EQ(cases.size(), 1u);
  EXPECT_EQ(cases[0].status, "failed");
  ASSERT_TRUE((*first)->reopen_failed("P1"));
  EXPECT_FALSE((*first)->finished("P1")) << "--retry-failed runs it again";
  first->reset();
  EXPECT_TRUE(RunFolder::open(dir)) << "the lock goes with the run";
}

void finish_case(RunFolder& folder, const std::string& patient, const std::string& status) {
  auto work = folder.start(patient);
  ASSERT_TRUE(work);
  std::ofstream(*work + "/case.json") << R"({"patient": ")" << patient << R"(", "status": ")" << status
                                      << R"(", "problems": [], "notes": [],
    "phenotype": {"group": null, "label": "", "er_percent_positive": "", "pr_percent_positive": "", "her2_score": ""},
    "lines": [], "steps": []})";
  std::ofstream(*work + "/log.txt") << "the case's log";
  ASSERT_TRUE(folder.commit(patient));
}

TEST(RunFolder, ShardsAreAdoptedWholeAndAPatientInTwoShardsIsRefused) {
  const std::string root = oqtest::fresh_scratch("batch-merge").string();
  {
    auto a = RunFolder::open(root + "/a");
    auto b = RunFolder::open(root + "/b");
    ASSERT_TRUE(a && b);
    finish_case(**a, "P1", "complete");
    finish_case(**b, "P2", "partial");
    finish_case(**b, "P1", "complete");  // a run that was not a shard of the same batch
    fs::create_directories(root + "/b/patients/P3");  // a case the shard left unfinished: no case.json
  }
  auto merged = RunFolder::open(root + "/m");
  ASSERT_TRUE(merged);
  ASSERT_TRUE((*merged)->adopt(root + "/a", "P1"));
  ASSERT_TRUE((*merged)->adopt(root + "/b", "P2"));
  auto twice = (*merged)->adopt(root + "/b", "P1");
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().describe().find("more than one"), std::string::npos) << twice.error().describe();
  const auto cases = (*merged)->finished_cases(nullptr);
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[1].status, "partial");
  std::ifstream log(root + "/m/patients/P2/log.txt");
  std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_EQ(text, "the case's log") << "the whole case folder comes along";
  EXPECT_TRUE(fs::exists(root + "/b/patients/P2/case.json")) << "the shard is left as it was";
}

ChildStep shell(const std::string& script, const std::string& log, double limit = 60) {
  ChildStep s;
  s.program = "/bin/sh";
  s.args = {"-c", script};
  s.log_path = log;
  s.time_limit_s = limit;
  return s;
}

TEST(ChildStep, AFailureCarriesTheStepsOwnErrorLine) {
  const std::string log = oqtest::fresh_scratch("batch-child").string() + "/log.txt";
  auto r = run_child(shell("echo 'scanning...' >&2; echo 'error: a.dcm: truncated' >&2; exit 1", log));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 1);
  EXPECT_EQ(r->last_error, "error: a.dcm: truncated");
}

TEST(ChildStep, ACrashOrAHangCostsTheStepNotTheBatch) {
  const std::string dir = oqtest::fresh_scratch("batch-child").string();
  auto crashed = run_child(shell("kill -SEGV $$", dir + "/log.txt"));
  ASSERT_TRUE(crashed);
  EXPECT_FALSE(crashed->ok());
  EXPECT_EQ(crashed->signal, SIGSEGV);
  EXPECT_NE(crashed->last_error.find("crashed"), std::string::npos) << crashed->last_error;
  auto hung = run_child(shell("sleep 30", dir + "/log.txt", 0.5));
  ASSERT_TRUE(hung);
  EXPECT_TRUE(hung->timed_out);
  EXPECT_NE(hung->last_error.find("did not finish within"), std::string::npos) << hung->last_error;
  ChildStep answer = shell("echo '{\"ok\": true}'", dir + "/log.txt");
  answer.stdout_path = dir + "/answer.json";
  ASSERT_TRUE(run_child(answer));
  std::ifstream in(dir + "/answer.json");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "{\"ok\": true}\n");
}

}  // namespace
